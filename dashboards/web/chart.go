package web

import (
	"fmt"
	"strings"
)

// ChartSpec says how the page draws a panel's rows.
type ChartSpec struct {
	Type     string `json:"type"`               // bar, hbar, line or kpi
	Category string `json:"category,omitempty"` // the category (x) axis column
	Time     bool   `json:"time"`               // the category is a time
	Split    string `json:"split,omitempty"`    // its values become one series each
	Label    string `json:"label,omitempty"`    // printed on each bar
	// LabelFormat writes a numeric label ("{v}" is the value, "{name}" the column's name).
	LabelFormat string   `json:"labelFormat,omitempty"`
	Pick        string   `json:"pick,omitempty"`        // one value of it is shown at a time
	PickDefault string   `json:"pickDefault,omitempty"` // the picked value shown first
	Measures    []string `json:"measures"`              // shown together by default
	Numeric     []string `json:"numeric"`               // every numeric column: the measure selector
	Additive    []string `json:"additive"`              // numeric columns that may be stacked and summed
	Stack       bool     `json:"stack"`
	SortBy      string   `json:"sortBy,omitempty"`
	Limit       int      `json:"limit,omitempty"` // at most this many categories
	// ZoomMinutes: a time line opens on its newest this many minutes.
	ZoomMinutes int    `json:"zoomMinutes,omitempty"`
	Total       string `json:"total,omitempty"`    // the headline's column
	Headline    string `json:"headline,omitempty"` // sum, top or latest
	// Units of the numeric columns that have one (%, ratio, s, $).
	Units map[string]string `json:"units"`
	// Names are display names of columns (the page humanizes the others).
	Names map[string]string `json:"names"`
	// AxisUnits is the unit an axis title gives each numeric column, and
	// the category when it has one: "%", "USD", "s" (the page writes
	// "min" when it ticks in minutes), "count", or the panel's AxisUnits.
	// A time category's axis says UTC instead.
	AxisUnits map[string]string `json:"axisUnits"`
	// SplitScale: measures drawn as one small chart per split value.
	SplitScale []string `json:"splitScale"`
}

// axisUnit is the unit an axis title gives a numeric column ("" if none is known).
func axisUnit(p Panel, unit, col string, additive bool) string {
	switch unit {
	case UnitPercent, UnitRatio:
		return "%"
	case UnitUSD:
		return "USD"
	case UnitSeconds:
		return "s"
	}
	if u := p.AxisUnits[col]; u != "" {
		return u
	}
	if additive {
		return "count"
	}
	return ""
}

// deriveChart works out a panel's chart from its columns and rows; the
// panel's fields override what is derived, where the view has the column.
func deriveChart(p Panel, cols []Column, rows [][]any) ChartSpec {
	has := func(name string, types ...string) bool {
		i := index(cols, name)
		if i < 0 {
			return false
		}
		for _, t := range types {
			if cols[i].Type == t {
				return true
			}
		}
		return len(types) == 0
	}
	c := ChartSpec{Measures: []string{}, Numeric: []string{}, Additive: []string{}, SortBy: p.SortBy, Stack: p.Stack,
		Limit: p.Limit, ZoomMinutes: p.ZoomMinutes, Units: map[string]string{}, Names: map[string]string{},
		AxisUnits: map[string]string{}, SplitScale: []string{}}
	if has(p.Pick, typeText) {
		c.Pick, c.PickDefault = p.Pick, p.PickDefault
	}
	if has(p.Label, typeText, typeNumber) {
		c.Label, c.LabelFormat = p.Label, p.LabelFormat
	}
	if has(p.Split, typeText) {
		c.Split = p.Split
	}
	used := func(n string) bool { return n == c.Pick || n == c.Label || n == c.Split }
	switch {
	case has(p.Category, typeText, typeTime, typeNumber):
		c.Category = p.Category
	case p.Chart == "kpi": // one figure: no category
	default:
		for _, t := range []string{typeTime, typeText} {
			for _, col := range cols {
				if col.Type == t && !used(col.Name) {
					c.Category = col.Name
					break
				}
			}
			if c.Category != "" {
				break
			}
		}
	}
	if i := index(cols, c.Category); i >= 0 {
		c.Time = cols[i].Type == typeTime
	}
	// A category that repeats (within one picked value) needs a split: the
	// first text column not used yet.
	if c.Split == "" && p.Split != "-" && c.Category != "" && repeats(cols, rows, c.Pick, c.Category) {
		for _, col := range cols {
			if col.Type == typeText && col.Name != c.Category && !used(col.Name) {
				c.Split = col.Name
				break
			}
		}
	}
	for _, col := range cols {
		if col.Type != typeNumber || col.Name == c.Category {
			continue
		}
		c.Numeric = append(c.Numeric, col.Name)
		if additive(col.Name) {
			c.Additive = append(c.Additive, col.Name)
		}
		if u := p.Units[col.Name]; u != "" {
			c.Units[col.Name] = u
		} else if strings.HasSuffix(col.Name, "_SECONDS") {
			c.Units[col.Name] = UnitSeconds
		}
		if u := axisUnit(p, c.Units[col.Name], col.Name, additive(col.Name)); u != "" {
			c.AxisUnits[col.Name] = u
		}
		if contains(p.SplitScale, col.Name) && c.Split != "" {
			c.SplitScale = append(c.SplitScale, col.Name)
		}
	}
	if u := p.AxisUnits[c.Category]; u != "" && c.Category != "" {
		c.AxisUnits[c.Category] = u
	}
	for _, col := range cols {
		if n := p.Names[col.Name]; n != "" {
			c.Names[col.Name] = n
		}
	}
	for _, m := range p.Measures {
		if contains(c.Numeric, m) {
			c.Measures = append(c.Measures, m)
		}
	}
	if len(c.Measures) == 0 && len(c.Numeric) > 0 {
		c.Measures = []string{c.Numeric[0]}
	}
	if contains(c.Numeric, p.Total) {
		c.Total = p.Total
	}
	switch {
	case p.Chart != "":
		c.Type = p.Chart
	case c.Category == "" && len(rows) <= 1:
		c.Type = "kpi"
	case c.Time:
		c.Type = "line"
	default:
		c.Type = "bar"
	}
	if c.Type == "kpi" && len(c.Measures) > 0 && c.Total == "" {
		c.Total = c.Measures[0]
	}
	if c.Total != "" {
		c.Headline = HeadlineSum
		if p.Headline != "" && c.Category != "" {
			c.Headline = p.Headline
		}
	}
	return c
}

// repeats reports whether some value of the category column occurs twice
// within one value of pick.
func repeats(cols []Column, rows [][]any, pick, category string) bool {
	pi, ci := index(cols, pick), index(cols, category)
	seen := map[string]bool{}
	for _, r := range rows {
		k := fmt.Sprint(r[ci])
		if pi >= 0 {
			k = fmt.Sprint(r[pi]) + "\x00" + k
		}
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

// additive reports whether a measure may be summed across categories and
// stacked: averages, rates, ratios, per-unit figures, extremes, ranks and
// prices may not. It reads the words of the name (REGISTRATION_COUNT is a
// count, not a ratio).
func additive(name string) bool {
	for _, w := range strings.Split(strings.ToUpper(name), "_") {
		switch w {
		case "AVG", "AVERAGE", "RATE", "MEAN", "RATIO", "PCT", "PERCENT", "MEDIAN", "PER", "MAX", "MIN", "RANK", "PRICE":
			return false
		}
	}
	return true
}
