package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// runTable reads `go test -bench` output of ./tests/bench (a file, or stdin) and
// prints Pulse and DuckDB side by side per format.
func runTable(args []string) error {
	in := io.Reader(os.Stdin)
	if len(args) > 0 {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	// metrics[benchmark][unit] = value, benchmark like "CleanModel/ndjson".
	metrics := map[string]map[string]float64{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 { // -cpu suffix, as in "-2"
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		// A benchmark run several times (-count) keeps its best rates: on a
		// shared machine the slower runs are the ones something else slowed.
		m := metrics[name]
		if m == nil {
			m = map[string]float64{}
			metrics[name] = m
		}
		m["runs"]++
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			unit := f[i+1]
			if old, seen := m[unit]; !seen || (strings.HasSuffix(unit, "rec/s") && v > old) || (!strings.HasSuffix(unit, "rec/s") && v < old) {
				m[unit] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(metrics) == 0 {
		return errors.New("no benchmark lines in the input")
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	runs := 0.0
	for _, m := range metrics {
		runs = max(runs, m["runs"])
	}
	fmt.Printf("records/s on one core (best of %.0f), video_interactions (31 columns, batchgen's dirt), Pulse vs the same work in DuckDB SQL:\n", runs)
	fmt.Printf("  %-8s | %-28s | %-28s | %-28s | %s\n", "format", "clean+model: Pulse  DuckDB", "clean only: Pulse  DuckDB", "per CPU-second: Pulse  DuckDB", "Pulse B/rec, allocs/rec")
	for _, fm := range []string{"ndjson", "csv", "parquet"} {
		p, d := metrics["CleanModel/"+fm], metrics["DuckDB/"+fm]
		if p == nil && d == nil {
			continue
		}
		fmt.Printf("  %-8s | %8.0f %8.0f %8s   | %8.0f %8.0f %8s   | %8.0f %8.0f %8s   | %.0f, %.1f\n", fm,
			p["rec/s"], d["rec/s"], ratio(p["rec/s"], d["rec/s"]),
			p["clean-rec/s"], d["clean-rec/s"], ratio(p["clean-rec/s"], d["clean-rec/s"]),
			p["cpu-rec/s"], d["cpu-rec/s"], ratio(p["cpu-rec/s"], d["cpu-rec/s"]),
			p["B/rec"], p["allocs/rec"])
	}
	return nil
}
