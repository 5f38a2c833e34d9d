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
)

// comingViews stand in for the views of seeds 001-004 with the columns the
// warehouse path gives them, so the derived charts and the filters on a
// view's own columns are tested before those views land.
const comingViews = `
CREATE VIEW SOCIAL_RATES_BY_PLATFORM AS SELECT * FROM (VALUES
  ('Facebook', 41.4, 20.3), ('TikTok', 40.7, 20.7), ('X', 41.7, 20.5)) t(PLATFORM, AVG_CONVERSION_RATE, AVG_BOUNCE_RATE);
CREATE VIEW SOCIAL_TOTAL_USAGE AS SELECT CAST(1360000 AS BIGINT) AS TOTAL_USAGE;
CREATE VIEW SOCIAL_TOP_CITY_BY_USERS AS SELECT * FROM (VALUES
  ('Facebook', 'Bogor', CAST(812 AS BIGINT)), ('X', 'Tangerang', CAST(640 AS BIGINT))) t(PLATFORM, CITY, USERS);
CREATE VIEW PAGEVIEWS_BY_SOURCE_WINDOW AS SELECT WINDOW_TYPE, PAGE_SOURCE, CAST(WINDOW_START AS TIMESTAMP) AS WINDOW_START,
  CAST(WINDOW_END AS TIMESTAMP) AS WINDOW_END, CAST(PAGEVIEWS AS BIGINT) AS PAGEVIEWS, CAST(USERS AS BIGINT) AS USERS FROM (VALUES
  ('tumbling', 'home', '2024-02-03 10:00:00', '2024-02-03 10:01:00', 9, 4),
  ('tumbling', 'search', '2024-02-03 10:00:00', '2024-02-03 10:01:00', 5, 3),
  ('hopping', 'home', '2024-02-03 10:00:00', '2024-02-03 10:01:00', 9, 4),
  ('tumbling', 'home', '2024-02-04 10:00:00', '2024-02-04 10:01:00', 7, 2)) t(WINDOW_TYPE, PAGE_SOURCE, WINDOW_START, WINDOW_END, PAGEVIEWS, USERS);
CREATE VIEW GOLD_DAU_MAU AS SELECT CAST(DAY AS DATE) AS DAY, CAST(DAU AS BIGINT) AS DAU, CAST(MAU AS BIGINT) AS MAU FROM (VALUES
  ('2024-02-03', 10, 40), ('2024-02-04', 12, 41), ('2024-02-05', 9, 41)) t(DAY, DAU, MAU);
CREATE VIEW SESSION_ACTIVITY AS SELECT CAST(T AS TIMESTAMP) AS METRIC_TIME, CAST(N AS BIGINT) AS ACTIVE_SESSIONS_COUNT,
  D AS AVERAGE_SESSION_DURATION FROM (VALUES ('2024-02-03 10:00:00', 3, 61.5), ('2024-02-03 10:01:00', 4, 58.0)) t(T, N, D);
CREATE VIEW MART_USER_ACTIVITY AS SELECT * FROM (VALUES
  ('ID', 'mobile', CAST(5 AS BIGINT)), ('ID', 'web', CAST(2 AS BIGINT)), ('SG', 'web', CAST(1 AS BIGINT))) t(COUNTRY, DEVICE, USERS);
CREATE TABLE MOVIE_SALES (MOVIE_ID VARCHAR, TOTAL_SALES DOUBLE);`

func comingServer(t *testing.T) *httptest.Server {
	t.Helper()
	return comingServerWith(t, "/nonexistent/echarts.min.js")
}

