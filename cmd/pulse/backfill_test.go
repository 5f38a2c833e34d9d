package main

import (
	"bytes"
	"context"
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
