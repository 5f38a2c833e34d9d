package web

import (
	"fmt"
	"strings"
	"time"
)

// Filter names, as the API and the page take them.
const (
	FilterPlatform = "platform"
	FilterAgeGroup = "age_group"
	FilterDate     = "date"
)

// allFilters in the order the page shows them.
var allFilters = []string{FilterPlatform, FilterAgeGroup, FilterDate}

// Group is a section of the dashboard page: the views one seed asks for.
type Group struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Note  string `json:"note"` // what the seed's own dashboard was
	// RefreshSeconds is how often the section reloads by default: its
	// seed's rate (Options.Refresh, when set, replaces it for every section).
	RefreshSeconds int `json:"refreshSeconds"`
	// RefreshNote says where that rate comes from.
	RefreshNote string `json:"refreshNote"`
}

// Headline modes: what the figure at the top right of a card is.
const (
	HeadlineSum    = "sum"    // the sum of the Total column (the default)
	HeadlineTop    = "top"    // the category with the largest Total, and that value
	HeadlineLatest = "latest" // the Total at the newest category (a time)
)

// Units a measure can have; the page formats values by them.
const (
	UnitPercent = "%"     // a percentage, 0-100
	UnitRatio   = "ratio" // a fraction, shown as a percentage
	UnitSeconds = "s"     // a duration in seconds
	UnitUSD     = "$"     // US dollars
)

// Panel is one chart over one warehouse view. Everything but View, Title
// and Group is optional: the chart is derived from the view's columns
// (the first time column, else the first text column, is the category
// axis; numeric columns are the measures) and these fields override it.
// A field naming a column the view does not have is ignored.
type Panel struct {
	View  string // the view it reads, also the panel's id
	Title string
	Group string
	Note  string // how to read the panel (shown on the card), e.g. how the date filter applies

	Chart    string // "bar", "hbar" (horizontal bars), "line" or "kpi"; "" = derived
	Category string // category-axis column
	Split    string // a text column whose values become one series each; "-" = none (a repeated category is summed)
	Label    string // a column printed on each bar (e.g. the top city of a platform)
	// LabelFormat writes a numeric Label: "{v}" is the value (default "{name} {v}").
	LabelFormat string
	Pick        string   // a text column the panel shows one value of at a time (a selector on the card)
	PickDefault string   // the value of Pick shown first (default: the first in order)
	Measures    []string // numeric columns shown together by default (the rest stay in the card's measure selector)
	Total       string   // the numeric column behind the card's headline figure
	Headline    string   // HeadlineSum (default), HeadlineTop or HeadlineLatest
	Stack       bool     // stack the split series (only for additive measures)
	SortBy      string   // "value": categories by the first measure, largest first; "" = by category
	Limit       int      // show at most this many categories (after sorting); 0 = the page's default
	// ZoomMinutes, for a line over time: show the newest this many minutes
	// first, with a slider over the rest.
	ZoomMinutes int
	// Units of measures (UnitPercent, ...); a column named *_SECONDS is in seconds unless set here.
	Units map[string]string
	// Names are display names of columns where the column name reads badly.
	Names map[string]string
	// AxisUnits name the unit an axis title gives a column that has no
	// Units entry ("engagement score", "years"). Without one, a column the
	// page may sum is a count; a mean needs one (TestCatalogOnRealViews).
	AxisUnits map[string]string
	// Weights name, for a mean measure (AVG_ENGAGEMENT), the column counting
	// what it averages over (INTERACTIONS): its headline over several rows
	// is the mean weighted by that column, which is the mean of the rows
	// beneath. A mean without a weight is headlined by the plain mean of
	// the rows shown.
	Weights map[string]string
	// SplitScale lists measures whose values are on each split value's own
	// scale (engagement per source): the page draws one small chart per
	// split value for them instead of one shared axis.
	SplitScale []string
	// EmptyNote says why the view can be empty while data flows (windows
	// written when they close), shown instead of the generic "no data yet".
	EmptyNote string

	// Rollup, for a view with one row per entity (a user, a user-day),
	// is what the card draws: a SELECT over the view's rows, written
	// "... FROM @rows ...". Filters apply to the rows first.
	Rollup string
	// Detail re-aggregates the view from the rows beneath it when a filter
	// applies to a column the view does not keep. Without Detail, filters
	// apply to the view's own PLATFORM / AGE_GROUP / AgeColumn and date
	// column (exact where those are group keys or the view has a row per
	// entity).
	Detail *Detail
	// DateColumn overrides which column of the view the date filter applies
	// to (default: its first time column); "-" = the date filter does not apply.
	DateColumn string
	// AgeColumn is a view column holding ages: the age-group filter applies
	// to its bucket (ageGroupOf).
	AgeColumn string
}

// Detail is the named view's SELECT written over the rows beneath it, with
// a token where each filter applies:
//
//	@platform(expr)   expr IN (?, ...)
//	@age_group(expr)  expr IN (?, ...)
//	@date(expr)       expr >= CAST(? AS TIMESTAMP) AND expr < CAST(? AS TIMESTAMP)
//
// A token whose filter is not set becomes TRUE, so with no filter the SQL
// must give exactly the named view's rows (TestDetailEqualsView checks every
// panel). Values are always bound as arguments, never written into the SQL.
type Detail struct {
	SQL string
	// From names the relation the rows are re-aggregated from, for the
	// card's "re-aggregated from ..." line.
	From string
}

