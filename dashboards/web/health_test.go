package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestHealthMatchesGenerator: the health page's accounting for the
// fixture equals what the batch generator wrote plus what the simulator
// sent and the stream handler accounted, per dataset and per stream
// topic; the late events and data tests equal their tables.
func TestHealthMatchesGenerator(t *testing.T) {
	var h Health
	if code := get(t, "/api/health", &h); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	want := map[string]Tally{}
	for _, tr := range append(append(fx.day1[:0:0], fx.day1...), fx.day2...) {
		c := want[tr.Dataset]
		c.Files++
		c.Received += int64(tr.Rows)
		c.Rejected += int64(tr.Rejected)
		want[tr.Dataset] = c
	}
	batches := map[string]int64{}
	for _, r := range queryRows(t, "SELECT DATASET, COUNT(*) FROM PULSE_MANIFESTS WHERE SOURCE LIKE 'kafka://%' GROUP BY DATASET") {
		batches[r[0].(string)] = r[1].(int64)
	}
	for topic, sc := range fx.stream.counts {
		c := want[topic]
		c.Files += batches[topic]
		c.Received += int64(fx.stream.produced[topic])
		c.Rejected += sc.Rejected
		c.Late += sc.Late
		want[topic] = c
	}
	if len(h.Datasets) != len(want) || len(h.Missing) != 0 {
		t.Fatalf("%d datasets (missing %v), the generators wrote %d", len(h.Datasets), h.Missing, len(want))
	}
	var total Tally
	for _, d := range h.Datasets {
		w := want[d.Dataset]
		if d.Files != w.Files || d.Received != w.Received || d.Rejected != w.Rejected || d.Late != w.Late || !d.Balanced {
			t.Errorf("%s: %+v balanced %v; want files %d received %d rejected %d late %d",
				d.Dataset, d.Tally, d.Balanced, w.Files, w.Received, w.Rejected, w.Late)
		}
		if d.LastLoadedAt == nil || !d.Fresh || *d.AgeSeconds < 60 || *d.AgeSeconds > 600 {
			t.Errorf("%s: newest load %v, age %v s, fresh %v", d.Dataset, d.LastLoadedAt, d.AgeSeconds, d.Fresh)
		}
		total.add(d.Tally)
	}
	if h.Totals != total || !h.Balanced {
		t.Errorf("totals %+v, want %+v", h.Totals, total)
	}
	// Every loaded record of an interactions dataset, from a file or the
	// stream, is one fact row.
	facts := scalar(t, "SELECT (SELECT COUNT(*) FROM FACT_COMMUNITY_INTERACTIONS) + (SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS)"+
		" + (SELECT COUNT(*) FROM FACT_VIDEO_INTERACTIONS) + (SELECT COUNT(*) FROM FACT_APP_INTERACTIONS)")
	var loaded int64
	for _, d := range h.Datasets {
		switch d.Dataset {
		case "community_interactions", "live_streaming", "video_interactions", "app_interactions":
			loaded += d.Loaded
		}
	}
	if float64(loaded) != facts {
		t.Errorf("loaded %d, the fact tables hold %v", loaded, facts)
	}

	// Stream topics: the handler's own accounting, the simulator's messages.
	if len(h.Streams) != len(fx.stream.counts) {
		t.Errorf("%d stream topics, the stream side handled %d", len(h.Streams), len(fx.stream.counts))
	}
	var streamTotal Tally
	for _, s := range h.Streams {
		c := fx.stream.counts[s.Topic]
		got := s.Counts
		if w := c; got != w ||
			s.Received != int64(fx.stream.produced[s.Topic]) || s.Files != batches[s.Topic] || !s.Balanced || !s.Fresh {
			t.Errorf("topic %s: %+v in %d batches; the handler says %+v in %d, the simulator sent %d",
				s.Topic, got, s.Files, w, batches[s.Topic], fx.stream.produced[s.Topic])
		}
		streamTotal.add(s.Tally)
	}
	if h.StreamTotals != streamTotal || streamTotal.Late == 0 || streamTotal.Duplicate == 0 || streamTotal.Rejected == 0 {
		t.Errorf("stream totals %+v, want %+v with late, duplicate and rejected records", h.StreamTotals, streamTotal)
	}

	// Late events, summed here from the raw rows.
	type lateKey struct{ dataset, window string }
	type lateSum struct {
		origins     map[string]bool
		rows        int64
		first, last time.Time
		behind      float64
	}
	sums := map[lateKey]*lateSum{}
	for _, r := range queryRows(t, "SELECT DATASET, WINDOW_TYPE, ORIGIN, EVENT_TIME, WATERMARK FROM PULSE_LATE_EVENTS") {
		k := lateKey{r[0].(string), r[1].(string)}
		s := sums[k]
		if s == nil {
			s = &lateSum{origins: map[string]bool{}}
			sums[k] = s
		}
		et := r[3].(time.Time)
		s.origins[r[2].(string)] = true
		s.rows++
		if s.first.IsZero() || et.Before(s.first) {
			s.first = et
		}
		if et.After(s.last) {
			s.last = et
		}
		s.behind = max(s.behind, r[4].(time.Time).Sub(et).Seconds())
	}
	if len(h.Late) != len(sums) || len(sums) == 0 {
		t.Errorf("%d late rows, PULSE_LATE_EVENTS has %d dataset/window pairs", len(h.Late), len(sums))
	}
	for _, l := range h.Late {
		s := sums[lateKey{l.Dataset, l.WindowType}]
		if s == nil || l.Events != int64(len(s.origins)) || l.Windows != s.rows || !l.FirstEventAt.Equal(s.first) ||
			!l.LastEventAt.Equal(s.last) || *l.MaxBehindSeconds != s.behind {
			t.Errorf("late %s %s: %+v; the rows say %+v", l.Dataset, l.WindowType, l, s)
		}
		// A social_sales event is in one window only: late there is late for good.
		if l.Dataset == "social_sales" && l.Events != fx.stream.counts["social_sales"].Late {
			t.Errorf("social_sales: %d late events, the handler counted %d late records", l.Events, fx.stream.counts["social_sales"].Late)
		}
	}

	// Data tests: the DATA_TEST_RESULTS view's rows, the suite's among them.
	rows := queryRows(t, "SELECT TABLE_NAME, TEST, STATUS, FAILURES, RUNS, FAILED_RUNS, FILE_ID FROM DATA_TEST_RESULTS")
	results := map[string]string{}
	for _, r := range rows {
		results[r[0].(string)+" "+r[1].(string)] = fmt.Sprintf("%v %v %v %v %v", r[2:]...)
	}
	if len(h.Tests) != len(rows) || h.TestsPassing+h.TestsFailing != len(rows) {
		t.Errorf("%d tests (%d passing, %d failing), DATA_TEST_RESULTS has %d", len(h.Tests), h.TestsPassing, h.TestsFailing, len(rows))
	}
	for _, x := range h.Tests {
		if got := fmt.Sprintf("%v %v %v %v %v", x.LatestStatus, x.LatestFailures, x.Runs, x.FailedRuns, x.FileID); got != results[x.Table+" "+x.Test] {
			t.Errorf("%s %s: %s; the view says %s", x.Table, x.Test, got, results[x.Table+" "+x.Test])
		}
	}
	for _, st := range datatest.Suite() {
		if r := results[st.Table+" "+st.Name()]; !strings.HasSuffix(r, " "+datatest.SuiteFileID) {
			t.Errorf("suite test %s %s: %q", st.Table, st.Name(), r)
		}
	}
	if len(h.Rejects) == 0 || len(h.Recent) != 15 {
		t.Errorf("%d reject groups, %d recent loads (want 15)", len(h.Rejects), len(h.Recent))
	}
}

