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

// engineConfig is the window configuration every stream engine shares.
func engineConfig(c Config, agg window.Aggregate, assigners ...window.Assigner) window.Config {
	lateness := c.lateness()
	if lateness == 0 {
		lateness = -1 // none
	}
	return window.Config{Assigners: assigners, Aggregate: agg, AllowedLateness: lateness, IdleTimeout: c.idle(), EmitPartial: true}
}

// applyTracked applies evs to e and returns, besides the output, the
// watermark each event met on arrival (Unix µs, noTime before any), by the
// engine's rule: the largest event time seen so far minus the lateness.
func applyTracked(e *window.Engine, now time.Time, evs []window.Event, lateness time.Duration) (window.Output, []int64) {
	wm := int64(noTime)
	if w, ok := e.Watermark(); ok {
		wm = w.UnixMicro()
	}
	marks := make([]int64, len(evs))
	for i := range evs {
		marks[i] = wm
		if c := evs[i].Time.UnixMicro() - lateness.Microseconds(); c > wm {
			wm = c
		}
	}
	return e.Apply(now, evs), marks
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
	cfg Config
	e   *window.Engine
}

func newRegistration(c Config) processor {
	return &registration{cfg: c, e: mustEngine(engineConfig(c, window.DistinctCount(),
		window.Tumbling(time.Hour).Named("tumbling"), window.Hopping(time.Hour, 15*time.Minute).Named("sliding")))}
}

func (p *registration) name() string              { return "user_registration_metrics" }
func (p *registration) datasets() []string        { return []string{"consumer_registration"} }
func (p *registration) snapshot() ([]byte, error) { return p.e.Snapshot() }
func (p *registration) restore(data []byte) error { return p.e.Restore(data) }
func (p *registration) results(out window.Output, o *outputs) {
	for _, r := range out.Results {
		start, end := windowCells(r.Window)
		o.add(star.UserRegistrationMetrics, table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: r.Assigner},
			start, end, {I: r.Value.Distinct}, {B: r.Final}, {I: micros(o.now)}, start})
	}
}

func (p *registration) apply(_ context.Context, now time.Time, recs []*rec, o *outputs, _ *lookups) error {
	evs := make([]window.Event, len(recs))
	for i, r := range recs {
		evs[i] = window.Event{Time: fromMicros(r.t), Origin: window.Origin{Offset: int64(i)}, Distinct: itoa(r.cell("user_id").I)}
	}
	out, marks := applyTracked(p.e, now, evs, p.cfg.lateness())
	recordLate(out, recs, marks, o, true)
	p.results(out, o)
	return nil
}

func (p *registration) advance(_ context.Context, now time.Time, o *outputs, _ *lookups) error {
	p.results(p.e.Advance(now), o)
	return nil
}

func (p *registration) flush(_ context.Context, _ time.Time, o *outputs, _ *lookups) error {
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
