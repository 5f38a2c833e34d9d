package gold_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

var at = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)

func open(t testing.TB) *duckdb.Warehouse {
	t.Helper()
	ctx := context.Background()
	wh := duckdbtest.New(t, *star.FactAppInteractions)
	if err := gold.Migrate(ctx, wh); err != nil {
		t.Fatal(err)
	}
	return wh
}

// interaction is one FACT_APP_INTERACTIONS row.
type interaction struct {
	user     string
	at       time.Time
	action   string
	duration int64 // ms; missing: NULL
}

// missing is a NULL DURATION_MS (a blank duration in the source file).
const missing = math.MinInt64

func ts(d, h, m, s int) time.Time { return time.Date(2024, 3, d, h, m, s, 0, time.UTC) }

func load(t testing.TB, wh *duckdb.Warehouse, xs ...interaction) {
	t.Helper()
	var rows []table.Row
	for _, x := range xs {
		id := fmt.Sprintf("%s|%d|%s", x.user, x.at.UnixMicro(), x.action)
		rows = append(rows, table.Row{
			table.Str(hexMD5(id)), table.Str(hexMD5(x.user)), table.Str(x.user), table.Int64(x.at.UnixMicro()),
			table.Int64(x.at.Unix() / 86400), table.Str(x.action), table.Str("page_1"), durationCell(x.duration),
			table.Str("6.0.0"), table.Int64(at.UnixMicro()), table.Str("test"),
		})
	}
	if _, err := wh.Merge(context.Background(), *star.FactAppInteractions, rows); err != nil {
		t.Fatal(err)
	}
}

func durationCell(ms int64) table.Cell {
	if ms == missing {
		return table.Cell{Null: true}
	}
	return table.Int64(ms)
}

