package duckdb

import (
	"context"
	"fmt"
	"testing"

	"github.com/pulse-analytics/pulse/shared/table"
)

// bench10 is a 10-column fact table keyed on EVENT_ID.
var bench10 = table.Schema{
	Name: "FACT_BENCH",
	Columns: []table.Column{
		{Name: "EVENT_ID", Type: table.String},
		{Name: "USER_ID", Type: table.String},
		{Name: "SESSION_ID", Type: table.String},
		{Name: "EVENT_TYPE", Type: table.String},
		{Name: "SEQ", Type: table.Int},
		{Name: "DURATION_MS", Type: table.Int},
		{Name: "SCORE", Type: table.Float},
		{Name: "IS_BOT", Type: table.Bool},
		{Name: "EVENT_TS", Type: table.Timestamp},
		{Name: "EVENT_DATE", Type: table.Date},
	},
	Key: []string{"EVENT_ID"},
}

const benchBatch = 100_000

func benchRows(batch, n int) []table.Row {
	rows := make([]table.Row, n)
	for i := range rows {
		id := batch*n + i
		rows[i] = table.Row{
			table.Str(fmt.Sprintf("evt-%09d", id)), table.Str(fmt.Sprintf("user-%06d", id%50000)),
			table.Str(fmt.Sprintf("sess-%07d", id/20)), table.Str([]string{"view", "click", "play"}[id%3]),
			table.Int64(int64(id)), table.Int64(int64(id % 60000)), table.Float64(float64(id) * 0.5),
			table.Boolean(id%7 == 0), table.Int64(1767225600000000 + int64(id)*1000), table.Int64(int64(20454 + id%30)),
		}
	}
	return rows
}

// BenchmarkMerge merges 100k-row batches of new keys (insert) and then
// the same keys again (update), staging with the Appender or with
// multi-row INSERTs.
func BenchmarkMerge(b *testing.B) {
	for _, stage := range []string{"appender", "insert"} {
		for _, mode := range []string{"new", "existing"} {
			b.Run(stage+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				w, err := Open(ctx, "")
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				w.stageByInsert = stage == "insert"
				if err := w.Migrate(ctx, []table.Schema{bench10}); err != nil {
					b.Fatal(err)
				}
				fixed := benchRows(0, benchBatch)
				if mode == "existing" {
					if _, err := w.Merge(ctx, bench10, fixed); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rows := fixed
					if mode == "new" {
						b.StopTimer()
						rows = benchRows(i+1, benchBatch)
						b.StartTimer()
					}
					n, err := w.Merge(ctx, bench10, rows)
					if err != nil {
						b.Fatal(err)
					}
					if want := map[string]int{"new": benchBatch, "existing": 0}[mode]; n != want {
						b.Fatalf("inserted %d, want %d", n, want)
					}
				}
				b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
