package window_test

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/window"
)

// sumSquares is a custom aggregate that writes Acc only as its fields
// merge (Count and Sum by adding): correct under session merges with no
// merge rule of its own.
var sumSquares = window.AggregateFunc{ID: "sum_squares", F: func(acc *window.Acc, e *window.Event) {
	acc.Count++
	acc.Sum += e.Value * e.Value
}}

// latest is a custom aggregate that the fixed field rules would merge
// wrongly: it keeps the Value of the latest event (in Sum) and that
// event's time (in Max, Unix seconds). Its merge rule takes the value of
// the side with the later event.
var latest = window.AggregateFunc{ID: "latest",
	F: func(acc *window.Acc, e *window.Event) {
		t := float64(e.Time.Unix())
		if acc.Count == 0 || t >= acc.Max {
			acc.Sum, acc.Max = e.Value, t
		}
		acc.Count++
	},
	M: func(dst, src *window.Acc) {
		if src.Count > 0 && (dst.Count == 0 || src.Max >= dst.Max) {
			dst.Sum, dst.Max = src.Sum, src.Max
		}
		dst.Count += src.Count
	},
}

type aggEvent struct {
	t     time.Time
	value float64
	user  string
}

// want computes an aggregate directly over one session's events.
type aggCase struct {
	agg  window.Aggregate
	want func(evs []aggEvent) float64
	got  func(v window.AggregateValue) float64
}

func aggCases() map[string]aggCase {
	sum := func(evs []aggEvent) float64 {
		s := 0.0
		for _, e := range evs {
			s += e.value
		}
		return s
	}
	return map[string]aggCase{
		"count": {window.Count(), func(evs []aggEvent) float64 { return float64(len(evs)) },
			func(v window.AggregateValue) float64 { return float64(v.Count) }},
		"sum": {window.Sum(), sum, func(v window.AggregateValue) float64 { return v.Sum }},
		"min": {window.Min(), func(evs []aggEvent) float64 {
			m := math.Inf(1)
			for _, e := range evs {
				m = math.Min(m, e.value)
			}
			return m
		}, func(v window.AggregateValue) float64 { return v.Min }},
		"max": {window.Max(), func(evs []aggEvent) float64 {
			m := math.Inf(-1)
			for _, e := range evs {
				m = math.Max(m, e.value)
			}
			return m
		}, func(v window.AggregateValue) float64 { return v.Max }},
		"mean": {window.Avg(), func(evs []aggEvent) float64 { return sum(evs) / float64(len(evs)) },
			func(v window.AggregateValue) float64 { return v.Avg }},
		"distinct": {window.DistinctCount(), func(evs []aggEvent) float64 {
			set := map[string]bool{}
			for _, e := range evs {
				set[e.user] = true
			}
			return float64(len(set))
		}, func(v window.AggregateValue) float64 { return float64(v.Distinct) }},
		"custom additive": {sumSquares, func(evs []aggEvent) float64 {
			s := 0.0
			for _, e := range evs {
				s += e.value * e.value
			}
			return s
		}, func(v window.AggregateValue) float64 { return v.Sum }},
		"custom merge": {latest, func(evs []aggEvent) float64 {
			best := evs[0]
			for _, e := range evs[1:] {
				if !e.t.Before(best.t) {
					best = e
				}
			}
			return best.value
		}, func(v window.AggregateValue) float64 { return v.Sum }},
	}
}

// sessionEvents, with a 10-minute gap and in this order: 10:00 opens
// [10:00, 10:10), 10:25 [10:25, 10:35), which 10:20 and 10:12 widen to
// [10:12, 10:35); 10:05 then bridges the two, which merge; 10:30 widens
// the result to [10:00, 10:40); 11:00 is a session of its own. Shuffled,
// the same events merge in other ways into the same two sessions. Values
// are all positive (a minimum that starts at 0 would show) and no two
// events share a time.
var sessionEvents = []aggEvent{
	{hm(10, 0), 7.5, "u1"},
	{hm(10, 25), 3.25, "u2"},
	{hm(10, 20), 9, "u1"},
	{hm(10, 12), 4, "u3"},
	{hm(10, 5), 2.5, "u2"},
	{hm(10, 30), 6, "u4"},
	{hm(11, 0), 5, "u5"},
}

