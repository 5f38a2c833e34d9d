package e2e

import (
	"context"
	"testing"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

// TestReplayInALaterRun: what `pulse drop` and then `pulse replay` do as
// two commands. The first stack drops the files and closes; a second stack
// over the same data folder finds the quarantined records, replays the
// fixed ones into the same warehouse, and a third run sees nothing new to
// load (no duplicates across runs).
func TestReplayInALaterRun(t *testing.T) {
	dir, truths := generate(t, 300)
	data := t.TempDir()
	ctx := context.Background()

	first, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	dropAll(t, first, dir, truths)
	myspace := count(t, first, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE DATASET = 'live_streaming' AND REASON LIKE 'unknown platform \"Myspace\"%'")
	facts := count(t, first, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if myspace == 0 {
		t.Fatal("the generator injected no Myspace records")
	}

	defer dataset.AddPlatform("Myspace")()
	for run := 2; run <= 3; run++ {
		st, err := stack.Start(ctx, stack.Options{Dir: data})
		if err != nil {
			t.Fatal(err)
		}
		res, err := batch.Replay(ctx, st.Env, "live_streaming")
		if err != nil {
			st.Close()
			t.Fatal(err)
		}
		var loaded int64
		for _, r := range res {
			if r.Manifest != nil {
				loaded += r.Manifest.Counts.Loaded
			}
		}
		want := myspace
		if run == 3 {
			want = 0
		}
		if loaded != want {
			t.Errorf("run %d: replay loaded %d, want %d", run, loaded, want)
		}
		if got := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); got != facts+myspace {
			t.Errorf("run %d: facts = %d, want %d", run, got, facts+myspace)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
