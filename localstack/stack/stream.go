package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/window"
)

// StreamOptions configure the stream side of the local stack.
type StreamOptions struct {
	KafkaPort    int // 127.0.0.1 port for the Kafka cluster; 0 picks a free one (the demo uses 9092)
	RegistryPort int // schema registry port; 0 picks a free one
	Partitions   int // per topic; default 1
	BatchSize    int // records per invocation (default 500)
	BatchWindow  time.Duration
	Config       stream.Config
	// State keeps window and session state. nil: with a data folder
	// (Options.Dir), files under <Dir>/stream/state (memory.OpenWindowStore);
	// without one, in process (memory.NewWindowStore).
	State window.Store
	// TickEvery runs the idle rule this often (default 5s; negative: never).
	TickEvery time.Duration
	// DataTestsEvery, when positive, runs the stream and marts data tests
	// after a batch at most this often (the demo); 0 = never (tests).
	DataTestsEvery time.Duration
	// Failpoint is passed to the stream pipeline (crash tests).
	Failpoint func(step string) error
	// Retry is the event-source mapping's backoff. A batch that fails
	// Retry.MaxAttempts times (esm.DefaultMaxAttemptsWithDestination, 10,
	// when 0) goes to the on-failure destination, the raw bucket under
	// handlers.FailedBatchPrefix, and the mapping goes on with the
	// next batch; `pulse replay --failed` (Stack.ReplayFailed) brings it back.
	Retry esm.Retry
	// OnBatch is called after every successful invocation.
	OnBatch func(*handlers.StreamOutput)
	// KafkaKeep is how many records Kafka keeps per partition once the
	// mapping has committed past them (kafkalocal.Retention;
	// kafkalocal.DefaultKeepRecords when 0). Negative keeps every record,
	// as kfake does by itself, growing without bound.
	KafkaKeep int64
}

// Stream is the running stream side: an in-process Kafka cluster and
// schema registry, and one event-source mapping per topic (as on AWS,
// consumer group "pulse-stream-<topic>") invoking the stream handler.
type Stream struct {
	Kafka    *kafkalocal.Cluster
	Registry *kafkalocal.Registry
	Pipeline *stream.Pipeline
	Handler  *handlers.Stream
	Topics   []string

	pollers []*esm.Poller
	stack   *Stack
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	opts    StreamOptions
	log     *slog.Logger

	mu       sync.Mutex
	err      error
	counts   map[string]pipeline.Counts
	latency  []time.Duration // produce (Kafka timestamp) to warehouse, per loaded record
	batches  int64
	lastDone time.Time
}

// StartStream starts the stream side beside the batch path: Kafka
// (kfake), the schema registry (srfake), the stream handler over the
// stack's object store, dedupe store and warehouse, and the pollers.
// With a data folder, Kafka's records and consumer offsets, the window and
// session state and the registry's schemas are kept under <Dir>/stream,
// so a stream side started again on the folder goes on where the last one
// stopped: the mappings resume at their committed offsets, open windows
// and sessions are still open, and the Avro messages already in Kafka
// still find their schema ids.
func (s *Stack) StartStream(ctx context.Context, o StreamOptions) (*Stream, error) {
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.Config.Partitions <= 0 {
		o.Config.Partitions = o.Partitions // the stream path waits for every partition it creates
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.TickEvery == 0 {
		o.TickEvery = 5 * time.Second
	}
	st := &Stream{opts: o, log: s.opts.Log, counts: map[string]pipeline.Counts{}, stack: s}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	kafkaDir := ""
	if s.persistent() {
		kafkaDir = filepath.Join(s.Dir, streamFolder, "kafka")
	}
	var err error
	st.Registry, st.Pipeline, err = s.openStreamCore(ctx, o, st.loaded, kafkaDir)
	if err != nil {
		return nil, err
	}
	st.Topics = st.Pipeline.Datasets()
	st.Kafka, err = kafkalocal.Start(ctx, kafkalocal.Options{Port: o.KafkaPort, Topics: st.Topics, Partitions: o.Partitions, DataDir: kafkaDir,
		Retention: kafkaRetention(st.Topics, o.KafkaKeep, s.opts.Log)})
	if err != nil {
		return nil, err
	}
	st.Handler = &handlers.Stream{Pipeline: st.Pipeline, Platforms: s.Batch.Platforms}
	if o.DataTestsEvery > 0 {
		st.Handler.Tests, st.Handler.TestsEvery = s.Warehouse, o.DataTestsEvery
	}
	for _, topic := range st.Topics {
		p, err := esm.New(esm.Config{
			Brokers: st.Kafka.Brokers(), Topics: []string{topic}, Group: mappingGroup(topic),
			BatchSize: o.BatchSize, BatchWindow: o.BatchWindow, Retry: o.Retry, OnFailure: st.giveUp,
			Source: "arn:aws:kafka:local:000000000000:cluster/pulse/local",
		}, st.invoke)
		if err != nil {
			return nil, err
		}
		st.pollers = append(st.pollers, p)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.cancel = cancel
	for _, p := range st.pollers {
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			if err := p.Run(runCtx); err != nil {
				st.fail(err)
			}
		}()
	}
	if o.TickEvery > 0 {
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			t := time.NewTicker(o.TickEvery)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					if _, err := st.Pipeline.Tick(runCtx); err != nil && runCtx.Err() == nil {
						st.log.Warn("stream: idle tick failed", "err", err)
					}
				}
			}
		}()
	}
	s.closers = append(s.closers, func() error { st.Close(); return nil })
	s.mu.Lock()
	s.stream = st
	s.mu.Unlock()
	ok = true
	return st, nil
}

