package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

var users = table.Schema{
	Name: "DIM_USER",
	Columns: []table.Column{
		{Name: "USER_ID", Type: table.String},
		{Name: "VISITS", Type: table.Int},
	},
	Key: []string{"USER_ID"},
}

// every holds each column type, a two-column key, and a reserved word.
var every = table.Schema{
	Name: "FACT_EVERY",
	Columns: []table.Column{
		{Name: "ID", Type: table.String},
		{Name: "N", Type: table.Int},
		{Name: "SCORE", Type: table.Float},
		{Name: "IS_BOT", Type: table.Bool},
		{Name: "EVENT_TS", Type: table.Timestamp},
		{Name: "DAY", Type: table.Date},
		{Name: "ORDER", Type: table.String},
	},
	Key: []string{"ID", "N"},
}

func open(t *testing.T, path string) *Warehouse {
	t.Helper()
	w, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func mustMigrate(t *testing.T, w *Warehouse, s ...table.Schema) {
	t.Helper()
	if err := w.Migrate(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func mustMerge(t *testing.T, w *Warehouse, s table.Schema, rows []table.Row, wantInserted int) {
	t.Helper()
	n, err := w.Merge(context.Background(), s, rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != wantInserted {
		t.Errorf("Merge inserted %d, want %d", n, wantInserted)
	}
}

func query(t *testing.T, w *Warehouse, q string, args ...any) [][]any {
	t.Helper()
	_, rows, err := w.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func assertRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %v\nwant %v", fmtRows(got), fmtRows(want))
	}
}

func fmtRows(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %#v", r)
	}
	return b.String()
}

func TestMigrateTwice(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users, every)
	mustMigrate(t, w, users, every)
	assertRows(t, query(t, w, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'DIM_USER' ORDER BY ordinal_position"),
		[][]any{{"USER_ID", "VARCHAR"}, {"VISITS", "BIGINT"}})
	assertRows(t, query(t, w, "SELECT TABLE_NAME, COLUMNS FROM PULSE_MIGRATIONS ORDER BY TABLE_NAME"), [][]any{
		{"DIM_USER", "USER_ID STRING,VISITS INT;KEY USER_ID"},
		{"FACT_EVERY", "ID STRING,N INT,SCORE FLOAT,IS_BOT BOOL,EVENT_TS TIMESTAMP,DAY DATE,ORDER STRING;KEY ID,N"},
	})
}

func TestMigrateAddsColumn(t *testing.T) {
	w := open(t, "")
	fixed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return fixed }
	mustMigrate(t, w, users)
	mustMerge(t, w, users, []table.Row{{table.Str("u1"), table.Int64(3)}}, 1)

	wider := users
	wider.Columns = append(append([]table.Column(nil), users.Columns...),
		table.Column{Name: "CHANNEL", Type: table.String}, table.Column{Name: "FIRST_SEEN", Type: table.Date})
	w.now = func() time.Time { return fixed.Add(time.Hour) }
	mustMigrate(t, w, wider)
	mustMigrate(t, w, wider)
	assertRows(t, query(t, w, "SELECT * FROM DIM_USER"), [][]any{{"u1", int64(3), nil, nil}})
	mustMerge(t, w, wider, []table.Row{{table.Str("u1"), table.Int64(4), table.Str("web"), table.Int64(1)}}, 0)
	assertRows(t, query(t, w, "SELECT * FROM DIM_USER"),
		[][]any{{"u1", int64(4), "web", time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)}})
	assertRows(t, query(t, w, "SELECT TABLE_NAME, APPLIED_AT FROM PULSE_MIGRATIONS ORDER BY APPLIED_AT"), [][]any{
		{"DIM_USER", fixed}, {"DIM_USER", fixed.Add(time.Hour)},
	})

	changed := users
	changed.Columns = []table.Column{{Name: "USER_ID", Type: table.Int}, {Name: "VISITS", Type: table.Int}}
	err := w.Migrate(context.Background(), []table.Schema{changed})
	if err == nil || !strings.Contains(err.Error(), "column USER_ID is VARCHAR, schema wants BIGINT") {
		t.Errorf("type change: err = %v", err)
	}
}

