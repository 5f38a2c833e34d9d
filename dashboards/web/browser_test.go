package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/datatest"
)

// browserCard is what testdata/browser.cjs reads from one panel card.
type browserCard struct {
	View        string   `json:"view"`
	State       string   `json:"state"`
	Rows        int      `json:"rows"`
	Points      int      `json:"points"`
	HasChart    bool     `json:"hasChart"`
	ChartPoints int      `json:"chartPoints"`
	ChartSum    float64  `json:"chartSum"`
	Categories  []any    `json:"categories"`
	KPI         *string  `json:"kpi"`
	Headline    *float64 `json:"headline"`
	Pick        string   `json:"pick"`
	Meta        string   `json:"meta"`
	Note        string   `json:"note"`
	NotApplied  []string `json:"notApplied"`
	Canvas      bool     `json:"canvas"`
}

// browserPass is the page under one set of filters: its cards, and every
// panel's API answer under the same filters, fetched by the page.
type browserPass struct {
	URL    string                `json:"url"`
	Errors []string              `json:"errors"`
	Cards  []browserCard         `json:"cards"`
	API    map[string]*PanelData `json:"api"`
}

type browserResult struct {
	Console    []string `json:"console"`
	PageErrors []string `json:"pageErrors"`
	Initial    struct {
		browserPass
		Title       string   `json:"title"`
		Refresh     string   `json:"refresh"`
		Platforms   []string `json:"platforms"`
		MissingText string   `json:"missingText"`
	} `json:"initial"`
	AutoRefreshMs float64     `json:"autoRefreshMs"`
	Filtered      browserPass `json:"filtered"`
	Dated         browserPass `json:"dated"`
	Pipeline      struct {
		Datasets []struct {
			Dataset  string `json:"dataset"`
			Received int64  `json:"received"`
		} `json:"datasets"`
		Streams []struct {
			Topic string `json:"topic"`
			Counts
			Batches int64 `json:"batches"`
		} `json:"streams"`
		Late []struct {
			Dataset string `json:"dataset"`
			Window  string `json:"window"`
			Events  int64  `json:"events"`
			Windows int64  `json:"windows"`
		} `json:"late"`
		Tests []struct {
			Status string `json:"status"`
			Test   string `json:"test"`
		} `json:"tests"`
		Balanced      string   `json:"balanced"`
		StreamsKPI    string   `json:"streamsKPI"`
		ChartPoints   int      `json:"chartPoints"`
		FiltersHidden bool     `json:"filtersHidden"`
		Errors        []string `json:"errors"`
	} `json:"pipeline"`
}

// repoRoot is the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for !fileExists(filepath.Join(dir, "go.mod")) {
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
	return dir
}

// browserTools finds node, playwright-core and Chromium, or fails naming make tools.
func browserTools(t *testing.T, root string) (node, playwright, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		node = filepath.Join(root, ".tools/node22/bin/node")
		if !fileExists(node) {
			t.Fatal("no node on PATH nor in .tools/node22: run `make tools`")
		}
	}
	playwright = filepath.Join(root, ".tools/web/node_modules/playwright-core")
	if !fileExists(filepath.Join(playwright, "package.json")) {
		t.Fatalf("playwright-core is not installed at %s: run `make tools`", playwright)
	}
	if !fileExists(filepath.Join(root, EChartsRel)) {
		t.Fatalf("echarts is not installed at %s: run `make tools`", EChartsRel)
	}
	chromium, err = exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is not installed: run `make tools` (localstack/tools/apt.sh)")
	}
	return node, playwright, chromium
}

// The browser test's filters: a platform of both the batch files and the
// social_sales stream, and the stream's second day.
const (
	browserPlatform = "Instagram"
	browserDay      = "2024-02-06"
)