// TestSessionMergeEveryAggregate: every aggregate gives, for a session
// built by merging sessions, the value computed directly over its events,
// whatever the order in which the events arrive and with a snapshot and
// restore after every event.
func TestSessionMergeEveryAggregate(t *testing.T) {
	merged, alone := sessionEvents[:6], sessionEvents[6:]
	rng := rand.New(rand.NewSource(3))
	for name, c := range aggCases() {
		t.Run(name, func(t *testing.T) {
			for trial := 0; trial < 30; trial++ {
				order := append([]aggEvent(nil), sessionEvents...)
				if trial > 0 {
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				}
				cfg := window.Config{Assigners: []window.Assigner{window.Session(10 * time.Minute).Named("session")},
					Aggregate: c.agg, AllowedLateness: time.Hour, IdleTimeout: -1}
				e := mustEngine(t, cfg)
				var results []window.Result
				for i, x := range order {
					out := e.Apply(x.t, []window.Event{{Key: "k", Time: x.t, Origin: window.Origin{Partition: "p", Offset: int64(i)},
						Value: x.value, Distinct: x.user}})
					results = append(results, out.Results...)
					snap, err := e.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					e = mustEngine(t, cfg)
					if err := e.Restore(snap); err != nil {
						t.Fatal(err)
					}
				}
				results = append(results, e.Flush().Results...)
				if len(results) != 2 {
					t.Fatalf("order %v: %d results, want the merged session and the lone one", order, len(results))
				}
				for i, want := range []struct {
					start, end time.Time
					evs        []aggEvent
				}{{hm(10, 0), hm(10, 40), merged}, {hm(11, 0), hm(11, 10), alone}} {
					r := results[i]
					if !r.Window.Start.Equal(want.start) || !r.Window.End.Equal(want.end) || r.Value.Count != int64(len(want.evs)) {
						t.Fatalf("order %v: result %d is %s with %d events, want %s with %d", order, i, fmtWin(r.Window), r.Value.Count,
							fmtWin(window.Window{Start: want.start, End: want.end}), len(want.evs))
					}
					if got, exp := c.got(r.Value), c.want(want.evs); math.Abs(got-exp) > 1e-12 {
						t.Errorf("order %v: %s of %s = %g, want %g", order, name, fmtWin(r.Window), got, exp)
					}
				}
			}
		})
	}
}

// TestMinAggregate: Min keeps the smallest value, negative ones included,
// with Count, Sum, Avg and Max beside it, per tumbling window.
func TestMinAggregate(t *testing.T) {
	e := mustEngine(t, window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour)}, Aggregate: window.Min(), IdleTimeout: -1})
	var evs []window.Event
	for i, v := range []float64{4, -2.5, 7, 0.5} {
		evs = append(evs, window.Event{Key: "k", Time: hm(10, 10*i), Origin: window.Origin{Partition: "p", Offset: int64(i)}, Value: v})
	}
	evs = append(evs, window.Event{Key: "k", Time: hm(11, 5), Origin: window.Origin{Partition: "p", Offset: 9}, Value: 12})
	results := append(e.Apply(hm(11, 5), evs).Results, e.Flush().Results...)
	if len(results) != 2 {
		t.Fatalf("%d results", len(results))
	}
	want := []window.AggregateValue{{Count: 4, Sum: 9, Avg: 2.25, Max: 7, Min: -2.5}, {Count: 1, Sum: 12, Avg: 12, Max: 12, Min: 12}}
	for i, w := range want {
		if results[i].Value != w {
			t.Errorf("window %s: %+v, want %+v", fmtWin(results[i].Window), results[i].Value, w)
		}
	}
}
