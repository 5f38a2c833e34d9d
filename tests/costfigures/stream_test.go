package costfigures

import (
	"context"
	"math"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/cost"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// streamEvents is the measured stream: 20,000 events of every topic from
// the seeded simulator, with its dirt (2% duplicates, 2% late, 1%
// malformed), cut per topic into batches of the topic's batch size in
// cost.DefaultAssumptions (as each topic's event-source mapping on AWS
// delivers them), the topics' batches interleaved.
func streamEvents(t testing.TB) (batches [][]pipeline.Message, events int, valueBytes int64) {
	t.Helper()
	batchSize := map[string]int{}
	for _, g := range cost.DefaultAssumptions().TopicGroups {
		for _, tp := range g.Names {
			batchSize[tp] = g.BatchSize
		}
	}
	g := sim.NewGenerator(sim.Config{Seed: 7, Rate: 200, MaxEvents: 20000, DuplicatePct: 2, LatePct: 2, MalformedPct: 1,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	byTopic := map[string][]pipeline.Message{}
	var order []string
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if _, seen := byTopic[ev.Topic]; !seen {
			order = append(order, ev.Topic)
		}
		byTopic[ev.Topic] = append(byTopic[ev.Topic], pipeline.Message{Topic: ev.Topic, Offset: int64(len(byTopic[ev.Topic])), Value: ev.Value})
		events++
		valueBytes += int64(len(ev.Value))
	}
	for _, tp := range order {
		if batchSize[tp] == 0 {
			t.Fatalf("topic %s is in no topic group of cost.DefaultAssumptions", tp)
		}
	}
	for more := true; more; {
		more = false
		for _, tp := range order {
			if ms := byTopic[tp]; len(ms) > 0 {
				n := min(batchSize[tp], len(ms))
				batches = append(batches, ms[:n])
				byTopic[tp] = ms[n:]
				more = true
			}
		}
	}
	return batches, events, valueBytes
}

type streamRun struct {
	obj     *objects
	dd      *dedupe
	st      *states
	wh      *warehouse
	p       *stream.Pipeline
	batches int
	events  int
	bytes   int64
}

func newStreamRun(t testing.TB) (*streamRun, [][]pipeline.Message) {
	batches, events, bytes := streamEvents(t)
	r := &streamRun{obj: newObjects(memory.NewObjects()), dd: &dedupe{Dedupe: memory.NewDedupe()},
		st: &states{Store: memory.NewWindowStore()}, wh: newWarehouse(), batches: len(batches), events: events, bytes: bytes}
	clock := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	p, err := stream.New(stream.Env{Store: r.obj, Dedupe: r.dd, Warehouse: r.wh, State: r.st,
		Decoder: avro.NewDecoder(nil), Buckets: pipeline.Buckets{Raw: "raw", Quarantine: "quarantine"},
		Config: stream.Config{IdleTimeout: -1}, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	return r, batches
}

// upserted reports whether a stream table is upserted (MERGE by key with
// later versions of a row) rather than appended: window metrics, sessions,
// users and dimensions.
func upserted(table string) bool {
	return strings.HasPrefix(table, "DIM_") || strings.Contains(table, "METRICS") ||
		strings.Contains(table, "SESSIONS") || strings.Contains(table, "USERS")
}

// TestStreamFigures runs the measured stream through the stream use case
// and checks the per-event and per-batch figures in cost.Figures.
func TestStreamFigures(t *testing.T) {
	ctx := context.Background()
	r, batches := newStreamRun(t)
	for _, b := range batches {
		if _, err := r.p.Process(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	nb, ne := float64(r.batches), float64(r.events)
	var appendRows, upsertRows, appendBytes, upsertBytes int64
	var names []string
	for n := range r.wh.rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if upserted(n) {
			upsertRows += r.wh.rows[n]
			upsertBytes += r.wh.valueBytes[n]
		} else {
			appendRows += r.wh.rows[n]
			appendBytes += r.wh.valueBytes[n]
		}
		t.Logf("table %-32s upserted=%-5v rows/event %.4f value bytes/event %.1f", n, upserted(n), float64(r.wh.rows[n])/ne, float64(r.wh.valueBytes[n])/ne)
	}
	got := cost.StreamFigures{
		KafkaBytesPerEvent:         round(float64(r.bytes)/ne, 1),
		ArchiveBytesPerEvent:       round(float64(r.obj.putBytes["raw"])/ne, 1),
		S3PutsPerBatch:             round(float64(r.obj.puts)/nb, 3),
		DedupeWritesPerEvent:       round(float64(r.dd.distinctKeys)/ne, 3),
		DedupeWritesPerBatch:       round(float64(r.dd.begins+r.dd.commits+r.dd.abort)/nb, 3),
		DedupeReadsPerBatch:        round(float64(r.dd.states)/nb, 3),
		DedupeItemBytes:            round(float64(r.dd.itemBytes)/float64(r.dd.distinctKeys), 0),
		StateLoadsPerBatch:         round(float64(r.st.loads)/nb, 3),
		StateRCUPerBatch:           round(float64(r.st.loadUnits)/nb, 3),
		StateSavesPerBatch:         round(float64(r.st.saves)/nb, 3),
		StateWCUPerBatch:           round(float64(r.st.saveUnits)/nb, 3),
		LeaseWritesPerBatch:        round(float64(r.st.leaseSaves)/nb, 3),
		LeaseRCUPerBatch:           round(float64(r.st.leaseLoadUnits)/nb, 3),
		MergesPerBatch:             round(float64(r.wh.merges)/nb, 3),
		LoadsPerBatch:              round(float64(r.wh.loads)/nb, 3),
		TablesPerLoad:              round(float64(r.wh.tablesStaged)/float64(max(r.wh.loads, 1)), 3),
		QueriesPerBatch:            round(float64(r.wh.queries)/nb, 3),
		AppendRowsPerEvent:         round(float64(appendRows)/ne, 3),
		AppendValueBytesPerEvent:   round(float64(appendBytes)/ne, 1),
		UpsertRowsPerEvent:         round(float64(upsertRows)/ne, 3),
		UpsertValueBytesPerEvent:   round(float64(upsertBytes)/ne, 1),
		EventsPerMeasuredBatch:     round(ne/nb, 1),
		StateSaveBytesPerBatchMean: round(float64(r.st.saveBytes)/float64(max(r.st.saves, 1)), 0),
	}
	// One idle tick, as the schedule invokes the function once a minute.
	before := struct {
		loads, leaseSaves                    int
		loadUnits, saveUnits, leaseLoadUnits int64
	}{
		r.st.loads, r.st.leaseSaves, r.st.loadUnits, r.st.saveUnits, r.st.leaseLoadUnits}
	beforeWH := r.wh.merges
	if _, err := r.p.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	got.TickStateLoads = float64(r.st.loads - before.loads)
	got.TickStateRCU = float64(r.st.loadUnits - before.loadUnits)
	got.TickStateWCU = float64(r.st.saveUnits - before.saveUnits)
	got.TickLeaseWrites = float64(r.st.leaseSaves - before.leaseSaves)
	got.TickLeaseRCU = float64(r.st.leaseLoadUnits - before.leaseLoadUnits)
	got.TickMerges = float64(r.wh.merges - beforeWH)

	t.Logf("measured over %d events in %d batches: %+v", r.events, r.batches, got)
	if want := cost.Figures.Stream; got != want {
		t.Errorf("the stream's measured figures differ from cost.Figures.Stream (update shared/cost/figures.go with them):\n got %+v\nwant %+v", got, want)
	}
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// BenchmarkStreamCPU reports the CPU time (user + system, getrusage) one
// stream event costs through decode, clean, dedupe, windows and sessions,
// archive and the staging of its rows (the warehouse itself excluded), on
// one core: the per-event part of the stream function's duration.
//
//	go test -tags minicore_disabled ./tests/costfigures -run '^$' -bench BenchmarkStreamCPU -benchtime 5x -cpu 1
func BenchmarkStreamCPU(b *testing.B) {
	ctx := context.Background()
	var cpu time.Duration
	events := 0
	for range b.N {
		b.StopTimer()
		r, batches := newStreamRun(b)
		b.StartTimer()
		start := cpuTime()
		for _, batch := range batches {
			if _, err := r.p.Process(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		cpu += cpuTime() - start
		events += r.events
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
