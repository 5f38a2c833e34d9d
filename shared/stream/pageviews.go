package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// pageviews: seed 004. Page views per page source in tumbling (1 min),
// hopping (1 min every 30 s) and session (gap 30 s) windows, with distinct
// users (topics 6-8); and page views joined with the cleaned users table
// (topic 5: a stream-table join, the user's row as of processing) per
// country per minute, with distinct users and mean age. The join also
// fills PAGEVIEWS.COUNTRY and AGE, of late views too: a late view is
// loaded into PAGEVIEWS like any other and only misses the closed windows.
//
// A session window's partial row is keyed by its start; when a later event
// merges it into a session that starts earlier, the superseded partial row
// is deleted, so only live sessions and final ones remain.
type pageviews struct {
	cfg  Config
	es   engines
	open map[string][]openPartial // per page source: session partial rows written and not final
	// Watermarks per partition of pageviews: of every view, and of the
	// views the country windows are fed (joined, not late), which alone
	// move those windows' watermark, as they did with one per topic.
	marks, cmarks *reorder
}

type openPartial struct {
	Start int64  `json:"s"`
	ID    string `json:"id"`
}

type pageviewState struct {
	Engines json.RawMessage          `json:"engines"`
	Open    map[string][]openPartial `json:"open,omitempty"`
	Marks   json.RawMessage          `json:"marks,omitempty"` // version 2: watermarks per partition
	CMarks  json.RawMessage          `json:"cmarks,omitempty"`
}

func newPageviews(c Config) processor {
	return &pageviews{cfg: c, open: map[string][]openPartial{}, marks: newReorder(c, "pageviews"), cmarks: newReorder(c, "pageviews"), es: engines{
		"views": mustEngine(engineConfig(c, window.All(),
			window.Tumbling(time.Minute).Named("tumbling"),
			window.Hopping(time.Minute, 30*time.Second).Named("hopping"),
			window.Session(30*time.Second).Named("session"))),
		"country": mustEngine(engineConfig(c, window.All(), window.Tumbling(time.Minute).Named("country_tumbling"))),
	}}
}

func (p *pageviews) name() string       { return "pageview_window_metrics" }
func (p *pageviews) datasets() []string { return []string{"pageviews"} }

func (p *pageviews) snapshot() ([]byte, error) {
	es, err := p.es.snapshot()
	if err != nil {
		return nil, err
	}
	open, err := json.Marshal(p.open)
	if err != nil {
		return nil, err
	}
	marks, err := json.Marshal(p.marks)
	if err != nil {
		return nil, err
	}
	cmarks, err := json.Marshal(p.cmarks)
	if err != nil {
		return nil, err
	}
	return rawObject([]string{"engines", "open", "marks", "cmarks"}, [][]byte{es, open, marks, cmarks}), nil
}

func (p *pageviews) restore(data []byte) error {
	var st pageviewState
	if len(data) > 0 {
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding pageviews state: %w", err)
		}
	}
	p.open = map[string][]openPartial{}
	for k, v := range st.Open {
		p.open[k] = v
	}
	if err := p.es.restore(st.Engines); err != nil {
		return err
	}
	m := map[string]json.RawMessage{}
	if st.Marks == nil && len(st.Engines) > 0 {
		if err := json.Unmarshal(st.Engines, &m); err != nil {
			return fmt.Errorf("decoding pageviews engines: %w", err)
		}
	}
	if err := restoreMarks(p.marks, st.Marks, "pageviews", m["views"]); err != nil {
		return err
	}
	return restoreMarks(p.cmarks, st.CMarks, "pageviews", m["country"])
}

