package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
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
	// Pick column ("" when it has none): that of the chart's Total column.
	Headlines map[string]Headline `json:"headlines"`
	// MeasureHeadlines are the headline of every numeric column, per
	// picked value then column: the card's headline follows the measure
	// the user picks. Empty when the panel has no headline (no Total).
	MeasureHeadlines map[string]map[string]Headline `json:"measureHeadlines"`
	// EmptyNote says why the view may have no rows yet (Panel.EmptyNote).
	EmptyNote string `json:"emptyNote,omitempty"`
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
	// Kind is how Value was made from the rows: "sum" (a column the page
	// may sum), "mean" (a mean column over all the rows: weighted by
	// Weight when the panel names one), "top" (the largest category's
	// value) or "latest" (the newest category's value). A category's value
	// over several rows (a split) is their sum or mean the same way.
	Kind   string `json:"kind"`
	Weight string `json:"weight,omitempty"`
}

// Headline kinds.
const (
	kindSum  = "sum"
	kindMean = "mean"
)

// FilterEcho repeats the filters the data was read under.
type FilterEcho struct {
	Platforms []string `json:"platform"`
	AgeGroups []string `json:"age_group"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
}

// readPanel runs a panel's query under f. cols are the view's columns.
func readPanel(ctx context.Context, wh port.Warehouse, p Panel, cols []Column, f Filters, now time.Time) (*PanelData, error) {
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
	d := &PanelData{View: p.View, Title: p.Title, Note: p.Note, EmptyNote: p.EmptyNote, Columns: rowCols, Source: source,
		QueriedAt: now.UTC(), Applied: []string{}, NotApplied: []string{}, Filters: echo(f)}
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
	d.MeasureHeadlines = headlines(d.Chart, p.Weights, rowCols, d.Rows)
	d.Headlines = map[string]Headline{}
	for pick, m := range d.MeasureHeadlines {
		if h, ok := m[d.Chart.Total]; ok {
			d.Headlines[pick] = h
		}
	}
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

// headlines computes, for each picked value and each numeric column, the
// card's headline when that column is shown: over all the rows (the sum of
// a column the page may sum, else the mean, weighted by the panel's weight
// column when it has one), or the value of the category with the largest
// value (HeadlineTop) or of the newest category (HeadlineLatest), a
// category's value being its rows' sum or mean the same way. Rows are
// sorted by pick, category and split. None when the chart has no Total,
// nor for a measure on each split value's own scale (SplitScale) when the
// rows have several split values.
func headlines(c ChartSpec, weights map[string]string, cols []Column, rows [][]any) map[string]map[string]Headline {
	out := map[string]map[string]Headline{}
	if c.Total == "" {
		return out
	}
	pi, ci, si := index(cols, c.Pick), index(cols, c.Category), index(cols, c.Split)
	groups := map[string][][]any{}
	var order []string
	for _, r := range rows {
		k := ""
		if pi >= 0 {
			k = str(r[pi])
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		out[k] = map[string]Headline{}
		splits := map[string]bool{}
		for _, r := range groups[k] {
			if si >= 0 {
				splits[str(r[si])] = true
			}
		}
		for _, col := range c.Numeric {
			if contains(c.SplitScale, col) && len(splits) > 1 {
				continue // each split value on its own scale: no one figure sums or averages them
			}
			if h, ok := headlineOf(c, col, weights[col], cols, ci, groups[k]); ok {
				out[k][col] = h
			}
		}
	}
	return out
}

// agg sums a column over rows: a plain sum, or the pieces of a mean.
type agg struct {
	sum, weighted, weight float64
	n                     int
}

func (a *agg) add(x, w float64) {
	a.sum += x
	a.weighted += w * x
	a.weight += w
	a.n++
}

// value is the sum (a summable column), the weighted mean (a weight
// column with a non-zero total), else the plain mean; false when a mean
// has no values.
func (a agg) value(summable, weighted bool) (float64, bool) {
	switch {
	case summable:
		return a.sum, true
	case a.n == 0:
		return 0, false
	case weighted && a.weight != 0:
		return a.weighted / a.weight, true
	}
	return a.sum / float64(a.n), true
}

// headlineOf is one column's headline over one picked value's rows.
func headlineOf(c ChartSpec, col, weight string, cols []Column, ci int, rows [][]any) (Headline, bool) {
	xi, wi := index(cols, col), index(cols, weight)
	summable := contains(c.Additive, col)
	weighted := !summable && wi >= 0
	h := Headline{Column: col, Kind: kindSum}
	if !summable {
		h.Kind = kindMean
		if weighted {
			h.Weight = weight
		}
	}
	var all agg
	var cats []any
	var byCat []agg
	for _, r := range rows {
		x, ok := number(r[xi])
		if !ok && !summable {
			continue // a mean leaves out rows without a value
		}
		w := 1.0
		if weighted {
			w, _ = number(r[wi])
		}
		all.add(x, w)
		if ci >= 0 {
			if n := len(cats); n == 0 || compare(cats[n-1], r[ci]) != 0 {
				cats, byCat = append(cats, r[ci]), append(byCat, agg{})
			}
			byCat[len(byCat)-1].add(x, w)
		}
	}
	var ok bool
	switch {
	case c.Headline == HeadlineTop && len(cats) > 0:
		best, bestV := -1, 0.0
		for i, a := range byCat {
			if v, has := a.value(summable, weighted); has && (best < 0 || v > bestV) {
				best, bestV = i, v
			}
		}
		if best < 0 {
			return h, false
		}
		h.Value, h.Label, h.Kind, ok = bestV, label(cats[best]), HeadlineTop, true
	case c.Headline == HeadlineLatest && len(cats) > 0:
		n := len(cats) - 1 // rows are sorted by category within a pick
		h.Value, ok = byCat[n].value(summable, weighted)
		h.Label, h.Kind = label(cats[n]), HeadlineLatest
	default:
		h.Value, ok = all.value(summable, weighted)
	}
	return h, ok
}

// label is a category value as a headline's text.
func label(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339)
	}
	return str(v)
}
