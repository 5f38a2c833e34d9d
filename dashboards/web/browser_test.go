package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// browserCard is what testdata/browser.cjs reads from one panel card.
type browserCard struct {
	View         string   `json:"view"`
	State        string   `json:"state"`
	Rows         int      `json:"rows"`
	Points       int      `json:"points"`
	HasChart     bool     `json:"hasChart"`
	ChartPoints  int      `json:"chartPoints"`
	ChartSum     float64  `json:"chartSum"`
	Categories   []any    `json:"categories"`
	KPI          *string  `json:"kpi"`
	Headline     *float64 `json:"headline"`
	HeadlineText string   `json:"headlineText"`
	Pick         string   `json:"pick"`
	Meta         string   `json:"meta"`
	Note         string   `json:"note"`
	NotApplied   []string `json:"notApplied"`
	Canvas       bool     `json:"canvas"`
	Axes         []struct {
		Dim         string `json:"dim"`
		Type        string `json:"type"`
		Name        string `json:"name"`
		Labels      bool   `json:"labels"`
		Interval    any    `json:"interval"`
		HideOverlap bool   `json:"hideOverlap"`
		Count       int    `json:"count"`
	} `json:"axes"`
	Grids      int    `json:"grids"`
	HeadColumn string `json:"headColumn"`
	EmptyText  string `json:"emptyText"`
}

// browserSection is one section of the page as browser.cjs reads it.
type browserSection struct {
	ID      string `json:"id"`
	Refresh string `json:"refresh"`
	Span    string `json:"span"`
	Empty   bool   `json:"empty"`
	Banner  string `json:"banner"`
}

