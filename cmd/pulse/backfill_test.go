package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

func TestBackfillCommand(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	var out bytes.Buffer
	if err := backfill(ctx, &out, wh, "", "", 2); err == nil || !strings.Contains(err.Error(), "give --from and --to") {
		t.Errorf("empty warehouse without a range: %v", err)
	}
	var rows []table.Row
	for i, at := range []time.Time{time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 9, 20, 0, 0, time.UTC), time.Date(2024, 3, 3, 9, 0, 0, 0, time.UTC)} {
		rows = append(rows, table.Row{table.Str(string(rune('a' + i))), table.Str("s"), table.Str("u1"), table.Int64(at.UnixMicro()),
			table.Int64(at.Unix() / 86400), table.Str("edit"), table.Str("p"), table.Int64(10), table.Str("1"), table.Int64(0), table.Str("t")})
	}
	if _, err := wh.Merge(ctx, *star.FactAppInteractions, rows); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := backfill(ctx, &out, wh, "", "", 2); err != nil { // the days present: March 1st to 3rd
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"Backfilling gold for 2024-03-01..2024-03-03 (3 days, 2 at a time)", "[3/3]",
		"2024-03-01  DAU 1     MAU 1     sessions 1     avg session 20m0s", "2024-03-02  DAU 0", "Gold data tests: 4 passed"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if err := backfill(ctx, &out, wh, "2024-03-05", "2024-03-01", 2); err == nil {
		t.Error("a reversed range was accepted")
	}
	if err := backfill(ctx, &out, wh, "March 1st", "", 2); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("bad --from: %v", err)
	}
}

// TestBackfillRangeWithoutData: a range with no app interactions (a typo'd
// year) warns, writes no gold rows, and leaves the gold views anchored to
// the days that have data.
func TestBackfillRangeWithoutData(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	var rows []table.Row
	for i, at := range []time.Time{time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC)} {
		rows = append(rows, table.Row{table.Str(string(rune('a' + i))), table.Str("s"), table.Str("u1"), table.Int64(at.UnixMicro()),
			table.Int64(at.Unix() / 86400), table.Str("edit"), table.Str("p"), table.Int64(10), table.Str("1"), table.Int64(0), table.Str("t")})
	}
	if _, err := wh.Merge(ctx, *star.FactAppInteractions, rows); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := backfill(ctx, &out, wh, "", "", 2); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := backfill(ctx, &out, wh, "2030-01-01", "2030-01-02", 2); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "no app interactions between 2030-01-01 and 2030-01-02") ||
		!strings.Contains(s, "2024-03-01..2024-03-02") || strings.Contains(s, "DAU") {
		t.Errorf("output for a range without data:\n%s", s)
	}
	_, got, err := wh.Query(ctx, "SELECT strftime(DAY, '%Y-%m-%d') || ' ' || CAST(DAU AS VARCHAR) FROM GOLD_DAU_MAU ORDER BY DAY")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[[2024-03-01 1] [2024-03-02 1]]" {
		t.Errorf("GOLD_DAU_MAU after backfilling 2030: %v, want the two days with data", got)
	}
	_, got, err = wh.Query(ctx, "SELECT COUNT(*) FROM GOLD_DAILY WHERE DAY >= DATE '2030-01-01'")
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != int64(0) {
		t.Errorf("%v GOLD_DAILY rows for 2030", got[0][0])
	}
	// A range reaching past the data computes it (days without data inside
	// it are real zeros) and says which days have none.
	out.Reset()
	if err := backfill(ctx, &out, wh, "2024-03-02", "2024-03-04", 2); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "2 of the 3 days have no app interactions") {
		t.Errorf("output for a range partly without data:\n%s", s)
	}
	_, got, err = wh.Query(ctx, "SELECT strftime(MIN(DAY), '%Y-%m-%d'), strftime(MAX(DAY), '%Y-%m-%d'), COUNT(*) FROM GOLD_SESSION_STATS")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[[2024-03-01 2024-03-02 2]]" {
		t.Errorf("GOLD_SESSION_STATS covers %v, want 2024-03-01..2024-03-02 (2 days): anchored to the last day with data", got)
	}
}
