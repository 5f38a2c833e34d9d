package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulse-analytics/pulse/dashboards/metabase"
	"github.com/pulse-analytics/pulse/dashboards/views"
)

// The QuickSight definitions are derived from the Metabase dashboards as
// code (dashboards/metabase) and the views they read (dashboards/views), so
// a card added there appears in both: one dataset per view a card reads,
// one dashboard per Metabase dashboard, one visual per card, one parameter
// with a drop-down control per filter.

// QuickSightColumn is one column of a dataset, typed as QuickSight types
// input columns (STRING, INTEGER, DECIMAL, DATETIME).
type QuickSightColumn struct {
	Name string
	Type string
}

// QuickSightDataset is one dataset: a custom SQL query over one view.
type QuickSightDataset struct {
	View       string
	ID         string // DataSetId, and the identifier the dashboards use
	SQL        string
	Columns    []QuickSightColumn
	ImportMode string // ImportSPICE or ImportDirectQuery
	// RefreshTime is the daily full refresh (HH:MM UTC) of a SPICE dataset.
	RefreshTime string
}

// QuickSight import modes.
const (
	ImportSPICE       = "SPICE"
	ImportDirectQuery = "DIRECT_QUERY"
)

// GoldRefreshTime is when the SPICE datasets refresh each day (UTC): an
// hour after the daily gold workflow (02:30 UTC, gold.go) that writes the
// only tables they read.
const GoldRefreshTime = "03:30"

// spiceDashboards are the Metabase dashboards whose views change once a day
// (the gold layer): their datasets are imported into SPICE and refreshed
// daily. Every other view is fed by the stream or the batch loads, which the
// seeds want on screen within 5 to 60 seconds; SPICE refreshes at best every
// 15 minutes (incremental) or hourly (full), so those datasets query
// Snowflake directly.
var spiceDashboards = map[string]bool{"gold": true}

// qsField is one item of a card's SELECT list: Name AS it appears in the
// result, Column it reads (empty for COUNT(*)), Agg "" (the column as is),
// "SUM" or "COUNT".
type qsField struct {
	Name, Column, Agg string
}

var (
	identRe  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	aggRe    = regexp.MustCompile(`^(SUM|COUNT)\(\s*(\*|[A-Z_][A-Z0-9_]*)\s*\)\s+AS\s+([A-Z_][A-Z0-9_]*)$`)
	selectRe = regexp.MustCompile(`(?s)^\s*SELECT\s+(.*?)\s+FROM\s+([A-Z_][A-Z0-9_]*)\b`)
)

// cardFields parses the SELECT list of a card's query. The cards are
// written in a small subset of SQL: plain columns, SUM(col) AS name,
// COUNT(*) AS name; anything else is an error naming the card.
func cardFields(c metabase.Card) ([]qsField, error) {
	m := selectRe.FindStringSubmatch(c.Query)
	if m == nil {
		return nil, fmt.Errorf("card %s: the query is not SELECT ... FROM <view>", c.Key)
	}
	if m[2] != c.View {
		return nil, fmt.Errorf("card %s: the query reads %s, the card says %s", c.Key, m[2], c.View)
	}
	var out []qsField
	for _, item := range strings.Split(m[1], ",") {
		item = strings.TrimSpace(item)
		if identRe.MatchString(item) {
			out = append(out, qsField{Name: item, Column: item})
			continue
		}
		a := aggRe.FindStringSubmatch(item)
		if a == nil {
			return nil, fmt.Errorf("card %s: select item %q is neither a column nor SUM(col)/COUNT(*) AS name", c.Key, item)
		}
		f := qsField{Name: a[3], Agg: a[1]}
		if a[2] != "*" {
			f.Column = a[2]
		}
		if f.Agg == "SUM" && f.Column == "" {
			return nil, fmt.Errorf("card %s: SUM(*) in %q", c.Key, item)
		}
		out = append(out, f)
	}
	return out, nil
}