func TestMergeInsertsAndUpdates(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users)
	mustMerge(t, w, users, []table.Row{
		{table.Str("a"), table.Int64(1)},
		{table.Str("b"), table.Int64(2)},
	}, 2)
	mustMerge(t, w, users, []table.Row{
		{table.Str("b"), table.Int64(20)},
		{table.Str("c"), table.Null()},
	}, 1)
	assertRows(t, query(t, w, "SELECT * FROM DIM_USER ORDER BY USER_ID"), [][]any{
		{"a", int64(1)}, {"b", int64(20)}, {"c", nil},
	})
}

func TestMergeSameBatchTwice(t *testing.T) {
	for _, byInsert := range []bool{false, true} {
		t.Run(fmt.Sprintf("insert=%v", byInsert), func(t *testing.T) {
			w := open(t, "")
			w.stageByInsert = byInsert
			mustMigrate(t, w, every)
			rows := everyRows(1200)
			mustMerge(t, w, every, rows, 1200)
			before := query(t, w, "SELECT * FROM FACT_EVERY ORDER BY ID, N")
			mustMerge(t, w, every, rows, 0)
			assertRows(t, query(t, w, "SELECT * FROM FACT_EVERY ORDER BY ID, N"), before)
			if len(before) != 1200 {
				t.Errorf("%d rows, want 1200", len(before))
			}
		})
	}
}

func TestMergeDuplicateKeysInBatch(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users)
	mustMerge(t, w, users, []table.Row{{table.Str("a"), table.Int64(0)}}, 1)
	mustMerge(t, w, users, []table.Row{
		{table.Str("a"), table.Int64(1)},
		{table.Str("b"), table.Int64(1)},
		{table.Str("a"), table.Int64(2)},
		{table.Str("b"), table.Int64(2)},
		{table.Str("b"), table.Int64(3)},
	}, 1)
	assertRows(t, query(t, w, "SELECT * FROM DIM_USER ORDER BY USER_ID"), [][]any{{"a", int64(2)}, {"b", int64(3)}})
}

func TestMergeRejectsBadRows(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users)
	_, err := w.Merge(context.Background(), users, []table.Row{{table.Null(), table.Int64(1)}})
	if err == nil || !strings.Contains(err.Error(), "key column USER_ID is NULL") {
		t.Errorf("null key: err = %v", err)
	}
	_, err = w.Merge(context.Background(), table.Schema{Name: "NOPE", Columns: users.Columns, Key: users.Key},
		[]table.Row{{table.Str("a"), table.Int64(1)}})
	if err == nil || !strings.Contains(err.Error(), "merging into NOPE") {
		t.Errorf("missing table: err = %v", err)
	}
	assertRows(t, query(t, w, "SELECT COUNT(*) FROM DIM_USER"), [][]any{{int64(0)}})
}

