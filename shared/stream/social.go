package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// socialWindow is seed 001's "in 5 minutes".
const socialWindow = 5 * time.Minute

// social: seed 001. Per platform per 5-minute tumbling window: events,
// visitors, page visitors, sales, usage, mean conversion and bounce rates;
// per platform and city the same window's usage ("users"), sales and
// visitors, and on final rows the top city by users and by sales.
//
// A window engine keeps one sum per window, so each measure has its own
// engine; all are fed the same events with the same assigner, so they
// agree on what is late and when windows close.
type social struct {
	cfg   Config
	es    engines
	marks *reorder // per partition of social_sales
}

// Platform measures and city measures, by engine name.
var (
	platformMeasures = []string{"visitors", "page_visitors", "sales", "usage", "conversion_rate", "bounce_rate"}
	cityMeasures     = []string{"city_usage", "city_sales", "city_visitors"}
)

func newSocial(c Config) processor {
	es := engines{}
	for _, m := range append(append([]string{}, platformMeasures...), cityMeasures...) {
		es[m] = mustEngine(engineConfig(c, window.Sum(), window.Tumbling(socialWindow).Named("tumbling")))
	}
	return &social{cfg: c, es: es, marks: newReorder(c, "social_sales")}
}

func (p *social) name() string       { return "social_platform_metrics" }
func (p *social) datasets() []string { return []string{"social_sales"} }

// snapshot is the engines by name, and "marks", the watermarks per
// partition (version 2; version 1 had no "marks").
func (p *social) snapshot() ([]byte, error) {
	names := sortedKeys(p.es)
	vals := make([][]byte, 0, len(names)+1)
	for _, name := range names {
		b, err := p.es[name].Snapshot()
		if err != nil {
			return nil, fmt.Errorf("engine %s: %w", name, err)
		}
		vals = append(vals, b)
	}
	marks, err := json.Marshal(p.marks)
	if err != nil {
		return nil, err
	}
	return rawObject(append(names, "marks"), append(vals, marks)), nil
}

func (p *social) restore(data []byte) error {
	if err := p.es.restore(data); err != nil {
		return err
	}
	m := map[string]json.RawMessage{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("decoding social state: %w", err)
		}
	}
	return restoreMarks(p.marks, m["marks"], "social_sales", m["visitors"])
}

// measure is the value one engine sums for a record.
func measure(name string, r *rec) float64 {
	switch name {
	case "visitors", "city_visitors":
		return float64(r.cell("Visitors").I)
	case "page_visitors":
		return float64(r.cell("PageVisitors").I)
	case "sales", "city_sales":
		return r.cell("Sales").F
	case "usage", "city_usage":
		return float64(r.cell("Usage_Count").I)
	case "conversion_rate":
		return r.cell("ConversionRate").F
	case "bounce_rate":
		return r.cell("BounceRate").F
	}
	return 0
}

// cityKey joins platform and city; a separator inside a name is replaced.
func cityKey(platform, city string) string {
	return window.JoinKey(strings.ReplaceAll(platform, window.KeySep, "/"), strings.ReplaceAll(city, window.KeySep, "/"))
}

func (p *social) apply(_ context.Context, now time.Time, recs []*rec, o *outputs, _ *lookups) error {
	outs := map[string]window.Output{}
	evs := make([]window.Event, len(recs))
	marks := p.marks.track(now, recs)
	p.marks.advance(now)
	for _, name := range sortedKeys(p.es) {
		city := strings.HasPrefix(name, "city_")
		for i, r := range recs {
			key := r.str("Platform")
			if city {
				key = cityKey(key, r.str("City"))
			}
			evs[i] = window.Event{Key: key, Time: fromMicros(r.t), Origin: window.Origin{Offset: int64(i)}, Value: measure(name, r),
				Watermark: markTime(marks[i])}
		}
		out := applyTracked(p.es[name], now, evs, p.marks.Frontier)
		if name == "visitors" {
			recordLate(out, recs, marks, o, true) // the others see the same events and agree
		}
		outs[name] = out
	}
	p.results(outs, o)
	return nil
}