// filterColumn is the column a card compares with the filter tag:
// "COLUMN = {{tag}}".
func filterColumn(c metabase.Card, tag string) (string, error) {
	re := regexp.MustCompile(`([A-Z_][A-Z0-9_]*)\s*=\s*\{\{\s*` + regexp.QuoteMeta(tag) + `\s*\}\}`)
	m := re.FindStringSubmatch(c.Query)
	if m == nil {
		return "", fmt.Errorf("card %s: filter {{%s}} is not used as COLUMN = {{%s}}", c.Key, tag, tag)
	}
	return m[1], nil
}

// quickSightDashboards loads and validates the Metabase dashboards.
func quickSightDashboards() ([]metabase.Dashboard, error) {
	ds, err := metabase.Dashboards()
	if err != nil {
		return nil, fmt.Errorf("loading the metabase dashboards: %w", err)
	}
	titles := map[string]string{}
	for _, v := range views.All() {
		titles[v.Name] = v.Title
	}
	for i := range ds {
		if err := ds[i].Validate(titles); err != nil {
			return nil, fmt.Errorf("validating the metabase dashboards: %w", err)
		}
	}
	return ds, nil
}

// datasetID is a view's dataset id: pulse-<view in lower case, - for _>.
func datasetID(view string) string {
	return "pulse-" + strings.ReplaceAll(strings.ToLower(view), "_", "-")
}

// QuickSightDatasets derives one dataset per view a Metabase card reads, in
// the order the cards first read them. Each selects the columns the cards
// read and filter on, from the view qualified by schema (when not empty).
func QuickSightDatasets(schema string) ([]QuickSightDataset, error) {
	return quickSightDatasets(schema, quickSightColumnTypes)
}

// quickSightDatasets is QuickSightDatasets with the column types of types
// ("VIEW.COLUMN" -> type); nil types leaves every type empty.
func quickSightDatasets(schema string, types map[string]string) ([]QuickSightDataset, error) {
	ds, err := quickSightDashboards()
	if err != nil {
		return nil, err
	}
	byView := map[string]int{}
	var out []QuickSightDataset
	seen := map[string]map[string]bool{}
	direct := map[string]bool{}
	for _, d := range ds {
		for _, c := range d.Cards {
			fields, err := cardFields(c)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s: %w", d.Key, err)
			}
			cols := []string{}
			for _, f := range fields {
				if f.Column != "" {
					cols = append(cols, f.Column)
				}
			}
			for _, tag := range c.Tags() {
				col, err := filterColumn(c, tag)
				if err != nil {
					return nil, fmt.Errorf("dashboard %s: %w", d.Key, err)
				}
				cols = append(cols, col)
			}
			i, ok := byView[c.View]
			if !ok {
				i = len(out)
				byView[c.View] = i
				out = append(out, QuickSightDataset{View: c.View, ID: datasetID(c.View)})
				seen[c.View] = map[string]bool{}
			}
			if !spiceDashboards[d.Key] {
				direct[c.View] = true
			}
			for _, col := range cols {
				if seen[c.View][col] {
					continue
				}
				seen[c.View][col] = true
				typ, ok := types[c.View+"."+col]
				if !ok && types != nil {
					return nil, fmt.Errorf("dashboard %s card %s: no QuickSight type for %s.%s in quickSightColumnTypes (quicksight_columns.go; TestQuickSightColumnTypes prints it)", d.Key, c.Key, c.View, col)
				}
				out[i].Columns = append(out[i].Columns, QuickSightColumn{Name: col, Type: typ})
			}
		}
	}
	from := ""
	if schema != "" {
		from = schema + "."
	}
	for i := range out {
		names := make([]string, len(out[i].Columns))
		for j, c := range out[i].Columns {
			names[j] = c.Name
		}
		out[i].SQL = "SELECT " + strings.Join(names, ", ") + " FROM " + from + out[i].View
		out[i].ImportMode = ImportDirectQuery
		if !direct[out[i].View] {
			out[i].ImportMode = ImportSPICE
			out[i].RefreshTime = GoldRefreshTime
		}
	}
	return out, nil
}
