package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestCatalogOnRealViews: every panel's view is in the fixture's
// warehouse, every column a panel names is one of its view's (or its
// rollup's) real columns, and each chart and its filters are what the
// catalog means them to be.
func TestCatalogOnRealViews(t *testing.T) {
	var list struct {
		Panels  []PanelInfo `json:"panels"`
		Missing []string    `json:"missing"`
	}
	get(t, "/api/panels", &list)
	if len(list.Missing) != 0 || len(list.Panels) != len(Catalog) {
		t.Fatalf("%d panels, missing %v", len(list.Panels), list.Missing)
	}
	info := map[string]PanelInfo{}
	for _, p := range list.Panels {
		info[p.View] = p
	}
	for _, p := range Catalog {
		d := panel(t, p.View, "")
		// The columns a panel names: of the view, and of its rollup's rows.
		viewCols, rowCols := map[string]bool{}, map[string]bool{}
		for _, c := range info[p.View].Columns {
			viewCols[c.Name] = true
		}
		for _, c := range d.Columns {
			rowCols[c.Name] = true
		}
		named := append([]string{p.Category, p.Label, p.Pick, p.Total}, p.Measures...)
		if p.Split != "-" {
			named = append(named, p.Split)
		}
		for c := range p.Units {
			named = append(named, c)
		}
		for c := range p.Names {
			named = append(named, c)
		}
		for c := range p.AxisUnits {
			named = append(named, c)
		}
		for m, w := range p.Weights {
			named = append(named, m, w)
		}
		named = append(named, p.SplitScale...)
		for _, c := range named {
			if c != "" && !rowCols[c] {
				t.Errorf("%s names %s, which its rows do not have (%v)", p.View, c, d.Columns)
			}
		}
		for _, c := range []string{p.DateColumn, p.AgeColumn} {
			if c != "" && c != "-" && !viewCols[c] {
				t.Errorf("%s filters on %s, which the view does not have", p.View, c)
			}
		}
	}

	// Every numeric column has an axis unit (a mean needs one named), a
	// time category says UTC on the page, and every mean column has a
	// headline when the panel has one (a weight, or the plain mean).
	// The default headline is of a measure the card draws (GOLD_DAU_MAU's
	// DAU/MAU is the ratio of two of its lines).
	for _, p := range Catalog {
		d := panel(t, p.View, "")
		for _, col := range d.Chart.Numeric {
			if d.Chart.AxisUnits[col] == "" {
				t.Errorf("%s: %s has no axis unit", p.View, col)
			}
			_, ok := d.MeasureHeadlines[""][col]
			if own := contains(d.Chart.SplitScale, col); d.Chart.Total != "" && d.Chart.Pick == "" && ok == own {
				t.Errorf("%s: a headline for %s: %v; it is on each %s's own scale: %v", p.View, col, ok, d.Chart.Split, own)
			}
		}
		if d.Chart.Total != "" && d.Chart.Type != "kpi" && !contains(d.Chart.Measures, d.Chart.Total) && p.View != "GOLD_DAU_MAU" {
			t.Errorf("%s: the headline is %s, the card draws %v", p.View, d.Chart.Total, d.Chart.Measures)
		}
	}

	want := []struct{ view, chart, filters string }{
		{"ENGAGEMENT_BY_PLATFORM", "bar|PLATFORM|SOURCE|||INTERACTIONS|INTERACTIONS|sum", "platform,age_group,date"},
		{"COMMUNITY_TRENDS", "hbar|COMMUNITY_NAME||||TOTAL_ENGAGEMENT|TOTAL_ENGAGEMENT|sum", "platform,age_group,date"},
		{"LIVE_ENGAGEMENT_BY_DEVICE", "bar|DEVICE_TYPE||||TOTAL_ENGAGEMENT|TOTAL_ENGAGEMENT|sum", "platform,age_group,date"},
		{"VIDEO_ENGAGEMENT_BY_WATCH_REASON", "hbar|WATCH_REASON||||TOTAL_ENGAGEMENT|TOTAL_ENGAGEMENT|sum", "platform,age_group,date"},
		{"ENGAGEMENT_BY_HOUR", "bar|HOUR|SOURCE|||INTERACTIONS|INTERACTIONS|sum", "platform,age_group,date"},
		{"ENGAGEMENT_BY_AGE_GROUP", "bar|AGE_GROUP|SOURCE|||INTERACTIONS|INTERACTIONS|sum", "platform,age_group,date"},
		{"SOCIAL_RATES_BY_PLATFORM", "bar|PLATFORM||||AVG_CONVERSION_RATE+AVG_BOUNCE_RATE|AVG_CONVERSION_RATE|sum", "platform,date"},
		{"SOCIAL_TOTAL_USAGE", "kpi|||||TOTAL_SALES+TOTAL_VISITORS+EVENTS|TOTAL_USAGE|sum", "platform,date"},
		{"SOCIAL_VISITORS_LAST_5_MIN", "hbar|PLATFORM||||VISITORS|VISITORS|top", "platform,date"},
		{"SOCIAL_TOP_CITY_BY_USERS", "hbar|PLATFORM||CITY||USERS||", "platform,date"},
		{"SOCIAL_TOP_CITY_BY_SALES", "hbar|PLATFORM||CITY||SALES||", "platform,date"},
		{"PAGEVIEWS_BY_SOURCE_WINDOW", "line|WINDOW_START|PAGE_SOURCE||WINDOW_TYPE|USERS||", "date"},
		{"PAGEVIEW_USERS_BY_COUNTRY", "hbar|COUNTRY||AVG_AGE||USERS|USERS|sum", "age_group,date"},
		{"USER_REGISTRATIONS", "bar|WINDOW_START|||WINDOW_TYPE|REGISTRATION_COUNT||", "date"},
		{"SESSION_ACTIVITY", "line|METRIC_TIME||||ACTIVE_SESSIONS_COUNT+AVERAGE_SESSION_DURATION|ACTIVE_SESSIONS_COUNT|latest", "date"},
		{"MOVIE_SALES", "bar|WINDOW_START|GENRE||WINDOW_TYPE|TOTAL_SALES|TOTAL_SALES|sum", "date"},
		{"MART_USER_ACTIVITY", "bar|DAY||||ITEMS_VIEWED+ITEMS_ADDED_TO_CART+ITEMS_PURCHASED|ITEMS_PURCHASED|sum", "date"},
		{"MART_MOVIE_STATS", "hbar|TITLE||PURCHASES||TOTAL_SALES|TOTAL_SALES|sum", "date"},
		{"MART_USER_SEGMENTS", "bar|SEGMENT||||USERS|USERS|sum", "age_group,date"},
		{"GOLD_DAU_MAU", "line|DAY||||DAU+WAU+MAU|DAU_MAU_RATIO|latest", "date"},
		{"GOLD_SESSION_STATS", "bar|DAY||||AVG_SESSION_SECONDS+AVG_ACTIONS_PER_SESSION|AVG_SESSION_SECONDS|sum", "date"},
	}
	if len(want) != len(Catalog) {
		t.Fatalf("%d expectations for %d panels", len(want), len(Catalog))
	}
	for i, w := range want {
		c := panel(t, w.view, "").Chart
		got := strings.Join([]string{c.Type, c.Category, c.Split, c.Label, c.Pick, strings.Join(c.Measures, "+"), c.Total, c.Headline}, "|")
		if Catalog[i].View != w.view || got != w.chart {
			t.Errorf("panel %d %s chart:\n got %s\nwant %s", i, w.view, got, w.chart)
		}
		if f := strings.Join(info[w.view].Filters, ","); f != w.filters {
			t.Errorf("%s filters %s, want %s", w.view, f, w.filters)
		}
	}
	// Units the page formats by.
	for view, units := range map[string]map[string]string{
		"SOCIAL_RATES_BY_PLATFORM": {"AVG_CONVERSION_RATE": UnitPercent, "AVG_BOUNCE_RATE": UnitPercent},
		"SESSION_ACTIVITY":         {"AVERAGE_SESSION_DURATION": UnitSeconds, "AVG_ACTIVE_AGE_SECONDS": UnitSeconds},
		"GOLD_DAU_MAU":             {"DAU_MAU_RATIO": UnitRatio},
		"GOLD_SESSION_STATS":       {"AVG_SESSION_SECONDS": UnitSeconds, "MAX_SESSION_SECONDS": UnitSeconds},
		"MOVIE_SALES":              {"TOTAL_SALES": UnitUSD},
	} {
		got := panel(t, view, "").Chart.Units
		for col, u := range units {
			if got[col] != u {
				t.Errorf("%s: %s in %q, want %q", view, col, got[col], u)
			}
		}
	}
}

