package window_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/window"
)

var day = time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)

// hm is 2024-02-03 at h:m:s UTC.
func hm(h, m int, s ...int) time.Time {
	sec := 0
	if len(s) > 0 {
		sec = s[0]
	}
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second)
}

// ev is an event of key at time t with the given offset on partition "p/0"
// and user as its Distinct value; Value is the offset.
func ev(key string, t time.Time, offset int64, user string) window.Event {
	return window.Event{Key: key, Time: t, Origin: window.Origin{Partition: "p/0", Offset: offset},
		Value: float64(offset), Distinct: user}
}

func fmtWin(w window.Window) string {
	return "[" + w.Start.Format("15:04:05") + "," + w.End.Format("15:04:05") + ")"
}

func fmtResults(rs []window.Result) []string {
	var out []string
	for _, r := range rs {
		flag := "partial"
		if r.Final {
			flag = "final"
		}
		out = append(out, fmt.Sprintf("%s %s %s n=%d d=%d sum=%g %s", r.Assigner, r.Key, fmtWin(r.Window),
			r.Value.Count, r.Value.Distinct, r.Value.Sum, flag))
	}
	return out
}

func fmtLate(ls []window.LateEvent) []string {
	var out []string
	for _, l := range ls {
		var ws []string
		for _, m := range l.Missed {
			ws = append(ws, m.Assigner+fmtWin(m.Window))
		}
		kind := "late"
		if l.Partial {
			kind = "partly-late"
		}
		out = append(out, fmt.Sprintf("%s %s@%s missed %s", kind, l.Event.Key, l.Event.Time.Format("15:04:05"), strings.Join(ws, " ")))
	}
	return out
}

// step is one call on the engine and what it must produce.
type step struct {
	apply   []window.Event // Apply(now, apply) unless advance or flush
	now     time.Time      // processing time for Apply/Advance
	advance bool
	flush   bool
	to      time.Time // AdvanceTo(to) when set
	results []string  // expected Output.Results
	late    []string  // expected Output.Late
}

func runSteps(t *testing.T, e *window.Engine, steps []step) {
	t.Helper()
	for i, s := range steps {
		var out window.Output
		switch {
		case s.flush:
			out = e.Flush()
		case !s.to.IsZero():
			out = e.AdvanceTo(s.to)
		case s.advance:
			out = e.Advance(s.now)
		default:
			out = e.Apply(s.now, s.apply)
		}
		if got := fmtResults(out.Results); !reflect.DeepEqual(got, s.results) {
			t.Fatalf("step %d results:\n got %q\nwant %q", i, got, s.results)
		}
		if got := fmtLate(out.Late); !reflect.DeepEqual(got, s.late) {
			t.Fatalf("step %d late:\n got %q\nwant %q", i, got, s.late)
		}
	}
}