func TestTypesRoundTrip(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, every)
	ts := time.Date(2026, 2, 28, 23, 59, 58, 123456000, time.UTC)
	before1970 := time.Date(1969, 12, 31, 23, 0, 0, 1000, time.UTC)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	rows := []table.Row{
		{table.Str("x"), table.Int64(-1 << 62), table.Float64(1.5), table.Boolean(true),
			table.Int64(ts.UnixMicro()), table.Int64(day.Unix() / 86400), table.Str("héllo, 'quoted' \"x\"")},
		{table.Str("y"), table.Int64(1 << 62), table.Float64(-2.25e-300), table.Boolean(false),
			table.Int64(before1970.UnixMicro()), table.Int64(-1), table.Str("")},
		{table.Str("z"), table.Int64(0), table.Null(), table.Null(), table.Null(), table.Null(), table.Null()},
	}
	mustMerge(t, w, every, rows, 3)
	assertRows(t, query(t, w, `SELECT * FROM FACT_EVERY ORDER BY ID`), [][]any{
		{"x", int64(-1 << 62), 1.5, true, ts, day, "héllo, 'quoted' \"x\""},
		{"y", int64(1 << 62), -2.25e-300, false, before1970, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{"z", int64(0), nil, nil, nil, nil, nil},
	})
	// The stored values are the instants and days the cells encode.
	assertRows(t, query(t, w, `SELECT epoch_us(EVENT_TS), CAST(DAY - DATE '1970-01-01' AS BIGINT), strftime(EVENT_TS, '%Y-%m-%d %H:%M:%S.%f') FROM FACT_EVERY WHERE ID = 'x'`),
		[][]any{{ts.UnixMicro(), day.Unix() / 86400, "2026-02-28 23:59:58.123456"}})
	// Query narrows other DuckDB types.
	assertRows(t, query(t, w, `SELECT SUM(N), CAST(1 AS INTEGER), CAST(2.5 AS DECIMAL(4,1)), CAST(1.25 AS REAL), ? FROM FACT_EVERY`, "arg"),
		[][]any{{int64(0), int64(1), 2.5, 1.25, "arg"}})
}

func TestFileBackedReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pulse.duckdb")
	ctx := context.Background()
	w, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustMigrate(t, w, users)
	mustMerge(t, w, users, []table.Row{{table.Str("a"), table.Int64(1)}, {table.Str("b"), table.Int64(2)}}, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2 := open(t, path)
	mustMigrate(t, w2, users)
	mustMerge(t, w2, users, []table.Row{{table.Str("b"), table.Int64(2)}}, 0)
	assertRows(t, query(t, w2, "SELECT * FROM DIM_USER ORDER BY USER_ID"), [][]any{{"a", int64(1)}, {"b", int64(2)}})
	assertRows(t, query(t, w2, "SELECT COUNT(*) FROM PULSE_MIGRATIONS"), [][]any{{int64(1)}})
}

func TestConcurrentMergesAndQueries(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users)
	ctx := context.Background()
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		go func() {
			var rows []table.Row
			for i := 0; i < 100; i++ {
				rows = append(rows, table.Row{table.Str(fmt.Sprintf("u%03d", i)), table.Int64(int64(i))})
			}
			_, err := w.Merge(ctx, users, rows)
			errs <- err
		}()
		go func() {
			_, _, err := w.Query(ctx, "SELECT COUNT(*) FROM DIM_USER")
			errs <- err
		}()
	}
	for i := 0; i < 16; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	assertRows(t, query(t, w, "SELECT COUNT(*), SUM(VISITS) FROM DIM_USER"), [][]any{{int64(100), int64(4950)}})
}

func TestExec(t *testing.T) {
	w := open(t, "")
	mustMigrate(t, w, users)
	mustMerge(t, w, users, []table.Row{{table.Str("a"), table.Int64(1)}, {table.Str("b"), table.Int64(2)}}, 2)
	if err := w.Exec(context.Background(), "CREATE OR REPLACE VIEW V_USERS AS SELECT USER_ID FROM DIM_USER WHERE VISITS > 1"); err != nil {
		t.Fatal(err)
	}
	assertRows(t, query(t, w, "SELECT * FROM V_USERS"), [][]any{{"b"}})
	if err := w.Exec(context.Background(), "DELETE FROM NOPE"); err == nil || !strings.Contains(err.Error(), "executing DELETE FROM NOPE") {
		t.Errorf("err = %v", err)
	}
}

// everyRows builds n distinct rows of the every schema.
func everyRows(n int) []table.Row {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	rows := make([]table.Row, n)
	for i := range rows {
		rows[i] = table.Row{
			table.Str(fmt.Sprintf("id-%d", i%97)), table.Int64(int64(i)), table.Float64(float64(i) / 3),
			table.Boolean(i%2 == 0), table.Int64(base + int64(i)*1_000_123), table.Int64(int64(20000 + i%400)),
			table.Str(strings.Repeat("o", i%5)),
		}
		if i%11 == 0 {
			rows[i][2] = table.Null()
		}
	}
	return rows
}