// TestHeadlines: the "top" headline is the largest category, "latest" the
// newest time, and a picked panel has one headline per picked value.
func TestHeadlines(t *testing.T) {
	d := panel(t, "SOCIAL_VISITORS_LAST_5_MIN", "")
	top := scalar(t, "SELECT MAX(VISITORS) FROM SOCIAL_VISITORS_LAST_5_MIN")
	h := d.Headlines[""]
	if h.Value != top || *d.Total != top || h.Label != str(queryRow(t, "SELECT PLATFORM FROM SOCIAL_VISITORS_LAST_5_MIN WHERE VISITOR_RANK = 1")[0]) {
		t.Errorf("top headline %+v, the view's rank 1 has %v visitors", h, top)
	}
	d = panel(t, "GOLD_DAU_MAU", "")
	r := queryRow(t, "SELECT DAY, DAU_MAU_RATIO FROM GOLD_DAU_MAU ORDER BY DAY DESC LIMIT 1")
	if h := d.Headlines[""]; h.Value != r[1].(float64) || h.Label != r[0].(time.Time).Format(time.RFC3339) {
		t.Errorf("latest headline %+v, the newest day is %v", h, r)
	}
	d = panel(t, "MOVIE_SALES", "")
	for _, w := range []string{"daily", "weekly"} {
		want := scalar(t, "SELECT SUM(TOTAL_SALES) FROM MOVIE_SALES WHERE WINDOW_TYPE = ?", w)
		if h := d.Headlines[w]; !near(h.Value, want) || want == 0 {
			t.Errorf("MOVIE_SALES %s headline %+v, want %v", w, h, want)
		}
	}
	if d.Total != nil || len(d.Headlines) != 2 {
		t.Errorf("MOVIE_SALES: total %v, headlines %v", d.Total, d.Headlines)
	}
}

