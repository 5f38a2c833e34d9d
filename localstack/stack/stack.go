// Package stack starts Pulse's whole local stack in process: S3 (gofakes3
// over real HTTP) with ObjectCreated notifications, the dedupe store, the
// DuckDB warehouse, and a local batch workflow runner that does what the
// Step Functions workflow does on AWS (Clean, or Split -> CleanChunk per
// chunk -> Combine, then Model -> Load -> DataTests, Retry, Catch ->
// Quarantine) with the same handlers. tests/stepfunctions runs the real
// state machine over the same handlers. The demo, the CLI and
// the end-to-end tests use it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

// ErrCrash, returned by a failpoint hook, stops a workflow as if the
// process had been killed there (see Options.Failpoint).
var ErrCrash = errors.New("simulated crash")

// Buckets are the local bucket names.
var Buckets = port.Buckets{Raw: "pulse-raw", Staging: "pulse-staging", Curated: "pulse-curated", Quarantine: "pulse-quarantine"}

// Options configure a local stack.
type Options struct {
	Dir            string      // data folder: warehouse.duckdb, dedupe.log, s3/, stream/ ("" = a temp dir, removed on Close)
	S3Addr         string      // S3 listen address ("" = 127.0.0.1:0)
	Dedupe         port.Dedupe // nil = the in-process store persisted in Dir
	Log            *slog.Logger
	Retries        int                     // attempts per step after the first (default 2)
	Backoff        time.Duration           // first retry delay (default 200ms, doubled each time)
	OnStep         func(s StepEvent)       // progress: called after every workflow step
	FailpointAfter func(step string) error // tests: an error returned here fails the step after it ran
	// Failpoint is passed to the use cases (batch.Env.Failpoint).
	// Either hook returning an error that wraps ErrCrash stops the
	// workflow where it is, with no retry and no Catch: what a process
	// killed there leaves behind, for a restart on the data folder to find.
	Failpoint func(point string) error
	// LargeFileBytes: a file above this size is split and cleaned chunk by
	// chunk (in order), then combined, as the batch state machine does for
	// files above its threshold; 0 never splits. ChunkBytes is the chunk
	// size (batch.DefaultChunkBytes when 0).
	LargeFileBytes int64
	ChunkBytes     int64
	// StreamDedupeTTL is how long the in-process dedupe store keeps the
	// claims of stream records (DefaultStreamDedupeTTL when 0). Files'
	// claims are kept as long as on AWS (FileDedupeTTL); stream claims
	// arrive thousands a second and are kept as long as a duplicate can
	// plausibly arrive, so a long-running stack stays within bounded memory.
	StreamDedupeTTL time.Duration
	// FileDedupeTTL is how long it keeps the claims of file records
	// (DefaultFileDedupeTTL, as on AWS, when 0). A demo that drops new
	// files forever keeps them shorter, so its memory stays bounded; a
	// file dropped again after that is loaded again: its fact rows merge
	// into the same keys, and its manifest counts it loaded.
	FileDedupeTTL time.Duration
	// WarehouseMemoryLimit caps DuckDB's memory in bytes
	// (DefaultWarehouseMemoryLimit when 0; negative: DuckDB's own default,
	// 80% of the machine). Beyond it DuckDB evicts cached blocks of the
	// warehouse file and spills to warehouse.duckdb.tmp, so the stack's
	// memory does not grow with the warehouse.
	WarehouseMemoryLimit int64
	// WarehouseThreads is DuckDB's worker threads (0: one per core).
	WarehouseThreads int
}

// DefaultWarehouseMemoryLimit is the DuckDB memory limit of a local stack:
// the demo's loads, gold refreshes and data tests run within it (spilling
// to disk where they would not); with the demo's Go memory limit it keeps
// the stack's memory bounded (tests/bench/README.md, "Soak").
const DefaultWarehouseMemoryLimit = 192 << 20

// warehouse returns the DuckDB bounds of o.
func (o Options) warehouse() duckdb.Options {
	limit := o.WarehouseMemoryLimit
	switch {
	case limit == 0:
		limit = DefaultWarehouseMemoryLimit
	case limit < 0:
		limit = 0
	}
	return duckdb.Options{MemoryLimit: limit, Threads: o.WarehouseThreads}
}