func queryRows(t *testing.T, sql string, args ...any) [][]any {
	t.Helper()
	_, rows, err := fx.st.Warehouse.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rows
}

// TestHealthFreshnessAndFailures: freshness against a fixed clock; a
// stream manifest counts for its topic; late events are summed per dataset
// and window; a test that failed in its latest run shows as failing while
// one that failed before and passes now shows its failed run. Without the
// DATA_TEST_RESULTS view the page still answers and says it is missing.
func TestHealthFreshnessAndFailures(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Apply(ctx, wh, views.Batch); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 2, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) table.Cell { return table.Int64(now.Add(-d).UnixMicro()) }
	s, i := table.Str, table.Int64
	// received = loaded + rejected + duplicate; LATE is of the loaded (b1:
	// 4 loaded, 1 of them late).
	manifests := []table.Row{
		{s("f1"), s("live_streaming"), s("raw/a"), i(10), i(8), i(1), i(1), i(0), s("tested"), at(6 * time.Minute), at(5 * time.Minute)},
		{s("f2"), s("live_streaming"), s("raw/b"), i(5), i(5), i(0), i(0), i(0), s("tested"), at(3 * time.Hour), at(3 * time.Hour)},
		{s("b1"), s("social_sales"), s("kafka://social_sales/0@100-103"), i(4), i(4), i(0), i(0), i(1), s("loaded"), at(3 * time.Hour), at(2 * time.Hour)},
		{s("b2"), s("social_sales"), s("kafka://social_sales/0@104-105"), i(2), i(1), i(0), i(1), i(0), s("loaded"), at(2 * time.Hour), at(2 * time.Hour)},
		{s("b3"), s("live_streaming"), s("kafka://live_streaming/0@0-1"), i(2), i(2), i(0), i(0), i(0), s("loaded"), at(time.Hour), at(time.Hour)},
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
	ts := func(hm string) table.Cell {
		x, _ := time.Parse(time.DateTime, "2024-02-04 "+hm+":00")
		return table.Int64(x.UnixMicro())
	}
	late := []table.Row{ // one event late for two hopping windows, another for one; one social event
		{s("l1"), s("pageviews"), s("hopping"), ts("10:00"), ts("10:01"), ts("10:00"), ts("10:06"), s("pageviews/0/7"), s("{}"), at(time.Hour)},
		{s("l2"), s("pageviews"), s("hopping"), ts("09:59"), ts("10:00"), ts("10:00"), ts("10:06"), s("pageviews/0/7"), s("{}"), at(time.Hour)},
		{s("l3"), s("pageviews"), s("hopping"), ts("10:02"), ts("10:03"), ts("10:02"), ts("10:10"), s("pageviews/0/9"), s("{}"), at(30 * time.Minute)},
		{s("l4"), s("social_sales"), s("tumbling"), ts("09:50"), ts("09:55"), ts("09:51"), ts("10:00"), s("social_sales/0/101"), s("{}"), at(2 * time.Hour)},
	}
	if _, err := wh.Merge(ctx, *star.LateEvents, late); err != nil {
		t.Fatal(err)
	}
	serve := func() *Health {
		h, err := New(wh, Options{Now: func() time.Time { return now }, FreshWithin: 30 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		var got Health
		if code := getFrom(t, srv, "/api/health", &got); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		return &got
	}

	got := serve()
	if len(got.Tests) != 0 || fmt.Sprint(got.Missing) != "[DATA_TEST_RESULTS]" {
		t.Errorf("without the view: tests %+v, missing %v", got.Tests, got.Missing)
	}
	if err := views.Apply(ctx, wh, views.Health); err != nil {
		t.Fatal(err)
	}
	got = serve()
	if len(got.Datasets) != 2 || len(got.Missing) != 0 {
		t.Fatalf("datasets: %+v, missing %v", got.Datasets, got.Missing)
	}
	live, social := got.Datasets[0], got.Datasets[1]
	if live.Dataset != "live_streaming" || live.Files != 3 || live.Received != 17 || live.Loaded != 15 || live.Late != 0 || !live.Balanced ||
		*live.AgeSeconds != 300 || !live.Fresh {
		t.Errorf("live_streaming: %+v age %v", live, *live.AgeSeconds)
	}
	if social.Dataset != "social_sales" || social.Files != 2 || social.Loaded != 5 || social.Late != 1 || !social.Balanced ||
		*social.AgeSeconds != 7200 || social.Fresh {
		t.Errorf("social_sales: %+v age %v", social, *social.AgeSeconds)
	}
	if got.Totals != (Tally{Files: 5, Counts: port.Counts{Received: 23, Loaded: 20, Rejected: 1, Duplicate: 2, Late: 1}}) || !got.Balanced {
		t.Errorf("totals %+v", got.Totals)
	}
	// Stream topics: the kafka:// manifests only.
	if len(got.Streams) != 2 || got.Streams[0].Topic != "live_streaming" || got.Streams[0].Tally != (Tally{Files: 1, Counts: port.Counts{Received: 2, Loaded: 2}}) ||
		got.Streams[1].Topic != "social_sales" || got.Streams[1].Tally != (Tally{Files: 2, Counts: port.Counts{Received: 6, Loaded: 5, Duplicate: 1, Late: 1}}) ||
		!got.Streams[1].Balanced || *got.Streams[1].AgeSeconds != 7200 || got.Streams[1].Fresh || *got.Streams[0].AgeSeconds != 3600 {
		t.Errorf("streams: %+v", got.Streams)
	}
	if got.StreamTotals != (Tally{Files: 3, Counts: port.Counts{Received: 8, Loaded: 7, Duplicate: 1, Late: 1}}) {
		t.Errorf("stream totals %+v", got.StreamTotals)
	}
	// Late events per dataset and window.
	if len(got.Late) != 2 {
		t.Fatalf("late: %+v", got.Late)
	}
	pv, soc := got.Late[0], got.Late[1]
	if pv.Dataset != "pageviews" || pv.WindowType != "hopping" || pv.Events != 2 || pv.Windows != 3 || *pv.MaxBehindSeconds != 480 ||
		pv.FirstEventAt.Format("15:04") != "10:00" || pv.LastEventAt.Format("15:04") != "10:02" || pv.LastRecordedAt.Format("15:04") != "11:30" {
		t.Errorf("pageviews late: %+v", pv)
	}
	if soc.Dataset != "social_sales" || soc.Events != 1 || soc.Windows != 1 || *soc.MaxBehindSeconds != 540 {
		t.Errorf("social_sales late: %+v", soc)
	}
	// Data tests, through DATA_TEST_RESULTS: the latest result of each.
	if got.TestsFailing != 1 || got.TestsPassing != 1 || len(got.Tests) != 2 {
		t.Fatalf("tests: %+v", got.Tests)
	}
	fail, pass := got.Tests[0], got.Tests[1] // failing first
	if fail.Test != "not_null(ID)" || fail.LatestStatus != "fail" || fail.LatestFailures != 3 || fail.FailedRuns != 1 || fail.Runs != 2 || fail.FileID != "f1" {
		t.Errorf("failing test: %+v", fail)
	}
	if pass.Test != "unique(ID)" || pass.LatestStatus != "pass" || pass.LatestFailures != 0 || pass.FailedRuns != 1 || pass.Runs != 2 {
		t.Errorf("recovered test: %+v", pass)
	}
	if len(got.Recent) != 5 || got.Recent[0].Source != "raw/a" {
		t.Errorf("recent: %+v", got.Recent)
	}
}

// TestTallyJSON: a tally is flat in the page's JSON, the manifests'
// number beside port.Counts' fields, as the page's script reads them.
func TestTallyJSON(t *testing.T) {
	d := TopicHealth{Topic: "social_sales", Tally: Tally{Files: 2, Counts: port.Counts{Received: 6, Loaded: 4, Rejected: 1, Duplicate: 1, Late: 1}}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"topic":"social_sales","files":2,"received":6,"loaded":4,"rejected":1,"duplicate":1,"late":1,` +
		`"balanced":false,"lastBatchAt":null,"ageSeconds":null,"fresh":false}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
}

// TestFailingTestsExplained: a failing data test says what its rows are,
// read from the warehouse (how many, the distinct values, examples), and,
// for the failures the demo's generators make on purpose, why; a failure
// without a known cause has none. The cause of the app-user failure is
// checked against the generator's own files.
func TestFailingTestsExplained(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Apply(ctx, wh, append(append([]views.View{}, views.Batch...), views.Health...)); err != nil {
		t.Fatal(err)
	}
	s, i := table.Str, table.Int64
	null := table.Null()
	merge := func(sc *table.Schema, rows ...table.Row) {
		t.Helper()
		if _, err := wh.Merge(ctx, *sc, rows); err != nil {
			t.Fatal(err)
		}
	}
	appUser := func(id string) table.Row { return table.Row{s("s" + id), s(id), null, null, null, null, null} }
	interaction := func(id, user string) table.Row {
		return table.Row{s(id), null, s(user), null, null, s("edit"), null, null, null, null, null}
	}
	merge(star.DimAppUser, appUser("U0001"), appUser("U0002"))
	merge(star.FactAppInteractions, interaction("a1", "U0001"), interaction("a2", "U0097"), interaction("a3", "U0097"),
		interaction("a4", "U0194"), interaction("a5", "U0291"), interaction("a6", "U0388"), interaction("a7", "U0002"))
	merge(star.ConsumerUsers, table.Row{i(1), null, null, null, null})
	merge(star.ConsumerEvents, table.Row{s("e1"), s("sign_in"), i(1), null, null, null}, table.Row{s("e2"), s("sign_in"), i(7), null, null, null})
	merge(star.CleanedUsers, table.Row{s("w1"), null, s("Male"), s("Chile"), null, null})
	var tests []datatest.Test
	for _, want := range []struct{ table, name string }{
		{"FACT_APP_INTERACTIONS", "relationships(USER_ID -> DIM_APP_USER.USER_ID)"},
		{"CONSUMER_EVENTS", "relationships(USER_ID -> CONSUMER_USERS.USER_ID)"},
		{"CLEANED_USERS", "not_null(AGE, GENDER, COUNTRY)"},
		{"CONSUMER_EVENTS", "unique(EVENT_ID)"},
	} {
		tt, ok := suiteTest(want.table, want.name)
		if !ok {
			t.Fatalf("the suite has no %s on %s", want.name, want.table)
		}
		tests = append(tests, tt)
	}
	if _, err := datatest.Run(ctx, wh, tests, time.Date(2024, 2, 4, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	h, err := readHealth(ctx, wh, time.Date(2024, 2, 4, 12, 5, 0, 0, time.UTC), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if h.TestsFailing != 3 || h.TestsPassing != 1 || h.TestsIntended != 2 {
		t.Fatalf("%d failing (%d intended), %d passing: %+v", h.TestsFailing, h.TestsIntended, h.TestsPassing, h.Tests)
	}
	want := map[string]struct {
		found    string
		intended bool
		cause    string // a phrase of the cause
	}{
		"FACT_APP_INTERACTIONS relationships(USER_ID -> DIM_APP_USER.USER_ID)": {
			"5 failing rows in FACT_APP_INTERACTIONS, with 4 USER_ID values not in DIM_APP_USER.USER_ID: U0097, U0194, U0291 and 1 more.",
			true, "every 97th row of app_users.csv"},
		"CONSUMER_EVENTS relationships(USER_ID -> CONSUMER_USERS.USER_ID)": {
			"1 failing row in CONSUMER_EVENTS, with 1 USER_ID value not in CONSUMER_USERS.USER_ID: 7.", true, "6 to 20 minutes"},
		"CLEANED_USERS not_null(AGE, GENDER, COUNTRY)": {"1 failing row in CLEANED_USERS: no AGE or no GENDER or no COUNTRY.", false, ""},
	}
	for _, x := range h.Tests {
		w, failing := want[x.Table+" "+x.Test]
		if !failing {
			if x.Explanation != nil {
				t.Errorf("%s %s passes and has an explanation %+v", x.Table, x.Test, x.Explanation)
			}
			continue
		}
		e := x.Explanation
		if e == nil || e.Found != w.found || e.Intended != w.intended || !strings.Contains(e.Cause, w.cause) || (w.cause == "") != (e.Cause == "") {
			t.Errorf("%s %s: %+v, want found %q, intended %v, a cause with %q", x.Table, x.Test, e, w.found, w.intended, w.cause)
		}
	}

	// The cause, in the generator's files (the demo's size): every 97th
	// user of app_users.csv has a blank user_id, so those users are missing
	// from it, and app_interactions.csv names them.
	dir := t.TempDir()
	if _, err := batchgen.Generate(dir, batchgen.Options{Seed: 42, Rows: 5000, Start: day1}); err != nil {
		t.Fatal(err)
	}
	users, interactions := readCSV(t, filepath.Join(dir, "app_users.csv")), readCSV(t, filepath.Join(dir, "app_interactions.csv"))
	blank, known := 0, map[string]bool{}
	for _, r := range users[1:] {
		if r[0] == "" {
			blank++
		}
		known[r[0]] = true
	}
	var missing []string
	for u := 0; u < 5000/10+50; u++ { // batchgen's default number of users
		if id := fmt.Sprintf("U%04d", u); !known[id] {
			missing = append(missing, id)
		}
	}
	orphans := map[string]bool{}
	for _, r := range interactions[1:] {
		if r[0] != "" && !known[r[0]] {
			orphans[r[0]] = true
		}
	}
	if blank != 5 || fmt.Sprint(missing) != "[U0097 U0194 U0291 U0388 U0485]" || len(orphans) == 0 {
		t.Errorf("app_users.csv: %d blank user ids, missing users %v; the interactions name %v", blank, missing, orphans)
	}
	for u := range orphans {
		if !strings.Contains(fmt.Sprint(missing), u) {
			t.Errorf("the interactions name %s, which app_users.csv does not blank", u)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