// TestMeasureHeadlines: the headline follows the measure shown: a count
// is summed, a mean is the mean of the rows beneath (the weighted mean of
// the categories' means), and a "latest" panel takes each measure at the
// newest time, each computed here from the tables beneath the views.
func TestMeasureHeadlines(t *testing.T) {
	const day = "2024-02-06"
	inDay := func(col string) string {
		return col + " >= TIMESTAMP '" + day + " 00:00:00' AND " + col + " < TIMESTAMP '" + day + " 00:00:00' + INTERVAL 1 DAY"
	}
	latest := queryRow(t, "SELECT AVERAGE_SESSION_DURATION, ACTIVE_SESSIONS_COUNT FROM SESSION_METRICS ORDER BY METRIC_TIME DESC LIMIT 1")
	for _, c := range []struct {
		view, query, column, kind string
		want                      float64
	}{
		{"COMMUNITY_TRENDS", "", "INTERACTIONS", kindSum, scalar(t, "SELECT COUNT(*) FROM FACT_COMMUNITY_INTERACTIONS")},
		{"COMMUNITY_TRENDS", "", "TOTAL_ENGAGEMENT", kindSum, scalar(t, "SELECT SUM(COMMUNITY_ENGAGEMENT) FROM FACT_COMMUNITY_INTERACTIONS")},
		{"COMMUNITY_TRENDS", "", "AVG_ENGAGEMENT", kindMean, scalar(t, "SELECT AVG(COMMUNITY_ENGAGEMENT) FROM FACT_COMMUNITY_INTERACTIONS")},
		{"COMMUNITY_TRENDS", "platform=" + browserPlatform, "AVG_ENGAGEMENT", kindMean, scalar(t, `SELECT AVG(f.COMMUNITY_ENGAGEMENT)
		   FROM FACT_COMMUNITY_INTERACTIONS f JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID WHERE p.PLATFORM = ?`, browserPlatform)},
		{"ENGAGEMENT_BY_PLATFORM", "", "INTERACTIONS", kindSum, scalar(t, "SELECT COUNT(*) FROM V_ENGAGEMENT")},
		{"SOCIAL_RATES_BY_PLATFORM", "", "AVG_CONVERSION_RATE", kindMean, scalar(t, "SELECT AVG(CONVERSION_RATE) FROM FACT_SOCIAL_SALES")},
		{"SOCIAL_RATES_BY_PLATFORM", "from=" + day + "&to=" + day, "AVG_BOUNCE_RATE", kindMean,
			scalar(t, "SELECT AVG(BOUNCE_RATE) FROM FACT_SOCIAL_SALES WHERE "+inDay("EVENT_TIME"))},
		{"SOCIAL_RATES_BY_PLATFORM", "", "OVERALL_CONVERSION_RATE", kindMean,
			scalar(t, "SELECT SUM(CONVERSION) * 100.0 / SUM(VISITORS) FROM FACT_SOCIAL_SALES")},
		{"MART_MOVIE_STATS", "", "PURCHASES", kindSum, scalar(t, "SELECT COUNT(*) FROM MART_PURCHASES")},
		{"MART_MOVIE_STATS", "", "AVG_PRICE", kindMean, scalar(t, "SELECT AVG(PRICE) FROM MART_PURCHASES")},
		{"MART_USER_ACTIVITY", "", "PURCHASE_AMOUNT", kindSum, scalar(t, "SELECT SUM(PRICE) FROM MART_PURCHASES")},
		{"GOLD_SESSION_STATS", "", "AVG_SESSION_SECONDS", kindMean,
			scalar(t, "SELECT SUM(TOTAL_SESSION_SECONDS) / SUM(SESSIONS) FROM GOLD_DAILY WHERE SESSIONS > 0")},
		{"SESSION_ACTIVITY", "", "AVERAGE_SESSION_DURATION", HeadlineLatest, latest[0].(float64)},
		{"SESSION_ACTIVITY", "", "ACTIVE_SESSIONS_COUNT", HeadlineLatest, float64(latest[1].(int64))},
	} {
		d := panel(t, c.view, c.query)
		h, ok := d.MeasureHeadlines[""][c.column]
		if !ok || !near(h.Value, c.want) || h.Kind != c.kind || c.want == 0 {
			t.Errorf("%s?%s, %s: headline %+v (present %v), want %s %v", c.view, c.query, c.column, h, ok, c.kind, c.want)
		}
	}
}