// Dedupe TTLs of the in-process store.
const (
	DefaultFileDedupeTTL = 400 * 24 * time.Hour // as the DynamoDB table's TTL on AWS
	// DefaultStreamDedupeTTL is the allowed lateness of the windows. A
	// stream record's duplicates come from producers retrying it (a Kafka
	// producer gives a record up after delivery.timeout.ms, 2 minutes by
	// default) or re-sending it; the mapping's own redeliveries of a batch
	// are skipped by the stream's ledger, not by claims. Each claim costs
	// the in-process store about 110 bytes, so at 5,000 events/s this TTL
	// holds some 1.5 million claims, 160 MB; 15 minutes held 480 MB.
	DefaultStreamDedupeTTL = 5 * time.Minute
)

func (o Options) dedupeTTL(origin string) time.Duration {
	if strings.HasPrefix(origin, "s3://") || strings.HasPrefix(origin, "replay:") {
		if o.FileDedupeTTL > 0 {
			return o.FileDedupeTTL
		}
		return DefaultFileDedupeTTL
	}
	if o.StreamDedupeTTL > 0 {
		return o.StreamDedupeTTL
	}
	return DefaultStreamDedupeTTL
}

// StepEvent reports one workflow step.
type StepEvent struct {
	Execution string
	Step      string
	Attempt   int
	Err       error
	Manifest  *batch.Manifest // the file's manifest after the step (nil before Clean and for chunks)
	Took      time.Duration
}

// Run is one workflow execution's outcome.
type Run struct {
	Name        string
	Drop        port.FileDrop
	Manifest    *batch.Manifest
	Err         error // the error that sent it to quarantine, if any
	Quarantined bool
}

// Stack is a running local stack.
type Stack struct {
	S3        *s3local.Server
	Store     port.ObjectStore // raw puts through it notify the trigger
	Env       *batch.Env
	Warehouse *duckdb.Warehouse
	Batch     *handlers.Batch
	Trigger   *handlers.Trigger
	Dir       string

	opts    Options
	tempDir bool
	closers []func() error

	// unfinished are the dedupe transactions an earlier process on the
	// data folder left pending (see recoverFiles).
	unfinished []string
	recovered  []Run

	mu      sync.Mutex
	started map[string]bool
	order   []string // started names, oldest first (bounded with runs)
	runs    []Run    // the newest maxRuns executions
	total   int      // executions so far
	stream  *Stream  // the running stream side, if any
}

// maxRuns bounds the executions a stack remembers (Runs, and the names it
// will not start again), the newest kept, so a stack that runs for days
// does not grow with the files it took: 10,000 is some ten hours of demo
// rounds. An execution name forgotten and notified again runs again, and
// finds its records claimed by itself: it loads nothing twice.
const maxRuns = 10_000

// addRun records a finished execution; s.mu is held.
func (s *Stack) addRun(name string, run Run) {
	s.runs = append(s.runs, run)
	s.total++
	if len(s.runs) > maxRuns+maxRuns/4 { // copy once in a while, not every time
		s.runs = append([]Run(nil), s.runs[len(s.runs)-maxRuns:]...)
	}
	s.markStarted(name)
}

// markStarted remembers that name ran; s.mu is held.
func (s *Stack) markStarted(name string) {
	if !s.started[name] {
		s.started[name] = true
		s.order = append(s.order, name)
	}
	if len(s.order) > maxRuns+maxRuns/4 {
		drop := len(s.order) - maxRuns
		for _, n := range s.order[:drop] {
			delete(s.started, n)
		}
		s.order = append([]string(nil), s.order[drop:]...)
	}
}

// persistent tells whether the stack keeps its contents in a data folder
// (Options.Dir) between runs.
func (s *Stack) persistent() bool { return !s.tempDir }