// TestBrowser loads the dashboard over the fixture's real warehouse (batch
// files, the simulated stream, gold, data tests) in headless Chromium:
// every catalog panel is on the page with data and draws its API's
// numbers, the page refreshes by itself, a platform filter and a date
// filter each change the numbers to what the API says (and what the facts
// hold), and the pipeline-health page shows the stream topics'
// accounting, the late events and the data-test results. Screenshots go to
// .build/screenshots for people to look at.
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	node, playwright, chromium := browserTools(t, root)
	dir := t.TempDir()
	keep := filepath.Join(root, ".build", "screenshots")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	shots := map[string]string{}
	for _, n := range []string{"dashboard", "filtered", "dated", "pipeline"} {
		shots[n] = filepath.Join(dir, n+".png")
	}
	cfg, _ := json.Marshal(map[string]any{
		"url": fx.srv.URL + "/", "playwright": playwright, "chromium": chromium, "userDataDir": filepath.Join(dir, "chromium-profile"),
		"shots": shots, "sectionShots": keep, "platform": browserPlatform, "day": browserDay,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.cjs"), string(cfg))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser script: %v\n%s", err, stderr.String())
	}
	var res browserResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("browser script output: %v\n%s", err, stdout.String())
	}
	errs := append(append(append(append(append([]string{}, res.Console...), res.PageErrors...), res.Initial.Errors...), res.Filtered.Errors...),
		append(res.Dated.Errors, res.Pipeline.Errors...)...)
	if len(errs) > 0 {
		t.Errorf("errors in the page: %q", errs)
	}

	// 1. Every panel of the catalog is on the page, in order, with data,
	// drawing what the API answers.
	if res.Initial.MissingText != "" {
		t.Errorf("the page lists missing views: %q", res.Initial.MissingText)
	}
	if len(res.Initial.Cards) != len(Catalog) {
		t.Fatalf("%d cards on the page, the catalog has %d panels", len(res.Initial.Cards), len(Catalog))
	}
	for i, c := range res.Initial.Cards {
		if c.View != Catalog[i].View {
			t.Errorf("card %d is %s, want %s", i, c.View, Catalog[i].View)
		}
		if api := res.Initial.API[c.View]; api == nil || len(api.Rows) == 0 {
			t.Errorf("%s: no data", c.View)
		}
		checkCard(t, "unfiltered", c, res.Initial.API[c.View])
	}
	if res.Initial.Refresh != "5" || res.AutoRefreshMs > 15000 {
		t.Errorf("refresh select %q, auto-refresh after %v ms", res.Initial.Refresh, res.AutoRefreshMs)
	}
	if !strings.Contains(strings.Join(res.Initial.Platforms, ","), browserPlatform) {
		t.Errorf("platform filter offers %v", res.Initial.Platforms)
	}

	// 2. The platform filter: every card draws the API's numbers under it,
	// the numbers change where it applies and they are the facts' numbers.
	if !strings.Contains(res.Filtered.URL, "platform="+browserPlatform) {
		t.Errorf("the filter is not in the URL: %s", res.Filtered.URL)
	}
	for _, c := range res.Filtered.Cards {
		checkCard(t, "platform "+browserPlatform, c, res.Filtered.API[c.View])
	}
	initial, filtered, dated := cardsByView(res.Initial.Cards), cardsByView(res.Filtered.Cards), cardsByView(res.Dated.Cards)
	facts := map[string]float64{
		"ENGAGEMENT_BY_AGE_GROUP":  scalar(t, "SELECT COUNT(*) FROM V_ENGAGEMENT WHERE PLATFORM = ?", browserPlatform),
		"SOCIAL_TOTAL_USAGE":       scalar(t, "SELECT SUM(USAGE_COUNT) FROM FACT_SOCIAL_SALES WHERE PLATFORM = ?", browserPlatform),
		"SOCIAL_RATES_BY_PLATFORM": scalar(t, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES WHERE PLATFORM = ?", browserPlatform),
		"SOCIAL_VISITORS_LAST_5_MIN": scalar(t, `SELECT VISITORS FROM SOCIAL_PLATFORM_METRICS WHERE PLATFORM = ?
		   AND WINDOW_START = (SELECT MAX(WINDOW_START) FROM SOCIAL_PLATFORM_METRICS)`, browserPlatform),
	}
	for view, want := range facts {
		before, after := figure(initial[view]), figure(filtered[view])
		if after == nil || before == nil || *after == *before || *after != want || want == 0 {
			t.Errorf("%s under platform %s: %v -> %v; the facts say %v", view, browserPlatform, before, after, want)
		}
	}
	for _, view := range []string{"SOCIAL_RATES_BY_PLATFORM", "SOCIAL_TOP_CITY_BY_USERS", "SOCIAL_TOP_CITY_BY_SALES", "SOCIAL_VISITORS_LAST_5_MIN"} {
		if got := fmt.Sprint(filtered[view].Categories); got != "["+browserPlatform+"]" {
			t.Errorf("%s under the platform filter shows %s", view, got)
		}
	}
	if c := filtered["GOLD_DAU_MAU"]; fmt.Sprint(c.NotApplied) != "[platform,age_group]" || *figure(c) != *figure(initial["GOLD_DAU_MAU"]) {
		t.Errorf("GOLD_DAU_MAU under a platform filter: says %v does not apply, headline %v", c.NotApplied, figure(c))
	}

	// 3. The date filter (one day of the stream): the same, per day.
	if !strings.Contains(res.Dated.URL, "from="+browserDay) || !strings.Contains(res.Dated.URL, "to="+browserDay) {
		t.Errorf("the date range is not in the URL: %s", res.Dated.URL)
	}
	for _, c := range res.Dated.Cards {
		checkCard(t, "day "+browserDay, c, res.Dated.API[c.View])
	}
	const day = "EVENT_TIME >= TIMESTAMP '2024-02-06 00:00:00' AND EVENT_TIME < TIMESTAMP '2024-02-07 00:00:00'"
	dayFacts := map[string]float64{
		"SOCIAL_TOTAL_USAGE":       scalar(t, "SELECT SUM(USAGE_COUNT) FROM FACT_SOCIAL_SALES WHERE "+day),
		"MART_USER_ACTIVITY":       scalar(t, "SELECT SUM(PRICE) FROM MART_PURCHASES WHERE DAY = DATE '2024-02-06'"),
		"MART_MOVIE_STATS":         scalar(t, "SELECT SUM(PRICE) FROM MART_PURCHASES WHERE "+strings.ReplaceAll(day, "EVENT_TIME", "CHECKOUT_TIME")),
		"SOCIAL_RATES_BY_PLATFORM": scalar(t, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES WHERE "+day),
		"PAGEVIEW_USERS_BY_COUNTRY": scalar(t, `SELECT COUNT(DISTINCT p.USER_ID) FROM PAGEVIEWS p JOIN CLEANED_USERS u ON u.USER_ID = p.USER_ID
		   WHERE p.`+day),
		"SESSION_ACTIVITY": scalar(t, `SELECT ACTIVE_SESSIONS_COUNT FROM SESSION_METRICS WHERE METRIC_TIME = (SELECT MAX(METRIC_TIME) FROM SESSION_METRICS
		   WHERE `+strings.ReplaceAll(day, "EVENT_TIME", "METRIC_TIME")+")"),
	}
	for view, want := range dayFacts {
		before, after := figure(initial[view]), figure(dated[view])
		if after == nil || before == nil || !near(*after, want) || want == 0 || (*after == *before && view != "SESSION_ACTIVITY") {
			t.Errorf("%s on %s: %v -> %v; the facts say %v", view, browserDay, before, after, want)
		}
	}
	if got := fmt.Sprint(dated["MART_USER_ACTIVITY"].Categories); got != "[Feb 6]" {
		t.Errorf("MART_USER_ACTIVITY on %s shows days %s", browserDay, got)
	}
	regs := scalar(t, "SELECT SUM(REGISTRATION_COUNT) FROM USER_REGISTRATION_METRICS WHERE WINDOW_TYPE = 'tumbling' AND "+
		strings.ReplaceAll(day, "EVENT_TIME", "WINDOW_START"))
	if c := dated["USER_REGISTRATIONS"]; c.Pick != "tumbling" || c.ChartSum != regs || regs == 0 || regs == initial["USER_REGISTRATIONS"].ChartSum {
		t.Errorf("USER_REGISTRATIONS on %s: %v registrations in %s windows; the metrics say %v", browserDay, c.ChartSum, c.Pick, regs)
	}
	for _, view := range []string{"GOLD_DAU_MAU", "GOLD_SESSION_STATS"} { // gold days are 2024-02-03 to 05
		if c := dated[view]; c.State != "nomatch" || c.Rows != 0 {
			t.Errorf("%s on %s: %s with %d rows, want no rows", view, browserDay, c.State, c.Rows)
		}
	}

	// 4. The pipeline-health page: the stream topics' accounting equals
	// what the stream handler returned and what the simulator sent, the
	// late events and the data tests equal their tables.
	p := res.Pipeline
	if len(p.Streams) != len(fx.stream.counts) || p.StreamsKPI != fmt.Sprint(len(fx.stream.counts)) {
		t.Errorf("pipeline page: %d stream topics (KPI %q), the stream side handled %d", len(p.Streams), p.StreamsKPI, len(fx.stream.counts))
	}
	for _, s := range p.Streams {
		c := fx.stream.counts[s.Topic]
		got := Counts{Received: s.Received, Loaded: s.Loaded, Rejected: s.Rejected, Duplicate: s.Duplicate, Late: s.Late}
		want := Counts{Received: c.Received, Loaded: c.Loaded, Rejected: c.Rejected, Duplicate: c.Duplicate, Late: c.Late}
		if got != want || s.Received != int64(fx.stream.produced[s.Topic]) || s.Batches == 0 {
			t.Errorf("pipeline page, topic %s: %+v in %d batches; the handler says %+v, the simulator sent %d",
				s.Topic, got, s.Batches, want, fx.stream.produced[s.Topic])
		}
	}
	var h Health
	get(t, "/api/health", &h)
	if len(p.Late) != len(h.Late) || len(p.Late) == 0 {
		t.Errorf("pipeline page: %d late-event rows, the API has %d", len(p.Late), len(h.Late))
	}
	for i, l := range p.Late {
		if i < len(h.Late) && (l.Dataset != h.Late[i].Dataset || l.Window != h.Late[i].WindowType || l.Events != h.Late[i].Events || l.Windows != h.Late[i].Windows) {
			t.Errorf("pipeline page, late row %d: %+v; the API says %+v", i, l, h.Late[i])
		}
	}
	tests := int(scalar(t, "SELECT COUNT(*) FROM DATA_TEST_RESULTS"))
	failing := int(scalar(t, "SELECT COUNT(*) FROM DATA_TEST_RESULTS WHERE STATUS = 'fail'"))
	var gotFailing int
	for _, x := range p.Tests {
		if x.Status == "fail" {
			gotFailing++
		}
	}
	if len(p.Tests) != tests || gotFailing != failing || tests < len(datatest.Suite()) {
		t.Errorf("pipeline page: %d tests (%d failing); DATA_TEST_RESULTS has %d (%d failing), the suite %d", len(p.Tests), gotFailing, tests, failing, len(datatest.Suite()))
	}
	if datasets := int(scalar(t, "SELECT COUNT(*) FROM PIPELINE_HEALTH")); len(p.Datasets) != datasets || p.ChartPoints != 4*datasets {
		t.Errorf("pipeline page: %d datasets, %d chart points; PIPELINE_HEALTH has %d", len(p.Datasets), p.ChartPoints, datasets)
	}
	if p.Balanced != "Balanced" || !p.FiltersHidden {
		t.Errorf("pipeline page: accounting %q, filters hidden %v", p.Balanced, p.FiltersHidden)
	}

	// 5. Screenshots.
	for name, path := range shots {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 20_000 {
			t.Errorf("screenshot %s: %d bytes, %v", name, len(b), err)
			continue
		}
		if err := os.WriteFile(filepath.Join(keep, name+".png"), b, 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d panels; total usage %v, under platform %s %v, on %s %v; %d stream topics, %d late-event rows, %d data tests; screenshots in %s",
		len(res.Initial.Cards), *figure(initial["SOCIAL_TOTAL_USAGE"]), browserPlatform, *figure(filtered["SOCIAL_TOTAL_USAGE"]), browserDay,
		*figure(dated["SOCIAL_TOTAL_USAGE"]), len(p.Streams), len(p.Late), len(p.Tests), keep)
}

func cardsByView(cs []browserCard) map[string]browserCard {
	out := map[string]browserCard{}
	for _, c := range cs {
		out[c.View] = c
	}
	return out
}

// figure is a card's number: its KPI, else its headline.
func figure(c browserCard) *float64 {
	if c.KPI != nil {
		var x float64
		if _, err := fmt.Sscan(*c.KPI, &x); err == nil {
			return &x
		}
	}
	return c.Headline
}

// checkCard: a card shows its API answer: the same rows, a chart (or KPI)
// with every point, the headline of the picked value, and a chart whose
// values add up to the API rows' (those of the picked value, within the
// categories shown).
func checkCard(t *testing.T, pass string, c browserCard, api *PanelData) {
	t.Helper()
	if api == nil {
		t.Errorf("%s, %s: the page did not fetch it", pass, c.View)
		return
	}
	if c.Rows != len(api.Rows) {
		t.Errorf("%s, %s: %d rows on the card, the API has %d", pass, c.View, c.Rows, len(api.Rows))
	}
	if len(api.Rows) == 0 {
		if c.State != "nomatch" && c.State != "empty" || c.HasChart {
			t.Errorf("%s, %s: no rows shown as %s (chart %v)", pass, c.View, c.State, c.HasChart)
		}
		return
	}
	want, wantHead := expectedChart(api, c.Pick)
	if api.Chart.Type == "kpi" {
		if c.State != "ready" || c.KPI == nil || *figure(c) != wantHead.Value {
			t.Errorf("%s, %s: KPI %s %v, the API says %v", pass, c.View, c.State, figure(c), wantHead.Value)
		}
		return
	}
	if c.State != "ready" || !c.HasChart || !c.Canvas || c.ChartPoints == 0 || c.ChartPoints != c.Points {
		t.Errorf("%s, %s: state %s, chart %v, canvas %v, %d points drawn (%d reported)", pass, c.View, c.State, c.HasChart, c.Canvas, c.ChartPoints, c.Points)
	}
	if !near(c.ChartSum, want) {
		t.Errorf("%s, %s: the chart adds up to %v, the API's rows to %v", pass, c.View, c.ChartSum, want)
	}
	if _, has := api.Headlines[c.Pick]; has != (c.Headline != nil) || has && !near(*c.Headline, wantHead.Value) {
		t.Errorf("%s, %s: headline %v, the API's is %+v (pick %q)", pass, c.View, c.Headline, api.Headlines[c.Pick], c.Pick)
	}
}

// expectedChart is what a card's chart should add up to, computed from
// the API's answer as the page is documented to draw it: the rows of the
// picked value; the default measures (the first only with a split); for a
// category axis, the categories by value if SortBy says so, cut to the
// panel's limit (40 by default; the newest for times); and the headline
// of the picked value.
func expectedChart(d *PanelData, pick string) (float64, Headline) {
	c := d.Chart
	pi, ci := index(d.Columns, c.Pick), index(d.Columns, c.Category)
	var rows [][]any
	for _, r := range d.Rows {
		if pi < 0 || str(r[pi]) == pick {
			rows = append(rows, r)
		}
	}
	measures := c.Measures
	if c.Split != "" {
		measures = measures[:1]
	}
	timeLine := c.Time && c.Type == "line"
	keep := map[string]bool{}
	if ci >= 0 && !timeLine {
		m0 := index(d.Columns, measures[0])
		tot := map[string]float64{}
		var cats []string
		for _, r := range rows {
			k := fmt.Sprint(r[ci])
			if _, ok := tot[k]; !ok {
				cats = append(cats, k)
			}
			x, _ := number(r[m0])
			tot[k] += x
		}
		if c.SortBy == "value" && !c.Time {
			sort.SliceStable(cats, func(a, b int) bool { return tot[cats[a]] > tot[cats[b]] })
		}
		limit := c.Limit
		if limit == 0 {
			limit = 40
		}
		for i, k := range cats {
			keep[k] = i < limit
			if c.Time { // times keep the newest
				keep[k] = i >= len(cats)-limit
			}
		}
	}
	var sum float64
	for _, r := range rows {
		if ci >= 0 && !timeLine && !keep[fmt.Sprint(r[ci])] {
			continue
		}
		for _, m := range measures {
			x, _ := number(r[index(d.Columns, m)])
			sum += x
		}
	}
	return sum, d.Headlines[pick]
}