func (p *social) advance(_ context.Context, now time.Time, o *outputs, _ *lookups) error {
	outs := map[string]window.Output{}
	p.marks.advance(now)
	for name, e := range p.es {
		outs[name] = closeTo(e, window.Output{}, p.marks.Frontier)
	}
	p.results(outs, o)
	return nil
}

func (p *social) flush(_ context.Context, _ time.Time, o *outputs, _ *lookups) error {
	outs := map[string]window.Output{}
	p.marks.flush()
	for name, e := range p.es {
		outs[name] = e.Flush()
	}
	p.results(outs, o)
	return nil
}

// resultKey identifies one window of one group.
type resultKey struct {
	key   string
	start int64
	final bool
}

func resultIndex(out window.Output) map[resultKey]window.Result {
	m := make(map[resultKey]window.Result, len(out.Results))
	for _, r := range out.Results {
		m[resultKey{r.Key, r.Window.Start.UnixNano(), r.Final}] = r
	}
	return m
}

// results turns the engines' results into SOCIAL_PLATFORM_METRICS and
// SOCIAL_CITY_METRICS rows. Every engine emits the same windows, so the
// visitors engine's results drive and the others are looked up.
func (p *social) results(outs map[string]window.Output, o *outputs) {
	at := table.Cell{I: micros(o.now)}
	idx := map[string]map[resultKey]window.Result{}
	for name, out := range outs {
		idx[name] = resultIndex(out)
	}
	get := func(name string, k resultKey) window.AggregateValue { return idx[name][k].Value }

	// Top cities of the windows that closed (all cities of a window close together).
	var finals, salesFinals []window.Result
	for _, r := range outs["city_usage"].Results {
		if r.Final {
			finals = append(finals, r)
		}
	}
	for _, r := range outs["city_sales"].Results {
		if r.Final {
			salesFinals = append(salesFinals, r)
		}
	}
	sum := func(v window.AggregateValue) float64 { return v.Sum }
	type topKey struct {
		platform string
		start    int64
	}
	topUsers, topSales := map[topKey]window.Top{}, map[topKey]window.Top{}
	for _, t := range window.TopBy(finals, sum) {
		topUsers[topKey{t.Group, t.Window.Start.UnixNano()}] = t
	}
	for _, t := range window.TopBy(salesFinals, sum) {
		topSales[topKey{t.Group, t.Window.Start.UnixNano()}] = t
	}

	for _, r := range outs["visitors"].Results {
		k := resultKey{r.Key, r.Window.Start.UnixNano(), r.Final}
		start, end := windowCells(r.Window)
		conv, bounce := get("conversion_rate", k), get("bounce_rate", k)
		row := table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: r.Key}, start, end,
			{I: r.Value.Count}, {I: int64(r.Value.Sum)}, {I: int64(get("page_visitors", k).Sum)}, {F: get("sales", k).Sum},
			{I: int64(get("usage", k).Sum)}, {F: conv.Avg}, {F: bounce.Avg}, {B: r.Final}, at,
			{Null: true}, {Null: true}, {Null: true}, {Null: true}}
		if r.Final {
			tk := topKey{r.Key, r.Window.Start.UnixNano()}
			if t, ok := topUsers[tk]; ok {
				row[13], row[14] = table.Cell{S: t.Member}, table.Cell{I: int64(t.Value.Sum)}
			}
			if t, ok := topSales[tk]; ok {
				row[15], row[16] = table.Cell{S: t.Member}, table.Cell{F: t.Value.Sum}
			}
		}
		o.add(star.SocialPlatformMetrics, row)
	}
	for _, r := range outs["city_usage"].Results {
		k := resultKey{r.Key, r.Window.Start.UnixNano(), r.Final}
		platform, city, _ := strings.Cut(r.Key, window.KeySep)
		start, end := windowCells(r.Window)
		o.add(star.SocialCityMetrics, table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: platform}, {S: city},
			start, end, {I: r.Value.Count}, {I: int64(r.Value.Sum)}, {F: get("city_sales", k).Sum},
			{I: int64(get("city_visitors", k).Sum)}, {B: r.Final}, {I: micros(o.now)}})
	}
}