// tokenFilters are the filters a token can name, in the order a token's
// name is matched.
var tokenFilters = []string{FilterAgeGroup, FilterPlatform, FilterDate}

// tokens returns the filters whose tokens occur in sql, or an error naming
// a malformed token.
func tokens(sql string) ([]string, error) {
	var out []string
	_, _, err := expand(sql, Filters{}, func(kind, _ string) {
		if !contains(out, kind) {
			out = append(out, kind)
		}
	})
	var ordered []string
	for _, f := range allFilters {
		if contains(out, f) {
			ordered = append(ordered, f)
		}
	}
	return ordered, err
}

// expand replaces every filter token of sql with its condition under f and
// returns the SQL and the arguments in placeholder order. seen, if not nil,
// is told every token.
func expand(sql string, f Filters, seen func(kind, expr string)) (string, []any, error) {
	var b strings.Builder
	var args []any
	for {
		i := strings.IndexByte(sql, '@')
		if i < 0 {
			b.WriteString(sql)
			return b.String(), args, nil
		}
		b.WriteString(sql[:i])
		rest := sql[i+1:]
		kind := ""
		for _, k := range tokenFilters {
			if strings.HasPrefix(rest, k+"(") {
				kind = k
				break
			}
		}
		if kind == "" {
			if strings.HasPrefix(rest, "rows") {
				return "", nil, fmt.Errorf("@rows belongs in a Rollup, not in a Detail")
			}
			return "", nil, fmt.Errorf("unknown token at %q", clip(sql[i:]))
		}
		open := len(kind) + 1
		depth, end := 1, -1
		for j := open; j < len(rest) && end < 0; j++ {
			switch rest[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return "", nil, fmt.Errorf("unbalanced parentheses in %q", clip(sql[i:]))
		}
		expr := strings.TrimSpace(rest[open:end])
		if expr == "" {
			return "", nil, fmt.Errorf("empty @%s()", kind)
		}
		if seen != nil {
			seen(kind, expr)
		}
		cond, a := condition(kind, expr, f)
		b.WriteString(cond)
		args = append(args, a...)
		sql = rest[end+1:]
	}
}

// condition is one filter's parameterized condition on expr, or TRUE when
// the filter is not set.
func condition(kind, expr string, f Filters) (string, []any) {
	var vals []string
	switch kind {
	case FilterPlatform:
		vals = f.Platforms
	case FilterAgeGroup:
		vals = f.AgeGroups
	case FilterDate:
		var conds []string
		var args []any
		if !f.From.IsZero() {
			conds = append(conds, expr+" >= CAST(? AS TIMESTAMP)")
			args = append(args, f.From.UTC().Format(time.DateTime))
		}
		if !f.To.IsZero() {
			conds = append(conds, expr+" < CAST(? AS TIMESTAMP)")
			args = append(args, f.To.UTC().AddDate(0, 0, 1).Format(time.DateTime))
		}
		if len(conds) == 0 {
			return "TRUE", nil
		}
		return "(" + strings.Join(conds, " AND ") + ")", args
	}
	if len(vals) == 0 {
		return "TRUE", nil
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return expr + " IN (" + placeholders(len(vals)) + ")", args
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ageGroupOf is the SQL bucket of an age column, the same buckets as
// shared/dataset.AgeGroup (and so DIM_USER.AGE_GROUP): 13-17, 18-24, 25-34,
// 35-44, 45-54, 55-64, 65+, Unknown for NULL.
func ageGroupOf(age string) string {
	return "CASE WHEN " + age + " IS NULL THEN 'Unknown' WHEN " + age + " < 18 THEN '13-17' WHEN " + age + " < 25 THEN '18-24'" +
		" WHEN " + age + " < 35 THEN '25-34' WHEN " + age + " < 45 THEN '35-44' WHEN " + age + " < 55 THEN '45-54'" +
		" WHEN " + age + " < 65 THEN '55-64' ELSE '65+' END"
}

// check reports what makes a panel unusable: an unknown group, a
// malformed Detail or Rollup, an unknown chart or headline kind.
func (p Panel) check() error {
	if !knownGroup(p.Group) {
		return fmt.Errorf("unknown group %q", p.Group)
	}
	switch p.Chart {
	case "", "bar", "hbar", "line", "kpi":
	default:
		return fmt.Errorf("unknown chart %q", p.Chart)
	}
	switch p.Headline {
	case "", HeadlineSum, HeadlineTop, HeadlineLatest:
	default:
		return fmt.Errorf("unknown headline %q", p.Headline)
	}
	if p.Detail != nil {
		if _, err := tokens(p.Detail.SQL); err != nil {
			return fmt.Errorf("detail: %w", err)
		}
		if p.Detail.From == "" {
			return fmt.Errorf("detail: no From")
		}
	}
	if p.Rollup != "" && strings.Count(p.Rollup, "@rows") != 1 {
		return fmt.Errorf("rollup: want one @rows, got %d", strings.Count(p.Rollup, "@rows"))
	}
	for _, u := range p.Units {
		switch u {
		case UnitPercent, UnitRatio, UnitSeconds, UnitUSD:
		default:
			return fmt.Errorf("unknown unit %q", u)
		}
	}
	for m, w := range p.Weights {
		if m == w || w == "" {
			return fmt.Errorf("weights: %s cannot be weighted by %q", m, w)
		}
	}
	return nil
}
