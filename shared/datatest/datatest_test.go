package datatest_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

var at = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

func setup(t *testing.T) *duckdb.Warehouse {
	t.Helper()
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Setup(ctx, wh); err != nil {
		t.Fatal(err)
	}
	return wh
}

func ev(id, name string, user int64, item string) table.Row {
	return table.Row{table.Str(id), table.Str(name), table.Int64(user), table.Str(""), table.Str(item), table.Null(),
		table.Int64(at.UnixMicro()), table.Int64(at.UnixMicro()), table.Str("t")}
}

// TestKinds: each kind counts exactly the rows that break it.
func TestKinds(t *testing.T) {
	ctx := context.Background()
	wh := setup(t)
	users := []table.Row{
		{table.Int64(1), table.Int64(30), table.Str("****@a.com"), table.Str("eng"), table.Int64(0)},
		{table.Int64(2), table.Int64(40), table.Str("****@b.com"), table.Str("geo"), table.Int64(0)},
	}
	if _, err := wh.Merge(ctx, *star.ConsumerUsers, users); err != nil {
		t.Fatal(err)
	}
	consumer := []table.Row{
		{table.Str("e1"), table.Str("sign_in"), table.Int64(1), table.Int64(0), table.Int64(0), table.Str("t")},
		{table.Str("e2"), table.Str("sign_in"), table.Int64(7), table.Int64(0), table.Int64(0), table.Str("t")}, // unknown user
		{table.Str("e3"), table.Str("login"), table.Int64(8), table.Int64(0), table.Int64(0), table.Str("t")},   // unknown user, bad name
		{table.Str("e4"), table.Str("sign_out"), table.Null(), table.Int64(0), table.Int64(0), table.Str("t")},  // no user
	}
	if _, err := wh.Merge(ctx, *star.ConsumerEvents, consumer); err != nil {
		t.Fatal(err)
	}
	carts := []table.Row{
		ev("c1", "added_to_cart", 1, "M1"), ev("c2", "added_to_cart", 1, "M2"), ev("c3", "added_to_cart", 2, "M9"),
		ev("c4", "checkout_to_cart", 2, "whatever"),
	}
	if _, err := wh.Merge(ctx, *star.CartEvents, carts); err != nil {
		t.Fatal(err)
	}
	movies := []table.Row{{table.Str("M1"), table.Str("A"), table.Str("Drama"), table.Float64(1), table.Int64(100), table.Str("USD"), table.Str("$1.00"), table.Str("$1.00"), table.Int64(0)},
		{table.Str("M2"), table.Str("B"), table.Str("Drama"), table.Null(), table.Int64(100), table.Str("USD"), table.Str("$1.00"), table.Str("$1.00"), table.Int64(0)}}
	if _, err := wh.Merge(ctx, *star.Movies, movies); err != nil {
		t.Fatal(err)
	}
	// Duplicate keys cannot be loaded through MERGE; a plain INSERT makes them.
	if err := wh.Exec(ctx, "INSERT INTO CONSUMER_USERS (USER_ID, AGE) VALUES (2, 41), (2, 42)"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		test datatest.Test
		want int64
	}{
		{datatest.Test{Table: "CONSUMER_EVENTS", Kind: datatest.NotNull, Column: []string{"USER_ID"}}, 1},
		{datatest.Test{Table: "CONSUMER_USERS", Kind: datatest.Unique, Column: []string{"USER_ID"}}, 2},
		{datatest.Test{Table: "CONSUMER_USERS", Kind: datatest.Unique, Column: []string{"USER_ID", "AGE"}}, 0},
		{datatest.Test{Table: "CONSUMER_EVENTS", Kind: datatest.AcceptedValues, Column: []string{"EVENT_NAME"}, Values: []string{"sign_in", "sign_out"}}, 1},
		{datatest.Test{Table: "CONSUMER_EVENTS", Kind: datatest.Relationships, Column: []string{"USER_ID"}, To: "CONSUMER_USERS", ToColumn: "USER_ID"}, 2},
		{datatest.Test{Table: "CART_EVENTS", Kind: datatest.Relationships, Column: []string{"ITEM_ID"}, To: "MOVIES", ToColumn: "ITEM_ID", Where: "EVENT_NAME = 'added_to_cart'"}, 1},
		{datatest.Test{Table: "CART_EVENTS", Kind: datatest.Relationships, Column: []string{"ITEM_ID"}, To: "MOVIES", ToColumn: "ITEM_ID"}, 2},
		{datatest.Test{Table: "MOVIES", Kind: datatest.NotNull, Column: []string{"PRICE"}}, 1},
	}
	var list []datatest.Test
	for _, tt := range tests {
		list = append(list, tt.test)
	}
	res, err := datatest.Run(ctx, wh, list, at)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		if res[i].Failures != tt.want {
			t.Errorf("%s: %d failures, want %d", tt.test.Name(), res[i].Failures, tt.want)
		}
	}
	if got := len(datatest.Failed(res)); got != 7 {
		t.Errorf("%d failed, want 7", got)
	}
	// Recorded, one row per test, shown by DATA_TEST_RESULTS.
	_, rows, err := wh.Query(ctx, "SELECT TEST, STATUS, FAILURES, FILE_ID FROM DATA_TEST_RESULTS WHERE TABLE_NAME = 'CONSUMER_EVENTS' ORDER BY TEST")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{"accepted_values(EVENT_NAME: sign_in, sign_out)", "fail", int64(1), "suite"},
		{"not_null(USER_ID)", "fail", int64(1), "suite"},
		{"relationships(USER_ID -> CONSUMER_USERS.USER_ID)", "fail", int64(2), "suite"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("DATA_TEST_RESULTS:\n got %v\nwant %v", rows, want)
	}
	// After a fix, a second run replaces the results.
	if err := wh.Exec(ctx, "DELETE FROM CONSUMER_EVENTS WHERE EVENT_ID IN ('e2', 'e3', 'e4')"); err != nil {
		t.Fatal(err)
	}
	if _, err := datatest.Run(ctx, wh, list[:5], at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, rows, _ = wh.Query(ctx, "SELECT COUNT(*), SUM(FAILURES) FROM PULSE_DATA_TESTS WHERE TABLE_NAME = 'CONSUMER_EVENTS'")
	if fmt.Sprint(rows) != "[[3 0]]" {
		t.Errorf("after the fix: %v, want 3 tests, 0 failures", rows)
	}
}

