package stepfunctions

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/cost"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

// countingStore counts ObjectStore calls, each one S3 request.
type countingStore struct {
	port.ObjectStore
	mu         sync.Mutex
	puts, gets int // PUT and LIST; GET and HEAD
}

func (s *countingStore) inc(put bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if put {
		s.puts++
	} else {
		s.gets++
	}
}

func (s *countingStore) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	s.inc(true)
	return s.ObjectStore.Put(ctx, bucket, key, body, size)
}

func (s *countingStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	s.inc(false)
	return s.ObjectStore.Get(ctx, bucket, key)
}

func (s *countingStore) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	s.inc(false)
	return s.ObjectStore.Head(ctx, bucket, key)
}

func (s *countingStore) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	s.inc(true)
	return s.ObjectStore.List(ctx, bucket, prefix)
}

// countingDedupe counts dedupe writes as shared/adapters/dynamo makes
// them: one per distinct key of a Claim call, one per Begin, Commit, Abort.
type countingDedupe struct {
	port.Dedupe
	mu             sync.Mutex
	claims, fixed  int
	reads          int
	claimedRecords int
}

func (d *countingDedupe) Begin(ctx context.Context, txn string, deadline time.Time) error {
	d.mu.Lock()
	d.fixed++
	d.mu.Unlock()
	return d.Dedupe.Begin(ctx, txn, deadline)
}

func (d *countingDedupe) Commit(ctx context.Context, txn string) error {
	d.mu.Lock()
	d.fixed++
	d.mu.Unlock()
	return d.Dedupe.Commit(ctx, txn)
}

func (d *countingDedupe) Abort(ctx context.Context, txn string) error {
	d.mu.Lock()
	d.fixed++
	d.mu.Unlock()
	return d.Dedupe.Abort(ctx, txn)
}

func (d *countingDedupe) State(ctx context.Context, txn string) (port.TxnState, error) {
	d.mu.Lock()
	d.reads++
	d.mu.Unlock()
	return d.Dedupe.State(ctx, txn)
}

func (d *countingDedupe) Claim(ctx context.Context, ns, txn string, claims []port.Claim) ([]port.Outcome, error) {
	keys := map[string]bool{}
	for _, c := range claims {
		keys[c.Key] = true
	}
	d.mu.Lock()
	d.claims += len(keys)
	d.claimedRecords += len(claims)
	d.mu.Unlock()
	return d.Dedupe.Claim(ctx, ns, txn, claims)
}

// countingWarehouse counts the warehouse round trips of Load and DataTests
// as the Snowflake adapter makes them: five per Merge (CREATE TEMPORARY
// TABLE, PUT, COPY INTO, MERGE, DROP), per load BEGIN and COMMIT plus five
// per staged table, one per Exec and Query.
type countingWarehouse struct {
	port.Warehouse
	mu         sync.Mutex
	statements int
}

func (w *countingWarehouse) add(n int) {
	w.mu.Lock()
	w.statements += n
	w.mu.Unlock()
}

func (w *countingWarehouse) Merge(ctx context.Context, t table.Schema, rows []table.Row) (int, error) {
	w.add(5)
	return w.Warehouse.Merge(ctx, t, rows)
}

func (w *countingWarehouse) Exec(ctx context.Context, sql string) error {
	w.add(1)
	return w.Warehouse.Exec(ctx, sql)
}

func (w *countingWarehouse) Query(ctx context.Context, sql string, args ...any) ([]string, [][]any, error) {
	w.add(1)
	return w.Warehouse.Query(ctx, sql, args...)
}

func (w *countingWarehouse) BeginLoad(ctx context.Context) (port.Loader, error) {
	l, err := w.Warehouse.BeginLoad(ctx)
	if err != nil {
		return nil, err
	}
	w.add(2) // BEGIN, COMMIT
	return &countingLoader{Loader: l, w: w, tables: map[string]bool{}}, nil
}

type countingLoader struct {
	port.Loader
	w      *countingWarehouse
	tables map[string]bool
}