// mappingGroup is the consumer group of a topic's event-source mapping.
func mappingGroup(topic string) string { return "pulse-stream-" + topic }

// kafkaRetention deletes the records each topic's mapping has committed
// past, but the newest keep per partition; nil (keep everything) for a
// negative keep.
func kafkaRetention(topics []string, keep int64, log *slog.Logger) *kafkalocal.Retention {
	if keep < 0 {
		return nil
	}
	groups := make(map[string][]string, len(topics))
	for _, t := range topics {
		groups[t] = []string{mappingGroup(t)}
	}
	return &kafkalocal.Retention{Groups: groups, Keep: keep, Log: log}
}

// The stream side's files in a data folder: Kafka's (kfake), the window
// and session state (one file per processor), the schema registry's.
const streamFolder = "stream"

// openStreamCore starts the schema registry and builds the stream
// pipeline over the stack's stores and a window-state store. With a data
// folder both keep their contents under <Dir>/stream. kafkaDir, if set,
// is Kafka's folder, checked against the state: window state with no
// Kafka data beside it would make the ledger skip a new cluster's first
// offsets, so that is refused.
func (s *Stack) openStreamCore(ctx context.Context, o StreamOptions, loaded func([]int64), kafkaDir string) (*kafkalocal.Registry, *stream.Pipeline, error) {
	state := o.State
	var regFile string
	if s.persistent() {
		regFile = filepath.Join(s.Dir, streamFolder, "schema-registry.json")
	}
	switch {
	case state != nil:
	case s.persistent():
		sd, err := memory.OpenWindowStore(filepath.Join(s.Dir, streamFolder, "state"))
		if err != nil {
			return nil, nil, err
		}
		if _, err := os.Stat(filepath.Join(kafkaDir, "meta.json")); kafkaDir != "" && len(sd.Names()) > 0 && os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("the stream's window state in %s has no Kafka data beside it in %s (removed?): "+
				"its offsets would not match a new cluster's; remove %s to start the stream afresh",
				sd.Dir(), kafkaDir, filepath.Join(s.Dir, streamFolder))
		}
		state = sd
	default:
		state = memory.NewWindowStore()
	}
	reg, err := kafkalocal.StartRegistryWith(ctx, kafkalocal.RegistryOptions{Port: o.RegistryPort, File: regFile})
	if err != nil {
		return nil, nil, err
	}
	dec, err := avro.NewRegistryDecoder(reg.URL())
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	p, err := stream.New(stream.Env{
		Store: s.Env.Store, Dedupe: s.Env.Dedupe, Warehouse: s.Warehouse, State: state, Decoder: dec,
		Buckets: Buckets, Config: o.Config, Log: s.opts.Log, Failpoint: o.Failpoint, Loaded: loaded,
	})
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	if o.State == nil && s.persistent() {
		// This process holds the data folder (the dedupe log's lock): a
		// lease in its state was left by a process that died mid-batch.
		if err := p.ReleaseLeases(ctx); err != nil {
			reg.Close()
			return nil, nil, err
		}
	}
	return reg, p, nil
}