func mustEngine(t testing.TB, cfg window.Config) *window.Engine {
	t.Helper()
	e, err := window.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func TestEngine(t *testing.T) {
	tumbling := []window.Assigner{window.Tumbling(time.Hour).Named("tumbling")}
	hopping := []window.Assigner{window.Hopping(time.Hour, 15*time.Minute).Named("sliding")}
	session := []window.Assigner{window.Session(10 * time.Minute).Named("session")}
	tests := []struct {
		name  string
		cfg   window.Config
		steps []step
	}{
		{
			name: "in order: window closes when the watermark reaches its end",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.DistinctCount()},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 5), 1, "u1"), ev("a", hm(10, 10), 2, "u2"), ev("a", hm(10, 59), 3, "u1")}},
				{apply: []window.Event{ev("a", hm(11, 0), 4, "u1"), ev("a", hm(11, 4, 59), 5, "u3")}},
				{apply: []window.Event{ev("a", hm(11, 5), 6, "u3")},
					results: []string{"tumbling a [10:00:00,11:00:00) n=3 d=2 sum=0 final"}},
				{flush: true, results: []string{"tumbling a [11:00:00,12:00:00) n=3 d=2 sum=0 final"}},
			},
		},
		{
			name: "out of order within allowed lateness is counted",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Sum()},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 30), 1, ""), ev("a", hm(11, 3), 2, ""), ev("a", hm(10, 58), 3, ""), ev("b", hm(10, 1), 4, "")}},
				{apply: []window.Event{ev("a", hm(11, 10), 5, "")},
					results: []string{"tumbling a [10:00:00,11:00:00) n=2 d=0 sum=4 final", "tumbling b [10:00:00,11:00:00) n=1 d=0 sum=4 final"}},
				{flush: true, results: []string{"tumbling a [11:00:00,12:00:00) n=2 d=0 sum=7 final"}},
			},
		},
		{
			name: "bounds: an event at End belongs to the next window; after the watermark reaches End the old window is late",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 0), 1, ""), ev("a", hm(11, 0), 2, ""), ev("a", hm(10, 59, 59), 3, "")}},
				{apply: []window.Event{ev("a", hm(11, 5), 4, "")},
					results: []string{"tumbling a [10:00:00,11:00:00) n=2 d=0 sum=0 final"}},
				{apply: []window.Event{ev("a", hm(11, 0), 5, ""), ev("a", hm(10, 59, 59), 6, "")},
					late: []string{"late a@10:59:59 missed tumbling[10:00:00,11:00:00)"}},
				{flush: true, results: []string{"tumbling a [11:00:00,12:00:00) n=3 d=0 sum=0 final"}},
			},
		},
		{
			name: "hopping overlap: one event in four 1h windows every 15 min",
			cfg:  window.Config{Assigners: hopping, Aggregate: window.DistinctCount()},
			steps: []step{
				{apply: []window.Event{ev("Homepage", hm(10, 20), 1, "u1")}},
				{flush: true, results: []string{
					"sliding Homepage [09:30:00,10:30:00) n=1 d=1 sum=0 final",
					"sliding Homepage [09:45:00,10:45:00) n=1 d=1 sum=0 final",
					"sliding Homepage [10:00:00,11:00:00) n=1 d=1 sum=0 final",
					"sliding Homepage [10:15:00,11:15:00) n=1 d=1 sum=0 final",
				}},
			},
		},
		{
			name: "hopping: windows close one by one as the watermark passes",
			cfg:  window.Config{Assigners: hopping, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("k", hm(10, 20), 1, ""), ev("k", hm(10, 40), 2, "")},
					results: []string{"sliding k [09:30:00,10:30:00) n=1 d=0 sum=0 final"}},
				{apply: []window.Event{ev("k", hm(10, 50), 3, "")},
					results: []string{"sliding k [09:45:00,10:45:00) n=2 d=0 sum=0 final"}},
			},
		},
		{
			name: "late: all windows closed goes to late with its windows; some closed is partly late",
			cfg:  window.Config{Assigners: hopping, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("k", hm(10, 20), 1, ""), ev("k", hm(11, 20), 2, "")},
					results: []string{
						"sliding k [09:30:00,10:30:00) n=1 d=0 sum=0 final",
						"sliding k [09:45:00,10:45:00) n=1 d=0 sum=0 final",
						"sliding k [10:00:00,11:00:00) n=1 d=0 sum=0 final",
						"sliding k [10:15:00,11:15:00) n=1 d=0 sum=0 final",
					}},
				{apply: []window.Event{ev("k", hm(10, 14), 3, ""), ev("k", hm(10, 50), 4, "")},
					late: []string{
						"late k@10:14:00 missed sliding[09:15:00,10:15:00) sliding[09:30:00,10:30:00) sliding[09:45:00,10:45:00) sliding[10:00:00,11:00:00)",
						"partly-late k@10:50:00 missed sliding[10:00:00,11:00:00) sliding[10:15:00,11:15:00)",
					}},
				{flush: true, results: []string{
					"sliding k [10:30:00,11:30:00) n=2 d=0 sum=0 final",
					"sliding k [10:45:00,11:45:00) n=2 d=0 sum=0 final",
					"sliding k [11:00:00,12:00:00) n=1 d=0 sum=0 final",
					"sliding k [11:15:00,12:15:00) n=1 d=0 sum=0 final",
				}},
			},
		},
		{
			name: "session: a late event bridges and merges two sessions",
			cfg:  window.Config{Assigners: session, Aggregate: window.DistinctCount(), AllowedLateness: 30 * time.Minute},
			steps: []step{
				{apply: []window.Event{ev("u", hm(10, 0), 1, "a"), ev("u", hm(10, 5), 2, "b"), ev("u", hm(10, 20), 3, "c")}},
				{apply: []window.Event{ev("u", hm(10, 12), 4, "a")}},
				{flush: true, results: []string{"session u [10:00:00,10:30:00) n=4 d=3 sum=0 final"}},
			},
		},
		{
			name: "session: exactly gap apart are two sessions",
			cfg:  window.Config{Assigners: session, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("u", hm(10, 0), 1, ""), ev("u", hm(10, 10), 2, ""), ev("v", hm(10, 1), 3, "")}},
				{flush: true, results: []string{
					"session u [10:00:00,10:10:00) n=1 d=0 sum=0 final",
					"session u [10:10:00,10:20:00) n=1 d=0 sum=0 final",
					"session v [10:01:00,10:11:00) n=1 d=0 sum=0 final",
				}},
			},
		},
		{
			name: "session: late events report the session they would join or create",
			cfg:  window.Config{Assigners: session, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("u", hm(10, 0), 1, ""), ev("u", hm(10, 3), 2, "")}},
				{apply: []window.Event{ev("u", hm(10, 30), 3, "")},
					results: []string{"session u [10:00:00,10:13:00) n=2 d=0 sum=0 final"}},
				{apply: []window.Event{ev("u", hm(10, 5), 4, ""), ev("u", hm(9, 50), 5, ""), ev("u", hm(10, 24), 6, "")},
					late: []string{
						"late u@10:05:00 missed session[10:00:00,10:13:00)",
						"late u@09:50:00 missed session[09:50:00,10:00:00)",
					}},
				{flush: true, results: []string{"session u [10:24:00,10:40:00) n=2 d=0 sum=0 final"}},
			},
		},
		{
			name: "idle close: Advance moves the watermark without newer events",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count(), IdleTimeout: time.Minute},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 10), 1, "")}, now: hm(10, 10, 30)},
				{advance: true, now: hm(10, 11)},    // idle 30 s < 1 min: nothing moves
				{advance: true, now: hm(11, 4, 59)}, // watermark 10:59:59
				{advance: true, now: hm(11, 5), results: []string{"tumbling a [10:00:00,11:00:00) n=1 d=0 sum=0 final"}},
				{apply: []window.Event{ev("a", hm(10, 50), 2, "")}, now: hm(11, 6),
					late: []string{"late a@10:50:00 missed tumbling[10:00:00,11:00:00)"}},
			},
		},
		{
			name: "idle rule disabled",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count(), IdleTimeout: -1},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 10), 1, "")}, now: hm(10, 10)},
				{advance: true, now: hm(23, 0)},
				{flush: true, results: []string{"tumbling a [10:00:00,11:00:00) n=1 d=0 sum=0 final"}},
			},
		},
		{
			name: "no allowed lateness",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count(), AllowedLateness: -1},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 10), 1, ""), ev("a", hm(11, 0), 2, ""), ev("a", hm(10, 59), 3, "")},
					results: []string{"tumbling a [10:00:00,11:00:00) n=1 d=0 sum=0 final"},
					late:    []string{"late a@10:59:00 missed tumbling[10:00:00,11:00:00)"}},
			},
		},
		{
			name: "partial results for open windows are flagged",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count(), EmitPartial: true},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 10), 1, ""), ev("a", hm(10, 20), 2, ""), ev("b", hm(10, 20), 3, "")},
					results: []string{"tumbling a [10:00:00,11:00:00) n=2 d=0 sum=0 partial", "tumbling b [10:00:00,11:00:00) n=1 d=0 sum=0 partial"}},
				{apply: []window.Event{ev("a", hm(11, 30), 4, "")},
					results: []string{
						"tumbling a [10:00:00,11:00:00) n=2 d=0 sum=0 final",
						"tumbling b [10:00:00,11:00:00) n=1 d=0 sum=0 final",
						"tumbling a [11:00:00,12:00:00) n=1 d=0 sum=0 partial",
					}},
			},
		},
		{
			name: "hopping bounds: an event on a hop boundary starts a window there and is not in the one ending there",
			cfg:  window.Config{Assigners: hopping, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("k", hm(10, 15), 1, ""), ev("k", hm(10, 14, 59), 2, "")}},
				{flush: true, results: []string{
					"sliding k [09:15:00,10:15:00) n=1 d=0 sum=0 final",
					"sliding k [09:30:00,10:30:00) n=2 d=0 sum=0 final",
					"sliding k [09:45:00,10:45:00) n=2 d=0 sum=0 final",
					"sliding k [10:00:00,11:00:00) n=2 d=0 sum=0 final",
					"sliding k [10:15:00,11:15:00) n=1 d=0 sum=0 final",
				}},
			},
		},
		{
			name: "watermark bound: an event whose window ends exactly at the watermark is late, one ending after it is not",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count()},
			steps: []step{
				{apply: []window.Event{ev("a", hm(11, 5), 1, "")}}, // watermark 11:00
				{apply: []window.Event{ev("a", hm(10, 59, 59), 2, ""), ev("a", hm(11, 0), 3, "")},
					late: []string{"late a@10:59:59 missed tumbling[10:00:00,11:00:00)"}},
				{flush: true, results: []string{"tumbling a [11:00:00,12:00:00) n=2 d=0 sum=0 final"}},
			},
		},
		{
			name: "AdvanceTo closes windows without events and never moves back",
			cfg:  window.Config{Assigners: tumbling, Aggregate: window.Count(), AllowedLateness: -1, IdleTimeout: -1},
			steps: []step{
				{apply: []window.Event{ev("a", hm(10, 10), 1, ""), ev("b", hm(10, 20), 2, "")}},
				{to: hm(10, 59)},
				{to: hm(11, 0), results: []string{"tumbling a [10:00:00,11:00:00) n=1 d=0 sum=0 final", "tumbling b [10:00:00,11:00:00) n=1 d=0 sum=0 final"}},
				{to: hm(9, 0)},
				{apply: []window.Event{ev("a", hm(10, 30), 3, "")}, late: []string{"late a@10:30:00 missed tumbling[10:00:00,11:00:00)"}},
			},
		},
		{
			name: "tumbling and sliding in one engine (seed 003 task 5)",
			cfg: window.Config{Assigners: append(append([]window.Assigner{}, tumbling...), hopping...),
				Aggregate: window.DistinctCount()},
			steps: []step{
				{apply: []window.Event{ev("", hm(10, 50), 1, "u1"), ev("", hm(10, 55), 2, "u2"), ev("", hm(10, 56), 3, "u1")}},
				{apply: []window.Event{ev("", hm(11, 5), 4, "u3")}, results: []string{
					"tumbling  [10:00:00,11:00:00) n=3 d=2 sum=0 final",
					"sliding  [10:00:00,11:00:00) n=3 d=2 sum=0 final",
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, mustEngine(t, tc.cfg), tc.steps)
		})
	}
}

