package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	NotApplied  []string `json:"notApplied"`
	Canvas      bool     `json:"canvas"`
}

type browserResult struct {
	Console    []string `json:"console"`
	PageErrors []string `json:"pageErrors"`
	Initial    struct {
		Title     string        `json:"title"`
		Refresh   string        `json:"refresh"`
		Platforms []string      `json:"platforms"`
		Errors    []string      `json:"errors"`
		Cards     []browserCard `json:"cards"`
	} `json:"initial"`
	AutoRefreshMs float64 `json:"autoRefreshMs"`
	Filtered      struct {
		URL   string        `json:"url"`
		Cards []browserCard `json:"cards"`
		API   PanelData     `json:"api"`
	} `json:"filtered"`
	Pipeline struct {
		Datasets []struct {
			Dataset  string `json:"dataset"`
			Received int64  `json:"received"`
		} `json:"datasets"`
		Tests         []string `json:"tests"`
		Balanced      string   `json:"balanced"`
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

// TestBrowser loads the dashboard in headless Chromium: every chart has
// data, the refresh runs by itself, a platform filter changes the numbers
// to what the API says, the pipeline-health page shows every dataset, and
// screenshots are written (also to .build/screenshots for people to look at).
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	node, playwright, chromium := browserTools(t, root)
	dir := t.TempDir()
	shots := map[string]string{}
	for _, n := range []string{"dashboard", "filtered", "pipeline"} {
		shots[n] = filepath.Join(dir, n+".png")
	}
	const probe, platform = "ENGAGEMENT_BY_AGE_GROUP", "Instagram"
	cfg, _ := json.Marshal(map[string]any{
		"url": fx.srv.URL + "/", "playwright": playwright, "chromium": chromium,
		"userDataDir": filepath.Join(dir, "chromium-profile"), "shots": shots, "platform": platform, "probe": probe,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	if len(res.Console)+len(res.PageErrors)+len(res.Initial.Errors)+len(res.Pipeline.Errors) > 0 {
		t.Errorf("errors in the page: console %q, exceptions %q, dashboard %q, pipeline %q",
			res.Console, res.PageErrors, res.Initial.Errors, res.Pipeline.Errors)
	}

	// 1. One card per panel whose view exists; every chart has data.
	var list struct {
		Panels []PanelInfo `json:"panels"`
	}
	get(t, "/api/panels", &list)
	if len(res.Initial.Cards) != len(list.Panels) {
		t.Errorf("%d cards on the page, the API lists %d panels", len(res.Initial.Cards), len(list.Panels))
	}
	ready := 0
	for i, c := range res.Initial.Cards {
		if i < len(list.Panels) && c.View != list.Panels[i].View {
			t.Errorf("card %d is %s, want %s", i, c.View, list.Panels[i].View)
		}
		rows := int(scalar(t, "SELECT COUNT(*) FROM "+c.View))
		switch {
		case rows == 0:
			if c.State != "empty" || c.HasChart {
				t.Errorf("%s: empty view shown as %s (chart %v)", c.View, c.State, c.HasChart)
			}
		case c.KPI != nil:
			if c.State != "ready" || c.Points != 1 || *c.KPI == "" {
				t.Errorf("%s: KPI %s with %d points, value %q", c.View, c.State, c.Points, *c.KPI)
			}
			ready++
		default:
			if c.State != "ready" || !c.HasChart || !c.Canvas || c.ChartPoints == 0 || c.ChartPoints != c.Points || c.Rows != rows {
				t.Errorf("%s: state %s, chart %v, canvas %v, %d chart points (%d reported), %d rows of %d",
					c.View, c.State, c.HasChart, c.Canvas, c.ChartPoints, c.Points, c.Rows, rows)
			}
			ready++
		}
	}
	if ready < 6 {
		t.Errorf("%d charts with data, want the six seed-000 dashboards at least", ready)
	}
	if res.Initial.Refresh != "5" || res.AutoRefreshMs > 15000 {
		t.Errorf("refresh select %q, auto-refresh after %v ms", res.Initial.Refresh, res.AutoRefreshMs)
	}

	// 2. The platform filter changes the probe's numbers to the API's,
	// which equal the facts counted here.
	card := func(cards []browserCard, view string) browserCard {
		for _, c := range cards {
			if c.View == view {
				return c
			}
		}
		t.Fatalf("no card for %s", view)
		return browserCard{}
	}
	before, after := card(res.Initial.Cards, probe), card(res.Filtered.Cards, probe)
	want := scalar(t, "SELECT COUNT(*) FROM V_ENGAGEMENT WHERE PLATFORM = ?", platform)
	if after.Headline == nil || before.Headline == nil || *after.Headline == *before.Headline ||
		*after.Headline != want || res.Filtered.API.Total == nil || *res.Filtered.API.Total != want || after.ChartSum != want {
		t.Errorf("%s headline %v -> %v under platform %s; chart sums %v; API total %v; the facts have %v",
			probe, before.Headline, after.Headline, platform, after.ChartSum, res.Filtered.API.Total, want)
	}
	byPlatform := card(res.Filtered.Cards, "ENGAGEMENT_BY_PLATFORM")
	if fmt.Sprint(byPlatform.Categories) != "["+platform+"]" {
		t.Errorf("ENGAGEMENT_BY_PLATFORM under the filter shows %v", byPlatform.Categories)
	}
	if !strings.Contains(res.Filtered.URL, "platform="+platform) {
		t.Errorf("the filter is not in the URL: %s", res.Filtered.URL)
	}

	// 3. The pipeline-health page shows every dataset the generator wrote.
	received := map[string]int64{}
	for _, tr := range append(append(fx.day1[:0:0], fx.day1...), fx.day2...) {
		received[tr.Dataset] += int64(tr.Rows)
	}
	if len(res.Pipeline.Datasets) != len(received) || res.Pipeline.ChartPoints != 4*len(received) {
		t.Errorf("pipeline page: %d datasets, %d chart points; want %d and %d", len(res.Pipeline.Datasets), res.Pipeline.ChartPoints, len(received), 4*len(received))
	}
	for _, d := range res.Pipeline.Datasets {
		if d.Received != received[d.Dataset] {
			t.Errorf("pipeline page: %s received %d, generator wrote %d", d.Dataset, d.Received, received[d.Dataset])
		}
	}
	tests := int(scalar(t, "SELECT COUNT(*) FROM (SELECT DISTINCT DATASET, TABLE_NAME, TEST FROM PULSE_DATA_TESTS) t"))
	if len(res.Pipeline.Tests) != tests || res.Pipeline.Balanced != "Balanced" || !res.Pipeline.FiltersHidden {
		t.Errorf("pipeline page: %d tests (want %d), accounting %q, filters hidden %v", len(res.Pipeline.Tests), tests, res.Pipeline.Balanced, res.Pipeline.FiltersHidden)
	}

	// 4. Screenshots.
	keep := filepath.Join(root, ".build", "screenshots")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
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
	t.Logf("screenshots in %s", keep)
}

// TestBrowserViews renders the stand-ins for the views of seeds 001-004
// (panels_test.go) with a platform filter in the URL: the KPI, the bars
// with labels, the lines with a picked window type all have data, the
// empty view says so, and panels without a platform column say the filter
// does not apply to them.
func TestBrowserViews(t *testing.T) {
	root := repoRoot(t)
	node, playwright, chromium := browserTools(t, root)
	srv := comingServerWith(t, filepath.Join(root, EChartsRel))
	dir := t.TempDir()
	shot := filepath.Join(dir, "views.png")
	cfg, _ := json.Marshal(map[string]any{
		"mode": "views", "url": srv.URL + "/", "playwright": playwright, "chromium": chromium,
		"userDataDir": filepath.Join(dir, "chromium-profile"), "shots": map[string]string{"views": shot}, "platform": "X",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.cjs"), string(cfg))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser script: %v\n%s", err, stderr.String())
	}
	var res browserResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("browser script output: %v\n%s", err, stdout.String())
	}
	if len(res.Console)+len(res.PageErrors)+len(res.Initial.Errors) > 0 {
		t.Errorf("errors in the page: console %q, exceptions %q, panels %q", res.Console, res.PageErrors, res.Initial.Errors)
	}
	got := map[string]string{}
	for _, c := range res.Initial.Cards {
		got[c.View] = fmt.Sprintf("%s points=%d chart=%v kpi=%v not=%s", c.State, c.ChartPoints, c.HasChart, c.KPI != nil, strings.Join(c.NotApplied, ";"))
		if c.HasChart && c.ChartPoints != c.Points {
			t.Errorf("%s: %d points in the chart, %d reported", c.View, c.ChartPoints, c.Points)
		}
	}
	want := map[string]string{
		"SOCIAL_RATES_BY_PLATFORM":   "ready points=2 chart=true kpi=false not=age_group,date",
		"SOCIAL_TOTAL_USAGE":         "ready points=0 chart=false kpi=true not=platform,age_group,date",
		"SOCIAL_TOP_CITY_BY_USERS":   "ready points=1 chart=true kpi=false not=age_group,date",
		"PAGEVIEWS_BY_SOURCE_WINDOW": "ready points=1 chart=true kpi=false not=platform,age_group",
		"GOLD_DAU_MAU":               "ready points=6 chart=true kpi=false not=platform,age_group",
		"SESSION_ACTIVITY":           "ready points=2 chart=true kpi=false not=platform,age_group",
		"MART_USER_ACTIVITY":         "ready points=3 chart=true kpi=false not=platform,age_group,date",
		"MOVIE_SALES":                "empty points=0 chart=false kpi=false not=platform,age_group,date",
	}
	for v, w := range want {
		if got[v] != w {
			t.Errorf("%s:\n got %s\nwant %s", v, got[v], w)
		}
	}
	if len(got) != len(want) || res.Initial.Refresh != "0" {
		t.Errorf("%d cards, refresh %q", len(got), res.Initial.Refresh)
	}
	if b, err := os.ReadFile(shot); err == nil {
		os.WriteFile(filepath.Join(root, ".build", "screenshots", "views.png"), b, 0o644)
	}
}