// Start brings the local stack up.
func Start(ctx context.Context, o Options) (*Stack, error) {
	s := &Stack{opts: o, started: map[string]bool{}}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Log = slog.New(dataset.MaskingHandler(o.Log.Handler())) // no e-mail address reaches a log line
	s.opts.Log = o.Log
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "pulse-stack-*")
		if err != nil {
			return nil, fmt.Errorf("creating stack dir: %w", err)
		}
		o.Dir, s.tempDir = d, true
	}
	s.Dir = o.Dir
	if err := os.MkdirAll(filepath.Join(o.Dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("creating stack dir %s: %w", o.Dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	addr := o.S3Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var srv *s3local.Server
	var err error
	if s.tempDir {
		srv, err = s3local.Start(ctx, addr)
	} else {
		// A data folder keeps the buckets on disk as objects are put: a
		// restarted stack (after a crash too) finds them as they were.
		if err := migrateObjects(filepath.Join(o.Dir, s3Folder)); err != nil {
			return nil, err
		}
		srv, err = s3local.StartDir(ctx, addr, filepath.Join(o.Dir, s3Folder))
	}
	if err != nil {
		return nil, err
	}
	s.S3 = srv
	s.closers = append(s.closers, srv.Close)
	if err := srv.CreateBuckets(ctx, Buckets.Raw, Buckets.Staging, Buckets.Curated, Buckets.Quarantine); err != nil {
		return nil, err
	}
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		return nil, err
	}
	store := s3store.New(client)
	wh, err := duckdb.OpenWith(ctx, filepath.Join(o.Dir, "warehouse.duckdb"), o.warehouse())
	if err != nil {
		return nil, err
	}
	s.Warehouse = wh
	s.closers = append(s.closers, wh.Close)
	dd := o.Dedupe
	if dd == nil {
		md, err := memory.OpenDedupe(filepath.Join(o.Dir, "dedupe.log"), memory.DedupeOptions{TTLFor: o.dedupeTTL})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, md.Close)
		s.unfinished = md.Unfinished()
		dd = md
	}
	s.Env = &batch.Env{Store: store, Dedupe: dd, Warehouse: wh, Buckets: Buckets, TempDir: filepath.Join(o.Dir, "tmp"), Log: o.Log, Failpoint: o.Failpoint}
	s.Batch = &handlers.Batch{Env: s.Env, ChunkBytes: o.ChunkBytes, Platforms: batch.Platforms(s.Env)}
	// The platform registry the data folder keeps (pulse replay
	// --add-platform): known to this run's cleaning and data tests from the start.
	if err := s.Batch.Platforms.Refresh(ctx); err != nil {
		return nil, err
	}
	s.Trigger = &handlers.Trigger{Starter: s}
	s.Store = s3local.NotifyingStore(store, Buckets.Raw, "raw/", func(ctx context.Context, e events.S3Event) error {
		_, err := s.Trigger.Handle(ctx, e)
		return err
	})
	if err := wh.Migrate(ctx, batch.Schemas()); err != nil {
		return nil, err
	}
	if err := views.Setup(ctx, wh); err != nil {
		return nil, err
	}
	if err := s.recoverFiles(ctx); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Drop puts a file under raw/<dataset>/<name> in the raw bucket, which
// notifies the trigger and runs the batch workflow before returning.
func (s *Stack) Drop(ctx context.Context, datasetName, name string, body io.Reader, size int64) (Run, error) {
	key := "raw/" + datasetName + "/" + name
	before := s.runCount()
	if _, err := s.Store.Put(ctx, Buckets.Raw, key, body, size); err != nil {
		return Run{}, fmt.Errorf("dropping %s: %w", key, err)
	}
	if s.runCount() == before {
		return Run{}, fmt.Errorf("dropping %s: the notification started no workflow", key)
	}
	runs := s.Runs()
	return runs[len(runs)-1], nil
}

// DropFile drops a local file.
func (s *Stack) DropFile(ctx context.Context, datasetName, path string) (Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return Run{}, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Run{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return s.Drop(ctx, datasetName, filepath.Base(path), f, st.Size())
}

// Start implements port.Starter: it runs the workflow in process. A
// name that already ran starts nothing.
func (s *Stack) Start(ctx context.Context, name string, input []byte) (bool, error) {
	s.mu.Lock()
	if s.started[name] {
		s.mu.Unlock()
		return false, nil
	}
	s.markStarted(name)
	s.mu.Unlock()
	run := s.execute(ctx, name, input)
	s.mu.Lock()
	s.addRun(name, run)
	s.mu.Unlock()
	return true, nil
}

// Runs returns the executions so far, oldest first: every one, or in a
// stack that ran more than 10,000, at least the newest 10,000.
func (s *Stack) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Run(nil), s.runs...)
}

// runCount is how many executions ran so far.
func (s *Stack) runCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Forget lets a name run again (tests of redelivery after a crash).
func (s *Stack) Forget(name string) {
	s.mu.Lock()
	delete(s.started, name)
	s.mu.Unlock()
}

