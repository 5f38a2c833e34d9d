package window

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Defaults for Config.
const (
	DefaultAllowedLateness = 5 * time.Minute
	DefaultIdleTimeout     = time.Minute
)

const (
	noTime  = math.MinInt64 // "never" for watermark, max event time, last arrival
	endTime = math.MaxInt64
)

var (
	minEventTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxEventTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Origin is the position an event came from: a partition of its source
// ("topic/partition", or an S3 object and version) and an offset in it
// (Kafka offset, or row number). Offsets must increase strictly within a
// partition, one per event. An empty Partition opts the event out of
// redelivery detection.
type Origin struct {
	Partition string
	Offset    int64
}

// Event is one input to the engine.
type Event struct {
	Key      string    // group key, e.g. platform, or JoinKey(platform, city)
	Time     time.Time // event time
	Origin   Origin
	Value    float64 // input of Sum, Avg, Max
	Distinct string  // input of DistinctCount, e.g. user_id
	// Watermark, when not zero, is the watermark of the event's own input
	// (a Kafka partition: see Config.CallerWatermark). The event misses
	// every window that ends at or before it, as if the engine's watermark
	// were there, even while the window is still open for other inputs:
	// so what is late on an input depends on that input's order alone.
	Watermark time.Time
}

// Result is the value of one window of one key. Final results are emitted
// once, when the watermark passes the window's end; a window never changes
// after its final result. Partial results (Config.EmitPartial) are live
// values of still-open windows, for dashboards; a later partial or the final
// result of the same (Assigner, Key, Window) supersedes them. A session's
// partial can also be superseded by a partial of a wider session that
// absorbed it.
type Result struct {
	Assigner string
	Key      string
	Window   Window
	Value    AggregateValue
	Final    bool
}

// Missed is one window a late event could not join.
type Missed struct {
	Assigner string
	Window   Window
}

// LateEvent is an event that arrived after some of its windows had closed.
// If Partial is false none of its windows was open: the event was not
// folded anywhere and belongs in the late-events table. If Partial is
// true it was folded into its open windows and missed only these.
type LateEvent struct {
	Event   Event
	Missed  []Missed
	Partial bool
}

// Rejected is an event the engine refused, with the reason.
type Rejected struct {
	Event  Event
	Reason string
}

// Output is what one call to Apply, Advance or Flush produced.
type Output struct {
	Results    []Result    // final results (sorted), then partial results (sorted)
	Late       []LateEvent // in input order
	Rejected   []Rejected  // in input order
	Applied    int         // events folded into at least one window
	Duplicates int         // events at or below their partition's high-water offset
}

// Stats are cumulative counts kept in the engine's state. Every event
// received for the first time is exactly one of Applied, Late or Rejected;
// PartiallyLate counts the Applied events that missed some windows.
// Redelivered events (Output.Duplicates) are not counted here, so that
// applying a batch again leaves the state byte for byte unchanged.
type Stats struct {
	Received      int64
	Applied       int64
	Late          int64
	PartiallyLate int64
	Rejected      int64
}

// Config configures an Engine.
type Config struct {
	// Assigners are applied to every event, each with its own windows.
	// Names must be distinct. At least one.
	Assigners []Assigner
	// Aggregate folds events into windows. Required.
	Aggregate Aggregate
	// AllowedLateness is subtracted from the largest event time seen to
	// give the watermark. 0 means DefaultAllowedLateness; negative means none.
	AllowedLateness time.Duration
	// IdleTimeout is how long (processing time) after the last arrival
	// Advance may move the watermark to now - AllowedLateness.
	// 0 means DefaultIdleTimeout; negative disables the idle rule.
	IdleTimeout time.Duration
	// EmitPartial makes Apply emit the current value of every open window
	// it touched, flagged Final=false.
	EmitPartial bool
	// CallerWatermark: events do not move the watermark; only AdvanceTo,
	// Advance's idle rule and Flush do. For a caller that keeps one
	// watermark per input (per Kafka partition, as Flink does) and moves
	// the engine's to the smallest of them, giving each event its own
	// input's watermark in Event.Watermark. AllowedLateness still sets how
	// long a closed session's bounds are kept. A snapshot is the same
	// either way (the watermark it holds is the engine's), so this is not
	// part of the configuration a snapshot is checked against.
	CallerWatermark bool
}

type win struct {
	start, end int64
	acc        Acc
	closed     bool // session only: final result emitted, bounds kept to catch events that would join it
	dead       bool // merged into another session
	touched    bool
}

type group struct {
	wins []*win // sorted by start; sessions are disjoint
}

type touchRef struct {
	a   int
	key string
	w   *win
}

// Engine folds events into event-time windows per group key. It is not
// safe for concurrent use. See the package comment for its semantics.
type Engine struct {
	assigners   []Assigner
	agg         Aggregate
	lateness    int64
	idle        int64
	emitPartial bool
	callerWM    bool
	fingerprint string

	groups      []map[string]*group // per assigner
	wm          int64
	maxT        int64
	lastArrival int64
	offsets     map[string]int64
	minEnd      int64 // no open window ends (and no kept session expires) before this
	stats       Stats

	spanBuf []span
	touched []touchRef
}

// New returns an empty engine.
func New(cfg Config) (*Engine, error) {
	if len(cfg.Assigners) == 0 {
		return nil, fmt.Errorf("configuring window engine: no assigners")
	}
	if cfg.Aggregate == nil {
		return nil, fmt.Errorf("configuring window engine: no aggregate")
	}
	seen := make(map[string]bool)
	var fp strings.Builder
	fp.WriteString(cfg.Aggregate.Name())
	for _, a := range cfg.Assigners {
		if err := a.validate(); err != nil {
			return nil, fmt.Errorf("configuring window engine: %w", err)
		}
		if seen[a.Name()] {
			return nil, fmt.Errorf("configuring window engine: assigner name %q used twice", a.Name())
		}
		seen[a.Name()] = true
		fmt.Fprintf(&fp, ";%s=%s", a.Name(), a.String())
	}
	e := &Engine{
		assigners:   append([]Assigner(nil), cfg.Assigners...),
		agg:         cfg.Aggregate,
		lateness:    int64(cfg.AllowedLateness),
		idle:        int64(cfg.IdleTimeout),
		emitPartial: cfg.EmitPartial,
		callerWM:    cfg.CallerWatermark,
	}
	switch {
	case cfg.AllowedLateness == 0:
		e.lateness = int64(DefaultAllowedLateness)
	case cfg.AllowedLateness < 0:
		e.lateness = 0
	}
	if cfg.IdleTimeout == 0 {
		e.idle = int64(DefaultIdleTimeout)
	}
	fmt.Fprintf(&fp, ";lateness=%s", time.Duration(e.lateness))
	e.fingerprint = fp.String()
	e.reset()
	return e, nil
}

func (e *Engine) reset() {
	e.groups = make([]map[string]*group, len(e.assigners))
	for i := range e.groups {
		e.groups[i] = make(map[string]*group)
	}
	e.wm, e.maxT, e.lastArrival = noTime, noTime, noTime
	e.offsets = make(map[string]int64)
	e.minEnd = endTime
	e.stats = Stats{}
	e.touched = e.touched[:0]
}

// Watermark returns the current watermark, and false before any event.
func (e *Engine) Watermark() (time.Time, bool) {
	if e.wm == noTime {
		return time.Time{}, false
	}
	if e.wm == endTime {
		return maxEventTime, true
	}
	return time.Unix(0, e.wm).UTC(), true
}

// Stats returns the cumulative counts.
func (e *Engine) Stats() Stats { return e.stats }

// Apply folds events in order. now is the processing time, used only by
// the idle rule of Advance. The watermark moves with each event, so the
// outcome depends on the order of events, not on how they are batched.
// Windows that closed are emitted as final results at the end of the call.
func (e *Engine) Apply(now time.Time, events []Event) Output {
	var out Output
	arrived := false
	for i := range events {
		ev := &events[i]
		if p := ev.Origin.Partition; p != "" {
			if hw, ok := e.offsets[p]; ok && ev.Origin.Offset <= hw {
				out.Duplicates++
				continue
			}
			e.offsets[p] = ev.Origin.Offset
		}
		e.stats.Received++
		arrived = true
		if ev.Time.Before(minEventTime) || !ev.Time.Before(maxEventTime) {
			out.Rejected = append(out.Rejected, Rejected{Event: *ev,
				Reason: fmt.Sprintf("event time %s outside [%d, %d)", ev.Time.UTC().Format(time.RFC3339Nano), minEventTime.Year(), maxEventTime.Year())})
			e.stats.Rejected++
			continue
		}
		e.fold(ev, &out)
	}
	if arrived {
		e.lastArrival = now.UnixNano()
	}
	e.closeWindows(&out)
	e.emitTouched(&out)
	return out
}

// Advance applies the idle rule at processing time now: if no new event
// arrived for IdleTimeout, the watermark moves to now - AllowedLateness
// (never backwards), and the windows it passes close.
func (e *Engine) Advance(now time.Time) Output {
	var out Output
	if e.idle > 0 && e.lastArrival != noTime && now.UnixNano()-e.lastArrival >= e.idle {
		if c := now.UnixNano() - e.lateness; c > e.wm {
			e.wm = c
		}
	}
	e.closeWindows(&out)
	return out
}

// AdvanceTo moves the watermark to t (never backwards) and closes the
// windows it passes, whatever the idle rule says. It is for callers that
// know event time has progressed without this engine seeing the events,
// such as a processor that releases events in order from a reorder buffer
// and knows the frontier of all its inputs (see shared/stream).
func (e *Engine) AdvanceTo(t time.Time) Output {
	var out Output
	if c := t.UnixNano(); c > e.wm {
		e.wm = c
	}
	e.closeWindows(&out)
	return out
}

// Flush closes every window, for the end of a bounded input (a file, a
// backfill). Afterwards every event is late.
func (e *Engine) Flush() Output {
	var out Output
	e.wm = endTime
	e.closeWindows(&out)
	return out
}

func (e *Engine) fold(ev *Event, out *Output) {
	t := ev.Time.UnixNano()
	folded := false
	var missed []Missed
	wm := e.wm // what the event is late against
	if !ev.Watermark.IsZero() {
		wm = max(wm, ev.Watermark.UnixNano())
	}
	for ai := range e.assigners {
		a := &e.assigners[ai]
		if a.kind == kindSession {
			ok, m := e.foldSession(ai, a, ev, t, wm)
			folded = folded || ok
			missed = append(missed, m...)
			continue
		}
		e.spanBuf = a.spans(t, e.spanBuf[:0])
		var g *group
		for _, s := range e.spanBuf {
			if s.end <= wm {
				missed = append(missed, Missed{Assigner: a.Name(), Window: makeWindow(s.start, s.end)})
				continue
			}
			if g == nil {
				g = e.group(ai, ev.Key)
			}
			w := g.find(s.start)
			if w == nil {
				w = &win{start: s.start, end: s.end}
				g.insert(w)
				if s.end < e.minEnd {
					e.minEnd = s.end
				}
			}
			e.agg.Add(&w.acc, ev)
			e.touch(ai, ev.Key, w)
			folded = true
		}
	}
	switch {
	case !folded:
		out.Late = append(out.Late, LateEvent{Event: *ev, Missed: missed})
		e.stats.Late++
	default:
		if missed != nil {
			out.Late = append(out.Late, LateEvent{Event: *ev, Missed: missed, Partial: true})
			e.stats.PartiallyLate++
		}
		out.Applied++
		e.stats.Applied++
	}
	if t > e.maxT {
		e.maxT = t
		if c := t - e.lateness; c > e.wm && !e.callerWM {
			e.wm = c
		}
	}
}

// foldSession folds ev into the session windows of assigner ai, late
// against watermark wm (the engine's, or the event's input's if further).
// It reports whether the event was folded, and otherwise the session(s) it
// missed.
func (e *Engine) foldSession(ai int, a *Assigner, ev *Event, t, wm int64) (bool, []Missed) {
	ns, ne := t, t+a.gap
	g := e.groups[ai][ev.Key]
	var hits []*win
	var missed []Missed
	if g != nil {
		for _, w := range g.wins {
			if w.start < ne && ns < w.end {
				if w.closed || w.end <= wm {
					if w.end+e.retain(a) <= wm {
						continue // forgotten, whether or not closeWindows has dropped it yet
					}
					missed = append(missed, Missed{Assigner: a.Name(), Window: makeWindow(w.start, w.end)})
				} else {
					hits = append(hits, w)
				}
			}
		}
	}
	if missed != nil {
		// It would join a session that is already final: late, whole.
		return false, missed
	}
	if len(hits) == 0 {
		if ne <= wm {
			return false, []Missed{{Assigner: a.Name(), Window: makeWindow(ns, ne)}}
		}
		if g == nil {
			g = e.group(ai, ev.Key)
		}
		w := &win{start: ns, end: ne}
		g.insert(w)
		if ne < e.minEnd {
			e.minEnd = ne
		}
		e.agg.Add(&w.acc, ev)
		e.touch(ai, ev.Key, w)
		return true, nil
	}
	target := hits[0]
	if ns < target.start {
		target.start = ns
	}
	if ne > target.end {
		target.end = ne
	}
	for _, o := range hits[1:] {
		merge(e.agg, &target.acc, &o.acc)
		if o.end > target.end {
			target.end = o.end
		}
		o.dead = true
		o.acc = Acc{}
	}
	if len(hits) > 1 {
		keep := g.wins[:0]
		for _, w := range g.wins {
			if !w.dead {
				keep = append(keep, w)
			}
		}
		clear(g.wins[len(keep):])
		g.wins = keep
	}
	e.agg.Add(&target.acc, ev)
	e.touch(ai, ev.Key, target)
	return true, nil
}

func (e *Engine) group(ai int, key string) *group {
	m := e.groups[ai]
	g := m[key]
	if g == nil {
		g = &group{}
		m[strings.Clone(key)] = g
	}
	return g
}

func (g *group) find(start int64) *win {
	for _, w := range g.wins {
		if w.start == start {
			return w
		}
	}
	return nil
}

func (g *group) insert(w *win) {
	i := sort.Search(len(g.wins), func(i int) bool { return g.wins[i].start > w.start })
	g.wins = append(g.wins, nil)
	copy(g.wins[i+1:], g.wins[i:])
	g.wins[i] = w
}

func (e *Engine) touch(ai int, key string, w *win) {
	if !e.emitPartial || w.touched {
		return
	}
	w.touched = true
	e.touched = append(e.touched, touchRef{a: ai, key: key, w: w})
}

func (e *Engine) closeWindows(out *Output) {
	if e.wm < e.minEnd {
		return
	}
	var finals []Result
	newMin := int64(endTime)
	for ai, m := range e.groups {
		a := &e.assigners[ai]
		for key, g := range m {
			keep := g.wins[:0]
			for _, w := range g.wins {
				if w.closed {
					if w.end+e.retain(a) > e.wm {
						keep = append(keep, w)
						newMin = min(newMin, w.end+e.retain(a))
					}
					continue
				}
				if w.end > e.wm {
					keep = append(keep, w)
					newMin = min(newMin, w.end)
					continue
				}
				finals = append(finals, Result{Assigner: a.Name(), Key: key,
					Window: makeWindow(w.start, w.end), Value: w.acc.Value(), Final: true})
				w.closed = true
				w.acc = Acc{}
				if a.kind == kindSession && e.wm != endTime && w.end+e.retain(a) > e.wm {
					keep = append(keep, w)
					newMin = min(newMin, w.end+e.retain(a))
				}
			}
			clear(g.wins[len(keep):])
			g.wins = keep
			if len(keep) == 0 {
				delete(m, key)
			}
		}
	}
	e.minEnd = newMin
	e.sortResults(finals)
	out.Results = append(out.Results, finals...)
}

// retain is how long (event time, past its end) a closed session's bounds
// are kept, so that a late event that would have joined it is reported
// with it: gap + allowed lateness.
func (e *Engine) retain(a *Assigner) int64 { return a.gap + e.lateness }

func (e *Engine) emitTouched(out *Output) {
	if len(e.touched) == 0 {
		return
	}
	var partial []Result
	for _, r := range e.touched {
		r.w.touched = false
		if r.w.dead || r.w.closed {
			continue
		}
		partial = append(partial, Result{Assigner: e.assigners[r.a].Name(), Key: r.key,
			Window: makeWindow(r.w.start, r.w.end), Value: r.w.acc.Value()})
	}
	clear(e.touched)
	e.touched = e.touched[:0]
	e.sortResults(partial)
	out.Results = append(out.Results, partial...)
}

// sortResults orders results by assigner (config order), key, window.
func (e *Engine) sortResults(rs []Result) {
	idx := make(map[string]int, len(e.assigners))
	for i, a := range e.assigners {
		idx[a.Name()] = i
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if ia, ib := idx[a.Assigner], idx[b.Assigner]; ia != ib {
			return ia < ib
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if !a.Window.Start.Equal(b.Window.Start) {
			return a.Window.Start.Before(b.Window.Start)
		}
		return a.Window.End.Before(b.Window.End)
	})
}
