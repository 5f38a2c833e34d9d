package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// PanelData is what the page draws for one panel.
type PanelData struct {
	View       string    `json:"view"`
	Title      string    `json:"title"`
	Note       string    `json:"note,omitempty"`
	Columns    []Column  `json:"columns"` // of Rows: the view's, or its Rollup's
	Rows       [][]any   `json:"rows"`
	Truncated  bool      `json:"truncated"`
	Chart      ChartSpec `json:"chart"`
	Source     string    `json:"source"`     // the view, or the detail relation it was re-aggregated from
	Applied    []string  `json:"applied"`    // filters that narrowed these rows
	NotApplied []string  `json:"notApplied"` // filters that are set but do not apply to this panel
	// Headlines are the card's headline figure per value of the panel's
	// Pick column ("" when it has none).
	Headlines map[string]Headline `json:"headlines"`
	// Total is the headline's value when the panel has one headline (no
	// Pick), nil otherwise.
	Total     *float64   `json:"total"`
	QueriedAt time.Time  `json:"queriedAt"`
	Filters   FilterEcho `json:"filters"`
}

// Headline is the figure at the top of a card.
type Headline struct {
	Column string  `json:"column"`
	Value  float64 `json:"value"`
	// Label: the top category (HeadlineTop) or the newest time (HeadlineLatest).
	Label string `json:"label,omitempty"`
}

// FilterEcho repeats the filters the data was read under.
type FilterEcho struct {
	Platforms []string `json:"platform"`
	AgeGroups []string `json:"age_group"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
}

// readPanel runs a panel's query under f. cols are the view's columns.
func readPanel(ctx context.Context, wh pipeline.Warehouse, p Panel, cols []Column, f Filters, now time.Time) (*PanelData, error) {
	sql, args, source, err := panelQuery(p, cols, f)
	if err != nil {
		return nil, err
	}
	names, rows, err := wh.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("reading panel %s: %w", p.View, err)
	}
	rowCols := cols
	if p.Rollup != "" {
		rowCols = inferColumns(names, rows, cols)
	} else {
		if len(names) != len(cols) {
			return nil, fmt.Errorf("reading panel %s: the query returned %d columns, the view has %d", p.View, len(names), len(cols))
		}
		for i, n := range names {
			if !strings.EqualFold(n, cols[i].Name) {
				return nil, fmt.Errorf("reading panel %s: column %d is %s, the view's is %s", p.View, i+1, n, cols[i].Name)
			}
		}
	}
	d := &PanelData{View: p.View, Title: p.Title, Note: p.Note, Columns: rowCols, Source: source, QueriedAt: now.UTC(),
		Applied: []string{}, NotApplied: []string{}, Filters: echo(f)}
	if len(rows) > MaxRows {
		rows, d.Truncated = rows[:MaxRows], true
	}
	for _, r := range rows {
		for i, v := range r {
			r[i] = jsonValue(v)
		}
	}
	ap := applies(p, cols)
	for _, a := range f.active() {
		if contains(ap, a) {
			d.Applied = append(d.Applied, a)
		} else {
			d.NotApplied = append(d.NotApplied, a)
		}
	}
	d.Chart = deriveChart(p, rowCols, rows)
	sortRows(d.Chart, rowCols, rows)
	d.Rows = rows
	if d.Rows == nil {
		d.Rows = [][]any{}
	}
	d.Headlines = headlines(d.Chart, rowCols, d.Rows)
	if h, ok := d.Headlines[""]; ok && d.Chart.Pick == "" {
		v := h.Value
		d.Total = &v
	}
	return d, nil
}

// inferColumns types a Rollup's columns: by the view's column of the same
// name, else by the first value that is not NULL (number when all are).
func inferColumns(names []string, rows [][]any, view []Column) []Column {
	out := make([]Column, len(names))
	for i, n := range names {
		n = strings.ToUpper(n)
		out[i] = Column{Name: n, Type: typeNumber}
		if j := index(view, n); j >= 0 {
			out[i].Type = view[j].Type
			continue
		}
		for _, r := range rows {
			switch r[i].(type) {
			case nil:
				continue
			case string:
				out[i].Type = typeText
			case time.Time:
				out[i].Type = typeTime
			case int64, float64, int:
				out[i].Type = typeNumber
			default:
				out[i].Type = typeOther
			}
			break
		}
	}
	return out
}

// headlines computes the headline figure of each picked value: the sum of
// the Total column, the category with the largest sum (HeadlineTop) or
// the sum at the newest category (HeadlineLatest). Rows are sorted by
// pick, category and split.
func headlines(c ChartSpec, cols []Column, rows [][]any) map[string]Headline {
	out := map[string]Headline{}
	ti := index(cols, c.Total)
	if ti < 0 {
		return out
	}
	pi, ci := index(cols, c.Pick), index(cols, c.Category)
	type group struct {
		sum   float64
		byCat []float64 // per category, in row order
		cats  []any
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range rows {
		k := ""
		if pi >= 0 {
			k = str(r[pi])
		}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		x, _ := number(r[ti])
		g.sum += x
		if ci >= 0 {
			if n := len(g.cats); n == 0 || compare(g.cats[n-1], r[ci]) != 0 {
				g.cats, g.byCat = append(g.cats, r[ci]), append(g.byCat, 0)
			}
			g.byCat[len(g.byCat)-1] += x
		}
	}
	for _, k := range order {
		g := groups[k]
		h := Headline{Column: c.Total, Value: g.sum}
		switch {
		case c.Headline == HeadlineTop && len(g.cats) > 0:
			best := 0
			for i, v := range g.byCat {
				if v > g.byCat[best] {
					best = i
				}
			}
			h.Value, h.Label = g.byCat[best], label(g.cats[best])
		case c.Headline == HeadlineLatest && len(g.cats) > 0:
			n := len(g.cats) - 1 // rows are sorted by category within a pick
			h.Value, h.Label = g.byCat[n], label(g.cats[n])
		}
		out[k] = h
	}
	return out
}

// label is a category value as a headline's text.
func label(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339)
	}
	return str(v)
}