func (s *Stack) execute(ctx context.Context, name string, input []byte) Run {
	var in handlers.StartInput
	if err := jsonUnmarshal(input, &in); err != nil {
		return Run{Name: name, Err: err}
	}
	run := Run{Name: name, Drop: in.File}
	var ref *handlers.ManifestRef
	var steps []step
	if s.opts.LargeFileBytes > 0 && in.File.Size > s.opts.LargeFileBytes {
		steps = s.chunkSteps(ctx, in.File, &ref)
	} else {
		steps = []step{{name: "Clean", fn: func() (err error) { ref, err = s.Batch.Clean(ctx, in); return }}}
	}
	steps = append(steps,
		step{name: "Model", fn: func() (err error) { ref, err = s.Batch.Model(ctx, ref); return }},
		step{name: "Load", fn: func() (err error) { ref, err = s.Batch.Load(ctx, ref); return }},
		step{name: "DataTests", fn: func() (err error) { ref, err = s.Batch.DataTests(ctx, ref); return }},
	)
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		if err := s.retry(ctx, name, st.name, st.fn, &ref); err != nil {
			run.Err = err
			if errors.Is(err, ErrCrash) {
				return run // the process "died" here: nothing more runs
			}
			q := handlers.QuarantineInput{File: in.File}
			q.Error.Error = handlers.ErrorName(err)
			q.Error.Cause = err.Error()
			if _, qerr := s.Batch.Quarantine(ctx, q); qerr != nil {
				run.Err = errors.Join(err, fmt.Errorf("quarantine: %w", qerr))
			} else {
				run.Quarantined = true
			}
			s.step(StepEvent{Execution: name, Step: "Quarantine", Err: err})
			run.Manifest = s.manifestOf(ctx, ref)
			return run
		}
		if st.more != nil {
			steps = append(steps[:i+1], append(st.more(), steps[i+1:]...)...)
		}
	}
	run.Manifest = s.manifestOf(ctx, ref)
	return run
}

// step is one task of the in-process workflow; more (for Split) returns
// the tasks it adds after itself.
type step struct {
	name string
	fn   func() error
	more func() []step
}

// chunkSteps are Split, one CleanChunk per chunk and Combine.
func (s *Stack) chunkSteps(ctx context.Context, f port.FileDrop, ref **handlers.ManifestRef) []step {
	var sr *batch.SplitResult
	return []step{{
		name: "Split",
		fn:   func() (err error) { sr, err = s.Batch.Split(ctx, f); return },
		more: func() []step {
			var out []step
			for _, ch := range sr.Chunks {
				out = append(out, step{fmt.Sprintf("CleanChunk %d/%d", ch.Index+1, ch.Of), func() error {
					_, err := s.Batch.CleanChunk(ctx, sr.File, ch)
					return err
				}, nil})
			}
			return append(out, step{"Combine", func() (err error) { *ref, err = s.Batch.Combine(ctx, sr.File, len(sr.Chunks)); return }, nil})
		},
	}}
}

// manifestOf reads the manifest a step left, or nil.
func (s *Stack) manifestOf(ctx context.Context, ref *handlers.ManifestRef) *batch.Manifest {
	if ref == nil || ref.Chunk != nil {
		return nil
	}
	m, err := s.Env.LoadManifest(ctx, ref.Dataset, ref.FileID)
	if err != nil {
		return nil
	}
	return m
}

func (s *Stack) retry(ctx context.Context, exec, step string, fn func() error, ref **handlers.ManifestRef) error {
	retries := s.opts.Retries
	if retries == 0 {
		retries = 2
	}
	backoff := s.opts.Backoff
	if backoff == 0 {
		backoff = 200 * time.Millisecond
	}
	var err error
	for attempt := 1; attempt <= retries+1; attempt++ {
		t0 := time.Now()
		err = fn()
		if err == nil && s.opts.FailpointAfter != nil {
			err = s.opts.FailpointAfter(step)
		}
		took := time.Since(t0)
		var m *batch.Manifest
		if s.opts.OnStep != nil {
			m = s.manifestOf(ctx, *ref)
		}
		s.step(StepEvent{Execution: exec, Step: step, Attempt: attempt, Err: err, Manifest: m, Took: took})
		if err == nil {
			return nil
		}
		if handlers.Permanent(err) || errors.Is(err, ErrCrash) {
			return err // not retried: the ASL's first Retry lists the same error names
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	return err
}

func (s *Stack) step(e StepEvent) {
	if s.opts.OnStep != nil {
		s.opts.OnStep(e)
	}
}

// Close stops everything; a temporary Dir is removed.
func (s *Stack) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	if s.tempDir {
		os.RemoveAll(s.Dir)
	}
	return errors.Join(errs...)
}