func (p *pageviews) apply(ctx context.Context, now time.Time, recs []*rec, o *outputs, lk *lookups) error {
	evs := make([]window.Event, len(recs))
	ids := make([]string, len(recs))
	marks := p.marks.track(now, recs)
	p.marks.advance(now)
	for i, r := range recs {
		ids[i] = r.str("user_id")
		evs[i] = window.Event{Key: r.str("source"), Time: fromMicros(r.t), Origin: window.Origin{Offset: int64(i)}, Distinct: ids[i],
			Watermark: markTime(marks[i])}
	}
	out := applyTracked(p.es["views"], now, evs, p.marks.Frontier)
	recordLate(out, recs, marks, o, true)
	p.viewResults(out, o)

	users, err := lk.userRows(ctx, ids)
	if err != nil {
		return err
	}
	var joined []*rec
	var cevs []window.Event
	for _, r := range recs {
		u, ok := users[r.str("user_id")]
		if !ok {
			continue
		}
		// The fact row gets the join whether or not the view was late; a
		// view late for every window of its source stays out of the
		// country windows too (the two agree on what a late view is).
		r.patch = map[string]table.Cell{"COUNTRY": {S: u.country}, "AGE": {I: u.age}}
		if r.late {
			continue
		}
		cevs = append(cevs, window.Event{Key: u.country, Time: fromMicros(r.t), Origin: window.Origin{Offset: int64(len(joined))},
			Value: float64(u.age), Distinct: r.str("user_id")})
		joined = append(joined, r)
	}
	cmarks := p.cmarks.track(now, joined)
	for i := range cevs {
		cevs[i].Watermark = markTime(cmarks[i])
	}
	p.cmarks.advance(now)
	cout := applyTracked(p.es["country"], now, cevs, p.cmarks.Frontier)
	recordLate(cout, joined, cmarks, o, false)
	p.countryResults(cout, o)
	return nil
}

func (p *pageviews) advance(_ context.Context, now time.Time, o *outputs, _ *lookups) error {
	p.marks.advance(now)
	p.viewResults(closeTo(p.es["views"], window.Output{}, p.marks.Frontier), o)
	p.cmarks.advance(now)
	p.countryResults(closeTo(p.es["country"], window.Output{}, p.cmarks.Frontier), o)
	return nil
}

func (p *pageviews) flush(_ context.Context, _ time.Time, o *outputs, _ *lookups) error {
	p.marks.flush()
	p.cmarks.flush()
	p.viewResults(p.es["views"].Flush(), o)
	p.countryResults(p.es["country"].Flush(), o)
	return nil
}

func (p *pageviews) viewResults(out window.Output, o *outputs) {
	for _, r := range out.Results {
		id := metricID(r.Assigner, r.Key, r.Window.Start)
		if r.Assigner == "session" {
			p.supersede(r, id, o)
		}
		start, end := windowCells(r.Window)
		o.add(star.PageviewWindowMetrics, table.Row{{S: id}, {S: r.Assigner}, {S: r.Key}, start, end,
			{I: r.Value.Count}, {I: r.Value.Distinct}, {B: r.Final}, {I: micros(o.now)}})
	}
}

// supersede deletes the partial rows of sessions that r absorbed and keeps
// track of r's own row while it is partial.
func (p *pageviews) supersede(r window.Result, id string, o *outputs) {
	start, end := micros(r.Window.Start), micros(r.Window.End)
	keep := p.open[r.Key][:0]
	for _, op := range p.open[r.Key] {
		switch {
		case op.ID == id:
			continue // re-added below if still partial
		case op.Start >= start && op.Start < end:
			o.del(star.PageviewWindowMetrics, op.ID)
		default:
			keep = append(keep, op)
		}
	}
	if !r.Final {
		keep = append(keep, openPartial{Start: start, ID: id})
	}
	if len(keep) == 0 {
		delete(p.open, r.Key)
		return
	}
	p.open[r.Key] = keep
}

func (p *pageviews) countryResults(out window.Output, o *outputs) {
	for _, r := range out.Results {
		start, end := windowCells(r.Window)
		o.add(star.PageviewCountryMetrics, table.Row{{S: metricID(r.Assigner, r.Key, r.Window.Start)}, {S: r.Key}, start, end,
			{I: r.Value.Count}, {I: r.Value.Distinct}, {F: r.Value.Avg}, {B: r.Final}, {I: micros(o.now)}})
	}
}