// FailedBatches is the stream's on-failure destination: the batches the
// event-source mappings gave up on, kept whole in the raw bucket under
// handlers.FailedBatchPrefix.
func (s *Stack) FailedBatches() handlers.FailedBatches {
	return handlers.FailedBatches{Store: s.Env.Store, Bucket: Buckets.Raw}
}

// ReplayFailed brings the batches the mappings gave up on back through
// the stream path (handlers.Stream.ReplayFailed): through the running
// stream side if this stack runs one, else (a later `pulse replay
// --failed`) over the window state and schema registry the data folder
// keeps, without Kafka. o configures the pipeline in the second case.
func (s *Stack) ReplayFailed(ctx context.Context, o StreamOptions) (*handlers.FailedReplay, error) {
	s.mu.Lock()
	running := s.stream
	s.mu.Unlock()
	if running != nil && running.Handler != nil {
		return running.Handler.ReplayFailed(ctx, s.FailedBatches())
	}
	if !s.persistent() {
		return nil, errors.New("replaying failed stream batches: this stack keeps no stream state (no data folder) and runs no stream side")
	}
	reg, p, err := s.openStreamCore(ctx, o, nil, "")
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	h := &handlers.Stream{Pipeline: p, Platforms: s.Batch.Platforms}
	return h.ReplayFailed(ctx, s.FailedBatches())
}

