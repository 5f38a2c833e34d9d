package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestStreamFailedBatchAcrossRestart is the scenario-matrix cell "a stream
// batch failing until the on-failure destination" x "the local stack
// restarted on its data folder, then `pulse replay --failed`", on the real
// local stack (kfake, the event-source mappings, the data folder):
//
//  1. social_sales and pageviews offsets 0-39 are handled;
//  2. the warehouse is down while social_sales 40-79 merge: the mapping
//     tries 3 times, keeps the batch under
//     s3://pulse-raw/_failed-batches/ and goes on; the stack's
//     StreamGaps shows "offsets 40-79 of social_sales/0 were never
//     processed" once later batches went past;
//  3. pageviews 40-79, social_sales 80-119, pageviews 80-119 are handled;
//  4. the stack stops, and a process killed meanwhile left the lease of
//     social_sales' processor held for 2 minutes in the data folder;
//  5. `pulse replay --failed`, its own process on the folder, releases that
//     lease at start and replays the kept batch (a second run finds
//     nothing); the stack starts again on the folder and flushes.
//
// One clean run over the final input is the same messages at the same
// offsets handled once each in the order their effect landed (social_sales
// 0-39, pageviews 0-39, pageviews 40-79, social_sales 80-119, pageviews
// 80-119, social_sales 40-79), then the flush. For the windowed metrics
// (SOCIAL_PLATFORM_METRICS and SOCIAL_CITY_METRICS, 5-minute windows) the
// replayed records came after the watermark passed their windows: in both
// runs they are late, loaded into FACT_SOCIAL_SALES with each missed window
// a PULSE_LATE_EVENTS row, not counted in the FINAL rows of those windows.
// Batch sizes differ between the mappings and the clean run, so the
// comparison is of what does not depend on them: every metric row, every
// late event and reject, the accounting per topic and the fact counts.
func TestStreamFailedBatchAcrossRestart(t *testing.T) {
	pulse := buildPulse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := t.TempDir()
	var down atomic.Bool
	opts := stack.StreamOptions{BatchSize: 100, BatchWindow: 20 * time.Millisecond, TickEvery: -1, Config: stream.Config{IdleTimeout: -1},
		Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 3},
		Failpoint: func(step string) error {
			if down.Load() && step == stream.StepQuarantine {
				return errors.New("warehouse unreachable") // the merge comes next: nothing of the batch lands
			}
			return nil
		}}

	st, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.StartStream(ctx, opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	in := failedScenario(t)
	social, views := in["social_sales"], in["pageviews"]
	produce := func(ms ...[]pipeline.Message) {
		for _, m := range ms {
			values := make([][]byte, len(m))
			for i := range m {
				values[i] = m[i].Value
			}
			produceValues(ctx, t, ss, m[0].Topic, values...)
		}
	}
	produce(social[:40], views[:40])
	if err := ss.WaitCommitted(ctx, 80); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	produce(social[40:80])
	for {
		if _, n := ss.Failed(); n >= 40 {
			break
		}
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("the failed batch never reached the on-failure destination")
		case <-time.After(20 * time.Millisecond):
		}
	}
	down.Store(false)
	produce(views[40:80], social[80:], views[80:])
	if err := ss.WaitCommitted(ctx, 240); err != nil {
		t.Fatal(err)
	}
	gaps, failed, err := st.StreamGaps(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(gaps) != "[offsets 40-79 of social_sales/0 were never processed]" {
		t.Fatalf("gaps %v", gaps)
	}
	kept := 0
	for _, b := range failed {
		if b.Topic != "social_sales" || b.First < 40 || b.Last > 79 || b.Attempts != 3 || !strings.Contains(b.Error, "warehouse unreachable") {
			t.Errorf("kept failed batch %+v", b)
		}
		kept += b.Records
	}
	if kept != 40 {
		t.Fatalf("%d records kept in %d failed batches; want 40", kept, len(failed))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A process killed in the middle of a batch left its lease.
	sd, err := memory.OpenWindowStore(filepath.Join(data, "stream", "state"))
	if err != nil {
		t.Fatal(err)
	}
	lease := "stream/lease/social_platform_metrics"
	_, v, err := sd.Load(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.Save(ctx, lease, fmt.Appendf(nil, `{"owner":"batch-killed","until":%d}`, time.Now().Add(2*time.Minute).UnixMicro()), v); err != nil {
		t.Fatal(err)
	}

	out, err := exec.CommandContext(ctx, pulse, "replay", "--dir", data, "--failed").CombinedOutput()
	if err != nil {
		t.Fatalf("pulse replay --failed: %v\n%s", err, out)
	}
	var replayed int64
	for _, b := range failed {
		line := fmt.Sprintf("offsets %d-%d of social_sales/0: received %d", b.First, b.Last, b.Records)
		if !strings.Contains(string(out), line) {
			t.Errorf("pulse replay --failed printed\n%s\nwant a line with %q", out, line)
		}
		replayed += int64(b.Records)
	}
	if strings.Contains(string(out), "never processed") {
		t.Errorf("pulse replay --failed left gaps:\n%s", out)
	}
	out, err = exec.CommandContext(ctx, pulse, "replay", "--dir", data, "--failed").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no failed stream batches") {
		t.Fatalf("second pulse replay --failed: %v\n%s", err, out)
	}

	again, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ss, err = again.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := streamOutcome(t, again)

	clean := startStack(t, stack.Options{})
	cs, err := clean.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]pipeline.Message{social[:40], views[:40], views[40:80], social[80:], views[80:], social[40:80]} {
		if _, err := cs.Pipeline.Process(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := streamOutcome(t, clean)
	for _, k := range sortedKeys(want) {
		compareRows(t, k, got[k], want[k])
	}
	if late := count(t, again, "SELECT COUNT(*) FROM PULSE_LATE_EVENTS WHERE DATASET = 'social_sales' AND CAST(SPLIT_PART(ORIGIN, '/', 3) AS BIGINT) BETWEEN 40 AND 79"); late == 0 {
		t.Error("no replayed record is late: the test would prove less")
	}
	t.Logf("%d records replayed from %d kept batches", replayed, len(failed))
}

// failedScenario is a seeded JSON stream of social_sales and pageviews,
// 120 messages each, numbered like Kafka (offsets 0-119 of partition 0),
// with late and malformed messages and duplicates.
func failedScenario(t *testing.T) map[string][]pipeline.Message {
	t.Helper()
	g := sim.NewGenerator(sim.Config{Seed: 12, Rate: 0.5, MaxEvents: 2500, DuplicatePct: 3, LatePct: 4, MalformedPct: 3, Format: sim.FormatJSON,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	out := map[string][]pipeline.Message{}
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if ev.Topic != "social_sales" && ev.Topic != "pageviews" || len(out[ev.Topic]) == 120 {
			continue
		}
		out[ev.Topic] = append(out[ev.Topic], pipeline.Message{Topic: ev.Topic, Offset: int64(len(out[ev.Topic])), Value: ev.Value,
			Timestamp: g.Clock().UnixMilli()})
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out["social_sales"]) != 120 || len(out["pageviews"]) != 120 {
		t.Fatalf("%d social_sales, %d pageviews messages; want 120 each", len(out["social_sales"]), len(out["pageviews"]))
	}
	return out
}
