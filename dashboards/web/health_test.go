package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestHealthMatchesGenerator: the health page's accounting for the
// fixture equals what the generator wrote and what the facts hold.
func TestHealthMatchesGenerator(t *testing.T) {
	var h Health
	if code := get(t, "/api/health", &h); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	received, rejected := map[string]int64{}, map[string]int64{}
	var files int64
	for _, tr := range append(append(fx.day1[:0:0], fx.day1...), fx.day2...) {
		received[tr.Dataset] += int64(tr.Rows)
		rejected[tr.Dataset] += int64(tr.Rejected)
		files++
	}
	if len(h.Datasets) != len(received) {
		t.Fatalf("%d datasets, generator wrote %d", len(h.Datasets), len(received))
	}
	var total Counts
	for _, d := range h.Datasets {
		if d.Received != received[d.Dataset] || d.Rejected != rejected[d.Dataset] || !d.Balanced || d.Late != 0 {
			t.Errorf("%s: received %d rejected %d balanced %v; generator: received %d rejected %d",
				d.Dataset, d.Received, d.Rejected, d.Balanced, received[d.Dataset], rejected[d.Dataset])
		}
		if d.LastLoadedAt == nil || !d.Fresh || *d.AgeSeconds < 60 || *d.AgeSeconds > 600 {
			t.Errorf("%s: newest load %v, age %v s, fresh %v", d.Dataset, d.LastLoadedAt, d.AgeSeconds, d.Fresh)
		}
		total.add(d.Counts)
	}
	if h.Totals != total || total.Files != files || !h.Balanced {
		t.Errorf("totals %+v, want %+v with %d files", h.Totals, total, files)
	}
	// Every loaded record of an interactions dataset is one fact row.
	facts := scalar(t, "SELECT (SELECT COUNT(*) FROM FACT_COMMUNITY_INTERACTIONS) + (SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS)"+
		" + (SELECT COUNT(*) FROM FACT_VIDEO_INTERACTIONS) + (SELECT COUNT(*) FROM FACT_APP_INTERACTIONS)")
	var loaded int64
	for _, d := range h.Datasets {
		if d.Dataset != "app_users" {
			loaded += d.Loaded
		}
	}
	if float64(loaded) != facts {
		t.Errorf("loaded %d, the fact tables hold %v", loaded, facts)
	}
	tests := scalar(t, "SELECT COUNT(*) FROM (SELECT DISTINCT DATASET, TABLE_NAME, TEST FROM PULSE_DATA_TESTS) t")
	runs := scalar(t, "SELECT COUNT(*) FROM PULSE_DATA_TESTS")
	var gotRuns int64
	for _, x := range h.Tests {
		gotRuns += x.Runs
		if x.LatestStatus != "pass" || x.Failures != 0 {
			t.Errorf("%s %s %s: %s with %d failures", x.Dataset, x.Table, x.Test, x.LatestStatus, x.Failures)
		}
	}
	if float64(len(h.Tests)) != tests || float64(gotRuns) != runs || h.TestsPassing != len(h.Tests) || h.TestsFailing != 0 || tests < 10 {
		t.Errorf("%d tests (%d runs, %d passing), the table has %v tests and %v runs", len(h.Tests), gotRuns, h.TestsPassing, tests, runs)
	}
	if len(h.Rejects) == 0 || len(h.Recent) != len(fx.runs) {
		t.Errorf("%d reject groups, %d recent loads (want %d: every file)", len(h.Rejects), len(h.Recent), len(fx.runs))
	}
}

// TestHealthFreshnessAndFailures: freshness against a fixed clock, and a
// test that failed in its latest run shows as failing while one that
// failed before and passes now shows its failed run.
func TestHealthFreshnessAndFailures(t *testing.T) {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := wh.Migrate(ctx, star.Schemas()); err != nil {
		t.Fatal(err)
	}
	if err := views.Apply(ctx, wh, views.Batch); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 2, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) table.Cell { return table.Int64(now.Add(-d).UnixMicro()) }
	s, i := table.Str, table.Int64
	manifests := []table.Row{
		{s("f1"), s("live_streaming"), s("raw/a"), i(10), i(7), i(1), i(1), i(1), s("tested"), at(6 * time.Minute), at(5 * time.Minute)},
		{s("f2"), s("live_streaming"), s("raw/b"), i(5), i(5), i(0), i(0), i(0), s("tested"), at(3 * time.Hour), at(3 * time.Hour)},
		{s("f3"), s("social_sales"), s("kafka/social_sales/0/100"), i(4), i(4), i(0), i(0), i(0), s("loaded"), at(3 * time.Hour), at(2 * time.Hour)},
	}
	if _, err := wh.Merge(ctx, *star.Manifests, manifests); err != nil {
		t.Fatal(err)
	}
	tests := []table.Row{
		{s("t1"), s("f2"), s("live_streaming"), s("FACT_X"), s("unique(ID)"), i(2), s("fail"), at(3 * time.Hour)},
		{s("t2"), s("f1"), s("live_streaming"), s("FACT_X"), s("unique(ID)"), i(0), s("pass"), at(5 * time.Minute)},
		{s("t3"), s("f2"), s("live_streaming"), s("FACT_X"), s("not_null(ID)"), i(0), s("pass"), at(3 * time.Hour)},
		{s("t4"), s("f1"), s("live_streaming"), s("FACT_X"), s("not_null(ID)"), i(3), s("fail"), at(5 * time.Minute)},
	}
	if _, err := wh.Merge(ctx, *star.DataTests, tests); err != nil {
		t.Fatal(err)
	}
	h, err := New(wh, Options{Now: func() time.Time { return now }, FreshWithin: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var got Health
	getFrom(t, srv, "/api/health", &got)
	if len(got.Datasets) != 2 {
		t.Fatalf("datasets: %+v", got.Datasets)
	}
	live, social := got.Datasets[0], got.Datasets[1]
	if live.Dataset != "live_streaming" || live.Files != 2 || live.Received != 15 || live.Late != 1 || !live.Balanced ||
		*live.AgeSeconds != 300 || !live.Fresh {
		t.Errorf("live_streaming: %+v age %v", live, *live.AgeSeconds)
	}
	if social.Dataset != "social_sales" || *social.AgeSeconds != 7200 || social.Fresh {
		t.Errorf("social_sales: %+v age %v", social, *social.AgeSeconds)
	}
	if got.Totals != (Counts{Files: 3, Received: 19, Loaded: 16, Rejected: 1, Duplicate: 1, Late: 1}) || !got.Balanced {
		t.Errorf("totals %+v", got.Totals)
	}
	if got.TestsFailing != 1 || got.TestsPassing != 1 || len(got.Tests) != 2 {
		t.Fatalf("tests: %+v", got.Tests)
	}
	fail, pass := got.Tests[0], got.Tests[1] // failing first
	if fail.Test != "not_null(ID)" || fail.LatestStatus != "fail" || fail.LatestFailures != 3 || fail.FailedRuns != 1 || fail.Runs != 2 {
		t.Errorf("failing test: %+v", fail)
	}
	if pass.Test != "unique(ID)" || pass.LatestStatus != "pass" || pass.LatestFailures != 0 || pass.FailedRuns != 1 || pass.Failures != 2 {
		t.Errorf("recovered test: %+v", pass)
	}
	if len(got.Recent) != 3 || got.Recent[0].Source != "raw/a" {
		t.Errorf("recent: %+v", got.Recent)
	}
}