// TestMissingDurationDoesNotCount: seed 002 counts an interaction only
// with a valid duration, so a NULL duration is excluded like an outlier:
// it makes no user active, adds no action and bridges no session gap.
func TestMissingDurationDoesNotCount(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	load(t, wh,
		interaction{"M", ts(1, 8, 0, 0), "page_view", missing}, // M's only interaction: M is not active
		interaction{"A", ts(1, 9, 0, 0), "edit", 60_000},
		interaction{"A", ts(1, 9, 20, 0), "share", missing}, // would join 09:00 and 09:40 into one session
		interaction{"A", ts(1, 9, 40, 0), "edit", 1_000},
		interaction{"B", ts(1, 10, 0, 0), "edit", missing}, // same timestamp as a counting action
		interaction{"B", ts(1, 10, 0, 0), "page_view", 1_000},
	)
	if err := gold.Compute(ctx, wh, ts(1, 0, 0, 0), ts(1, 0, 0, 0), at); err != nil {
		t.Fatal(err)
	}
	// 6 interactions, 3 without a duration; A has two one-action sessions
	// (09:00 and 09:40, 40 minutes apart), B one: 3 actions, DAU 2.
	want := dailyRow{"2024-03-01", 6, 3, 0, 3, 2, 3, 0, 0.0, 0.0, 1.0}
	if got := daily(t, wh); len(got) != 1 || !closeRow(got[0], want) {
		t.Errorf("GOLD_DAILY = %+v, want %+v", got, want)
	}
	r, err := gold.Read(ctx, wh, ts(1, 0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r.DAU != 2 || r.MAU != 2 || r.Actions != 3 || r.Sessions != 3 || r.ExcludedDuration != 3 {
		t.Errorf("gold.Read = %+v, want DAU 2, MAU 2, 3 actions, 3 sessions, 3 excluded", r)
	}
}

func hexMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// rulesData exercises every rule (see the package comment); the expected
// figures below are worked out by hand from it.
var rulesData = []interaction{
	// A: a 20-minute session, a gap of exactly 30 minutes (new session),
	// a late action, then one after midnight (a new day, a new session).
	{"A", ts(1, 9, 0, 0), "page_view", 60_000},
	{"A", ts(1, 9, 20, 0), "edit", 120_000},
	{"A", ts(1, 9, 50, 0), "edit", 1_000},
	{"A", ts(1, 23, 50, 0), "share", 2_000},
	{"A", ts(2, 0, 5, 0), "create", 3_000},
	// B: two actions at the same timestamp are one action.
	{"B", ts(1, 10, 0, 0), "page_view", 1_000},
	{"B", ts(1, 10, 0, 0), "edit", 5_000},
	{"B", ts(1, 10, 10, 0), "share", 4_000},
	// C: only an interaction longer than 2 h: not active.
	{"C", ts(1, 11, 0, 0), "page_view", gold.MaxDurationMS + 1},
	// D: exactly 2 h counts; 29:59 later is the same session.
	{"D", ts(1, 12, 0, 0), "edit", gold.MaxDurationMS},
	{"D", ts(1, 12, 29, 59), "edit", 500},
	// E: a zero-length interaction counts.
	{"E", ts(1, 13, 0, 0), "delete", 0},
}

type dailyRow struct {
	Day                                                            string
	Interactions, ExclDuration, ExclSameTS, Actions, DAU, Sessions int64
	Total                                                          float64
	Avg, Max, AvgActions                                           any
}

func daily(t *testing.T, wh *duckdb.Warehouse) []dailyRow {
	t.Helper()
	_, rows, err := wh.Query(context.Background(), `SELECT strftime(DAY, '%Y-%m-%d'), INTERACTIONS, EXCLUDED_DURATION,
		EXCLUDED_SAME_TIMESTAMP, ACTIONS, DAU, SESSIONS, TOTAL_SESSION_SECONDS, AVG_SESSION_SECONDS, MAX_SESSION_SECONDS,
		AVG_ACTIONS_PER_SESSION FROM GOLD_DAILY ORDER BY DAY`)
	if err != nil {
		t.Fatal(err)
	}
	var out []dailyRow
	for _, r := range rows {
		out = append(out, dailyRow{r[0].(string), r[1].(int64), r[2].(int64), r[3].(int64), r[4].(int64), r[5].(int64),
			r[6].(int64), r[7].(float64), r[8], r[9], r[10]})
	}
	return out
}

func TestComputeRules(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	load(t, wh, rulesData...)
	if err := gold.Compute(ctx, wh, ts(1, 0, 0, 0), ts(3, 0, 0, 0), at); err != nil {
		t.Fatal(err)
	}
	// Day 1: 11 interactions; C's is too long; B has one same-timestamp
	// extra; 9 actions by A, B, D, E. Sessions: A 3 (1200 s, 0, 0), B 1
	// (600 s), D 1 (1799 s), E 1 (0 s).
	want := []dailyRow{
		{"2024-03-01", 11, 1, 1, 9, 4, 6, 3599, 3599.0 / 6, 1799.0, 1.5},
		{"2024-03-02", 1, 0, 0, 1, 1, 1, 0, 0.0, 0.0, 1.0},
		{"2024-03-03", 0, 0, 0, 0, 0, 0, 0, nil, nil, nil}, // computed, no activity
	}
	got := daily(t, wh)
	if len(got) != len(want) {
		t.Fatalf("GOLD_DAILY = %+v, want %+v", got, want)
	}
	for i := range want {
		if !closeRow(got[i], want[i]) {
			t.Errorf("GOLD_DAILY row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	_, rows, err := wh.Query(ctx, `SELECT SESSION_ID, strftime(SESSION_START, '%d %H:%M:%S'), strftime(SESSION_END, '%d %H:%M:%S'),
		DURATION_SECONDS, ACTIONS, ACTION_SECONDS FROM GOLD_SESSIONS WHERE USER_ID IN ('A', 'B') ORDER BY SESSION_START`)
	if err != nil {
		t.Fatal(err)
	}
	wantSessions := [][]any{
		{hexMD5(fmt.Sprintf("A|%d", ts(1, 9, 0, 0).UnixMicro())), "01 09:00:00", "01 09:20:00", 1200.0, int64(2), 180.0},
		{hexMD5(fmt.Sprintf("A|%d", ts(1, 9, 50, 0).UnixMicro())), "01 09:50:00", "01 09:50:00", 0.0, int64(1), 1.0},
		{hexMD5(fmt.Sprintf("B|%d", ts(1, 10, 0, 0).UnixMicro())), "01 10:00:00", "01 10:10:00", 600.0, int64(2), 9.0}, // max(1, 5) + 4
		{hexMD5(fmt.Sprintf("A|%d", ts(1, 23, 50, 0).UnixMicro())), "01 23:50:00", "01 23:50:00", 0.0, int64(1), 2.0},
		{hexMD5(fmt.Sprintf("A|%d", ts(2, 0, 5, 0).UnixMicro())), "02 00:05:00", "02 00:05:00", 0.0, int64(1), 3.0},
	}
	if !reflect.DeepEqual(rows, wantSessions) {
		t.Errorf("sessions of A and B:\n got %v\nwant %v", rows, wantSessions)
	}
	_, rows, err = wh.Query(ctx, `SELECT strftime(DAY, '%Y-%m-%d'), USER_ID, ACTIONS, SESSIONS FROM GOLD_ACTIVE_USERS ORDER BY DAY, USER_ID`)
	if err != nil {
		t.Fatal(err)
	}
	wantActive := [][]any{
		{"2024-03-01", "A", int64(4), int64(3)}, {"2024-03-01", "B", int64(2), int64(1)},
		{"2024-03-01", "D", int64(2), int64(1)}, {"2024-03-01", "E", int64(1), int64(1)},
		{"2024-03-02", "A", int64(1), int64(1)},
	}
	if !reflect.DeepEqual(rows, wantActive) {
		t.Errorf("GOLD_ACTIVE_USERS:\n got %v\nwant %v", rows, wantActive)
	}
}

func closeRow(a, b dailyRow) bool {
	eq := func(x, y any) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		fx, fy := x.(float64), y.(float64)
		return math.Abs(fx-fy) <= 1e-9*math.Max(1, math.Abs(fy))
	}
	return a.Day == b.Day && a.Interactions == b.Interactions && a.ExclDuration == b.ExclDuration &&
		a.ExclSameTS == b.ExclSameTS && a.Actions == b.Actions && a.DAU == b.DAU && a.Sessions == b.Sessions &&
		eq(a.Total, b.Total) && eq(a.Avg, b.Avg) && eq(a.Max, b.Max) && eq(a.AvgActions, b.AvgActions)
}

// snapshot is every gold row except COMPUTED_AT, in a stable order.
func snapshot(t *testing.T, wh *duckdb.Warehouse) map[string][][]any {
	t.Helper()
	out := map[string][][]any{}
	for _, q := range []struct{ name, sql string }{
		{"sessions", "SELECT * EXCLUDE (COMPUTED_AT) FROM GOLD_SESSIONS ORDER BY SESSION_ID"},
		{"active", "SELECT * EXCLUDE (COMPUTED_AT) FROM GOLD_ACTIVE_USERS ORDER BY DAY, USER_ID"},
		{"daily", "SELECT * EXCLUDE (COMPUTED_AT) FROM GOLD_DAILY ORDER BY DAY"},
	} {
		_, rows, err := wh.Query(context.Background(), q.sql)
		if err != nil {
			t.Fatal(err)
		}
		out[q.name] = rows
	}
	return out
}

// TestBackfillEqualsCompute: days computed one at a time, in parallel, on
// top of stale rows, equal one Compute over the range; so does running
// them again.
func TestBackfillEqualsCompute(t *testing.T) {
	ctx := context.Background()
	var data []interaction
	for d := 1; d <= 12; d++ {
		for u := 0; u < 6; u++ {
			for k := 0; k < (d+u)%5; k++ {
				data = append(data, interaction{fmt.Sprintf("U%d", u), ts(d, (u*3+k*5)%24, (k*17+d)%60, u), "edit", int64(1000 * (k + 1))})
			}
		}
	}
	data = append(data, rulesData...)
	full, parallel := open(t), open(t)
	load(t, full, data...)
	load(t, parallel, data...)
	if err := gold.Compute(ctx, full, ts(1, 0, 0, 0), ts(12, 0, 0, 0), at); err != nil {
		t.Fatal(err)
	}
	// Stale rows: compute day 5 before a late fact arrives for it.
	if _, err := gold.Day(ctx, parallel, ts(5, 0, 0, 0), at); err != nil {
		t.Fatal(err)
	}
	var progress []gold.Progress
	res, err := gold.Backfill(ctx, parallel, ts(1, 0, 0, 0), ts(12, 0, 0, 0), gold.BackfillOptions{
		Parallel: 4, Now: func() time.Time { return at }, Progress: func(p gold.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, full)
	if got := snapshot(t, parallel); !reflect.DeepEqual(got, want) {
		t.Errorf("parallel backfill differs from one Compute:\n got %v\nwant %v", got, want)
	}
	if len(want["daily"]) != 12 || len(want["sessions"]) == 0 {
		t.Fatalf("test data too thin: %d days, %d sessions", len(want["daily"]), len(want["sessions"]))
	}
	if len(res) != 12 || res[0].Date != "2024-03-01" || res[11].Date != "2024-03-12" {
		t.Errorf("results: %d, first %v", len(res), res[0])
	}
	if len(progress) != 12 || progress[11].Done != 12 || progress[0].Done != 1 || progress[0].Total != 12 {
		t.Errorf("progress: %+v", progress)
	}
	// Again: nothing changes.
	if _, err := gold.Backfill(ctx, parallel, ts(1, 0, 0, 0), ts(12, 0, 0, 0), gold.BackfillOptions{Parallel: 3}); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, parallel); !reflect.DeepEqual(got, want) {
		t.Error("a second backfill changed the gold tables")
	}
}

// TestLateFactReplacesSessions: recomputing a day after a late fact bridges
// two sessions leaves no stale session behind.
func TestLateFactReplacesSessions(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	load(t, wh, rulesData...)
	if _, err := gold.Day(ctx, wh, ts(1, 0, 0, 0), at); err != nil {
		t.Fatal(err)
	}
	load(t, wh, interaction{"A", ts(1, 9, 35, 0), "page_view", 1000}) // 09:20 -> 09:35 -> 09:50: one session
	res, err := gold.Day(ctx, wh, ts(1, 0, 0, 0), at)
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := wh.Query(ctx, `SELECT strftime(SESSION_START, '%H:%M'), DURATION_SECONDS, ACTIONS FROM GOLD_SESSIONS
		WHERE USER_ID = 'A' AND DAY = DATE '2024-03-01' ORDER BY SESSION_START`)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"09:00", 3000.0, int64(4)}, {"23:50", 0.0, int64(1)}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("A's sessions after the late fact: %v, want %v", rows, want)
	}
	if res.Sessions != 5 || res.Actions != 10 || res.DAU != 4 || res.Interactions != 12 {
		t.Errorf("day result %+v", res)
	}
	// Day 2 untouched.
	if r, err := gold.Read(ctx, wh, ts(2, 0, 0, 0)); err == nil {
		t.Errorf("day 2 was never computed, Read returned %+v", r)
	}
}

// TestReadRollingWindows checks the 30-day MAU and 7-day WAU bounds.
func TestReadRollingWindows(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	jan := func(d int) time.Time { return time.Date(2024, 1, d, 8, 0, 0, 0, time.UTC) }
	load(t, wh,
		interaction{"X", jan(1), "edit", 1},
		interaction{"Y", jan(24), "edit", 1},
		interaction{"Y", jan(30), "edit", 1},
		interaction{"Z", jan(31), "edit", 1},
	)
	if err := gold.Compute(ctx, wh, jan(1), jan(31), at); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		day           int
		dau, wau, mau int64
	}{
		{1, 1, 1, 1},
		{24, 1, 1, 2},
		{30, 1, 1, 2}, // window Jan 1..30: X and Y; week Jan 24..30: Y
		{31, 1, 2, 2}, // window Jan 2..31: Y and Z; week Jan 25..31: Y, Z
		{29, 0, 1, 2}, // no activity that day, still in everyone's windows
	} {
		r, err := gold.Read(ctx, wh, jan(c.day))
		if err != nil {
			t.Fatal(err)
		}
		if r.DAU != c.dau || r.WAU != c.wau || r.MAU != c.mau {
			t.Errorf("Jan %d: DAU %d WAU %d MAU %d, want %d %d %d", c.day, r.DAU, r.WAU, r.MAU, c.dau, c.wau, c.mau)
		}
	}
}

// failing fails the transaction of one day.
type failing struct {
	*duckdb.Warehouse
	day string
}

func (f failing) ExecTx(ctx context.Context, stmts []string) error {
	if strings.Contains(stmts[0], f.day) {
		return errors.New("warehouse unavailable")
	}
	return f.Warehouse.ExecTx(ctx, stmts)
}

func TestBackfillFailedDay(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	load(t, wh, rulesData...)
	res, err := gold.Backfill(ctx, failing{wh, "2024-03-02"}, ts(1, 0, 0, 0), ts(3, 0, 0, 0), gold.BackfillOptions{Parallel: 2})
	if err == nil || !strings.Contains(err.Error(), "2024-03-02") || !strings.Contains(err.Error(), "1 of 3 days failed") {
		t.Fatalf("error %v, want one failed day named", err)
	}
	if len(res) != 2 || res[0].Date != "2024-03-01" || res[1].Date != "2024-03-03" {
		t.Errorf("the other days: %+v", res)
	}
}

func TestDates(t *testing.T) {
	d, err := gold.Dates(ts(30, 5, 0, 0), ts(31, 0, 0, 0).AddDate(0, 0, 1))
	if err != nil || len(d) != 3 || d[2].Format(gold.DateLayout) != "2024-04-01" {
		t.Errorf("Dates = %v, %v", d, err)
	}
	if _, err := gold.Dates(ts(2, 0, 0, 0), ts(1, 0, 0, 0)); err == nil {
		t.Error("a reversed range was accepted")
	}
	if _, err := gold.ParseDate("2024-13-01"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("ParseDate error %v", err)
	}
}

func TestRefreshPresentDays(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	from, to, err := gold.Refresh(ctx, wh, at)
	if err != nil || !from.IsZero() {
		t.Fatalf("Refresh with no facts = %v %v %v", from, to, err)
	}
	load(t, wh, rulesData...)
	from, to, err = gold.Refresh(ctx, wh, at)
	if err != nil {
		t.Fatal(err)
	}
	if from != ts(1, 0, 0, 0) || to != ts(2, 0, 0, 0) {
		t.Errorf("Refresh range %v..%v", from, to)
	}
	if got := daily(t, wh); len(got) != 2 || got[0].DAU != 4 {
		t.Errorf("GOLD_DAILY after Refresh: %+v", got)
	}
}

func TestStaleDays(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	load(t, wh, rulesData...) // ingested at `at`
	stale, err := gold.StaleDays(ctx, wh, time.Hour)
	if err != nil || len(stale) != 2 {
		t.Fatalf("before any compute: %v %v, want days 1 and 2", stale, err)
	}
	// Day 1 computed two hours after ingestion: fresh. Day 2 computed 30
	// minutes after: within the margin, so still stale.
	if err := gold.Compute(ctx, wh, ts(1, 0, 0, 0), ts(1, 0, 0, 0), at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := gold.Compute(ctx, wh, ts(2, 0, 0, 0), ts(2, 0, 0, 0), at.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	stale, err = gold.StaleDays(ctx, wh, time.Hour)
	if err != nil || len(stale) != 1 || stale[0] != ts(2, 0, 0, 0) {
		t.Errorf("stale days %v %v, want only day 2", stale, err)
	}
}
