package stream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// sales returns social_sales records at offsets from..to of partition 0,
// one a minute from 12:00 (ID s<offset>, Instagram).
func sales(from, to int64) []port.Message {
	var out []port.Message
	for o := from; o <= to; o++ {
		out = append(out, socialAt(o, fmt.Sprintf("s%d", o), "Instagram", int(o), 100))
	}
	return out
}

func gapsOf(t *testing.T, r *rig) string {
	t.Helper()
	gaps, err := r.p.Gaps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(gaps)
}

// TestGapIsRecordedAndFilled: a batch (offsets 3-5) fails until the
// on-failure destination and the next (6-8) goes past it. The ledger
// keeps 3-5 as a gap, shown by Gaps; the failed batch, brought back with
// its original positions, is processed (before gaps it was skipped as a
// redelivery: 3 facts were lost) and closes the gap; bringing it back
// again changes nothing.
func TestGapIsRecordedAndFilled(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	if _, err := r.p.Process(ctx, sales(0, 2)); err != nil {
		t.Fatal(err)
	}
	r.down.Store(true)
	if _, err := r.p.Process(ctx, sales(3, 5)); err == nil {
		t.Fatal("the batch succeeded with the warehouse down")
	}
	r.down.Store(false)
	if n := count(t, r.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 3 {
		t.Fatalf("%d facts after the failed batch; want 3 (its load is all or nothing)", n)
	}
	if _, err := r.p.Process(ctx, sales(6, 8)); err != nil {
		t.Fatal(err)
	}
	if g := gapsOf(t, r); g != "[offsets 3-5 of social_sales/0 were never processed]" {
		t.Fatalf("gaps %s", g)
	}
	res, err := r.p.Process(ctx, sales(3, 5))
	if err != nil {
		t.Fatal(err)
	}
	if tr := res.Topics["social_sales"]; tr.Counts != (port.Counts{Received: 3, Loaded: 3}) || tr.Redelivered != 0 {
		t.Fatalf("the failed batch brought back: %+v; want 3 received and loaded", tr)
	}
	if g := gapsOf(t, r); g != "[]" {
		t.Fatalf("gaps after the failed batch came back: %s", g)
	}
	if n := count(t, r.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 9 {
		t.Fatalf("%d facts; want 9", n)
	}
	before := r.state.dump(t)
	for _, b := range [][]port.Message{sales(3, 5), sales(0, 8)} {
		res, err := r.p.Process(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if tr := res.Topics["social_sales"]; tr.Counts != (port.Counts{}) || tr.Redelivered != int64(len(b)) {
			t.Fatalf("redelivery of %d records: %+v", len(b), tr)
		}
	}
	diffMaps(t, "window state after redeliveries", r.state.dump(t), before)
}

// TestFirstBatchOfAPartitionFailed: the first batch of a partition fails
// until the on-failure destination, so the ledger first sees the
// partition at offset 3. Offsets below that are not accounted: the failed
// batch comes back and is processed. A batch below the first one seen
// that ends short of it leaves the offsets between as a gap.
func TestFirstBatchOfAPartitionFailed(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	r.down.Store(true)
	if _, err := r.p.Process(ctx, sales(0, 2)); err == nil {
		t.Fatal("the batch succeeded with the warehouse down")
	}
	r.down.Store(false)
	if _, err := r.p.Process(ctx, sales(6, 8)); err != nil {
		t.Fatal(err)
	}
	if g := gapsOf(t, r); g != "[]" {
		t.Fatalf("gaps at the first offsets seen: %s; want none (a partition need not start at 0)", g)
	}
	res, err := r.p.Process(ctx, sales(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Topics["social_sales"].Counts; c != (port.Counts{Received: 3, Loaded: 3}) {
		t.Fatalf("the failed first batch brought back: %s; want 3 loaded", c)
	}
	if g := gapsOf(t, r); g != "[offsets 3-5 of social_sales/0 were never processed]" {
		t.Fatalf("gaps %s", g)
	}
	if _, err := r.p.Process(ctx, sales(3, 5)); err != nil {
		t.Fatal(err)
	}
	res, err = r.p.Process(ctx, sales(0, 8))
	if err != nil {
		t.Fatal(err)
	}
	if g, tr := gapsOf(t, r), res.Topics["social_sales"]; g != "[]" || tr.Redelivered != 9 || tr.Counts.Received != 0 {
		t.Fatalf("gaps %s, redelivery %+v", g, tr)
	}
	if n := count(t, r.wh, "SELECT COUNT(*) FROM FACT_SOCIAL_SALES"); n != 9 {
		t.Fatalf("%d facts; want 9", n)
	}
}

// TestQuarantineReplayOfAFailedBatch: the failed attempts of a batch left
// its rejects in quarantine. A quarantine replay leaves the ones in the
// gap pending (the failed batch's replay accounts them); once the failed
// batch came back, after the fix, its record is loaded by it and the
// stale quarantine copy leaves quarantine without being applied again.
func TestQuarantineReplayOfAFailedBatch(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	failed := []port.Message{socialAt(3, "m3", "Myspace", 3, 100), socialAt(4, "s4", "Instagram", 4, 100)}
	if _, err := r.p.Process(ctx, sales(0, 2)); err != nil {
		t.Fatal(err)
	}
	r.down.Store(true)
	if _, err := r.p.Process(ctx, failed); err == nil {
		t.Fatal("the batch succeeded with the warehouse down")
	}
	r.down.Store(false)
	if _, err := r.p.Process(ctx, sales(5, 6)); err != nil {
		t.Fatal(err)
	}
	defer dataset.AddPlatform("Myspace")()
	rr, err := r.p.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Files) != 1 || rr.Files[0].Pending != 1 || rr.Files[0].Counts.Received != 0 {
		t.Fatalf("quarantine replay with the record in a gap: %+v; want it pending", rr.Files)
	}
	res, err := r.p.Process(ctx, failed)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Topics["social_sales"].Counts; c != (port.Counts{Received: 2, Loaded: 2}) {
		t.Fatalf("the failed batch after the fix: %s; want 2 loaded", c)
	}
	rr, err = r.p.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Files) != 1 || rr.Files[0].Finished != 1 || rr.Files[0].Counts.Received != 0 {
		t.Fatalf("quarantine replay of the stale copy: %+v; want it taken out, not applied", rr.Files)
	}
	if q := quarantineLines(t, r); q != "" {
		t.Fatalf("quarantine left: %q", q)
	}
	checkRows(t, r, "SELECT PLATFORM, EVENTS FROM SOCIAL_PLATFORM_METRICS WHERE WINDOW_START = TIMESTAMP '2024-02-03 12:00:00' ORDER BY PLATFORM",
		"[[Instagram 4] [Myspace 1]]")
}

// step is one batch at a processing time (after the rig's start); fails:
// the warehouse is down, and the batch must fail.
type step struct {
	name  string
	msgs  []port.Message
	at    time.Duration
	fails bool
	err   error // the batch must fail with this error (errors.Is)
}

// runSteps runs steps on r, then flushes.
func runSteps(t *testing.T, r *rig, steps []step) {
	t.Helper()
	ctx := context.Background()
	start := r.now
	for _, st := range steps {
		r.now = start.Add(st.at)
		r.down.Store(st.fails)
		_, err := r.p.Process(ctx, st.msgs)
		switch {
		case st.err != nil && !errors.Is(err, st.err):
			t.Fatalf("%s at +%s: %v; want %v", st.name, st.at, err, st.err)
		case st.fails && err == nil:
			t.Fatalf("%s at +%s: succeeded with the warehouse down", st.name, st.at)
		case !st.fails && st.err == nil && err != nil:
			t.Fatalf("%s at +%s: %v", st.name, st.at, err)
		}
	}
	r.down.Store(false)
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// sameAsClean compares warehouse, window state (versions included),
// dedupe keys and objects of two rigs.
func sameAsClean(t *testing.T, got, clean *rig) {
	t.Helper()
	diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, got.wh)), joinRows(dumpWarehouse(t, clean.wh)))
	diffMaps(t, "window state", got.state.dump(t), clean.state.dump(t))
	diffMaps(t, "dedupe keys", got.dedupe.Claims(), clean.dedupe.Claims())
	diffMaps(t, "objects", got.objects.Snapshot(), clean.objects.Snapshot())
}

// socialStream is the social_sales part of a seeded stream: n messages at
// offsets 0..n-1 of partition 0, with late and malformed ones.
func socialStream(t *testing.T, n int) []port.Message {
	t.Helper()
	msgs, _ := simMessages(t, sim.Config{Seed: 21, Rate: 0.5, MaxEvents: 2500, LatePct: 4, MalformedPct: 3,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	var social []port.Message
	for _, m := range msgs {
		if m.Topic == "social_sales" {
			social = append(social, m)
		}
	}
	if len(social) < n {
		t.Fatalf("%d social_sales messages; want %d", len(social), n)
	}
	return social[:n]
}

// TestReproducedAfterClaimDeadline is the scenario-matrix cell "a stream
// batch failing until the on-failure destination" x "the messages
// produced again at new offsets", as on AWS, where nothing tells the
// stream path the mapping gave the batch up: its dedupe claims stay
// pending until Config.ClaimTimeout. Before that deadline the re-produced
// records are held (ErrClaimHeld: their batch is retried); after it they
// are fresh and loaded; the failed batch, replayed last, is then all
// duplicates (and rejects: its malformed messages are rejected again).
//
// One clean run over the final input is those messages processed once
// each, in the order their effect landed, at the same processing times:
// offsets 0-39, 80-119 (the later batch), the copies 120-159 (of 40-79),
// then 40-79. For the windowed metrics (SOCIAL_PLATFORM_METRICS,
// SOCIAL_CITY_METRICS, 5-minute windows) that means: the copies arrive
// after the watermark passed the windows of the events they carry, so they
// are late in both runs (loaded into FACT_SOCIAL_SALES; each window they
// missed is a PULSE_LATE_EVENTS row), where a run in which 40-79 had not
// failed would have counted them in their windows.
func TestReproducedAfterClaimDeadline(t *testing.T) {
	social := socialStream(t, 120)
	copies := make([]port.Message, 40)
	for i := range copies {
		copies[i] = social[40+i]
		copies[i].Offset = 120 + int64(i)
	}
	timeout := 10 * time.Minute
	cfg := stream.Config{IdleTimeout: -1, ClaimTimeout: timeout}
	clean := newRig(t, cfg)
	runSteps(t, clean, []step{
		{name: "0-39", msgs: social[:40]},
		{name: "80-119", msgs: social[80:], at: time.Minute},
		{name: "copies", msgs: copies, at: timeout + 2*time.Minute},
		{name: "40-79", msgs: social[40:80], at: timeout + 3*time.Minute},
	})
	r := newRig(t, cfg)
	runSteps(t, r, []step{
		{name: "0-39", msgs: social[:40]},
		{name: "40-79", msgs: social[40:80], fails: true},
		{name: "40-79 retried", msgs: social[40:80], at: time.Second, fails: true},
		{name: "80-119", msgs: social[80:], at: time.Minute},
		{name: "copies before the claim deadline", msgs: copies, at: timeout, err: port.ErrClaimHeld},
		{name: "copies", msgs: copies, at: timeout + 2*time.Minute},
		{name: "40-79", msgs: social[40:80], at: timeout + 3*time.Minute},
	})
	sameAsClean(t, r, clean)
	if g := gapsOf(t, r); g != "[]" {
		t.Fatalf("gaps %s", g)
	}
	checkCopies(t, r, 40, 79, 120, 159)
}

// checkCopies checks the manifests of the failed batch (offsets first to
// last) replayed after its copies (copyFirst to copyLast) were loaded: the
// copies are loaded but the R malformed ones, rejected; the originals are
// then R rejects and 40 - R duplicates; the copies' events are late in
// windows the watermark had passed (PULSE_LATE_EVENTS rows by ORIGIN).
func checkCopies(t *testing.T, r *rig, first, last, copyFirst, copyLast int64) {
	t.Helper()
	n := last - first + 1
	rejected := count(t, r.wh, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE DATASET = 'social_sales' AND ROW_POS BETWEEN ? AND ?", first, last)
	if rejected == 0 || rejected != count(t, r.wh, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE DATASET = 'social_sales' AND ROW_POS BETWEEN ? AND ?", copyFirst, copyLast) {
		t.Fatalf("%d rejects among the originals: want some, as many as among the copies", rejected)
	}
	manifest := func(src string) string {
		_, rows, err := r.wh.Query(context.Background(), "SELECT RECEIVED, LOADED, REJECTED, DUPLICATE FROM PULSE_MANIFESTS WHERE SOURCE = ?", src)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	src := func(a, b int64) string { return fmt.Sprintf("kafka://social_sales/0@%d-%d", a, b) }
	if got, want := manifest(src(copyFirst, copyLast)), fmt.Sprint([][]any{{n, n - rejected, rejected, int64(0)}}); got != want {
		t.Errorf("manifest of the copies %s; want %s", got, want)
	}
	if got, want := manifest(src(first, last)), fmt.Sprint([][]any{{n, int64(0), rejected, n - rejected}}); got != want {
		t.Errorf("manifest of the replayed originals %s; want %s", got, want)
	}
	var origins []string
	for o := copyFirst; o <= copyLast; o++ {
		origins = append(origins, fmt.Sprintf("'social_sales/0/%d'", o))
	}
	if late := count(t, r.wh, "SELECT COUNT(*) FROM PULSE_LATE_EVENTS WHERE ORIGIN IN ("+strings.Join(origins, ", ")+")"); late == 0 {
		t.Error("no copy is late: the windows of their events were still open, the test would prove little")
	}
}

// dyingStore is the window-state store as a process sees it that is
// killed at some point: from then on none of its writes lands (it cannot
// give its leases back).
type dyingStore struct {
	*namedStore
	dead atomic.Bool
}

func (s *dyingStore) Save(ctx context.Context, name string, state []byte, v int64) error {
	if s.dead.Load() {
		return errors.New("the process was killed")
	}
	return s.namedStore.Save(ctx, name, state, v)
}

// TestLeaseTakeoverAfterCrash: a process is killed in the middle of a
// batch, leaving the leases of its processors held for Config.LeaseTTL (2
// minutes). The redelivery, in another process, with another batch size
// (so the batches hold other records than the killed one), starts in each
// partition where the killed batch started: it takes the leases over at
// once (the clock does not move), and the results equal one clean run's
// over the same batches. Before, the lease owner was a digest of every
// position in the batch, and the redelivery waited out the lease.
func TestLeaseTakeoverAfterCrash(t *testing.T) {
	// Killed before the warehouse load (apply), and after it landed but
	// before the state was saved (merge): the redelivery, in other batch
	// boundaries, must not count the killed batch's records twice.
	for _, step := range []string{stream.StepApply, stream.StepMerge} {
		t.Run(step, func(t *testing.T) { leaseTakeoverAfterCrash(t, step, stream.LoadMerge) })
	}
}

// leaseTakeoverAfterCrash runs the killed process and the redelivery in
// the load mode given; the clean run is always the merge mode's.
func leaseTakeoverAfterCrash(t *testing.T, killStep string, mode stream.LoadMode) {
	ctx := context.Background()
	msgs, _ := simMessages(t, sim.Config{Seed: 5, Rate: 0.5, MaxEvents: 300, DuplicatePct: 4, LatePct: 4, MalformedPct: 2,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	cfg := stream.Config{IdleTimeout: -1}
	first, rest := batches(msgs[:200], 100), batches(msgs[200:], 15)

	clean := newRig(t, cfg)
	for _, b := range append(append([][]port.Message{}, first...), rest...) {
		if _, err := clean.p.Process(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := clean.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	cfg.LoadMode = mode
	r := newRig(t, cfg)
	dying := &dyingStore{namedStore: r.state}
	killAt := ""
	killed, err := stream.New(stream.Env{Store: r.objects, Dedupe: r.dedupe, Warehouse: r.wh, Appender: r.app, State: dying, Decoder: avro.NewDecoder(nil),
		Buckets: buckets, Config: cfg, Now: func() time.Time { return r.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Failpoint: func(step string) error {
			if step == killAt {
				dying.dead.Store(true)
				return errors.New("killed")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range first {
		if _, err := killed.Process(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	killAt = killStep
	if _, err := killed.Process(ctx, msgs[200:300]); err == nil {
		t.Fatal("the killed batch succeeded")
	}
	held := 0
	r.state.mu.Lock()
	for name := range r.state.names {
		if b, _, _ := r.state.Load(ctx, name); strings.Contains(name, "/lease/") && !strings.Contains(string(b), `"owner":""`) {
			held++
		}
	}
	r.state.mu.Unlock()
	if held == 0 {
		t.Fatal("the killed process left no lease held: the test would prove little")
	}
	for i, b := range rest {
		if _, err := r.p.Process(ctx, b); err != nil {
			t.Fatalf("batch %d of the redelivery (clock unchanged): %v", i, err)
		}
	}
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if mode == stream.LoadSnowpipe {
		checkSnowpipeDone(t, r)
	}
	diffMaps(t, "warehouse", joinRows(dumpWarehouse(t, r.wh)), joinRows(dumpWarehouse(t, clean.wh)))
	diffMaps(t, "window state", r.state.dump(t), clean.state.dump(t))
	diffMaps(t, "dedupe keys", r.dedupe.Claims(), clean.dedupe.Claims())
	// The killed attempt archived its raw records under its own offsets
	// (stream/<topic>/partition=0/<first>-<last>.ndjson): those objects are
	// extra, and nothing else is.
	got, want := r.objects.Snapshot(), clean.objects.Snapshot()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("object %s differs from the clean run's", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, buckets.Raw+"/stream/") {
			t.Errorf("extra object %s", k)
		}
	}
}