// TestSuiteRuns: every declared test runs (its table and columns exist)
// and passes on an empty warehouse.
func TestSuiteRuns(t *testing.T) {
	wh := setup(t)
	res, err := datatest.Run(context.Background(), wh, datatest.Suite(), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(datatest.Suite()) || len(datatest.Failed(res)) != 0 {
		t.Errorf("%d results, %d failed", len(res), len(datatest.Failed(res)))
	}
	for _, g := range []string{"star", "stream", "gold", "marts"} {
		if len(datatest.Group(g)) == 0 {
			t.Errorf("group %s is empty", g)
		}
	}
}

func TestForTables(t *testing.T) {
	names := func(ts []datatest.Test) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.Table+" "+t.Name())
		}
		return strings.Join(s, "\n")
	}
	got := names(datatest.ForTables("DIM_APP_USER"))
	want := "DIM_APP_USER unique(USER_ID)\nFACT_APP_INTERACTIONS relationships(USER_ID -> DIM_APP_USER.USER_ID)"
	if got != want {
		t.Errorf("ForTables(DIM_APP_USER):\n%s\nwant\n%s", got, want)
	}
	if got := names(datatest.ForTables("MOVIES")); !strings.Contains(got, "MART_USER_SEGMENTS accepted_values(SEGMENT") ||
		!strings.Contains(got, "ITEM_VIEW_EVENTS relationships(ITEM_ID -> MOVIES.ITEM_ID)") {
		t.Errorf("ForTables(MOVIES) misses the marts or the relationships:\n%s", got)
	}
}

func TestSQLSnowflake(t *testing.T) {
	q, err := datatest.Test{Table: "MART_USER_SEGMENTS", Kind: datatest.AcceptedValues, Column: []string{"SEGMENT"},
		Values: []string{"a", `b\'`}}.SQL(sqlmodel.Snowflake)
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT COUNT(*) FROM MART_USER_SEGMENTS WHERE SEGMENT IS NOT NULL AND SEGMENT NOT IN ('a', 'b\\''')`; q != want {
		t.Errorf("SQL:\n got %s\nwant %s", q, want)
	}
	if _, err := (datatest.Test{Table: "T", Kind: "between", Column: []string{"A"}}).SQL(sqlmodel.DuckDB); err == nil {
		t.Error("an unknown kind gave SQL")
	}
}

// TestPlatformsFromTheRegistry: the DIM_PLATFORM accepted-values test
// accepts the platforms of the platform registry in use when the suite is
// built, as a later run that loaded the registry does.
func TestPlatformsFromTheRegistry(t *testing.T) {
	ctx := context.Background()
	wh := setup(t)
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})
	rows := []table.Row{{table.Str("p1"), table.Str("Myspace")}, {table.Str("p2"), table.Str("TikTok")}, {table.Str("p3"), table.Str("Unknown")}}
	if _, err := wh.Merge(ctx, *star.DimPlatform, rows); err != nil {
		t.Fatal(err)
	}
	failures := func() int64 {
		t.Helper()
		for _, tc := range datatest.ForTables("DIM_PLATFORM") {
			if tc.Kind == datatest.AcceptedValues {
				res, err := datatest.Run(ctx, wh, []datatest.Test{tc}, at)
				if err != nil {
					t.Fatal(err)
				}
				return res[0].Failures
			}
		}
		t.Fatal("no accepted-values test on DIM_PLATFORM")
		return 0
	}
	if n := failures(); n != 1 {
		t.Errorf("before Myspace is registered: %d failing rows, want 1", n)
	}
	if err := dataset.UsePlatforms([]dataset.PlatformEntry{{Name: "Myspace"}}); err != nil {
		t.Fatal(err)
	}
	if n := failures(); n != 0 {
		t.Errorf("with Myspace registered: %d failing rows, want 0", n)
	}
}
