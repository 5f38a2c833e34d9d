package snowflake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// TestGoldDayOnSnowflake: a gold day is one transaction of the Snowflake
// dialect statements of shared/gold, on one session, then one read.
func TestGoldDayOnSnowflake(t *testing.T) {
	wh, f := openFake(t)
	day := time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 2, 4, 2, 30, 0, 0, time.UTC)
	f.respond = func(sql string) fakeResult {
		if strings.HasPrefix(sql, "SELECT g.INTERACTIONS") {
			fixed := fakeCol{typ: "fixed"}
			real := fakeCol{typ: "real"}
			return fakeResult{cols: []fakeCol{fixed, fixed, fixed, fixed, fixed, fixed, real, real, fixed, fixed},
				rows: [][]*string{{str("616"), str("3"), str("1"), str("612"), str("225"), str("585"), str("37.5"), str("1.04"), str("240"), str("250")}}}
		}
		return fakeResult{}
	}
	res, err := gold.Day(context.Background(), wh, day, at)
	if err != nil {
		t.Fatal(err)
	}
	if res.DAU != 225 || res.MAU != 250 || res.WAU != 240 || *res.AvgSessionSeconds != 37.5 || res.Interactions != 616 {
		t.Errorf("day result %+v", res)
	}
	got := f.statements()
	want := append(append([]string{"BEGIN"}, gold.Statements(sqlmodel.Snowflake, []time.Time{day}, at)...), "COMMIT")
	if len(got) != len(want)+1 {
		t.Fatalf("%d statements, want %d:\n%s", len(got), len(want)+1, strings.Join(sqls(got), "\n"))
	}
	diff(t, "gold day transaction", sqls(got[:len(want)]), want)
	for _, s := range got[:len(want)] {
		if s.Session != got[0].Session {
			t.Errorf("%.40q ran outside the transaction's session", s.SQL)
		}
	}
	// The Snowflake text, not DuckDB's.
	all := strings.Join(sqls(got), "\n")
	for _, s := range []string{"DATEDIFF(MICROSECOND, LAG(EVENT_TIME) OVER (PARTITION BY DAY, USER_ID ORDER BY EVENT_TIME), EVENT_TIME)",
		"MD5(USER_ID || '|' || CAST(DATE_PART(EPOCH_MICROSECOND, SESSION_START) AS VARCHAR))", "TO_TIMESTAMP_NTZ(1707013800000000, 6)",
		"DATEADD(DAY, -29, DATE '2024-02-03')", "EVENT_DATE BETWEEN DATE '2024-02-03' AND DATE '2024-02-03'"} {
		if !strings.Contains(all, s) {
			t.Errorf("gold statements lack %s", s)
		}
	}
	for _, s := range []string{"date_diff(", "epoch_us(", "INTERVAL", "make_timestamp("} {
		if strings.Contains(all, s) {
			t.Errorf("gold statements on Snowflake contain DuckDB's %s", s)
		}
	}
}

// TestViewsOnSnowflake: Apply speaks the warehouse's dialect.
func TestViewsOnSnowflake(t *testing.T) {
	wh, f := openFake(t)
	if err := views.Apply(context.Background(), wh, views.All()); err != nil {
		t.Fatal(err)
	}
	got := sqls(f.statements())
	var want []string
	for _, v := range views.All() {
		want = append(want, "CREATE OR REPLACE VIEW "+v.Name+" AS "+v.SQLFor(sqlmodel.Snowflake))
	}
	diff(t, "views", got, want)
	if !strings.Contains(strings.Join(got, "\n"), "DATEADD(DAY, -30, r.REFERENCE_AT)") {
		t.Error("MART_USER_SEGMENTS is not in the Snowflake dialect")
	}
}
