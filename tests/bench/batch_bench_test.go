package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

// benchDir is where fixtures and run folders go: PULSE_BENCH_DIR, else the
// repository's git-ignored bench-out/.
func benchDir() string {
	if d := os.Getenv("PULSE_BENCH_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "bench-out")
}

// benchRows is the fixture size: PULSE_BENCH_ROWS, else one million.
func benchRows(tb testing.TB) int {
	if s := os.Getenv("PULSE_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			tb.Fatalf("PULSE_BENCH_ROWS=%q: want a positive number", s)
		}
		return n
	}
	return 1_000_000
}

func benchFixture(b *testing.B) *Fixture {
	b.Helper()
	fx, err := VideoFixture(filepath.Join(benchDir(), "fixtures"), benchRows(b), os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	return fx
}

// runDir is an emptied folder for one benchmark's store or outputs.
func runDir(b *testing.B, name string) string {
	b.Helper()
	dir, err := filepath.Abs(filepath.Join(benchDir(), "run", name))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkCleanModel puts one file of video_interactions (a million rows
// by default, 31 columns, with batchgen's dirt) through batch.Clean and
// batch.Model over a filesystem object store, with the in-memory dedupe
// store. Run it with -cpu 1 -benchtime 1x: one pass over the file per
// format on one core. rec/s counts every record of the file (kept,
// rejected and duplicate) over Clean+Model; clean-rec/s over Clean alone;
// B/rec and allocs/rec are Go heap allocations per record.
func BenchmarkCleanModel(b *testing.B) {
	fx := benchFixture(b)
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			ctx := context.Background()
			batch, err := Prepare(ctx, runDir(b, "pulse-"+string(f)), fx.Dataset, fx.Paths[f])
			if err != nil {
				b.Fatal(err)
			}
			var before, after runtime.MemStats
			var clean time.Duration
			recs := 0
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpu := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				batch.Store.Reset()
				res, err := batch.CleanModel(ctx, memory.NewDedupe())
				if err != nil {
					b.Fatal(err)
				}
				if err := res.Check(fx.Truth); err != nil {
					b.Fatal(err)
				}
				clean += res.Clean
				recs += fx.Truth.Rows
			}
			cpu = cpuTime() - cpu
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "rec/s")
			b.ReportMetric(float64(recs)/cpu.Seconds(), "cpu-rec/s")
			b.ReportMetric(float64(recs)/clean.Seconds(), "clean-rec/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(recs), "B/rec")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(recs), "allocs/rec")
		})
	}
}

// BenchmarkDuckDB is the yardstick: the same cleaning and star mapping in
// DuckDB SQL (see duckdb.go for how it is generated and where it differs)
// over the same files, on one thread (SET threads = 1), writing the same
// Parquet outputs. rec/s is over clean+model, clean-rec/s over the
// cleaning statements alone.
func BenchmarkDuckDB(b *testing.B) {
	fx := benchFixture(b)
	spec := dataset.VideoInteractions
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			ctx := context.Background()
			src, err := fx.Source(f)
			if err != nil {
				b.Fatal(err)
			}
			out := Outputs{Dir: runDir(b, "duckdb-"+string(f)), SourceKey: "raw/" + spec.Name + "/" + filepath.Base(src.Path), IngestedAt: time.Now().UnixMicro()}
			cleanSQL, err := CleanSQL(spec, src, out)
			if err != nil {
				b.Fatal(err)
			}
			modelSQL, err := ModelSQL(spec, out, "s3://raw/"+out.SourceKey+"@bench")
			if err != nil {
				b.Fatal(err)
			}
			var clean, cpu time.Duration
			recs := 0
			for b.Loop() {
				b.StopTimer()
				conn := duckConn(b)
				b.StartTimer()
				cpu -= cpuTime()
				start := time.Now()
				if err := execAll(ctx, conn, cleanSQL); err != nil {
					b.Fatal(err)
				}
				clean += time.Since(start)
				if err := execAll(ctx, conn, modelSQL); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime()
				b.StopTimer()
				if err := checkDuckOutputs(ctx, conn, out, fx.Truth); err != nil {
					b.Fatal(err)
				}
				conn.Close()
				b.StartTimer()
				recs += fx.Truth.Rows
			}
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "rec/s")
			b.ReportMetric(float64(recs)/cpu.Seconds(), "cpu-rec/s")
			b.ReportMetric(float64(recs)/clean.Seconds(), "clean-rec/s")
		})
	}
}

// cpuTime is the process's user+system CPU time so far: records per
// CPU-second hold up better than per wall-second on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkDuckOutputs compares the SQL's kept and rejected rows with the
// generator's truth.
func checkDuckOutputs(ctx context.Context, conn *sql.Conn, out Outputs, t Truth) error {
	var kept, rejected int
	q := fmt.Sprintf("SELECT (SELECT count(*) FROM read_parquet(%s)), (SELECT count(*) FROM read_json(%s, format = 'newline_delimited'))",
		out.file("staging.parquet"), out.file("rejects.ndjson"))
	if err := conn.QueryRowContext(ctx, q).Scan(&kept, &rejected); err != nil {
		return fmt.Errorf("counting duckdb outputs: %w", err)
	}
	if kept != t.Loaded || rejected != t.Rejected {
		return fmt.Errorf("duckdb kept %d and rejected %d; the generator wrote %d to load, %d to reject", kept, rejected, t.Loaded, t.Rejected)
	}
	return nil
}
