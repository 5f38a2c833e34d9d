package stream_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

var buckets = pipeline.Buckets{Raw: "raw", Staging: "staging", Curated: "curated", Quarantine: "quarantine"}

// namedStore is a memory.WindowStore that remembers the names it holds.
type namedStore struct {
	*memory.WindowStore
	mu    sync.Mutex
	names map[string]bool
}

func (s *namedStore) Save(ctx context.Context, name string, state []byte, v int64) error {
	s.mu.Lock()
	s.names[name] = true
	s.mu.Unlock()
	return s.WindowStore.Save(ctx, name, state, v)
}

func (s *namedStore) dump(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name := range s.names {
		if strings.Contains(name, "/lease/") {
			continue // leases are taken and given back: not window state
		}
		b, v, err := s.Load(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = fmt.Sprintf("v%d %s", v, b)
	}
	return out
}

// rig is one stream path on in-process parts: DuckDB in memory, the
// in-memory dedupe, window-state and object stores, a fixed clock (the
// dedupe store's too, so claim deadlines are on it).
type rig struct {
	p       *stream.Pipeline
	wh      *duckdb.Warehouse
	dedupe  *memory.Dedupe
	state   *namedStore
	objects *memory.Objects
	fail    func(step string) error
	now     time.Time
	down    atomic.Bool // the warehouse fails every load (downWarehouse)
}

// downWarehouse is the rig's warehouse, which can be down: a load then
// stages its rows and fails to commit, leaving every table as it was.
type downWarehouse struct {
	*duckdb.Warehouse
	down *atomic.Bool
}

func (w downWarehouse) BeginLoad(ctx context.Context) (pipeline.Loader, error) {
	ld, err := w.Warehouse.BeginLoad(ctx)
	if err != nil {
		return nil, err
	}
	return downLoader{Loader: ld, down: w.down}, nil
}

type downLoader struct {
	pipeline.Loader
	down *atomic.Bool
}

func (l downLoader) Commit(ctx context.Context) (map[string]int, error) {
	if l.down.Load() {
		return nil, errors.New("warehouse unreachable")
	}
	return l.Loader.Commit(ctx)
}

func newRig(t *testing.T, cfg stream.Config) *rig {
	t.Helper()
	wh := duckdbtest.New(t)
	r := &rig{wh: wh, state: &namedStore{WindowStore: memory.NewWindowStore(), names: map[string]bool{}},
		objects: memory.NewObjects(), now: time.Date(2024, 2, 3, 12, 0, 0, 0, time.UTC)}
	r.dedupe = memory.NewDedupeWith(memory.DedupeOptions{Now: func() time.Time { return r.now }})
	var err error
	r.p, err = stream.New(stream.Env{
		Store: r.objects, Dedupe: r.dedupe, Warehouse: downWarehouse{wh, &r.down}, State: r.state, Decoder: avro.NewDecoder(nil),
		Buckets: buckets, Config: cfg, Now: func() time.Time { return r.now },
		Failpoint: func(step string) error {
			if r.fail != nil {
				return r.fail(step)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// simMessages generates a seeded JSON stream and numbers it like Kafka
// would: one partition per topic (partition 0), offsets from 0.
func simMessages(t *testing.T, cfg sim.Config) ([]pipeline.Message, []sim.Event) {
	t.Helper()
	g := sim.NewGenerator(cfg)
	offsets := map[string]int64{}
	var msgs []pipeline.Message
	var evs []sim.Event
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, pipeline.Message{Topic: ev.Topic, Offset: offsets[ev.Topic], Key: ev.Key, Value: ev.Value,
			Timestamp: g.Clock().UnixMilli()})
		offsets[ev.Topic]++
		evs = append(evs, ev)
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs, evs
}

// batches cuts msgs into batches of n, each sorted like a Kafka event.
func batches(msgs []pipeline.Message, n int) [][]pipeline.Message {
	var out [][]pipeline.Message
	for start := 0; start < len(msgs); start += n {
		b := append([]pipeline.Message(nil), msgs[start:min(start+n, len(msgs))]...)
		sort.SliceStable(b, func(i, j int) bool {
			if b[i].Topic != b[j].Topic {
				return b[i].Topic < b[j].Topic
			}
			if b[i].Partition != b[j].Partition {
				return b[i].Partition < b[j].Partition
			}
			return b[i].Offset < b[j].Offset
		})
		out = append(out, b)
	}
	return out
}

// dumpWarehouse renders every table, rows sorted, for comparisons.
func dumpWarehouse(t *testing.T, wh *duckdb.Warehouse) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range dataset.Tables() {
		_, rows, err := wh.Query(context.Background(), "SELECT * FROM "+tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, fmt.Sprint(r...))
		}
		sort.Strings(lines)
		out[tb.Name] = lines
	}
	return out
}

func count(t *testing.T, wh *duckdb.Warehouse, q string, args ...any) int64 {
	t.Helper()
	_, rows, err := wh.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	switch v := rows[0][0].(type) {
	case int64:
		return v
	case nil:
		return 0
	}
	t.Fatalf("%s: %T", q, rows[0][0])
	return 0
}

func diffMaps[V comparable](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var bad []string
	for k := range keys {
		if got[k] != want[k] {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		k := bad[0]
		t.Errorf("%s: %d entries differ, first %s:\n got  %v\n want %v", what, len(bad), k, clip(fmt.Sprint(got[k])), clip(fmt.Sprint(want[k])))
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

func joinRows(m map[string][]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = strings.Join(v, "\n")
	}
	return out
}