// StreamGaps lists the offsets the stream went past without accounting
// them (stream.Pipeline.Gaps) and the failed batches kept for them, from
// the running stream side or the data folder's state.
func (s *Stack) StreamGaps(ctx context.Context, o StreamOptions) ([]stream.Gap, []handlers.StoredBatch, error) {
	failed, err := s.FailedBatches().List(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	running := s.stream
	s.mu.Unlock()
	if running != nil && running.Pipeline != nil {
		gaps, err := running.Pipeline.Gaps(ctx)
		return gaps, failed, err
	}
	if !s.persistent() {
		return nil, failed, nil
	}
	reg, p, err := s.openStreamCore(ctx, o, nil, "")
	if err != nil {
		return nil, nil, err
	}
	defer reg.Close()
	gaps, err := p.Gaps(ctx)
	return gaps, failed, err
}

// giveUp is the mappings' on-failure destination.
func (st *Stream) giveUp(ctx context.Context, e lambdaevents.KafkaEvent, cause error, attempts int) error {
	return st.Handler.GiveUp(ctx, st.stack.FailedBatches(), e, cause, attempts)
}

// ReplayStream replays the quarantined stream records of a dataset after a
// fix (stream.Pipeline.Replay): through the running stream side's pipeline
// if this stack runs one, else (a later `pulse replay`) over the window
// state and schema registry the data folder keeps, without Kafka. o
// configures the pipeline in the second case, as StartStream would.
func (s *Stack) ReplayStream(ctx context.Context, datasetName string, o StreamOptions) (*stream.ReplayResult, error) {
	s.mu.Lock()
	running := s.stream
	s.mu.Unlock()
	if running != nil && running.Pipeline != nil {
		return running.Pipeline.Replay(ctx, datasetName)
	}
	if !s.persistent() {
		return nil, errors.New("replaying stream records: this stack keeps no stream state (no data folder) and runs no stream side")
	}
	reg, p, err := s.openStreamCore(ctx, o, nil, "")
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	return p.Replay(ctx, datasetName)
}

func (st *Stream) invoke(ctx context.Context, e lambdaevents.KafkaEvent) error {
	out, err := st.Handler.Handle(ctx, e)
	if err != nil {
		return err
	}
	st.mu.Lock()
	for topic, r := range out.Topics {
		c := st.counts[topic]
		c.Received += r.Counts.Received
		c.Loaded += r.Counts.Loaded
		c.Rejected += r.Counts.Rejected
		c.Duplicate += r.Counts.Duplicate
		c.Late += r.Counts.Late
		st.counts[topic] = c
	}
	st.batches++
	st.lastDone = time.Now()
	st.mu.Unlock()
	if st.opts.OnBatch != nil {
		st.opts.OnBatch(out)
	}
	return nil
}

// maxLatencySamples bounds the latency samples kept (the latest win).
const maxLatencySamples = 1 << 20

func (st *Stream) loaded(ts []int64) {
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, t := range ts {
		if len(st.latency) >= maxLatencySamples {
			st.latency = st.latency[len(st.latency)/2:]
		}
		st.latency = append(st.latency, now.Sub(time.UnixMilli(t)))
	}
}

func (st *Stream) fail(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err == nil {
		st.err = err
		st.log.Error("stream: event-source mapping stopped", "err", err)
	}
}

// Err returns the first error that stopped a poller.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// Counts returns the accounting per topic so far.
func (st *Stream) Counts() map[string]pipeline.Counts {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make(map[string]pipeline.Counts, len(st.counts))
	for k, v := range st.counts {
		out[k] = v
	}
	return out
}

// Committed returns how many records the pollers have committed (handled
// successfully), over all topics.
func (st *Stream) Committed() int64 {
	var n int64
	for _, p := range st.pollers {
		n += p.Stats().Records
	}
	return n
}

// Failed returns how many batches, and records in them, the mappings sent
// to the on-failure destination and committed past.
func (st *Stream) Failed() (batches, records int64) {
	for _, p := range st.pollers {
		s := p.Stats()
		batches += s.Failed
		records += s.Skipped
	}
	return batches, records
}

// Retries returns how many invocations failed and were retried.
func (st *Stream) Retries() int64 {
	var n int64
	for _, p := range st.pollers {
		n += p.Stats().Retries
	}
	return n
}

// WaitCommitted waits until the mappings have gone past at least n
// records (committed them, handled or sent to the on-failure destination),
// or ctx ends, or a poller stopped with an error.
func (st *Stream) WaitCommitted(ctx context.Context, n int64) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if err := st.Err(); err != nil {
			return err
		}
		_, skipped := st.Failed()
		if st.Committed()+skipped >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d committed records (have %d, %d sent to the on-failure destination): %w", n, st.Committed(), skipped, ctx.Err())
		case <-t.C:
		}
	}
}

// Latency returns the produce-to-warehouse latency quantiles (q in [0,1])
// over the records loaded so far, and how many there were.
func (st *Stream) Latency(qs ...float64) ([]time.Duration, int) {
	st.mu.Lock()
	l := append([]time.Duration(nil), st.latency...)
	st.mu.Unlock()
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	out := make([]time.Duration, len(qs))
	if len(l) == 0 {
		return out, 0
	}
	for i, q := range qs {
		out[i] = l[min(len(l)-1, int(q*float64(len(l))))]
	}
	return out, len(l)
}

// ResetLatency forgets the latency samples (after a warm-up).
func (st *Stream) ResetLatency() {
	st.mu.Lock()
	st.latency = nil
	st.mu.Unlock()
}

// Close stops the pollers (a finished batch is committed first), the
// idle ticker, Kafka and the registry. It is safe to call twice.
func (st *Stream) Close() {
	if st.stack != nil {
		st.stack.mu.Lock()
		if st.stack.stream == st {
			st.stack.stream = nil
		}
		st.stack.mu.Unlock()
	}
	if st.cancel != nil {
		st.cancel()
		st.wg.Wait()
		st.cancel = nil
	}
	if st.Kafka != nil {
		st.Kafka.Close()
		st.Kafka = nil
	}
	if st.Registry != nil {
		st.Registry.Close()
		st.Registry = nil
	}
}

// errStreamClosed is returned by methods of a closed stream side.
var errStreamClosed = errors.New("stream side closed")

// Brokers returns the Kafka bootstrap addresses.
func (st *Stream) Brokers() ([]string, error) {
	if st.Kafka == nil {
		return nil, errStreamClosed
	}
	return st.Kafka.Brokers(), nil
}