func queryRow(t *testing.T, sql string, args ...any) []any {
	t.Helper()
	_, rows, err := fx.st.Warehouse.Query(context.Background(), sql, args...)
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v (%d rows)", sql, err, len(rows))
	}
	return rows[0]
}

// TestExpand: filter tokens become bound conditions, in placeholder order.
func TestExpand(t *testing.T) {
	f := Filters{Platforms: []string{"X", "TikTok"}, AgeGroups: []string{"18-24"}, From: day1, To: day2}
	for _, c := range []struct {
		name, sql, want, err string
		f                    Filters
		args                 int
	}{
		{"no filter", "SELECT 1 WHERE @platform(p.PLATFORM) AND @date(CAST(t AS TIMESTAMP))", "SELECT 1 WHERE TRUE AND TRUE", "", Filters{}, 0},
		{"all", "WHERE @platform(PLATFORM) AND @age_group(CASE WHEN (AGE) < 18 THEN 'a' END) AND @date(f(x, (y)))",
			"WHERE PLATFORM IN (?, ?) AND CASE WHEN (AGE) < 18 THEN 'a' END IN (?) AND (f(x, (y)) >= CAST(? AS TIMESTAMP) AND f(x, (y)) < CAST(? AS TIMESTAMP))",
			"", f, 5},
		{"twice", "@date(a) @date(b)", "(a >= CAST(? AS TIMESTAMP) AND a < CAST(? AS TIMESTAMP)) (b >= CAST(? AS TIMESTAMP) AND b < CAST(? AS TIMESTAMP))", "", f, 4},
		{"from only", "@date(a)", "(a >= CAST(? AS TIMESTAMP))", "", Filters{From: day1}, 1},
		{"unknown", "WHERE @region(R)", "", `unknown token at "@region(R)"`, f, 0},
		{"unbalanced", "WHERE @date(f(x)", "", "unbalanced parentheses", f, 0},
		{"empty", "WHERE @platform( )", "", "empty @platform()", f, 0},
		{"rows", "FROM @rows", "", "@rows belongs in a Rollup", f, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, args, err := expand(c.sql, c.f, nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want || len(args) != c.args {
				t.Errorf("got %q with %d args (%v), want %q with %d", got, len(args), err, c.want, c.args)
			}
		})
	}
	_, args, _ := expand("@age_group(A) @platform(P) @date(D)", f, nil)
	if !reflect.DeepEqual(args, []any{"18-24", "X", "TikTok", "2024-02-03 00:00:00", "2024-02-05 00:00:00"}) {
		t.Errorf("arguments out of placeholder order: %v", args)
	}
}

