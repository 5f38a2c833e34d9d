package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// checkSnowpipeDone checks that the snowpipe rig's staging tables are
// empty after the final merge and that no appended table holds a key twice.
func checkSnowpipeDone(t *testing.T, r *rig) {
	t.Helper()
	for _, s := range stream.StagingSchemas() {
		if n := count(t, r.wh, "SELECT COUNT(*) FROM "+s.Name); n != 0 {
			t.Errorf("%s holds %d rows after the final merge", s.Name, n)
		}
	}
	for _, s := range stream.AppendedTables() {
		if n := count(t, r.wh, "SELECT COUNT(*) - COUNT(DISTINCT "+s.Key[0]+") FROM "+s.Name); n != 0 {
			t.Errorf("%s holds %d rows twice", s.Name, n)
		}
	}
}

// snowpipeStream is a seeded stream of every topic with duplicates, late
// and malformed messages, in batches of 175.
func snowpipeStream(t *testing.T) [][]port.Message {
	msgs, _ := simMessages(t, sim.Config{Seed: 3, Rate: 0.5, MaxEvents: 700, DuplicatePct: 4, LatePct: 4, MalformedPct: 2,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	return batches(msgs, 175)
}

// TestSnowpipeModeEqualsMerge: the same stream in the snowpipe load mode,
// with a cadence merge due on some ticks between batches (MergeEvery 2
// minutes, the clock moving 1 minute a batch) and the last at Flush,
// leaves every table, the window state and the dedupe keys as the merge
// mode does, the staging tables empty and no fact twice. A load that
// fails (the warehouse and Snowpipe down) in the middle changes nothing
// once the batch is retried.
func TestSnowpipeModeEqualsMerge(t *testing.T) {
	ctx := context.Background()
	bs := snowpipeStream(t)
	run := func(mode stream.LoadMode) *rig {
		r := newRig(t, stream.Config{IdleTimeout: -1, LoadMode: mode, MergeEvery: 2 * time.Minute})
		for i, b := range bs {
			if i == 2 {
				r.down.Store(true)
				if _, err := r.p.Process(ctx, b); err == nil {
					t.Fatal("the batch succeeded with the warehouse down")
				}
				r.now = r.now.Add(2 * time.Minute) // the cadence merge is due
				if _, err := r.p.Tick(ctx); err == nil && mode == stream.LoadSnowpipe {
					t.Fatal("a due cadence merge succeeded with the warehouse down")
				}
				r.down.Store(false)
			}
			if _, err := r.p.Process(ctx, b); err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
			r.now = r.now.Add(time.Minute)
			if _, err := r.p.Tick(ctx); err != nil {
				t.Fatalf("tick after batch %d: %v", i, err)
			}
		}
		if _, err := r.p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	merge, snow := run(stream.LoadMerge), run(stream.LoadSnowpipe)
	checkSnowpipeDone(t, snow)
	diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, snow.wh)), joinRows(dumpWarehouse(t, merge.wh)))
	state := snow.state.dump(t)
	if _, ok := state["stream/cadence/merge"]; !ok {
		t.Error("no cadence merge ran on a tick")
	}
	delete(state, "stream/cadence/merge")
	diffMaps(t, "window state", state, merge.state.dump(t))
	diffMaps(t, "dedupe keys", snow.dedupe.Claims(), merge.dedupe.Claims())
	diffMaps(t, "objects", snow.objects.Snapshot(), merge.objects.Snapshot())
	if n := count(t, snow.wh, "SELECT COUNT(*) FROM PULSE_LATE_EVENTS"); n == 0 {
		t.Fatal("the stream has no late events: the test would prove little")
	}
}

// TestSnowpipeCrashAndRetry is TestCrashAndRetry in the snowpipe load mode:
// a crash after each step of the third batch (after merge: its facts
// appended and its rows staged, its state not saved), the batch
// redelivered, the rest run; the tables equal one clean run's in the merge
// mode, and nothing is appended twice.
func TestSnowpipeCrashAndRetry(t *testing.T) {
	bs := snowpipeStream(t)
	run := func(mode stream.LoadMode, failAt string) *rig {
		crashAt := 2
		if failAt == "" {
			crashAt = -1
		}
		return runCrashing(t, stream.Config{IdleTimeout: -1, LoadMode: mode}, bs, failAt, crashAt)
	}
	clean := run(stream.LoadMerge, "")
	wantWH, wantState, wantClaims := joinRows(dumpWarehouse(t, clean.wh)), clean.state.dump(t), clean.dedupe.Claims()
	for _, step := range stream.Steps {
		t.Run(step, func(t *testing.T) {
			r := run(stream.LoadSnowpipe, step)
			checkSnowpipeDone(t, r)
			diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, r.wh)), wantWH)
			diffMaps(t, "window state", r.state.dump(t), wantState)
			diffMaps(t, "dedupe keys", r.dedupe.Claims(), wantClaims)
		})
	}
}

// TestSnowpipeLeaseTakeoverAfterCrash is TestLeaseTakeoverAfterCrash in
// the snowpipe load mode: the process killed after its facts were
// appended and its rows staged (merge), the redelivery in other batch
// boundaries finds them: the facts are skipped by their channels' tokens,
// the killed attempt's staged manifest is replaced by a tombstone, and the
// tables end as one clean run's in the merge mode.
func TestSnowpipeLeaseTakeoverAfterCrash(t *testing.T) {
	for _, step := range []string{stream.StepApply, stream.StepMerge} {
		t.Run(step, func(t *testing.T) { leaseTakeoverAfterCrash(t, step, stream.LoadSnowpipe) })
	}
}

// TestSnowpipeGapIsFilled: in the snowpipe mode a batch (offsets 3-5)
// fails until the on-failure destination and the next (6-8) is appended
// on the partition's channel, whose token is then 8. The failed batch
// brought back is below the ledger's high-water mark: its facts are staged
// and merged by key (appended on the channel they would be skipped: 6
// facts), so the table ends with the 9, each once.
func TestSnowpipeGapIsFilled(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1, LoadMode: stream.LoadSnowpipe})
	if _, err := r.p.Process(ctx, sales(0, 2)); err != nil {
		t.Fatal(err)
	}
	r.down.Store(true)
	if _, err := r.p.Process(ctx, sales(3, 5)); err == nil {
		t.Fatal("the batch succeeded with Snowpipe down")
	}
	r.down.Store(false)
	if _, err := r.p.Process(ctx, sales(6, 8)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, r.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 6 {
		t.Fatalf("%d facts appended before the failed batch came back; want 6", n)
	}
	res, err := r.p.Process(ctx, sales(3, 5))
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Topics["social_sales"].Counts; c != (port.Counts{Received: 3, Loaded: 3}) {
		t.Fatalf("the failed batch brought back: %s; want 3 loaded", c)
	}
	if n := count(t, r.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES_STAGING"); n != 3 {
		t.Fatalf("%d facts staged; want the failed batch's 3", n)
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, r.wh, "SELECT COUNT(DISTINCT SALE_ID) FROM FACT_SOCIAL_SALES"); n != 9 {
		t.Fatalf("%d distinct facts; want 9", n)
	}
	checkSnowpipeDone(t, r)
}