// browserPass is the page under one set of filters: its cards, and every
// panel's API answer under the same filters, fetched by the page.
type browserPass struct {
	URL      string                `json:"url"`
	Errors   []string              `json:"errors"`
	Cards    []browserCard         `json:"cards"`
	Sections []browserSection      `json:"sections"`
	API      map[string]*PanelData `json:"api"`
	Page     struct {
		Text   string   `json:"text"`
		Inputs []string `json:"inputs"`
	} `json:"page"`
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
	WatchedMs float64 `json:"watchedMs"`
	Refreshes map[string]struct {
		Refresh    int       `json:"refresh"`
		Loads      int       `json:"loads"`
		AutoStarts []float64 `json:"autoStarts"`
		Done       []float64 `json:"done"`
	} `json:"refreshes"`
	Measures  []browserCard    `json:"measures"`
	AllAtFive []browserSection `json:"allAtFive"`
	Filtered  browserPass      `json:"filtered"`
	Dated     browserPass      `json:"dated"`
	Batchday  browserPass      `json:"batchday"`
	BadDay    struct {
		Invalid bool   `json:"invalid"`
		From    string `json:"from"`
	} `json:"badDay"`
	Pipeline struct {
		Datasets []struct {
			Dataset  string `json:"dataset"`
			Received int64  `json:"received"`
		} `json:"datasets"`
		Streams []struct {
			Topic string `json:"topic"`
			pipeline.Counts
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
		TestsPager    string     `json:"testsPager"`
		TestPages     [][]string `json:"testPages"`
		Balanced      string     `json:"balanced"`
		StreamsKPI    string     `json:"streamsKPI"`
		ChartPoints   int        `json:"chartPoints"`
		FiltersHidden bool       `json:"filtersHidden"`
		Errors        []string   `json:"errors"`
	} `json:"pipeline"`
	EmptyProfiles *struct {
		Count string `json:"count"`
		Text  string `json:"text"`
	} `json:"emptyProfiles"`
	Profiles *struct {
		Count    string   `json:"count"`
		Tabs     []string `json:"tabs"`
		Datasets []struct {
			Dataset string `json:"dataset"`
			Columns int    `json:"columns"`
			Hidden  bool   `json:"hidden"`
			Rows    int    `json:"rows"`
		} `json:"datasets"`
		Sessions browserProfile `json:"sessions"`
		Widest   struct {
			Dataset string `json:"dataset"`
			Pages   []struct {
				Pager   string   `json:"pager"`
				Columns []string `json:"columns"`
				Hidden  bool     `json:"hidden"`
			} `json:"pages"`
		} `json:"widest"`
	} `json:"profiles"`
}

// browserProfile is one dataset's profile as the pipeline page shows it.
type browserProfile struct {
	Hidden  bool   `json:"hidden"`
	Meta    string `json:"meta"`
	Pager   string `json:"pager"`
	Columns []struct {
		Name     string   `json:"name"`
		Personal bool     `json:"personal"`
		Type     string   `json:"type"`
		Nulls    string   `json:"nulls"`
		Distinct string   `json:"distinct"`
		Min      string   `json:"min"`
		Max      string   `json:"max"`
		Top      []string `json:"top"`
	} `json:"columns"`
	Text string `json:"text"`
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
// social_sales stream, the stream's second day, and a day of the batch
// files alone; and how long it watches the sections refresh by themselves.
const (
	browserPlatform = "Instagram"
	browserDay      = "2024-02-06"
	browserBatchDay = "2024-02-03"
	browserWatch    = 17 * time.Second
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
	for _, n := range []string{"dashboard", "filtered", "dated", "batchday", "measures", "pipeline", "profiles"} {
		shots[n] = filepath.Join(dir, n+".png")
	}
	// A dashboard whose profile source has no profile to give, and one problem.
	noProfiles, err := New(fx.st.Warehouse, Options{Profiles: func(context.Context) ([]pipeline.Profile, error) {
		return nil, errors.New("dataset app_users: no readable profile among 1")
	}})
	if err != nil {
		t.Fatal(err)
	}
	emptySrv := httptest.NewServer(noProfiles)
	defer emptySrv.Close()
	cfg, _ := json.Marshal(map[string]any{
		"emptyProfilesUrl": emptySrv.URL + "/",
		"url":              fx.srv.URL + "/", "playwright": playwright, "chromium": chromium, "userDataDir": filepath.Join(dir, "chromium-profile"),
		"shots": shots, "sectionShots": keep, "platform": browserPlatform, "day": browserDay, "batchDay": browserBatchDay,
		"watchMs": browserWatch.Milliseconds(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
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
		append(append(res.Dated.Errors, res.Batchday.Errors...), res.Pipeline.Errors...)...)
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
	checkRefreshRates(t, res)
	checkAxes(t, res.Initial.browserPass)
	checkISODays(t, "unfiltered", res.Initial.browserPass)
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
		"SOCIAL_RATES_BY_PLATFORM": scalar(t, "SELECT AVG(CONVERSION_RATE) FROM FACT_SOCIAL_SALES WHERE PLATFORM = ?", browserPlatform),
		"SOCIAL_VISITORS_LAST_5_MIN": scalar(t, `SELECT VISITORS FROM SOCIAL_PLATFORM_METRICS WHERE PLATFORM = ?
		   AND WINDOW_START = (SELECT MAX(WINDOW_START) FROM SOCIAL_PLATFORM_METRICS)`, browserPlatform),
	}
	for view, want := range facts {
		before, after := figure(initial[view]), figure(filtered[view])
		if after == nil || before == nil || *after == *before || !near(*after, want) || want == 0 {
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
		"MART_USER_ACTIVITY":       scalar(t, "SELECT COUNT(*) FROM MART_PURCHASES WHERE DAY = DATE '2024-02-06'"),
		"MART_MOVIE_STATS":         scalar(t, "SELECT SUM(PRICE) FROM MART_PURCHASES WHERE "+strings.ReplaceAll(day, "EVENT_TIME", "CHECKOUT_TIME")),
		"SOCIAL_RATES_BY_PLATFORM": scalar(t, "SELECT AVG(CONVERSION_RATE) FROM FACT_SOCIAL_SALES WHERE "+day),
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
	if got := fmt.Sprint(dated["MART_USER_ACTIVITY"].Categories); got != "["+browserDay+"]" {
		t.Errorf("MART_USER_ACTIVITY on %s shows days %s", browserDay, got)
	}
	regs := scalar(t, "SELECT SUM(REGISTRATION_COUNT) FROM USER_REGISTRATION_METRICS WHERE WINDOW_TYPE = 'tumbling' AND "+
		strings.ReplaceAll(day, "EVENT_TIME", "WINDOW_START"))
	if c := dated["USER_REGISTRATIONS"]; c.Pick != "tumbling" || c.ChartSum != regs || regs == 0 || regs == initial["USER_REGISTRATIONS"].ChartSum {
		t.Errorf("USER_REGISTRATIONS on %s: %v registrations in %s windows; the metrics say %v", browserDay, c.ChartSum, c.Pick, regs)
	}
	for _, view := range []string{"GOLD_DAU_MAU", "GOLD_SESSION_STATS"} { // gold days are 2024-02-03 to 05
		if c := dated[view]; c.State != "nomatch" || c.Rows != 0 || !strings.Contains(c.EmptyText, "No rows match these filters") {
			t.Errorf("%s on %s: %s with %d rows (%q), want no rows", view, browserDay, c.State, c.Rows, c.EmptyText)
		}
	}
	checkISODays(t, "day "+browserDay, res.Dated)
	if fmt.Sprint(res.Dated.Page.Inputs) != "[text:"+browserDay+" text:"+browserDay+"]" {
		t.Errorf("the filter bar's days read %v, want ISO days in text inputs", res.Dated.Page.Inputs)
	}
	// The section the day empties says so, with the days its data has.
	checkSectionBanners(t, "day "+browserDay, res.Dated.Sections, map[string]string{"app": "2024-02-03 to 2024-02-05"})

	// A batch day: the stream sections have nothing that day and say so;
	// the movie mart's 50 movies all have 0 sales that day, which reads "no
	// rows match", not 50 zero bars.
	for _, c := range res.Batchday.Cards {
		checkCard(t, "day "+browserBatchDay, c, res.Batchday.API[c.View])
	}
	stream := "2024-02-05 to 2024-02-06"
	checkSectionBanners(t, "day "+browserBatchDay, res.Batchday.Sections, map[string]string{"social": stream, "pageviews": stream, "consumer": stream})
	if c, api := cardsByView(res.Batchday.Cards)["MART_MOVIE_STATS"], res.Batchday.API["MART_MOVIE_STATS"]; len(api.Rows) == 0 ||
		column(t, api, "TOTAL_SALES") != 0 || c.State != "nomatch" || c.HasChart || !strings.Contains(c.EmptyText, "No rows match") {
		t.Errorf("MART_MOVIE_STATS on %s: %d rows, $%v of sales; the card is %s (chart %v): %q", browserBatchDay, len(api.Rows),
			column(t, api, "TOTAL_SALES"), c.State, c.HasChart, c.EmptyText)
	}
	if c := cardsByView(res.Batchday.Cards)["SOCIAL_TOTAL_USAGE"]; c.State != "nomatch" || c.KPI != nil {
		t.Errorf("SOCIAL_TOTAL_USAGE on %s (no social sales): %s, KPI %v", browserBatchDay, c.State, c.KPI)
	}
	if !res.BadDay.Invalid || res.BadDay.From != browserBatchDay {
		t.Errorf("a day typed as 02/06/2024: marked invalid %v, the filter's from is %q", res.BadDay.Invalid, res.BadDay.From)
	}

	// The headline follows the measure picked; engagement on each source's
	// own scale gets a chart per source.
	measures := cardsByView(res.Measures)
	for _, c := range []struct {
		view, column string
		want         float64
	}{
		{"COMMUNITY_TRENDS", "AVG_ENGAGEMENT", scalar(t, "SELECT AVG(COMMUNITY_ENGAGEMENT) FROM FACT_COMMUNITY_INTERACTIONS")},
		{"MART_MOVIE_STATS", "PURCHASES", scalar(t, "SELECT COUNT(*) FROM MART_PURCHASES")},
	} {
		m := measures[c.view]
		if m.HeadColumn != c.column || m.Headline == nil || !near(*m.Headline, c.want) || *m.Headline == *initial[c.view].Headline {
			t.Errorf("%s showing %s: headline of %s %v (before %v), want %v", c.view, c.column, m.HeadColumn, m.Headline, initial[c.view].Headline, c.want)
		}
	}
	// Engagement on each source's own scale: no headline mixes the scales.
	if m := measures["ENGAGEMENT_BY_PLATFORM"]; m.HeadColumn != "AVG_ENGAGEMENT" || m.Headline != nil || !strings.Contains(m.HeadlineText, "own scale") {
		t.Errorf("ENGAGEMENT_BY_PLATFORM showing its average engagement: headline of %s %v %q", m.HeadColumn, m.Headline, m.HeadlineText)
	}
	sources := int(scalar(t, "SELECT COUNT(DISTINCT SOURCE) FROM V_ENGAGEMENT"))
	for _, view := range []string{"ENGAGEMENT_BY_PLATFORM", "ENGAGEMENT_BY_HOUR"} {
		m, values := measures[view], 0
		for _, a := range m.Axes {
			if a.Type == "value" && strings.Contains(a.Name, "(") {
				values++
			}
		}
		if m.Grids != sources || values != sources || initial[view].Grids != 1 {
			t.Errorf("%s on each source's scale: %d charts, %d value axes with a title; want %d (one before: %d)", view, m.Grids, values, sources, initial[view].Grids)
		}
	}
	checkAxes(t, browserPass{Cards: res.Measures, API: res.Initial.API})
	for _, sec := range res.AllAtFive {
		if sec.Refresh != "5" {
			t.Errorf("after choosing 5 s for all, section %s refreshes every %s s", sec.ID, sec.Refresh)
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
		got, want := s.Counts, c
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
	// The tests page 15 at a time; every one is on some page, once.
	seen := map[string]bool{}
	for _, pg := range p.TestPages {
		if len(pg) > 15 || len(pg) == 0 {
			t.Errorf("pipeline page: a page of %d data tests", len(pg))
		}
		for _, x := range pg {
			if seen[x] {
				t.Errorf("pipeline page: data test %s on two pages", x)
			}
			seen[x] = true
		}
	}
	wantPager := fmt.Sprintf("Rows 1–15 of %d", tests)
	if len(seen) != tests || len(p.Tests) != 15 || p.TestsPager != wantPager || gotFailing != failing || tests < len(datatest.Suite()) {
		t.Errorf("pipeline page: %d tests over %d pages (%d on the first, %q, %d failing); DATA_TEST_RESULTS has %d (%d failing), the suite %d",
			len(seen), len(p.TestPages), len(p.Tests), p.TestsPager, gotFailing, tests, failing, len(datatest.Suite()))
	}
	if datasets := int(scalar(t, "SELECT COUNT(*) FROM PIPELINE_HEALTH")); len(p.Datasets) != datasets || p.ChartPoints != 4*datasets {
		t.Errorf("pipeline page: %d datasets, %d chart points; PIPELINE_HEALTH has %d", len(p.Datasets), p.ChartPoints, datasets)
	}
	if p.Balanced != "Balanced" || !p.FiltersHidden {
		t.Errorf("pipeline page: accounting %q, filters hidden %v", p.Balanced, p.FiltersHidden)
	}

	checkProfilesPanel(t, res)

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
		*figure(dated["SOCIAL_TOTAL_USAGE"]), len(p.Streams), len(p.Late), len(seen), keep)
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
	want, wantHead, zero := expectedChart(api, c.Pick)
	if len(api.Rows) == 0 || zero {
		// No rows, or every value drawn would be 0: a sentence, no chart.
		if c.State != "nomatch" && c.State != "empty" || c.HasChart || !strings.Contains(c.EmptyText, map[bool]string{true: "No rows match these filters", false: "No"}[len(api.Applied) > 0]) {
			t.Errorf("%s, %s: no rows (or only zeros) shown as %s (chart %v): %q", pass, c.View, c.State, c.HasChart, c.EmptyText)
		}
		return
	}
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
// category axis, the categories by value if SortBy says so (leaving out
// those whose value is 0), cut to the panel's limit (40 by default; the
// newest for times); and the headline of the picked value. zero: every
// value drawn would be 0 (for a KPI, under a filter: every figure is 0),
// which the card says in words instead.
func expectedChart(d *PanelData, pick string) (float64, Headline, bool) {
	c := d.Chart
	if c.Type == "kpi" {
		zero := len(d.Applied) > 0
		for i, col := range d.Columns {
			if x, ok := number(d.Rows[0][i]); col.Type == typeNumber && ok && x != 0 {
				zero = false
			}
		}
		return 0, d.Headlines[pick], zero
	}
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
			var nonzero []string
			for _, k := range cats {
				if tot[k] != 0 {
					nonzero = append(nonzero, k)
				}
			}
			cats = nonzero
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
	zero := true
	for _, r := range rows {
		if ci >= 0 && !timeLine && !keep[fmt.Sprint(r[ci])] {
			continue
		}
		for _, m := range measures {
			x, _ := number(r[index(d.Columns, m)])
			sum += x
			zero = zero && x == 0
		}
	}
	return sum, d.Headlines[pick], zero
}

// checkRefreshRates: each section starts at its seed's rate (Groups) and
// reloads by itself at it: every reload its timer started came its
// interval after the section's previous load ended; in the watch, the
// 5-s section reloaded at least twice, the 15-s one once, the 60-s ones
// never.
func checkRefreshRates(t *testing.T, res browserResult) {
	t.Helper()
	if res.Initial.Refresh != "seed" {
		t.Errorf("the top bar's refresh reads %q, want each section's seed rate", res.Initial.Refresh)
	}
	secs := map[string]browserSection{}
	for _, s := range res.Initial.Sections {
		secs[s.ID] = s
	}
	watch := res.WatchedMs
	for _, g := range Groups {
		if s := secs[g.ID]; s.Refresh != fmt.Sprint(g.RefreshSeconds) {
			t.Errorf("section %s refreshes every %s s, its seed's rate is %d s", g.ID, s.Refresh, g.RefreshSeconds)
		}
		r := res.Refreshes[g.ID]
		if len(r.Done) == 0 {
			t.Errorf("section %s never loaded", g.ID)
			continue
		}
		for _, a := range r.AutoStarts {
			prev := -1.0
			for _, d := range r.Done {
				if d <= a {
					prev = d
				}
			}
			gap := a - prev
			if prev < 0 || gap < float64(g.RefreshSeconds)*1000-100 || gap > float64(g.RefreshSeconds)*1000+2500 {
				t.Errorf("section %s (every %d s) reloaded %.0f ms after its previous load", g.ID, g.RefreshSeconds, gap)
			}
		}
		want := int(watch / 1000 / float64(g.RefreshSeconds+2)) // reloads that fit in the watch, with 2 s per load to spare
		if len(r.AutoStarts) < want || (g.RefreshSeconds*1000 > int(watch)+500 && len(r.AutoStarts) != 0) {
			t.Errorf("section %s (every %d s) reloaded %d times by itself in %.0f ms, want at least %d", g.ID, g.RefreshSeconds, len(r.AutoStarts), watch, want)
		}
	}
	if r := res.Refreshes["social"]; len(r.AutoStarts) < 2 || len(res.Refreshes["pageviews"].AutoStarts) < 1 || len(res.Refreshes["engagement"].AutoStarts) != 0 {
		t.Errorf("in %.0f ms: social sales reloaded %d times, page views %d, engagement %d", watch, len(r.AutoStarts),
			len(res.Refreshes["pageviews"].AutoStarts), len(res.Refreshes["engagement"].AutoStarts))
	}
}

// checkAxes: every axis a chart draws labels on has a title; a value
// axis names its unit in parentheses, a time axis says UTC; every
// category label is shown (none thinned out for lack of room at 1440 px).
func checkAxes(t *testing.T, pass browserPass) {
	t.Helper()
	for _, c := range pass.Cards {
		if !c.HasChart {
			continue
		}
		api := pass.API[c.View]
		if len(c.Axes) == 0 {
			t.Errorf("%s: a chart without axes", c.View)
		}
		for _, a := range c.Axes {
			if !a.Labels {
				continue
			}
			time := a.Type == "time" || (a.Type == "category" && api != nil && api.Chart.Time)
			switch {
			case strings.TrimSpace(a.Name) == "":
				t.Errorf("%s: the %s axis (%s) has no title", c.View, a.Dim, a.Type)
			case a.Type == "value" && !strings.HasSuffix(a.Name, ")"):
				t.Errorf("%s: value axis %q names no unit", c.View, a.Name)
			case time && !strings.Contains(a.Name, "UTC"):
				t.Errorf("%s: time axis %q does not say UTC", c.View, a.Name)
			}
			if a.Type == "category" && a.Count <= 40 && (fmt.Sprint(a.Interval) != "0" || a.HideOverlap) {
				t.Errorf("%s: %d category labels, drawn with interval %v (hide overlap %v): some are left out", c.View, a.Count, a.Interval, a.HideOverlap)
			}
		}
	}
}

// isoDay is a day as the page writes it; localeDay and monthDay are the
// forms it must not use.
var (
	isoDay    = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	localeDay = regexp.MustCompile(`\b\d{1,2}/\d{1,2}/\d{2,4}\b`)
	monthDay  = regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}\b`)
)

// checkISODays: days on the page are ISO: the filter bar's inputs are
// text (not the browser's locale date input), each section's span line
// has ISO days, and no day is written any other way.
func checkISODays(t *testing.T, pass string, p browserPass) {
	t.Helper()
	for _, in := range p.Page.Inputs {
		if !strings.HasPrefix(in, "text:") || (in != "text:" && !isoDay.MatchString(in)) {
			t.Errorf("%s: a filter input %q is not an ISO text field", pass, in)
		}
	}
	if m := localeDay.FindString(p.Page.Text); m != "" {
		t.Errorf("%s: the page writes a day as %q", pass, m)
	}
	if m := monthDay.FindString(p.Page.Text); m != "" {
		t.Errorf("%s: the page writes a day as %q", pass, m)
	}
	if len(p.Sections) != len(Groups) {
		t.Errorf("%s: %d sections, want %d", pass, len(p.Sections), len(Groups))
	}
	for _, s := range p.Sections {
		if !strings.HasPrefix(s.Span, "Data: ") || !isoDay.MatchString(s.Span) {
			t.Errorf("%s: section %s's span reads %q", pass, s.ID, s.Span)
		}
	}
}

// checkSectionBanners: exactly the sections in want say that the date
// range leaves them without rows, each naming the days its data has.
func checkSectionBanners(t *testing.T, pass string, secs []browserSection, want map[string]string) {
	t.Helper()
	for _, s := range secs {
		days, empty := want[s.ID]
		if s.Empty != empty || (empty && (!strings.Contains(s.Banner, "No rows match") || !strings.Contains(s.Banner, days))) || (!empty && s.Banner != "") {
			t.Errorf("%s: section %s empty %v, note %q; want empty %v naming %q", pass, s.ID, s.Empty, s.Banner, empty, days)
		}
	}
}

// checkProfilesPanel: the pipeline page's data profiles show every
// dataset /api/profiles has, a tab each, the first one's columns on the
// first page; the user sessions' profile shows only masked names and
// addresses; the widest dataset's columns page through, 12 at a time,
// each once and in order.
func checkProfilesPanel(t *testing.T, res browserResult) {
	t.Helper()
	p := res.Profiles
	if p == nil {
		t.Fatal("pipeline page: no data profiles panel")
	}
	var api ProfilesPage
	get(t, "/api/profiles", &api)
	var names []string
	cols := map[string][]string{}
	for _, x := range api.Profiles {
		names = append(names, x.Dataset)
		for _, c := range x.Columns {
			cols[x.Dataset] = append(cols[x.Dataset], c.Name)
		}
	}
	if fmt.Sprint(p.Tabs) != fmt.Sprint(names) || p.Count != fmt.Sprint(len(names)) || len(p.Datasets) != len(names) || len(names) < 2 {
		t.Errorf("profiles panel: tabs %v (count %s), the API has %v", p.Tabs, p.Count, names)
	}
	for i, d := range p.Datasets {
		if want := min(12, len(cols[d.Dataset])); d.Columns != len(cols[d.Dataset]) || d.Rows != want || d.Hidden != (i != 0) {
			t.Errorf("profiles panel, %s: %d of %d columns on its page (hidden %v), want %d of %d (hidden %v)",
				d.Dataset, d.Rows, d.Columns, d.Hidden, want, len(cols[d.Dataset]), i != 0)
		}
	}

	s := p.Sessions
	if s.Hidden || !strings.Contains(s.Meta, fx.personal.FileID) || !strings.Contains(s.Meta, personalKey) || !strings.Contains(s.Meta, "5 staged rows") {
		t.Errorf("profiles panel, user_sessions: hidden %v, meta %q", s.Hidden, s.Meta)
	}
	var userName *struct {
		Name     string   `json:"name"`
		Personal bool     `json:"personal"`
		Type     string   `json:"type"`
		Nulls    string   `json:"nulls"`
		Distinct string   `json:"distinct"`
		Min      string   `json:"min"`
		Max      string   `json:"max"`
		Top      []string `json:"top"`
	}
	for i := range s.Columns {
		if s.Columns[i].Name == "user_name" {
			userName = &s.Columns[i]
		}
	}
	if userName == nil {
		t.Fatalf("profiles panel, user_sessions: no user_name row in %+v", s.Columns)
	}
	got := fmt.Sprint(userName.Personal, " | ", userName.Type, " | ", userName.Nulls, " | ", userName.Distinct, " | ", userName.Min, " | ", userName.Max, " | ", userName.Top)
	if want := "true | string | 0% | 3 | **** | Unknown | [**** 2 Unknown 2 ****@gmail.com 1]"; got != want {
		t.Errorf("profiles panel, user_sessions.user_name reads\n %s\nwant\n %s", got, want)
	}
	for _, c := range s.Columns {
		if c.Personal != (c.Name == "user_name") {
			t.Errorf("profiles panel, user_sessions.%s: marked personal %v", c.Name, c.Personal)
		}
	}
	for _, v := range append([]string{userName.Min, userName.Max}, userName.Top...) {
		if v != "Unknown" && !strings.HasPrefix(v, "****") && !strings.HasPrefix(v, "Unknown ") {
			t.Errorf("profiles panel, user_sessions.user_name shows %q, which is not masked", v)
		}
	}
	for _, secret := range personalSecrets {
		if strings.Contains(s.Text, secret) {
			t.Errorf("profiles panel shows %q", secret)
		}
	}

	if e := res.EmptyProfiles; e == nil || e.Count != "0" || !strings.Contains(e.Text, "No data profile could be read.") ||
		!strings.Contains(e.Text, "Some profiles could not be read: dataset app_users: no readable profile among 1") {
		t.Errorf("profiles panel with no profiles and a problem: %+v", e)
	}

	w := p.Widest
	var seen []string
	for i, pg := range w.Pages {
		if pg.Hidden || len(pg.Columns) > 12 || len(pg.Columns) == 0 {
			t.Errorf("profiles panel, %s page %d: %d columns (hidden %v)", w.Dataset, i+1, len(pg.Columns), pg.Hidden)
		}
		seen = append(seen, pg.Columns...)
	}
	all := cols[w.Dataset]
	if fmt.Sprint(seen) != fmt.Sprint(all) || len(all) <= 12 || len(w.Pages) == 0 || w.Pages[0].Pager != fmt.Sprintf("Columns 1–12 of %d", len(all)) {
		t.Errorf("profiles panel, %s paged through: %v (first page %q); the API's columns %v", w.Dataset, seen, w.Pages[0].Pager, all)
	}
}
