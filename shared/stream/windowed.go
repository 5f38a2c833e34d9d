package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

const noTime = math.MinInt64

// engines is a named set of window engines kept in one processor state.
type engines map[string]*window.Engine

func (es engines) snapshot() ([]byte, error) {
	names := sortedKeys(es)
	vals := make([][]byte, len(names))
	for i, name := range names {
		b, err := es[name].Snapshot()
		if err != nil {
			return nil, fmt.Errorf("engine %s: %w", name, err)
		}
		vals[i] = b
	}
	return rawObject(names, vals), nil
}

// rawObject writes {"k1":v1,...} from keys and values that are already
// JSON (snapshots), without re-validating them as json.Marshal of a
// json.RawMessage would: state is written on every batch.
func rawObject(keys []string, vals [][]byte) []byte {
	n := 2
	for i := range keys {
		n += len(keys[i]) + len(vals[i]) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		if len(vals[i]) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, vals[i]...)
		}
	}
	return append(b, '}')
}

func (es engines) restore(data []byte) error {
	m := map[string]json.RawMessage{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("decoding engines: %w", err)
		}
	}
	for name, e := range es {
		if err := e.Restore(m[name]); err != nil {
			return fmt.Errorf("engine %s: %w", name, err)
		}
	}
	return nil
}

func mustEngine(cfg window.Config) *window.Engine {
	e, err := window.New(cfg)
	if err != nil {
		panic(err) // the configurations below are fixed and valid
	}
	return e
}

// engineConfig is the window configuration every single-topic stream
// engine shares: the processor keeps the watermarks, one per partition
// (reorder), gives each event its partition's, and moves the engine's to
// the frontier (CallerWatermark); the engine's own idle rule is off, the
// frontier applies it per partition.
func engineConfig(c Config, agg window.Aggregate, assigners ...window.Assigner) window.Config {
	lateness := c.lateness()
	if lateness == 0 {
		lateness = -1 // none
	}
	return window.Config{Assigners: assigners, Aggregate: agg, AllowedLateness: lateness, IdleTimeout: -1, EmitPartial: true,
		CallerWatermark: true}
}

// track records the records' event times in the watermarks of their
// partitions and returns the watermark each met on arrival (Unix µs,
// noTime before any): its partition's own, or the frontier if further.
// What is late on a partition so depends on its own order alone.
func (b *reorder) track(now time.Time, recs []*rec) []int64 {
	marks := make([]int64, len(recs))
	for i, r := range recs {
		in := inputOf(r)
		marks[i] = b.lateBound(in)
		b.seen(in, r.t, now)
	}
	return marks
}

// markTime is a watermark from track as an Event.Watermark.
func markTime(m int64) time.Time {
	if m == noTime {
		return time.Time{}
	}
	return fromMicros(m)
}

// closeTo moves e's watermark to the frontier (if any) after out was
// applied, and returns out with the windows that closed: their final rows
// first, then the partial rows of those still open (as one Apply of an
// engine that moves its own watermark returns them).
func closeTo(e *window.Engine, out window.Output, frontier int64) window.Output {
	if frontier == noTime {
		return out
	}
	fin := e.AdvanceTo(fromMicros(frontier))
	if len(fin.Results) == 0 {
		return out
	}
	type id struct {
		a, k string
		s    int64
	}
	closed := map[id]bool{}
	for _, r := range fin.Results {
		closed[id{r.Assigner, r.Key, r.Window.Start.UnixNano()}] = true
	}
	res := fin.Results
	for _, r := range out.Results {
		if !closed[id{r.Assigner, r.Key, r.Window.Start.UnixNano()}] {
			res = append(res, r)
		}
	}
	out.Results = res
	return out
}

// restoreMarks restores a single-topic processor's watermarks: from data
// (version 2), or, for a version 1 state (data nil: the engines kept the
// topic's one watermark), from the snapshot of one of its engines, as the
// topic's partition 0 (what it was with one partition).
func restoreMarks(b *reorder, data []byte, topic string, engineSnap []byte) error {
	b.reset()
	if len(data) > 0 {
		b.V = 0
		if err := json.Unmarshal(data, b); err != nil {
			return fmt.Errorf("decoding watermarks: %w", err)
		}
		if b.MaxT == nil || b.Seen == nil {
			return fmt.Errorf("decoding watermarks: none")
		}
		b.upgrade()
		return nil
	}
	if len(engineSnap) == 0 || string(engineSnap) == "null" {
		return nil
	}
	var v1 struct {
		Watermark   int64 `json:"watermark"`
		MaxTime     int64 `json:"max_time"`
		LastArrival int64 `json:"last_arrival"`
	}
	if err := json.Unmarshal(engineSnap, &v1); err != nil {
		return fmt.Errorf("decoding the watermark of a version 1 state: %w", err)
	}
	in := ledgerKey(topic, 0)
	switch v1.Watermark {
	case noTime:
	case math.MaxInt64: // flushed
		b.Frontier = maxEventTime
	default:
		b.Frontier = v1.Watermark / 1000
	}
	if v1.MaxTime != noTime {
		b.MaxT[in] = v1.MaxTime / 1000
	}
	if v1.LastArrival != noTime {
		b.Seen[in], b.First = v1.LastArrival/1000, v1.LastArrival/1000
	}
	return nil
}

