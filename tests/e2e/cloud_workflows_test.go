package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/cloud"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/tests/oracle/goldexpect"
)

// checkCatalogWorkflow runs seed 003's catalog DAG as the deployment does,
// on the cloud of TestCloudBatchFileDrops: Movies.txt uploaded to the raw
// bucket goes out as an EventBridge "Object Created" event (the batch stack
// turns EventBridge delivery on), the template's CatalogObjectCreated rule
// starts the catalog state machine with its transformed input, whose task
// runs the catalog binary under the emulator; then the CatalogSchedule rule
// fires and starts it again with its constant input. Each run produces the
// 50 movies to the Kafka topic over MSK IAM auth; the stream function's
// mapping loads them into MOVIES. Expected values are sim.Movies(), the
// catalog the file was rendered from, as in tests/stepfunctions
// TestCatalogWorkflow (the in-process run of the same state machine).
func checkCatalogWorkflow(ctx context.Context, t *testing.T, c *cloud.Cloud) {
	t.Helper()
	raw := c.BucketName("PulseStorage/Raw")
	key := "raw/movies_catalog/Movies.txt"
	movies := sim.Movies()
	put(ctx, t, c, raw, key, sim.MoviesTxt())
	if err := c.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.FireRule("PulseCatalog/CatalogSchedule", time.Date(2024, 2, 4, 1, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := c.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	sm := c.StateMachine("PulseCatalog/CatalogWorkflow")
	if sm == nil {
		t.Fatal("the assembly has no PulseCatalog/CatalogWorkflow")
	}
	xs := sm.Executions()
	var sources []string
	for _, x := range xs {
		sources = append(sources, x.Source)
		status, out, errName, cause := x.Result()
		if status != "SUCCEEDED" {
			t.Errorf("catalog execution %s (%s): %s %s %s", x.Name, x.Source, status, errName, cause)
			continue
		}
		var res struct {
			Result handlers.CatalogOutput `json:"result"`
		}
		if err := json.Unmarshal(out, &res); err != nil || len(res.Result.Files) != 1 {
			t.Errorf("catalog execution %s: output %s: %v", x.Name, out, err)
			continue
		}
		f := res.Result.Files[0]
		want := catalog.Counts{Received: int64(len(movies)), Produced: int64(len(movies))}
		if f.Bucket != raw || f.Key != key || !f.Found || f.Counts != want {
			t.Errorf("catalog execution %s (%s): file %+v, want s3://%s/%s found with %+v", x.Name, x.Source, f, raw, key, want)
		}
	}
	// One execution per rule: the object rule's (S3 -> EventBridge), then
	// the schedule's. The batch trigger saw none of it (raw/movies_catalog/
	// is no batch dataset's prefix).
	objectRule, scheduleRule := ruleName(t, c, "PulseCatalog/CatalogObjectCreated"), ruleName(t, c, "PulseCatalog/CatalogSchedule")
	if want := []string{"events:" + objectRule, "events:" + scheduleRule}; !reflect.DeepEqual(sources, want) {
		t.Errorf("catalog executions started by %v, want %v", sources, want)
	}
	// Two runs of 50 events, keyed by item ID: the stream function loads
	// them into MOVIES, the later run's row per movie.
	if err := c.WaitCommitted(ctx, map[string]int64{catalog.Topic: 2 * int64(len(movies))}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range cloudQuery(t, c, "SELECT ITEM_ID, TITLE, GENRE, PRICE, PRICE_CENTS, CURRENCY FROM MOVIES") {
		got[r[0].(string)] = fmt.Sprint(r[1:]...)
	}
	if len(got) != len(movies) {
		t.Errorf("MOVIES has %d rows, want the catalog's %d", len(got), len(movies))
	}
	for _, m := range movies {
		want := fmt.Sprint(m.Title, m.Genre, m.Price, int64(m.Price*100+0.5), "USD")
		if got[m.ItemID] != want {
			t.Errorf("MOVIES %s = %q, want %q", m.ItemID, got[m.ItemID], want)
		}
	}
}

// checkGoldWorkflow runs seed 002's gold on the cloud of
// TestCloudBatchFileDrops, after its app_interactions file loaded: the
// template's GoldDaily rule fires the morning after the last day with
// interactions, and the gold state machine computes that day and every day
// whose gold is missing (all days with interactions); then a backfill over
// a wider range (the same state machine with {"from","to"}: the template
// has no backfill rule, an operator starts it) computes every day, the
// quiet ones too. The gold tables equal goldexpect, the oracle
// tests/oracle compares the in-process backfill with, worked out from the
// file itself.
func checkGoldWorkflow(ctx context.Context, t *testing.T, c *cloud.Cloud, dir string, truths []*batchgen.Truth) {
	t.Helper()
	var app goldexpect.Reader
	for _, tr := range truths {
		if tr.Dataset != "app_interactions" {
			continue
		}
		n, err := app.ReadCSV(filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		if n != (goldexpect.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}) {
			t.Fatalf("%s: the gold oracle reads %+v, the generator says %+v", tr.Name, n, tr)
		}
	}
	days := goldexpect.Days(app.Actions)
	var dates []string
	for d := range days {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	if len(dates) < 2 {
		t.Fatalf("the app interactions span %d days: too few to show a range", len(dates))
	}
	first, _ := time.Parse(time.DateOnly, dates[0])
	last, _ := time.Parse(time.DateOnly, dates[len(dates)-1])
	byDay := map[string]goldexpect.Row{}
	for _, r := range goldexpect.Rows(days, first, last) {
		byDay[r.Day] = r
	}

	sm := c.StateMachine("PulseGold/GoldWorkflow")
	if sm == nil {
		t.Fatal("the assembly has no PulseGold/GoldWorkflow")
	}
	at := last.AddDate(0, 0, 1).Add(2*time.Hour + 30*time.Minute) // cron(30 2 * * ? *) the day after
	if err := c.FireRule("PulseGold/GoldDaily", at); err != nil {
		t.Fatal(err)
	}
	if err := c.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	type goldOut struct {
		Dates struct {
			Result handlers.GoldDatesOutput `json:"result"`
		} `json:"dates"`
		Gold []handlers.GoldDayOutput `json:"gold"`
	}
	run := func(x *cloud.Execution) goldOut {
		t.Helper()
		status, out, errName, cause := x.Result()
		if status != "SUCCEEDED" {
			t.Fatalf("gold execution %s (%s): %s %s %s", x.Name, x.Source, status, errName, cause)
		}
		var g goldOut
		if err := json.Unmarshal(out, &g); err != nil {
			t.Fatalf("gold execution %s: output %s: %v", x.Name, out, err)
		}
		for _, d := range g.Gold {
			if d.DataTests == 0 || len(d.DataTestFailures) > 0 {
				t.Errorf("gold %s: %d data tests, failing %v", d.Date, d.DataTests, d.DataTestFailures)
			}
		}
		return g
	}
	xs := sm.Executions()
	if len(xs) != 1 || xs[0].Source != "events:"+ruleName(t, c, "PulseGold/GoldDaily") {
		t.Fatalf("the daily rule started %d gold executions, want 1 from the rule", len(xs))
	}
	daily := run(xs[0])
	if !reflect.DeepEqual(daily.Dates.Result.Dates, dates) {
		t.Errorf("the daily run computed %v, want the days with interactions %v (the day before %s, and every day without gold)",
			daily.Dates.Result.Dates, dates, at.Format(time.RFC3339))
	}
	// Each day's own figures (its WAU and MAU depend on which days were
	// computed before it in the Map, so they are checked in the tables
	// below).
	for _, d := range daily.Gold {
		w := byDay[d.Date]
		got := []any{d.Interactions, d.ExcludedDuration, d.ExcludedSameTimestamp, d.Actions, d.DAU, d.Sessions, deref(d.AvgSessionSeconds), deref(d.AvgActionsPerSession)}
		want := []any{w.Interactions, w.ExcludedDuration, w.ExcludedSameTimestamp, w.Actions, w.DAU, w.Sessions, w.AvgSessionSeconds, w.AvgActionsPerSession}
		if w.Day == "" || !goldexpect.Same(got, want) {
			t.Errorf("daily gold %s (interactions, excluded duration, excluded same timestamp, actions, DAU, sessions, avg seconds, avg actions) = %v, want %v", d.Date, got, want)
		}
	}
	check := func(what string, from, to time.Time) {
		t.Helper()
		rows := cloudQuery(t, c, goldexpect.Query)
		exp := goldexpect.Rows(days, from, to)
		if len(rows) != len(exp) {
			t.Errorf("%s: %d gold days, want %d", what, len(rows), len(exp))
			return
		}
		for i, r := range rows {
			if !goldexpect.Same(r, exp[i].Values()) {
				t.Errorf("%s: gold %s:\n got %v\nwant %v", what, exp[i].Day, r, exp[i].Values())
			}
		}
	}
	check("after the daily rule", first, last)

	// The backfill: two quiet days before and one after.
	from, to := first.AddDate(0, 0, -2), last.AddDate(0, 0, 1)
	x, err := c.StartExecution("PulseGold/GoldWorkflow", "backfill", fmt.Sprintf(`{"from":%q,"to":%q}`, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	backfill := run(x)
	if n := int(to.Sub(from).Hours()/24) + 1; len(backfill.Gold) != n {
		t.Errorf("the backfill computed %d days, want %d", len(backfill.Gold), n)
	}
	// The views end at the last day with interactions (dashboards/views:
	// the past year up to it): the quiet day after is computed, not shown.
	if rows := cloudQuery(t, c, "SELECT COUNT(*) FROM GOLD_DAILY WHERE DAY > ? AND INTERACTIONS = 0", last.Format(time.DateOnly)); fmt.Sprint(rows[0][0]) != "1" {
		t.Errorf("GOLD_DAILY has %v quiet days after the last day with interactions, want 1 (the backfill's last)", rows[0][0])
	}
	check("after the backfill", from, last)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// ruleName is the EventBridge name of the rule at a construct path.
func ruleName(t *testing.T, c *cloud.Cloud, path string) string {
	t.Helper()
	for _, r := range c.Rules() {
		if r.Resource.Path == path || len(r.Resource.Path) > len(path) && r.Resource.Path[:len(path)+1] == path+"/" {
			return r.Name
		}
	}
	t.Fatalf("no rule at %s", path)
	return ""
}
