package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

const mskARN = "arn:aws:kafka:us-east-1:000000000000:cluster/pulse/x"

// failRig is the stream function on in-process parts, with a warehouse
// that can be down, and the on-failure destination in the same object
// store's raw bucket, as the local stack wires them.
type failRig struct {
	h       *handlers.Stream
	wh      *duckdb.Warehouse
	dedupe  *memory.Dedupe
	state   *memory.WindowStore
	objects *memory.Objects
	dest    handlers.FailedBatches
	down    atomic.Bool
}

type downWarehouse struct {
	*duckdb.Warehouse
	down *atomic.Bool
}

func (w downWarehouse) BeginLoad(ctx context.Context) (pipeline.Loader, error) {
	if w.down.Load() {
		return nil, errors.New("warehouse unreachable")
	}
	return w.Warehouse.BeginLoad(ctx)
}

func newFailRig(t *testing.T) *failRig {
	t.Helper()
	now := time.Date(2024, 2, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := &failRig{wh: duckdbtest.New(t), dedupe: memory.NewDedupeWith(memory.DedupeOptions{Now: clock}), state: memory.NewWindowStore(), objects: memory.NewObjects()}
	p, err := stream.New(stream.Env{Store: r.objects, Dedupe: r.dedupe, Warehouse: downWarehouse{r.wh, &r.down}, State: r.state,
		Decoder: avro.NewDecoder(nil), Buckets: pipeline.Buckets{Raw: "raw", Quarantine: "quarantine"},
		Config: stream.Config{IdleTimeout: -1}, Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.h = &handlers.Stream{Pipeline: p}
	r.dest = handlers.FailedBatches{Store: r.objects, Bucket: "raw", Now: clock}
	return r
}

// deliver hands a batch to the handler as the mapping would: up to
// attempts invocations; when all fail, the on-failure destination gets it.
func (r *failRig) deliver(t *testing.T, msgs []pipeline.Message, attempts int) (gaveUp bool) {
	t.Helper()
	ctx := context.Background()
	e := awsevents.NewKafkaEvent(mskARN, msgs)
	var err error
	for range attempts {
		if _, err = r.h.Handle(ctx, e); err == nil {
			return false
		}
	}
	if err := r.h.GiveUp(ctx, r.dest, e, err, attempts); err != nil {
		t.Fatal(err)
	}
	return true
}

// outcome is everything the run left: every table, the window state, the
// dedupe keys and the objects.
func (r *failRig) outcome(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, tb := range dataset.Tables() {
		_, rows, err := r.wh.Query(ctx, "SELECT * FROM "+tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, row := range rows {
			lines = append(lines, fmt.Sprint(row...))
		}
		sort.Strings(lines)
		out["table "+tb.Name] = strings.Join(lines, "\n")
	}
	for _, name := range []string{"social_platform_metrics", "pageview_window_metrics"} {
		b, v, err := r.state.Load(ctx, "stream/"+name)
		if err != nil {
			t.Fatal(err)
		}
		out["state "+name] = fmt.Sprintf("v%d %s", v, b)
	}
	for k, v := range r.dedupe.Claims() {
		out["claim "+k] = v
	}
	for k, v := range r.objects.Snapshot() {
		out["object "+k] = v
	}
	return out
}

func sameOutcome(t *testing.T, got, want map[string]string) {
	t.Helper()
	var bad []string
	for k := range want {
		if got[k] != want[k] {
			bad = append(bad, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		k := bad[0]
		t.Errorf("%d entries differ from the clean run, first %s:\n got  %.600s\n want %.600s", len(bad), k, got[k], want[k])
	}
}

// topics are the two topics of the scenario: social_sales (5-minute
// platform and city windows) and pageviews (tumbling, hopping and session
// windows per page source).
var topics = []string{"pageviews", "social_sales"}

// scenarioStream is a seeded JSON stream of the two topics, 120 messages
// each at offsets 0-119 of partition 0, with late and malformed messages
// and duplicates (the same event again at a later offset).
func scenarioStream(t *testing.T) map[string][]pipeline.Message {
	t.Helper()
	g := sim.NewGenerator(sim.Config{Seed: 12, Rate: 0.5, MaxEvents: 2500, DuplicatePct: 3, LatePct: 4, MalformedPct: 3,
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
		out[ev.Topic] = append(out[ev.Topic], pipeline.Message{Topic: ev.Topic, Offset: int64(len(out[ev.Topic])), Key: ev.Key, Value: ev.Value,
			Timestamp: g.Clock().UnixMilli()})
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		if len(out[tp]) != 120 {
			t.Fatalf("%d %s messages; want 120", len(out[tp]), tp)
		}
	}
	return out
}

// TestFailedBatchRecoveries is the stream column of the scenario matrix:
// "a stream batch failing until the on-failure destination" (social_sales
// offsets 40-79, the warehouse down at its merge for all 3 attempts; the
// local stack's mapping then keeps it under _failed-batches/ in the raw bucket
// and releases its claims, and goes on) x each recovery. Later batches
// proceed meanwhile. After each, warehouse (every table: facts,
// dimensions, metrics, PULSE_REJECTS, PULSE_LATE_EVENTS, PULSE_MANIFESTS),
// window state (versions included), dedupe keys and objects must equal one
// clean run over the final input: the same messages handled once each, in
// the order their effect landed, so
//
//   - replayed (`pulse replay --failed`): social_sales 0-39, pageviews
//     0-39, pageviews 40-79, social_sales 80-119, pageviews 80-119, then
//     social_sales 40-79. For the windowed metrics the replayed records
//     arrive after the watermark of social_sales passed their 5-minute
//     windows: in both runs they are late, loaded into FACT_SOCIAL_SALES,
//     each missed window a PULSE_LATE_EVENTS row, and the FINAL window rows
//     do not count them (a run where 40-79 never failed would);
//   - re-produced: the same messages produced again at offsets 120-159,
//     handled after the others (late as above, and loaded: the failed
//     batch's claims were released when it was given up, so they are not
//     held up); then the failed batch replayed as well: its records are
//     duplicates of their copies (and its malformed ones rejects);
//   - redelivered: the mapping crashed before committing past the batch
//     it had given up, so it delivers the same batch again, now with the
//     warehouse up: one clean run is every batch in offset order; the
//     kept batch, replayed afterwards, is all redeliveries and goes.
func TestFailedBatchRecoveries(t *testing.T) {
	ctx := context.Background()
	in := scenarioStream(t)
	social, views := in["social_sales"], in["pageviews"]
	copies := make([]pipeline.Message, 40)
	for i := range copies {
		copies[i] = social[40+i]
		copies[i].Offset = 120 + int64(i)
	}
	before := [][]pipeline.Message{social[:40], views[:40]}
	after := [][]pipeline.Message{views[40:80], social[80:], views[80:]}
	deliverAll := func(t *testing.T, r *failRig, bs ...[]pipeline.Message) {
		t.Helper()
		for _, b := range bs {
			if r.deliver(t, b, 3) {
				t.Fatalf("batch %s/%d-%d failed", b[0].Topic, b[0].Offset, b[len(b)-1].Offset)
			}
		}
	}
	// failing runs the batches before, social_sales 40-79 with the
	// warehouse down until the on-failure destination, and the batches after.
	failing := func(t *testing.T) *failRig {
		r := newFailRig(t)
		deliverAll(t, r, before...)
		r.down.Store(true)
		if !r.deliver(t, social[40:80], 3) {
			t.Fatal("the batch succeeded with the warehouse down")
		}
		r.down.Store(false)
		kept, err := r.dest.List(ctx)
		if err != nil || len(kept) != 1 || kept[0].Key != "_failed-batches/social_sales/0/00000000000000000040-00000000000000000079.json" ||
			kept[0].Records != 40 || kept[0].Attempts != 3 || !strings.Contains(kept[0].Error, "warehouse unreachable") {
			t.Fatalf("kept failed batches %+v, %v", kept, err)
		}
		deliverAll(t, r, after...)
		gaps, err := r.h.Pipeline.Gaps(ctx)
		if err != nil || fmt.Sprint(gaps) != "[offsets 40-79 of social_sales/0 were never processed]" {
			t.Fatalf("gaps %v, %v", gaps, err)
		}
		return r
	}
	replay := func(t *testing.T, r *failRig, want pipeline.Counts, redelivered int64) {
		t.Helper()
		res, err := r.h.ReplayFailed(ctx, r.dest)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) != 1 || res.Batches[0].Counts != want || res.Batches[0].Redelivered != redelivered || len(res.Gaps) != 0 {
			t.Fatalf("replay of the failed batch: %+v; want counts %s, %d redelivered, no gap", res, want, redelivered)
		}
		// Running it again finds nothing to do.
		if res, err := r.h.ReplayFailed(ctx, r.dest); err != nil || len(res.Batches) != 0 {
			t.Fatalf("second replay: %+v, %v", res, err)
		}
	}
	// The failed batch's accounting, counted from the data: its malformed
	// messages (not JSON, or failing cleaning) are the rejects.
	var rejected int64
	probe := newFailRig(t)
	deliverAll(t, probe, social[40:80])
	if err := countInto(ctx, probe.wh, "SELECT COUNT(*) FROM PULSE_REJECTS", &rejected); err != nil || rejected == 0 {
		t.Fatalf("%d rejects among social_sales 40-79 (%v): want some, the test would prove less", rejected, err)
	}

	t.Run("replayed", func(t *testing.T) {
		clean := newFailRig(t)
		deliverAll(t, clean, append(append(append([][]pipeline.Message{}, before...), after...), social[40:80])...)
		r := failing(t)
		replay(t, r, pipeline.Counts{Received: 40, Loaded: 40 - rejected, Rejected: rejected, Late: lateIn(t, clean, 40, 79)}, 0)
		sameOutcome(t, r.outcome(t), clean.outcome(t))
	})
	t.Run("reproduced", func(t *testing.T) {
		clean := newFailRig(t)
		deliverAll(t, clean, append(append(append([][]pipeline.Message{}, before...), after...), copies, social[40:80])...)
		r := failing(t)
		deliverAll(t, r, copies)
		replay(t, r, pipeline.Counts{Received: 40, Rejected: rejected, Duplicate: 40 - rejected}, 0)
		sameOutcome(t, r.outcome(t), clean.outcome(t))
	})
	t.Run("redelivered", func(t *testing.T) {
		clean := newFailRig(t)
		deliverAll(t, clean, social[:40], views[:40], social[40:80], views[40:80], social[80:], views[80:])
		r := newFailRig(t)
		deliverAll(t, r, before...)
		r.down.Store(true)
		if !r.deliver(t, social[40:80], 3) {
			t.Fatal("the batch succeeded with the warehouse down")
		}
		r.down.Store(false)
		deliverAll(t, r, social[40:80]) // the mapping did not commit past it
		deliverAll(t, r, after...)
		replay(t, r, pipeline.Counts{}, 40)
		sameOutcome(t, r.outcome(t), clean.outcome(t))
	})
}

// lateIn counts the social_sales records at offsets first..last that
// missed every window they could count in, in a finished run.
func lateIn(t *testing.T, r *failRig, first, last int64) int64 {
	t.Helper()
	var n int64
	if err := countInto(context.Background(), r.wh, fmt.Sprintf("SELECT LATE FROM PULSE_MANIFESTS WHERE SOURCE = 'kafka://social_sales/0@%d-%d'", first, last), &n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no replayed record is late: the windows of its events were still open, the test would prove less")
	}
	return n
}

func countInto(ctx context.Context, wh *duckdb.Warehouse, q string, n *int64) error {
	_, rows, err := wh.Query(ctx, q)
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return fmt.Errorf("%s: %d rows", q, len(rows))
	}
	v, ok := rows[0][0].(int64)
	if !ok {
		return fmt.Errorf("%s: %T", q, rows[0][0])
	}
	*n = v
	return nil
}