func TestEngineIdempotent(t *testing.T) {
	cfg := window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour), window.Session(10 * time.Minute)},
		Aggregate: window.All()}
	batch := []window.Event{ev("a", hm(10, 0), 1, "u1"), ev("a", hm(10, 5), 2, "u2"), ev("b", hm(10, 7), 3, "u1")}
	tests := []struct {
		name  string
		retry []window.Event
		dups  int
		apply int
	}{
		{"same batch twice", batch, 3, 0},
		{"retry with more records", append(append([]window.Event{}, batch...), ev("a", hm(10, 9), 4, "u3")), 3, 1},
		{"other partition is not a duplicate", []window.Event{{Key: "a", Time: hm(10, 1), Origin: window.Origin{Partition: "p/1", Offset: 1}}}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEngine(t, cfg)
			e.Apply(hm(10, 10), batch)
			before, err := e.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			out := e.Apply(hm(10, 11), tc.retry)
			if out.Duplicates != tc.dups || out.Applied != tc.apply {
				t.Fatalf("retry: duplicates %d applied %d; want %d %d", out.Duplicates, out.Applied, tc.dups, tc.apply)
			}
			after, err := e.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if same := bytes.Equal(before, after); same != (tc.apply == 0) {
				t.Fatalf("snapshot unchanged = %v; want %v\nbefore %s\nafter  %s", same, tc.apply == 0, before, after)
			}
		})
	}
}

