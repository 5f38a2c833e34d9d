package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
)

// The fixture, shared by the tests of this package: a warehouse filled
// through the real batch path (local S3, the trigger, Clean/Model/Load/
// DataTests, DuckDB) with two days of generated files, then through the
// real stream path (a seeded simulator run through Kafka, the event-source
// mappings and the stream handler, stream_fixture_test.go), then the gold
// layer and the data-test suite; the marts are views over it.
var fx struct {
	st     *stack.Stack
	day1   []*batchgen.Truth // 2024-02-03, every batch dataset, loaded first
	day2   []*batchgen.Truth // 2024-02-04, community and live streaming only
	runs   []stack.Run
	stream *streamRun // 2024-02-05 20:00 to 2024-02-06 02:17, every topic
	// personal is the manifest of a file of user sessions with names and
	// e-mail addresses, cleaned (its data profile written) but not loaded
	// (profiles_test.go).
	personal *batch.Manifest
	srv      *httptest.Server
	now      time.Time
}

var (
	day1 = time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
)

func TestMain(m *testing.M) {
	code := func() int {
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, "dashboards/web: building the test warehouse:", err)
			return 1
		}
		defer fx.st.Close()
		defer fx.srv.Close()
		return m.Run()
	}()
	os.Exit(code)
}

func setup() error {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		return err
	}
	fx.st = st
	dir, err := os.MkdirTemp("", "pulse-web-test-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for i, day := range []time.Time{day1, day2} {
		in := filepath.Join(dir, day.Format(time.DateOnly))
		if err := os.MkdirAll(in, 0o755); err != nil {
			return err
		}
		truths, err := batchgen.Generate(in, batchgen.Options{Seed: uint64(7 + i), Rows: 300, Start: day})
		if err != nil {
			return err
		}
		var dropped []*batchgen.Truth
		for _, tr := range truths {
			// Day 2 brings only the datasets with event times, so day 1's
			// generator truths stay exact for every dataset: a day-2 row
			// with a day-1 key is a duplicate and leaves day 1 alone.
			if i == 1 && tr.Dataset != "community_interactions" && tr.Dataset != "live_streaming" {
				continue
			}
			dropped = append(dropped, tr)
			f, err := os.Open(filepath.Join(in, tr.Name))
			if err != nil {
				return err
			}
			info, _ := f.Stat()
			run, err := st.Drop(ctx, tr.Dataset, day.Format("20060102")+"-"+tr.Name, f, info.Size())
			f.Close()
			if err != nil {
				return err
			}
			if run.Err != nil {
				return fmt.Errorf("%s: %w", tr.Name, run.Err)
			}
			fx.runs = append(fx.runs, run)
		}
		if i == 0 {
			fx.day1 = dropped
		} else {
			fx.day2 = dropped
		}
	}
	if fx.stream, err = runStream(ctx, st); err != nil {
		return err
	}
	if fx.personal, err = cleanPersonalFile(ctx, st); err != nil {
		return err
	}
	fx.now = time.Now().Add(time.Minute)
	if err := finishWarehouse(ctx, st, fx.now.Add(-time.Minute)); err != nil {
		return err
	}
	h, err := New(st.Warehouse, Options{Now: func() time.Time { return fx.now },
		Profiles: func(ctx context.Context) ([]batch.Profile, error) {
			return batch.LatestProfiles(ctx, st.Env.Store, stack.Buckets.Staging)
		}})
	if err != nil {
		return err
	}
	fx.srv = httptest.NewServer(h)
	return nil
}

// get fetches an API path from the fixture's server into v and returns the status.
func get(t *testing.T, path string, v any) int {
	t.Helper()
	res, err := http.Get(fx.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decoding: %v", path, err)
	}
	return res.StatusCode
}

func panel(t *testing.T, view, query string) *PanelData {
	t.Helper()
	var d PanelData
	path := "/api/panels/" + view
	if query != "" {
		path += "?" + query
	}
	if code := get(t, path, &d); code != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, code)
	}
	return &d
}

// scalar runs a one-value query on the fixture's warehouse.
func scalar(t *testing.T, sql string, args ...any) float64 {
	t.Helper()
	_, rows, err := fx.st.Warehouse.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	x, ok := number(rows[0][0])
	if !ok && rows[0][0] != nil {
		t.Fatalf("%s: %T is not a number", sql, rows[0][0])
	}
	return x
}

// column sums one column of a panel's rows, optionally only rows where
// another column has a value.
func column(t *testing.T, d *PanelData, name string) float64 {
	t.Helper()
	i := index(d.Columns, name)
	if i < 0 {
		t.Fatalf("%s has no column %s", d.View, name)
	}
	var sum float64
	for _, r := range d.Rows {
		x, _ := number(r[i])
		sum += x
	}
	return sum
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// keyed indexes rows by their cells other than floats (group keys and
// counts), so two results can be compared whatever their order; the float
// cells (sums, averages) are compared by near.
func keyed(rows [][]any) map[string][]any {
	out := map[string][]any{}
	for _, r := range rows {
		var key []string
		var vals []any
		for _, v := range r {
			if f, ok := v.(float64); ok {
				vals = append(vals, f)
			} else {
				key = append(key, fmt.Sprint(v))
			}
		}
		out[strings.Join(key, "|")] = vals
	}
	return out
}

func sameRows(t *testing.T, what string, got, want [][]any) {
	t.Helper()
	g, w := keyed(got), keyed(want)
	if len(got) != len(want) || len(g) != len(w) {
		t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
	}
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		gv, ok := g[k]
		if !ok {
			t.Errorf("%s: no row for %s", what, k)
			continue
		}
		for i, v := range w[k] {
			if i >= len(gv) || !near(gv[i].(float64), v.(float64)) {
				t.Errorf("%s: %s column %d = %v, want %v", what, k, i, gv[i], v)
			}
		}
	}
}