func comingServerWith(t *testing.T, echarts string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Exec(ctx, comingViews); err != nil {
		t.Fatal(err)
	}
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

// TestDerivedPanels: charts derived from columns, with the catalog's
// overrides, and filters on the views' own columns.
func TestDerivedPanels(t *testing.T) {
	srv := comingServer(t)
	var list struct {
		Panels  []PanelInfo `json:"panels"`
		Missing []string    `json:"missing"`
	}
	getFrom(t, srv, "/api/panels", &list)
	filters := map[string]string{}
	for _, p := range list.Panels {
		filters[p.View] = strings.Join(p.Filters, ",")
	}
	wantFilters := map[string]string{
		"SOCIAL_RATES_BY_PLATFORM": "platform", "SOCIAL_TOTAL_USAGE": "", "SOCIAL_TOP_CITY_BY_USERS": "platform",
		"PAGEVIEWS_BY_SOURCE_WINDOW": "date", "GOLD_DAU_MAU": "date", "SESSION_ACTIVITY": "date",
		"MART_USER_ACTIVITY": "", "MOVIE_SALES": "",
	}
	if !reflect.DeepEqual(filters, wantFilters) {
		t.Errorf("panels and their filters:\n got %v\nwant %v", filters, wantFilters)
	}
	if len(list.Missing) != len(Catalog)-len(wantFilters) {
		t.Errorf("%d missing, want %d", len(list.Missing), len(Catalog)-len(wantFilters))
	}

	read := func(view, query string) *PanelData {
		t.Helper()
		var d PanelData
		if code := getFrom(t, srv, "/api/panels/"+view+"?"+query, &d); code != http.StatusOK {
			t.Fatalf("%s?%s: status %d", view, query, code)
		}
		return &d
	}
	chart := func(d *PanelData) string {
		c := d.Chart
		return strings.Join([]string{c.Type, c.Category, c.Split, c.Label, c.Pick, strings.Join(c.Measures, "+"),
			strings.Join(c.Additive, "+"), c.Total}, "|")
	}
	for _, c := range []struct{ view, chart string }{
		{"SOCIAL_RATES_BY_PLATFORM", "bar|PLATFORM||||AVG_CONVERSION_RATE+AVG_BOUNCE_RATE||"},
		{"SOCIAL_TOTAL_USAGE", "kpi|||||TOTAL_USAGE|TOTAL_USAGE|TOTAL_USAGE"},
		{"SOCIAL_TOP_CITY_BY_USERS", "bar|PLATFORM||CITY||USERS|USERS|"},
		{"PAGEVIEWS_BY_SOURCE_WINDOW", "line|WINDOW_START|PAGE_SOURCE||WINDOW_TYPE|USERS|PAGEVIEWS+USERS|"},
		{"GOLD_DAU_MAU", "line|DAY||||DAU+MAU|DAU+MAU|"},
		{"SESSION_ACTIVITY", "line|METRIC_TIME||||ACTIVE_SESSIONS_COUNT|ACTIVE_SESSIONS_COUNT|"},
		{"MART_USER_ACTIVITY", "bar|COUNTRY|DEVICE|||USERS|USERS|"},
		{"MOVIE_SALES", "bar|MOVIE_ID||||TOTAL_SALES|TOTAL_SALES|"},
	} {
		if got := chart(read(c.view, "")); got != c.chart {
			t.Errorf("%s chart:\n got %s\nwant %s", c.view, got, c.chart)
		}
	}

	// The platform filter on a view grouped by platform keeps that row.
	d := read("SOCIAL_RATES_BY_PLATFORM", "platform=X&age_group=18-24")
	if len(d.Rows) != 1 || d.Rows[0][0] != "X" || d.Rows[0][1] != 41.7 || d.Source != "SOCIAL_RATES_BY_PLATFORM, filtered" {
		t.Errorf("SOCIAL_RATES_BY_PLATFORM for X: %v from %s", d.Rows, d.Source)
	}
	if strings.Join(d.Applied, ",") != "platform" || strings.Join(d.NotApplied, ",") != "age_group" {
		t.Errorf("applied %v, not applied %v", d.Applied, d.NotApplied)
	}
	// A filter that does not apply leaves the panel whole and says so.
	d = read("SOCIAL_TOTAL_USAGE", "platform=X&from=2024-02-03")
	if d.Total == nil || *d.Total != 1360000 || strings.Join(d.NotApplied, ",") != "platform,date" || len(d.Applied) != 0 {
		t.Errorf("SOCIAL_TOTAL_USAGE under filters: total %v, applied %v, not applied %v", d.Total, d.Applied, d.NotApplied)
	}
	// The date filter on a view's time column.
	d = read("GOLD_DAU_MAU", "from=2024-02-04&to=2024-02-04")
	if len(d.Rows) != 1 || d.Rows[0][1] != 12.0 {
		t.Errorf("GOLD_DAU_MAU on 2024-02-04: %v", d.Rows)
	}
	d = read("PAGEVIEWS_BY_SOURCE_WINDOW", "to=2024-02-03")
	if len(d.Rows) != 3 || column(t, d, "PAGEVIEWS") != 23 {
		t.Errorf("PAGEVIEWS_BY_SOURCE_WINDOW up to 2024-02-03: %v", d.Rows)
	}
	// Rows come sorted by pick, category and split.
	d = read("PAGEVIEWS_BY_SOURCE_WINDOW", "")
	var order []string
	for _, r := range d.Rows {
		order = append(order, r[0].(string)+"/"+r[1].(string)+"/"+r[2].(string)[8:10])
	}
	if got := strings.Join(order, " "); got != "hopping/home/03 tumbling/home/03 tumbling/search/03 tumbling/home/04" {
		t.Errorf("row order: %s", got)
	}
	// An empty view is listed and has no rows (the page shows "no data yet").
	if d := read("MOVIE_SALES", ""); len(d.Rows) != 0 || d.Rows == nil {
		t.Errorf("MOVIE_SALES rows = %#v", d.Rows)
	}
}

// TestMissingECharts: without echarts.min.js the page says to run make
// tools; the API still answers.
func TestMissingECharts(t *testing.T) {
	srv := comingServer(t)
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
