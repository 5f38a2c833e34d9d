package gold_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/gold"
)

// benchWarehouse loads days x perDay random interactions of 2 000 users,
// from March 1st 2024, into a fresh DuckDB warehouse.
func benchWarehouse(b *testing.B, days, perDay int) *duckdb.Warehouse {
	b.Helper()
	wh := open(b)
	r := rand.New(rand.NewPCG(1, 2))
	for d := 0; d < days; d++ {
		xs := make([]interaction, perDay)
		for i := range xs {
			at := ts(1, 0, 0, 0).AddDate(0, 0, d).Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
			xs[i] = interaction{fmt.Sprintf("U%04d", r.IntN(2000)), at.Truncate(time.Millisecond), "edit", r.Int64N(600_000)}
		}
		load(b, wh, xs...)
	}
	return wh
}

// BenchmarkGoldDay measures interactions/s through one day's gold (the
// unit of the daily job and of a backfill) on DuckDB: 50 000 interactions
// of 2 000 users.
func BenchmarkGoldDay(b *testing.B) {
	const perDay = 50_000
	wh := benchWarehouse(b, 1, perDay)
	for b.Loop() {
		if _, err := gold.Day(context.Background(), wh, ts(1, 0, 0, 0), at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perDay*b.N)/b.Elapsed().Seconds(), "interactions/s")
}

// BenchmarkGoldBackfill measures a 30-day backfill (10 000 interactions a
// day), 4 days at a time, against one Compute over the same range.
func BenchmarkGoldBackfill(b *testing.B) {
	const days, perDay = 30, 10_000
	wh := benchWarehouse(b, days, perDay)
	from, to := ts(1, 0, 0, 0), ts(30, 0, 0, 0)
	b.Run("backfill-parallel-4", func(b *testing.B) {
		for b.Loop() {
			if _, err := gold.Backfill(context.Background(), wh, from, to, gold.BackfillOptions{Parallel: 4, Now: func() time.Time { return at }}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(days*b.N)/b.Elapsed().Seconds(), "days/s")
		b.ReportMetric(float64(days*perDay*b.N)/b.Elapsed().Seconds(), "interactions/s")
	})
	b.Run("one-compute", func(b *testing.B) {
		for b.Loop() {
			if err := gold.Compute(context.Background(), wh, from, to, at); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(days*b.N)/b.Elapsed().Seconds(), "days/s")
		b.ReportMetric(float64(days*perDay*b.N)/b.Elapsed().Seconds(), "interactions/s")
	})
}
