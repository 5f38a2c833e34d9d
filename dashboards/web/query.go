package web

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// Column types as the page sees them.
const (
	typeText   = "text"
	typeTime   = "time"
	typeNumber = "number"
	typeOther  = "other"
)

// Column is one column of a view.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // text, time, number or other
}

// classify maps a warehouse DATA_TYPE (DuckDB or Snowflake spelling) to a column type.
func classify(dataType string) string {
	t := strings.ToUpper(dataType)
	switch {
	case strings.Contains(t, "TIME"), strings.HasPrefix(t, "DATE"):
		return typeTime
	case strings.Contains(t, "CHAR"), strings.Contains(t, "TEXT"), strings.Contains(t, "STRING"):
		return typeText
	case strings.Contains(t, "INT"), strings.Contains(t, "NUMBER"), strings.Contains(t, "NUMERIC"),
		strings.Contains(t, "DECIMAL"), strings.Contains(t, "FLOAT"), strings.Contains(t, "DOUBLE"), strings.Contains(t, "REAL"):
		return typeNumber
	}
	return typeOther
}

// discover returns the columns of each named relation that exists in the
// warehouse's current schema, keyed by upper-case name. It reads
// INFORMATION_SCHEMA, which DuckDB and Snowflake both have.
func discover(ctx context.Context, wh pipeline.Warehouse, names []string) (map[string][]Column, error) {
	if len(names) == 0 {
		return map[string][]Column{}, nil
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = strings.ToUpper(n)
	}
	_, rows, err := wh.Query(ctx, "SELECT UPPER(TABLE_NAME), UPPER(COLUMN_NAME), DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS"+
		" WHERE TABLE_SCHEMA = CURRENT_SCHEMA() AND UPPER(TABLE_NAME) IN ("+placeholders(len(names))+")"+
		" ORDER BY TABLE_NAME, ORDINAL_POSITION", args...)
	if err != nil {
		return nil, fmt.Errorf("listing the columns of %s: %w", strings.Join(names, ", "), err)
	}
	out := map[string][]Column{}
	for _, r := range rows {
		table, name, dt := fmt.Sprint(r[0]), fmt.Sprint(r[1]), fmt.Sprint(r[2])
		out[table] = append(out[table], Column{Name: name, Type: classify(dt)})
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Filters narrow every panel they apply to. Empty fields do not filter.
type Filters struct {
	Platforms []string
	AgeGroups []string
	From, To  time.Time // days, UTC; the range is [From, To + 1 day)
}

// active lists the filters that are set.
func (f Filters) active() []string {
	var out []string
	if len(f.Platforms) > 0 {
		out = append(out, FilterPlatform)
	}
	if len(f.AgeGroups) > 0 {
		out = append(out, FilterAgeGroup)
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		out = append(out, FilterDate)
	}
	return out
}

// target is where a panel's filters land: the columns of the relation the
// query filters (the detail relation or the view itself).
type target struct {
	Platform, AgeGroup, Time string
}

func (t target) applies() []string {
	var out []string
	if t.Platform != "" {
		out = append(out, FilterPlatform)
	}
	if t.AgeGroup != "" {
		out = append(out, FilterAgeGroup)
	}
	if t.Time != "" {
		out = append(out, FilterDate)
	}
	return out
}

// where builds the parameterized conditions for the filters that apply to
// t. Values are always bound as arguments, never written into the SQL.
func (t target) where(f Filters) (conds []string, args []any) {
	in := func(col string, vals []string) {
		conds = append(conds, col+" IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if t.Platform != "" && len(f.Platforms) > 0 {
		in(t.Platform, f.Platforms)
	}
	if t.AgeGroup != "" && len(f.AgeGroups) > 0 {
		in(t.AgeGroup, f.AgeGroups)
	}
	if t.Time != "" {
		if !f.From.IsZero() {
			conds = append(conds, t.Time+" >= CAST(? AS TIMESTAMP)")
			args = append(args, f.From.UTC().Format(time.DateTime))
		}
		if !f.To.IsZero() {
			conds = append(conds, t.Time+" < CAST(? AS TIMESTAMP)")
			args = append(args, f.To.UTC().AddDate(0, 0, 1).Format(time.DateTime))
		}
	}
	return conds, args
}

// directTarget is where filters land on the view itself: its PLATFORM and
// AGE_GROUP columns and its date column (the panel's DateColumn, else its
// first time column).
func directTarget(p Panel, cols []Column) target {
	var t target
	for _, c := range cols {
		switch {
		case c.Name == "PLATFORM" && c.Type == typeText:
			t.Platform = c.Name
		case c.Name == "AGE_GROUP" && c.Type == typeText:
			t.AgeGroup = c.Name
		case c.Type == typeTime && t.Time == "" && (p.DateColumn == "" || p.DateColumn == c.Name):
			t.Time = c.Name
		}
	}
	return t
}

// panelTarget is where filters land for a panel: the detail relation if it
// has one, else the view.
func panelTarget(p Panel, cols []Column) target {
	if p.Detail != nil {
		return target{Platform: p.Detail.Platform, AgeGroup: p.Detail.AgeGroup, Time: p.Detail.Time}
	}
	return directTarget(p, cols)
}

// MaxRows caps the rows one panel returns.
const MaxRows = 5000

// panelQuery is the SQL (and its arguments) that reads a panel under f,
// and a description of where the rows come from.
func panelQuery(p Panel, cols []Column, f Filters) (sql string, args []any, source string) {
	t := panelTarget(p, cols)
	conds, args := t.where(f)
	limit := fmt.Sprintf(" LIMIT %d", MaxRows+1)
	if len(conds) == 0 {
		return "SELECT * FROM " + p.View + limit, nil, p.View
	}
	if d := p.Detail; d != nil {
		return d.sql(conds) + limit, args, "re-aggregated from " + strings.Fields(d.From)[0]
	}
	return "SELECT * FROM " + p.View + " WHERE " + strings.Join(conds, " AND ") + limit, args, p.View + ", filtered"
}

// sql is the detail aggregation under the given conditions.
func (d *Detail) sql(conds []string) string {
	if d.Where != "" {
		conds = append([]string{d.Where}, conds...)
	}
	q := "SELECT " + d.Select + " FROM " + d.From
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	return q + " GROUP BY " + d.GroupBy
}

// PanelData is what the page draws for one panel.
type PanelData struct {
	View       string     `json:"view"`
	Title      string     `json:"title"`
	Columns    []Column   `json:"columns"`
	Rows       [][]any    `json:"rows"`
	Truncated  bool       `json:"truncated"`
	Chart      ChartSpec  `json:"chart"`
	Source     string     `json:"source"`     // the view, or the detail relation it was re-aggregated from
	Applied    []string   `json:"applied"`    // filters that narrowed these rows
	NotApplied []string   `json:"notApplied"` // filters that are set but do not apply to this panel
	Total      *float64   `json:"total"`      // the sum of the panel's Total column, if it has one
	QueriedAt  time.Time  `json:"queriedAt"`
	Filters    FilterEcho `json:"filters"`
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
	sql, args, source := panelQuery(p, cols, f)
	names, rows, err := wh.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("reading panel %s: %w", p.View, err)
	}
	if len(names) != len(cols) {
		return nil, fmt.Errorf("reading panel %s: the query returned %d columns, the view has %d", p.View, len(names), len(cols))
	}
	for i, n := range names {
		if !strings.EqualFold(n, cols[i].Name) {
			return nil, fmt.Errorf("reading panel %s: column %d is %s, the view's is %s", p.View, i+1, n, cols[i].Name)
		}
	}
	d := &PanelData{View: p.View, Title: p.Title, Columns: cols, Source: source, QueriedAt: now.UTC(),
		Applied: []string{}, NotApplied: []string{}, Filters: echo(f)}
	if len(rows) > MaxRows {
		rows, d.Truncated = rows[:MaxRows], true
	}
	for _, r := range rows {
		for i, v := range r {
			r[i] = jsonValue(v)
		}
	}
	applies := panelTarget(p, cols).applies()
	for _, a := range f.active() {
		if contains(applies, a) {
			d.Applied = append(d.Applied, a)
		} else {
			d.NotApplied = append(d.NotApplied, a)
		}
	}
	d.Chart = deriveChart(p, cols, rows)
	sortRows(d.Chart, cols, rows)
	d.Rows = rows
	if d.Rows == nil {
		d.Rows = [][]any{}
	}
	if i := index(cols, p.Total); i >= 0 && cols[i].Type == typeNumber {
		var sum float64
		for _, r := range rows {
			if x, ok := number(r[i]); ok {
				sum += x
			}
		}
		d.Total = &sum
	}
	return d, nil
}

func echo(f Filters) FilterEcho {
	e := FilterEcho{Platforms: f.Platforms, AgeGroups: f.AgeGroups}
	if e.Platforms == nil {
		e.Platforms = []string{}
	}
	if e.AgeGroups == nil {
		e.AgeGroups = []string{}
	}
	if !f.From.IsZero() {
		e.From = f.From.Format(time.DateOnly)
	}
	if !f.To.IsZero() {
		e.To = f.To.Format(time.DateOnly)
	}
	return e
}

// jsonValue makes a warehouse value safe for encoding/json.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case time.Time:
		return x.UTC()
	}
	return v
}

// number reads a numeric cell.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func index(cols []Column, name string) int {
	if name == "" {
		return -1
	}
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sortRows orders rows by pick, category and split, so the same data is
// always drawn (and compared) the same way.
func sortRows(c ChartSpec, cols []Column, rows [][]any) {
	var keys []int
	for _, n := range []string{c.Pick, c.Category, c.Split} {
		if i := index(cols, n); i >= 0 {
			keys = append(keys, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		for _, k := range keys {
			if c := compare(rows[a][k], rows[b][k]); c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// compare orders cells: nil first, numbers and times by value, the rest as text.
func compare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, ok := a.(time.Time); ok {
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