// applyTracked applies evs, each carrying its partition's watermark (from
// track), to e and closes the windows the frontier passed.
func applyTracked(e *window.Engine, now time.Time, evs []window.Event, frontier int64) window.Output {
	return closeTo(e, e.Apply(now, evs), frontier)
}

// recordLate marks the records whose events the engine found late (each
// event's Origin.Offset is its index in recs): wholly late ones are marked
// late (when mark), and every window missed becomes a PULSE_LATE_EVENTS
// row. A late record is still loaded into its fact and table outputs.
func recordLate(out window.Output, recs []*rec, marks []int64, o *outputs, mark bool) {
	for _, l := range out.Late {
		i := l.Event.Origin.Offset
		r := recs[i]
		if mark && !l.Partial {
			r.late = true
		}
		for _, m := range l.Missed {
			o.addLate(r, m.Assigner, m.Window, marks[i])
		}
	}
}

// registration: seed 003 task 5. Distinct registering users per 1 h
// tumbling window and per 1 h window sliding every 15 min.
type registration struct {
	cfg   Config
	e     *window.Engine
	marks *reorder
}

func newRegistration(c Config) processor {
	return &registration{cfg: c, marks: newReorder(c, "consumer_registration"), e: mustEngine(engineConfig(c, window.DistinctCount(),
		window.Tumbling(time.Hour).Named("tumbling"), window.Hopping(time.Hour, 15*time.Minute).Named("sliding")))}
}

func (p *registration) name() string       { return "user_registration_metrics" }
func (p *registration) datasets() []string { return []string{"consumer_registration"} }

func (p *registration) snapshot() ([]byte, error) {
	e, err := p.e.Snapshot()
	if err != nil {
		return nil, err
	}
	marks, err := json.Marshal(p.marks)
	if err != nil {
		return nil, err
	}
	return rawObject([]string{"engine", "marks"}, [][]byte{e, marks}), nil
}

// restore reads version 2 ({"engine", "marks"}) and version 1 (the
// engine's snapshot alone).
func (p *registration) restore(data []byte) error {
	var st struct {
		Engine json.RawMessage `json:"engine"`
		Marks  json.RawMessage `json:"marks"`
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding registration state: %w", err)
		}
	}
	if st.Marks == nil {
		st.Engine = data // version 1
	}
	if err := p.e.Restore(st.Engine); err != nil {
		return err
	}
	return restoreMarks(p.marks, st.Marks, "consumer_registration", st.Engine)
}

func (p *registration) results(out window.Output, o *outputs) {
	for _, r := range out.Results {
		start, end := windowCells(r.Window)
		o.add(star.UserRegistrationMetrics, table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: r.Assigner},
			start, end, {I: r.Value.Distinct}, {B: r.Final}, {I: micros(o.now)}, start})
	}
}

func (p *registration) apply(_ context.Context, now time.Time, recs []*rec, o *outputs, _ *lookups) error {
	marks := p.marks.track(now, recs)
	evs := make([]window.Event, len(recs))
	for i, r := range recs {
		evs[i] = window.Event{Time: fromMicros(r.t), Origin: window.Origin{Offset: int64(i)}, Distinct: itoa(r.cell("user_id").I),
			Watermark: markTime(marks[i])}
	}
	p.marks.advance(now)
	out := applyTracked(p.e, now, evs, p.marks.Frontier)
	recordLate(out, recs, marks, o, true)
	p.results(out, o)
	return nil
}

func (p *registration) advance(_ context.Context, now time.Time, o *outputs, _ *lookups) error {
	p.marks.advance(now)
	p.results(closeTo(p.e, window.Output{}, p.marks.Frontier), o)
	return nil
}

func (p *registration) flush(_ context.Context, _ time.Time, o *outputs, _ *lookups) error {
	p.marks.flush()
	p.results(p.e.Flush(), o)
	return nil
}

// plain keeps only the ledger of a dataset that feeds no window: its
// records are cleaned, deduplicated and loaded, never late.
type plain struct {
	label string
	sets  []string
}

func (p *plain) name() string                                                 { return p.label }
func (p *plain) datasets() []string                                           { return p.sets }
func (p *plain) snapshot() ([]byte, error)                                    { return nil, nil }
func (p *plain) restore([]byte) error                                         { return nil }
func (p *plain) advance(context.Context, time.Time, *outputs, *lookups) error { return nil }
func (p *plain) flush(context.Context, time.Time, *outputs, *lookups) error   { return nil }
func (p *plain) apply(context.Context, time.Time, []*rec, *outputs, *lookups) error {
	return nil
}

// plainDatasets are the stream datasets without windows (the registered
// specs with a Stream that is not Windowed).
func plainDatasets() []string {
	var out []string
	for _, s := range dataset.All() {
		if s.Stream != nil && !s.Stream.Windowed {
			out = append(out, s.Name)
		}
	}
	return out
}

// processorFactories lists every processor of the stream path.
func processorFactories(c Config) []func() processor {
	fs := []func() processor{
		func() processor { return &plain{label: unknownProc} },
		func() processor { return newRegistration(c) },
		func() processor { return newSocial(c) },
		func() processor { return newPageviews(c) },
		func() processor { return newSessions(c) },
		func() processor { return newMovieSales(c) },
	}
	for _, ds := range plainDatasets() {
		fs = append(fs, func() processor { return &plain{label: ds, sets: []string{ds}} })
	}
	return fs
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