func (l *countingLoader) Stage(ctx context.Context, t table.Schema, rows []table.Row) error {
	if !l.tables[t.Name] {
		l.tables[t.Name] = true
		l.w.add(5)
	}
	return l.Loader.Stage(ctx, t, rows)
}

func (l *countingLoader) Exec(sql string) {
	l.w.add(1)
	l.Loader.Exec(sql)
}

// TestCostFiguresPerFile drops one generated video_interactions NDJSON
// file through the synthesized batch state machine, every function's
// stores wrapped in counters, and checks cost.Figures.File: state
// transitions (states entered), Lambda invocations, S3 requests, dedupe
// writes, warehouse round trips.
func TestCostFiguresPerFile(t *testing.T) {
	dir, truths := generate(t, 1000)
	var truthName string
	var rows int
	for _, tr := range truths {
		if tr.Dataset == "video_interactions" && filepath.Ext(tr.Name) == ".ndjson" {
			truthName, rows = tr.Name, tr.Rows
		}
	}
	if truthName == "" {
		t.Fatal("batchgen made no video_interactions NDJSON file")
	}
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store := &countingStore{ObjectStore: st.Env.Store}
	dd := &countingDedupe{Dedupe: st.Env.Dedupe}
	wh := &countingWarehouse{Warehouse: st.Env.Warehouse}
	env := *st.Env
	env.Store, env.Dedupe, env.Warehouse = store, dd, wh
	cleanEnv, modelEnv := env, env
	cleanEnv.Warehouse = nil
	modelEnv.Warehouse, modelEnv.Dedupe = nil, nil
	inv, err := NewInvoker(map[string]any{
		"clean":     handlers.Lambda((&handlers.Batch{Env: &cleanEnv}).CleanFunction),
		"model":     handlers.Lambda((&handlers.Batch{Env: &modelEnv}).Model),
		"load":      handlers.Lambda((&handlers.Batch{Env: &env}).Load),
		"datatests": handlers.Lambda((&handlers.Batch{Env: &env}).DataTests),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	sm := machine(t, "PulseBatch/BatchWorkflow")
	starter := &aslStarter{sm: sm, def: sm.Definition, inv: inv, results: map[string]*Result{}}
	trigger := &handlers.Trigger{Starter: starter}
	invocations := 0
	notifying := s3local.NotifyingStore(st.Env.Store, stack.Buckets.Raw, "raw/", func(ctx context.Context, e events.S3Event) error {
		invocations++ // the trigger function
		_, err := trigger.Handle(ctx, e)
		return err
	})
	body := read(t, filepath.Join(dir, truthName))
	if _, err := notifying.Put(ctx, stack.Buckets.Raw, "raw/video_interactions/"+truthName, strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	store.inc(true) // the producer's PUT of the file itself
	if len(starter.order) != 1 {
		t.Fatalf("%d executions started, want 1", len(starter.order))
	}
	res := starter.results[starter.order[0]]
	if res == nil || res.Status != "SUCCEEDED" {
		t.Fatalf("execution %+v", res)
	}
	transitions := 0
	for _, e := range res.Events {
		if e.Type == "StateEntered" && e.ParentState == "" {
			transitions++
		}
	}
	for _, fn := range []string{"clean", "model", "load", "datatests"} {
		invocations += len(inv.Calls(fn))
	}
	got := cost.FileFigures{
		Transitions:     float64(transitions),
		Invocations:     float64(invocations),
		S3Puts:          float64(store.puts),
		S3Gets:          float64(store.gets),
		DedupeWritesPer: math.Round(float64(dd.claims)/float64(rows)*1000) / 1000,
		DedupeWritesFix: float64(dd.fixed),
		Statements:      float64(wh.statements),
	}
	t.Logf("one file of %d records (%d bytes): %+v; dedupe reads %d", rows, len(body), got, dd.reads)
	if want := cost.Figures.File; got != want {
		t.Errorf("the batch path's measured figures differ from cost.Figures.File (update shared/cost/figures.go with them):\n got %+v\nwant %+v", got, want)
	}
}
