package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/datatest"
)

func liveLines(first int, platforms ...string) string {
	var b strings.Builder
	for i, p := range platforms {
		fmt.Fprintf(&b, `{"UserID":"U%d","EventID":%d,"EventType":"Q&A","Platform":%q,"EventTime":"2024-01-05T10:%02d:00Z"}`+"\n",
			first+i, first+i, p, i)
	}
	return b.String()
}

func drop(t *testing.T, st *stack.Stack, name, body string) stack.Run {
	t.Helper()
	run, err := st.Drop(context.Background(), "live_streaming", name, strings.NewReader(body), int64(len(body)))
	if err != nil || run.Err != nil {
		t.Fatalf("dropping %s: %v %v", name, err, run.Err)
	}
	return run
}

func scalar(t *testing.T, st *stack.Stack, q string) any {
	t.Helper()
	_, rows, err := st.Warehouse.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows[0][0]
}

// TestReplayAddPlatformIsRemembered: `pulse replay --add-platform Myspace`
// loads the quarantined Myspace records, and every later run (a new
// process over the same data folder) still accepts Myspace: its cleaning
// loads new Myspace records and the DIM_PLATFORM data test passes.
func TestReplayAddPlatformIsRemembered(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})

	first, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	run := drop(t, first, "first.ndjson", liveLines(1, "Myspace", "TikTok", "myspace"))
	if c := run.Manifest.Counts; c.Loaded != 1 || c.Rejected != 2 {
		t.Fatalf("first drop: %s, want 1 loaded and the 2 Myspace records rejected", c)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	if err := runReplay(ctx, []string{"--dataset", "live_streaming", "--add-platform", "Myspace", "--dir", data}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, "s3", "buckets", stack.Buckets.Curated, "reference", "platforms.json")
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), `"name": "Myspace"`) {
		t.Fatalf("the registry in the data folder: %q, %v", b, err)
	}

	// A later run is a new process: nothing of the replay's is in memory.
	if err := dataset.UsePlatforms(nil); err != nil {
		t.Fatal(err)
	}
	later, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	if !slices.Contains(dataset.KnownPlatforms(), "Myspace") {
		t.Fatalf("a later run knows %v", dataset.KnownPlatforms())
	}
	if got := scalar(t, later, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); got != int64(3) {
		t.Errorf("facts after the replay: %v, want 3", got)
	}
	run = drop(t, later, "later.ndjson", liveLines(10, "MYSPACE", "Instagram"))
	if c := run.Manifest.Counts; c.Loaded != 2 || c.Rejected != 0 {
		t.Errorf("a later drop with Myspace: %s, want both loaded", c)
	}
	results, err := datatest.Run(ctx, later.Warehouse, datatest.ForTables("DIM_PLATFORM"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if failed := datatest.Failed(results); len(failed) != 0 || len(results) == 0 {
		t.Errorf("DIM_PLATFORM data tests in a later run: %d run, failing %v", len(results), failed)
	}
	if got := scalar(t, later, "SELECT COUNT(*) FROM DIM_PLATFORM WHERE PLATFORM = 'Myspace'"); got != int64(1) {
		t.Errorf("DIM_PLATFORM has %v Myspace rows, want 1", got)
	}
}
