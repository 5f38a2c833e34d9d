package oracle

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/tests/oracle/goldexpect"
)

// The fixed data set.
var rounds = []struct {
	seed  uint64
	start time.Time
}{
	{7, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	{8, time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC)},
	{9, time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC)},
}

const rowsPerFile = 300

var (
	goldFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	goldTo   = time.Date(2024, 2, 14, 0, 0, 0, 0, time.UTC)
)

// edgeCases are seed-002 rows that reach every gold rule (see
// goldexpect.Days): one action per timestamp, a 30-minute gap exactly,
// exactly 2 h, over 2 h, a zero duration, a session across midnight, a day
// with only an outlier, missing durations (one inside a session, one the
// user's only action of the day), an exact duplicate and a rejected row.
const edgeCases = `user_id,timestamp,action_type,page_id,duration_ms,app_version
EDGE1,2024-02-11 10:00:00.000,page_view,p1,1000,6.0.0
EDGE1,2024-02-11 10:00:00.000,edit,p1,500,6.0.0
EDGE1,2024-02-11 10:30:00.000,share,p1,100,6.0.0
EDGE1,2024-02-11 10:59:59.999,edit,p1,100,6.0.0
EDGE1,2024-02-11 11:20:00.000,create,p1,,6.0.0
EDGE4,2024-02-13 08:00:00.000,page_view,p5,,6.0.0
EDGE2,2024-02-11 23:50:00.000,create,p2,7200000,6.0.0
EDGE2,2024-02-12 00:10:00.000,edit,p2,7200001,6.0.0
EDGE2,2024-02-12 00:20:00.000,delete,p2,0,6.0.0
EDGE3,2024-02-14 09:00:00.000,page_view,p3,7300000,6.0.0
EDGE1,2024-02-11 10:00:00.000,page_view,p1,1000,6.0.0
,2024-02-11 11:00:00.000,edit,p4,10,6.0.0
`