// stream is a deterministic out-of-order stream over a few keys, with
// some events far behind (late) and some outside the valid time range.
func stream(n int) []window.Event {
	r := rand.New(rand.NewSource(42))
	evs := make([]window.Event, 0, n)
	for i := range n {
		base := hm(9, 0).Add(time.Duration(i) * 7 * time.Second)
		jitter := time.Duration(r.Intn(6*60)) * time.Second // up to 6 min behind
		if r.Intn(50) == 0 {
			jitter = time.Duration(20+r.Intn(40)) * time.Minute
		}
		e := ev(fmt.Sprintf("k%d", r.Intn(4)), base.Add(-jitter), int64(i+1), fmt.Sprintf("u%d", r.Intn(30)))
		e.Origin.Partition = fmt.Sprintf("p/%d", i%3)
		if i == 500 {
			e.Time = time.Time{}
		}
		evs = append(evs, e)
	}
	return evs
}

type collected struct {
	results []string
	late    []string
	stats   window.Stats
}

func TestSnapshotRestoreMidStream(t *testing.T) {
	cfg := window.Config{Assigners: []window.Assigner{
		window.Tumbling(time.Hour).Named("tumbling"),
		window.Hopping(time.Hour, 15*time.Minute).Named("sliding"),
		window.Session(2 * time.Minute).Named("session"),
	}, Aggregate: window.All()}
	evs := stream(3000)
	now := hm(12, 0)

	run := func(t *testing.T, batch int, restore bool) collected {
		ctx := context.Background()
		store := memory.NewWindowStore()
		e := mustEngine(t, cfg)
		var version int64
		var c collected
		for i := 0; i < len(evs); i += batch {
			if restore {
				var err error
				e, version, err = window.Load(ctx, store, "engine", cfg)
				if err != nil {
					t.Fatal(err)
				}
			}
			out := e.Apply(now, evs[i:min(i+batch, len(evs))])
			c.results = append(c.results, fmtResults(out.Results)...)
			c.late = append(c.late, fmtLate(out.Late)...)
			if restore {
				var err error
				if version, err = window.Save(ctx, store, "engine", e, version); err != nil {
					t.Fatal(err)
				}
			}
		}
		out := e.Flush()
		c.results = append(c.results, fmtResults(out.Results)...)
		c.stats = e.Stats()
		return c
	}

	want := run(t, len(evs), false)
	if len(want.late) == 0 || want.stats.Late == 0 || want.stats.PartiallyLate == 0 || want.stats.Rejected != 1 {
		t.Fatalf("stream should exercise late, partly late and rejected events: %+v", want.stats)
	}
	s := want.stats
	if s.Received != int64(len(evs)) || s.Applied+s.Late+s.Rejected != s.Received {
		t.Fatalf("accounting broken: %+v", s)
	}
	sortedResults := func(rs []string) []string {
		out := append([]string(nil), rs...)
		// finals only, order-insensitive across calls
		var f []string
		for _, r := range out {
			if strings.HasSuffix(r, " final") {
				f = append(f, r)
			}
		}
		sortStrings(f)
		return f
	}
	for _, tc := range []struct {
		name    string
		batch   int
		restore bool
	}{
		{"batches of 37 without restore", 37, false},
		{"snapshot and restore every 37 events", 37, true},
		{"snapshot and restore every 3 events", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.batch, tc.restore)
			if !reflect.DeepEqual(sortedResults(got.results), sortedResults(want.results)) {
				g, w := sortedResults(got.results), sortedResults(want.results)
				for i := range g {
					if g[i] != w[i] {
						t.Fatalf("final results differ from an uninterrupted run at %d:\n got %s\nwant %s", i, g[i], w[i])
					}
				}
				t.Fatalf("final results differ from an uninterrupted run (%d vs %d)", len(got.results), len(want.results))
			}
			if !reflect.DeepEqual(got.late, want.late) {
				t.Fatalf("late events differ from an uninterrupted run (%d vs %d)", len(got.late), len(want.late))
			}
			if got.stats != want.stats {
				t.Fatalf("stats %+v; want %+v", got.stats, want.stats)
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	cfg := window.Config{Assigners: []window.Assigner{window.Hopping(time.Hour, 15*time.Minute)}, Aggregate: window.DistinctCount()}
	evs := stream(400)
	a, b := mustEngine(t, cfg), mustEngine(t, cfg)
	a.Apply(hm(12, 0), evs)
	b.Apply(hm(12, 0), evs)
	sa, _ := a.Snapshot()
	sb, _ := b.Snapshot()
	if !bytes.Equal(sa, sb) {
		t.Fatal("two engines fed the same events give different snapshots")
	}
	c := mustEngine(t, cfg)
	if err := c.Restore(sa); err != nil {
		t.Fatal(err)
	}
	sc, _ := c.Snapshot()
	if !bytes.Equal(sa, sc) {
		t.Fatal("snapshot of a restored engine differs")
	}
}

func TestRestoreErrors(t *testing.T) {
	e := mustEngine(t, window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour)}, Aggregate: window.Count()})
	e.Apply(hm(10, 0), []window.Event{ev("a", hm(10, 0), 1, "")})
	snap, _ := e.Snapshot()
	other := mustEngine(t, window.Config{Assigners: []window.Assigner{window.Tumbling(time.Minute)}, Aggregate: window.Count()})
	tests := []struct {
		name string
		e    *window.Engine
		data []byte
	}{
		{"different assigner", other, snap},
		{"not json", e, []byte("{oops")},
		{"wrong format", e, []byte(`{"format":99}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.e.Restore(tc.data); err == nil {
				t.Fatal("Restore succeeded")
			}
		})
	}
	after, _ := e.Snapshot()
	if !bytes.Equal(after, snap) {
		t.Fatal("failed Restore changed the state")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  window.Config
	}{
		{"no assigners", window.Config{Aggregate: window.Count()}},
		{"no aggregate", window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour)}}},
		{"bad hopping", window.Config{Assigners: []window.Assigner{window.Hopping(time.Minute, time.Hour)}, Aggregate: window.Count()}},
		{"duplicate names", window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour).Named("x"), window.Tumbling(time.Minute).Named("x")}, Aggregate: window.Count()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := window.New(tc.cfg); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestRejectsOutOfRangeTime(t *testing.T) {
	e := mustEngine(t, window.Config{Assigners: []window.Assigner{window.Tumbling(time.Hour)}, Aggregate: window.Count()})
	out := e.Apply(hm(10, 0), []window.Event{{Key: "a"}, ev("a", hm(10, 0), 1, "")})
	if len(out.Rejected) != 1 || out.Applied != 1 || !strings.Contains(out.Rejected[0].Reason, "event time") {
		t.Fatalf("out = %+v", out)
	}
}

func TestTopBy(t *testing.T) {
	// Seed 001: which city has the highest number of sales, per platform, per 5 minutes.
	e := mustEngine(t, window.Config{Assigners: []window.Assigner{window.Tumbling(5 * time.Minute).Named("5m")}, Aggregate: window.Sum()})
	sale := func(platform, city string, at time.Time, sales float64, off int64) window.Event {
		return window.Event{Key: window.JoinKey(platform, city), Time: at, Value: sales, Origin: window.Origin{Partition: "t/0", Offset: off}}
	}
	e.Apply(hm(17, 30), []window.Event{
		sale("Facebook", "Bogor", hm(17, 23, 32), 95, 1),
		sale("Facebook", "Depok", hm(17, 24), 60, 2),
		sale("Facebook", "Depok", hm(17, 24, 30), 40, 3),
		sale("X", "Bogor", hm(17, 24, 4), 52, 4),
		sale("X", "Depok", hm(17, 27, 44), 61, 5),
		sale("X", "Jakarta", hm(17, 21), 52, 6),
	})
	tops := window.TopBy(e.Flush().Results, func(v window.AggregateValue) float64 { return v.Sum })
	var got []string
	for _, tp := range tops {
		got = append(got, fmt.Sprintf("%s %s %s %g %v", tp.Group, fmtWin(tp.Window), tp.Member, tp.Value.Sum, tp.Final))
	}
	want := []string{
		"Facebook [17:20:00,17:25:00) Depok 100 true",
		"X [17:20:00,17:25:00) Bogor 52 true", // tie with Jakarta: smaller name wins
		"X [17:25:00,17:30:00) Depok 61 true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TopBy:\n got %q\nwant %q", got, want)
	}
}
