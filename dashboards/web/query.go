package web

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
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
func discover(ctx context.Context, wh port.Warehouse, names []string) (map[string][]Column, error) {
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

// filterSQL is the SQL a panel runs under filters, with a token where each
// filter applies (see Detail), and where its rows then come from. A panel
// with a Detail re-aggregates the rows beneath its view; one without filters
// the view's own columns: PLATFORM, AGE_GROUP, the AgeColumn's bucket, and
// its date column (DateColumn, else its first time column). "" = no filter
// applies to the panel.
func filterSQL(p Panel, cols []Column) (sql, source string) {
	if d := p.Detail; d != nil {
		return d.SQL, "re-aggregated from " + d.From
	}
	var conds []string
	date := ""
	for _, c := range cols {
		switch {
		case c.Name == "PLATFORM" && c.Type == typeText:
			conds = append(conds, "@platform(PLATFORM)")
		case c.Name == "AGE_GROUP" && c.Type == typeText && p.AgeColumn == "":
			conds = append(conds, "@age_group(AGE_GROUP)")
		case c.Name == p.AgeColumn && c.Type == typeNumber:
			conds = append(conds, "@age_group("+ageGroupOf(c.Name)+")")
		case c.Type == typeTime && date == "" && p.DateColumn != "-" && (p.DateColumn == "" || p.DateColumn == c.Name):
			date = c.Name
		}
	}
	if date != "" {
		conds = append(conds, "@date("+date+")")
	}
	if len(conds) == 0 {
		return "", ""
	}
	return "SELECT * FROM " + p.View + " WHERE " + strings.Join(conds, " AND "), p.View + ", filtered"
}

// applies lists the filters that apply to a panel.
func applies(p Panel, cols []Column) []string {
	sql, _ := filterSQL(p, cols)
	out, _ := tokens(sql) // checked by New
	if out == nil {
		out = []string{}
	}
	return out
}

// MaxRows caps the rows one panel returns.
const MaxRows = 5000

// panelQuery is the SQL (and its arguments) that reads a panel under f,
// and a description of where the rows come from. With no filter that
// applies, it reads the named view itself; a Rollup is then drawn over
// those rows.
func panelQuery(p Panel, cols []Column, f Filters) (sql string, args []any, source string, err error) {
	tmpl, from := filterSQL(p, cols)
	ap := applies(p, cols)
	active := false
	for _, a := range f.active() {
		active = active || contains(ap, a)
	}
	sql, source = "SELECT * FROM "+p.View, p.View
	if active {
		if sql, args, err = expand(tmpl, f, nil); err != nil {
			return "", nil, "", fmt.Errorf("filtering panel %s: %w", p.View, err)
		}
		source = from
	}
	if p.Rollup != "" {
		sql = strings.Replace(p.Rollup, "@rows", "("+sql+") r", 1)
	}
	return sql + fmt.Sprintf(" LIMIT %d", MaxRows+1), args, source, nil
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