func TestOracle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var drops []drop
	for i, r := range rounds {
		rd := filepath.Join(dir, fmt.Sprintf("round-%d", i+1))
		if err := os.MkdirAll(rd, 0o755); err != nil {
			t.Fatal(err)
		}
		truths, err := batchgen.Generate(rd, batchgen.Options{Seed: r.seed, Rows: rowsPerFile, Start: r.start})
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range truths {
			drops = append(drops, drop{dataset: tr.Dataset, name: fmt.Sprintf("r%d-%s", i+1, tr.Name), path: filepath.Join(rd, tr.Name)})
		}
	}
	edge := filepath.Join(dir, "edge-app_interactions.csv")
	if err := os.WriteFile(edge, []byte(edgeCases), 0o644); err != nil {
		t.Fatal(err)
	}
	drops = append(drops, drop{dataset: "app_interactions", name: "edge-app_interactions.csv", path: edge})

	// The real batch path.
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := views.Setup(ctx, st.Warehouse); err != nil {
		t.Fatal(err)
	}
	for _, d := range drops {
		f, err := os.Open(d.path)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		run, err := st.Drop(ctx, d.dataset, d.name, f, info.Size())
		f.Close()
		if err != nil || run.Err != nil {
			t.Fatalf("%s: %v %v", d.name, err, run.Err)
		}
	}
	if _, err := gold.Backfill(ctx, st.Warehouse, goldFrom, goldTo, gold.BackfillOptions{Parallel: 4, Migrate: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := datatest.Run(ctx, st.Warehouse, datatest.Group("gold"), time.Now()); err != nil {
		t.Fatal(err)
	}

	want := compute(t, drops)
	if len(want.facts) < 1500 || len(want.app) < 800 || want.relFailed == 0 {
		t.Fatalf("the data set is too thin to prove much: %d facts, %d app actions, %d orphans", len(want.facts), len(want.app), want.relFailed)
	}
	q := func(sql string) [][]any {
		t.Helper()
		_, rows, err := st.Warehouse.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return rows
	}
	t.Run("PIPELINE_HEALTH", func(t *testing.T) {
		rows := q("SELECT DATASET, FILES, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE FROM PIPELINE_HEALTH")
		if len(rows) != len(want.files) {
			t.Errorf("%d datasets, want %d", len(rows), len(want.files))
		}
		for _, r := range rows {
			c := want.files[r[0].(string)]
			got := fmt.Sprint(r[1:])
			exp := fmt.Sprint([]any{want.filesN[r[0].(string)], c.received, c.loaded, c.rejected, c.duplicate, int64(0)})
			if got != exp {
				t.Errorf("%s: files, received, loaded, rejected, duplicate, late = %s, want %s", r[0], got, exp)
			}
		}
	})
	t.Run("engagement", func(t *testing.T) {
		checkGroups(t, q("SELECT PLATFORM || '/' || SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT FROM ENGAGEMENT_BY_PLATFORM"),
			group(want.facts, func(f fact) string { return f.platform + "/" + f.source }, nil), "ENGAGEMENT_BY_PLATFORM")
		checkGroups(t, q("SELECT AGE_GROUP || '/' || SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT FROM ENGAGEMENT_BY_AGE_GROUP"),
			group(want.facts, func(f fact) string { return want.ageGroup[f.user] + "/" + f.source }, nil), "ENGAGEMENT_BY_AGE_GROUP")
		checkGroups(t, q("SELECT CAST(HOUR AS VARCHAR) || '/' || SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT FROM ENGAGEMENT_BY_HOUR"),
			group(want.facts, func(f fact) string { return fmt.Sprintf("%d/%s", f.hour, f.source) }, nil), "ENGAGEMENT_BY_HOUR")
		community := group(want.facts, func(f fact) string {
			if f.source == "community" {
				return f.community
			}
			return ""
		}, func(f fact) (float64, float64) { return f.timeSpent, 0 })
		rows := q("SELECT COMMUNITY_NAME, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT, TOTAL_TIME_SPENT FROM COMMUNITY_TRENDS")
		checkGroups(t, rows, community, "COMMUNITY_TRENDS")
		checkSecond(t, rows, community, 4, func(a *agg) float64 { return a.sum2 }, "COMMUNITY_TRENDS.TOTAL_TIME_SPENT")
		device := group(want.facts, func(f fact) string {
			if f.source == "live_streaming" {
				return f.device
			}
			return ""
		}, func(f fact) (float64, float64) { return f.viewers, 0 })
		rows = q("SELECT DEVICE_TYPE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT, VIEWERS FROM LIVE_ENGAGEMENT_BY_DEVICE")
		checkGroups(t, rows, device, "LIVE_ENGAGEMENT_BY_DEVICE")
		checkSecond(t, rows, device, 4, func(a *agg) float64 { return a.sum2 }, "LIVE_ENGAGEMENT_BY_DEVICE.VIEWERS")
		reason := group(want.facts, func(f fact) string {
			if f.source == "video" {
				return f.reason
			}
			return ""
		}, func(f fact) (float64, float64) { return f.loss, f.addiction })
		rows = q("SELECT WATCH_REASON, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT, AVG_PRODUCTIVITY_LOSS, AVG_ADDICTION_LEVEL FROM VIDEO_ENGAGEMENT_BY_WATCH_REASON")
		checkGroups(t, rows, reason, "VIDEO_ENGAGEMENT_BY_WATCH_REASON")
		checkSecond(t, rows, reason, 4, func(a *agg) float64 { return a.sum2 / float64(a.n) }, "AVG_PRODUCTIVITY_LOSS")
		checkSecond(t, rows, reason, 5, func(a *agg) float64 { return a.sum3 / float64(a.n) }, "AVG_ADDICTION_LEVEL")
	})
	checkGold := func(t *testing.T) {
		days := goldexpect.Days(want.app)
		rows := q(goldexpect.Query)
		exp := goldexpect.Rows(days, goldFrom, goldTo)
		if len(rows) != len(exp) {
			t.Fatalf("GOLD_DAU_MAU has %d days, want %d", len(rows), len(exp))
		}
		active, quiet := 0, 0
		for i, r := range rows {
			if exp[i].Sessions > 0 {
				active++
			} else {
				quiet++
			}
			if !goldexpect.Same(r, exp[i].Values()) {
				t.Errorf("gold %s:\n got %v\nwant %v", exp[i].Day, r, exp[i].Values())
			}
		}
		if active < 9 || quiet < 20 {
			t.Errorf("%d active and %d quiet days: the data set does not reach the rules", active, quiet)
		}
		edge := days["2024-02-11"]
		if edge.ExcludedSameTS == 0 || days["2024-02-14"].ExcludedDuration != 1 || len(days["2024-02-14"].Users) != 0 ||
			days["2024-02-13"].Users["EDGE4"] || edge.ExcludedDuration == 0 {
			t.Error("the edge cases did not land where intended")
		}
	}
	t.Run("gold", checkGold)
	// A full recompute of the range gives the same numbers as the parallel backfill.
	if err := gold.Compute(ctx, st.Warehouse, goldFrom, goldTo, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Run("gold after a full recompute", checkGold)
	t.Run("DATA_TEST_RESULTS", func(t *testing.T) {
		rows := q("SELECT TABLE_NAME, TEST, STATUS, FAILURES FROM DATA_TEST_RESULTS")
		if len(rows) < 30 {
			t.Errorf("only %d data tests recorded", len(rows))
		}
		failing := 0
		for _, r := range rows {
			exp, status := int64(0), "pass"
			if r[0] == "FACT_APP_INTERACTIONS" && r[1] == "relationships(USER_ID -> DIM_APP_USER.USER_ID)" {
				exp, status = want.relFailed, "fail"
				failing++
			}
			if r[2] != status || r[3] != exp {
				t.Errorf("data test %s %s: %s with %d failures, want %s with %d", r[0], r[1], r[2], r[3], status, exp)
			}
		}
		if failing != 1 {
			t.Errorf("the orphan app interactions test is missing")
		}
	})
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// checkGroups compares rows (key, count, sum, avg) with the groups.
func checkGroups(t *testing.T, rows [][]any, want map[string]*agg, view string) {
	t.Helper()
	if len(rows) != len(want) {
		var keys []string
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Errorf("%s has %d rows, want %d (%s)", view, len(rows), len(want), strings.Join(keys, ", "))
	}
	for _, r := range rows {
		a := want[r[0].(string)]
		if a == nil {
			t.Errorf("%s: unexpected group %v", view, r)
			continue
		}
		if r[1] != a.n || !near(r[2].(float64), a.sum) || !near(r[3].(float64), a.sum/float64(a.n)) {
			t.Errorf("%s %v: want count %d, total %g, average %g", view, r, a.n, a.sum, a.sum/float64(a.n))
		}
	}
}

// checkSecond compares one more column of each row.
func checkSecond(t *testing.T, rows [][]any, want map[string]*agg, col int, val func(*agg) float64, what string) {
	t.Helper()
	for _, r := range rows {
		if a := want[r[0].(string)]; a != nil && !near(r[col].(float64), val(a)) {
			t.Errorf("%s of %v = %v, want %g", what, r[0], r[col], val(a))
		}
	}
}