// TestAgeGroupOf: the SQL buckets are shared/dataset.AgeGroup's, age by age.
func TestAgeGroupOf(t *testing.T) {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	_, rows, err := wh.Query(ctx, "SELECT a, "+ageGroupOf("a")+" FROM (SELECT CAST(range AS BIGINT) AS a FROM range(0, 121) UNION ALL SELECT NULL) t")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 122 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		cell := table.Cell{Null: true}
		if a, ok := r[0].(int64); ok {
			cell = table.Int64(a)
		}
		if want := dataset.AgeGroup(cell); r[1] != want {
			t.Errorf("age %v: SQL %v, dataset.AgeGroup %s", r[0], r[1], want)
		}
	}
}

func emptyServer(t *testing.T, echarts string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	h, err := New(wh, Options{EChartsPath: echarts, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func getFrom(t *testing.T, srv *httptest.Server, path string, v any) int {
	t.Helper()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res.StatusCode
}

// TestEmptyWarehouse: over a warehouse without views every panel is
// listed as missing, a panel's data is a 404, and the health page answers
// with the relations it lacks.
func TestEmptyWarehouse(t *testing.T) {
	srv := emptyServer(t, "/nonexistent/echarts.min.js")
	var list struct {
		Panels  []PanelInfo `json:"panels"`
		Missing []string    `json:"missing"`
	}
	getFrom(t, srv, "/api/panels", &list)
	if len(list.Panels) != 0 || len(list.Missing) != len(Catalog) {
		t.Errorf("%d panels, %d missing", len(list.Panels), len(list.Missing))
	}
	var body map[string]string
	if code := getFrom(t, srv, "/api/panels/GOLD_DAU_MAU", &body); code != http.StatusNotFound || !strings.Contains(body["error"], "not in the warehouse yet") {
		t.Errorf("GOLD_DAU_MAU: %d %v", code, body)
	}
	var h Health
	if code := getFrom(t, srv, "/api/health", &h); code != http.StatusOK || !reflect.DeepEqual(h.Missing, healthRelations) {
		t.Errorf("health: %d, missing %v", code, h.Missing)
	}
}

// TestMissingECharts: without echarts.min.js the page says to run make
// tools; the API still answers.
func TestMissingECharts(t *testing.T) {
	srv := emptyServer(t, "/nonexistent/echarts.min.js")
	for _, path := range []string{"/", "/pipeline", "/vendor/echarts.min.js"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b.String(), "make tools") ||
			!strings.Contains(b.String(), "/nonexistent/echarts.min.js") {
			t.Errorf("GET %s: %d %q", path, res.StatusCode, b.String())
		}
	}
	var cfg map[string]any
	if code := getFrom(t, srv, "/api/config", &cfg); code != http.StatusOK || cfg["echarts"] != false || cfg["refreshSeconds"] != 60.0 {
		t.Errorf("config: %d %v", code, cfg)
	}
}

func TestNewOptions(t *testing.T) {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"refresh below 5 s", Options{Refresh: 2e9}, "refresh 2s is below the minimum 5s"},
		{"duplicate panel", Options{Panels: []Panel{{View: "A", Group: "app"}, {View: "A", Group: "app"}}}, "panel A declared twice"},
		{"not an identifier", Options{Panels: []Panel{{View: "A; DROP"}}}, "must be an upper-case identifier"},
		{"lower case", Options{Panels: []Panel{{View: "engagement"}}}, "must be an upper-case identifier"},
		{"unknown group", Options{Panels: []Panel{{View: "A", Group: "nope"}}}, `panel A: unknown group "nope"`},
		{"unknown chart", Options{Panels: []Panel{{View: "A", Group: "app", Chart: "pie"}}}, `panel A: unknown chart "pie"`},
		{"unknown headline", Options{Panels: []Panel{{View: "A", Group: "app", Headline: "max"}}}, `unknown headline "max"`},
		{"bad token", Options{Panels: []Panel{{View: "A", Group: "app", Detail: &Detail{From: "T", SQL: "SELECT * FROM T WHERE @day(D)"}}}},
			`panel A: detail: unknown token at "@day(D)"`},
		{"detail without From", Options{Panels: []Panel{{View: "A", Group: "app", Detail: &Detail{SQL: "SELECT 1"}}}}, "detail: no From"},
		{"rollup without rows", Options{Panels: []Panel{{View: "A", Group: "app", Rollup: "SELECT 1"}}}, "rollup: want one @rows, got 0"},
		{"unknown unit", Options{Panels: []Panel{{View: "A", Group: "app", Units: map[string]string{"X": "km"}}}}, `unknown unit "km"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(wh, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestParseFilters(t *testing.T) {
	for _, c := range []struct {
		query, want, err string
	}{
		{"", "[] [] 0001-01-01 0001-01-01", ""},
		{"platform=X&platform=+TikTok+&platform=&age_group=18-24", "[X TikTok] [18-24] 0001-01-01 0001-01-01", ""},
		{"from=2024-02-03&to=2024-02-03", "[] [] 2024-02-03 2024-02-03", ""},
		{"from=03/02/2024", "", `from: want a day as YYYY-MM-DD, got "03/02/2024"`},
		{"to=2024-02-30", "", `to: want a day as YYYY-MM-DD, got "2024-02-30"`},
		{"from=2024-02-04&to=2024-02-03", "", "to: 2024-02-03 is before from 2024-02-04"},
	} {
		q, _ := url.ParseQuery(c.query)
		f, err := ParseFilters(q)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: err %v, want %q", c.query, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		got := strings.Join([]string{strings.Join(f.Platforms, " "), strings.Join(f.AgeGroups, " ")}, "] [")
		got = "[" + got + "] " + f.From.Format(time.DateOnly) + " " + f.To.Format(time.DateOnly)
		if got != c.want {
			t.Errorf("%q: %s, want %s", c.query, got, c.want)
		}
	}
}
