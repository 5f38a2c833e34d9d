package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/window"
)

// Decoder turns a message value into a raw record with one Value per
// wanted column, in columns order. A *record.RecordError means the message
// itself is bad: it is quarantined with the error's field and reason and
// the batch goes on. Any other error (a schema registry that cannot be
// reached) fails the batch, which is then retried whole.
// Implementation: shared/adapters/avro (JSON, and Avro in the Confluent
// wire format through a schema registry).
type Decoder interface {
	Decode(ctx context.Context, m *pipeline.Message, columns []string, dst *record.Raw) error
}

// Config tunes the stream path. The zero value is the default.
type Config struct {
	// Lateness is the allowed lateness: the watermark is the largest event
	// time seen minus Lateness. 0 means 5 minutes.
	Lateness time.Duration
	// IdleTimeout: after this long (processing time) without events a
	// processor's watermark follows the clock (now - Lateness), so windows
	// close without newer events; an input without events this long stops
	// holding back a multi-input processor. 0 means 1 minute; negative
	// disables the rule (replays and tests, which call Flush at the end).
	IdleTimeout time.Duration
	// Partitions is how many partitions each topic has (the deployment
	// creates them: seed 004's 5). Each partition has its own watermark
	// and a processor's windows close at the smallest (see reorder), so a
	// partition not read yet holds them back instead of finding its events
	// late; a partition beyond this count joins when its first record is
	// seen. 0 means 1.
	Partitions int
	// SessionTimeout closes a sign-in with no sign-out. 0 means 30 minutes.
	SessionTimeout time.Duration
	// StatePrefix prefixes the window-state names ("stream/" by default).
	StatePrefix string
	// LeaseTTL bounds how long a processor's lease (see Concurrency in the
	// package comment) keeps other invocations out after its holder
	// vanished without releasing it. 0 means 2 minutes; negative turns
	// leases off (one process only, as the local stack's mutex ensures).
	LeaseTTL time.Duration
	// ClaimTimeout is how long a batch's dedupe claims hold their keys
	// uncommitted (0 means 15 minutes, above the stream function's
	// timeout): past it, a batch that died (or went to the on-failure
	// destination) no longer makes later deliveries of its records duplicates.
	ClaimTimeout time.Duration
}

func (c Config) claimTimeout() time.Duration {
	if c.ClaimTimeout <= 0 {
		return 15 * time.Minute
	}
	return c.ClaimTimeout
}

func (c Config) leaseTTL() time.Duration {
	if c.LeaseTTL == 0 {
		return 2 * time.Minute
	}
	return c.LeaseTTL
}

func (c Config) lateness() time.Duration {
	if c.Lateness == 0 {
		return window.DefaultAllowedLateness
	}
	return max(c.Lateness, 0)
}

func (c Config) partitions() int32 {
	if c.Partitions <= 0 {
		return 1
	}
	return int32(c.Partitions)
}

func (c Config) idle() time.Duration {
	if c.IdleTimeout == 0 {
		return window.DefaultIdleTimeout
	}
	return c.IdleTimeout
}

// Env is what the stream path runs against: the same ports as the batch
// path, plus the window-state store and the message decoder.
type Env struct {
	Store     pipeline.ObjectStore // raw archive (Buckets.Raw) and quarantine (Buckets.Quarantine)
	Dedupe    pipeline.Dedupe
	Warehouse pipeline.Warehouse
	State     window.Store
	Decoder   Decoder
	Buckets   pipeline.Buckets
	Config    Config
	Now       func() time.Time // processing time; defaults to time.Now
	Log       *slog.Logger     // defaults to slog.Default()
	// Failpoint, for crash tests, is called after each step of a batch
	// (StepArchive ... StepSave); an error it returns fails the batch there,
	// as a crash at that point would.
	Failpoint func(step string) error
	// Loaded, if set, is called after a successful batch with the Kafka
	// timestamps (Unix ms) of the records it loaded (latency statistics).
	Loaded func(timestamps []int64)
}

// The steps of one batch, in order, as Failpoint names them.
const (
	StepLoadState  = "load-state"
	StepArchive    = "archive"
	StepClean      = "clean"
	StepDedupe     = "dedupe"
	StepApply      = "apply"
	StepQuarantine = "quarantine"
	StepMerge      = "merge"
	StepSave       = "save"
)

// Steps lists the batch steps in order.
var Steps = []string{StepLoadState, StepArchive, StepClean, StepDedupe, StepApply, StepQuarantine, StepMerge, StepSave}

// Pipeline is the stream use case over one Env. Its methods may be called
// from several goroutines; batches are processed one at a time.
type Pipeline struct {
	env   Env
	mu    sync.Mutex
	sets  map[string]*datasetInfo
	procs map[string]*procSlot
	order []string // processor names, sorted
}

// datasetInfo is one stream dataset, compiled once.
type datasetInfo struct {
	spec    *dataset.Spec
	cl      *dataset.Cleaner
	mappers []*star.Mapper
	index   map[string]int // staging column -> index
	proc    string         // processor name
}

// New checks env and prepares the processors.
func New(env Env) (*Pipeline, error) {
	switch {
	case env.Store == nil:
		return nil, errors.New("stream: no object store")
	case env.Dedupe == nil:
		return nil, errors.New("stream: no dedupe store")
	case env.Warehouse == nil:
		return nil, errors.New("stream: no warehouse")
	case env.State == nil:
		return nil, errors.New("stream: no window-state store")
	case env.Decoder == nil:
		return nil, errors.New("stream: no decoder")
	}
	if env.Config.StatePrefix == "" {
		env.Config.StatePrefix = "stream/"
	}
	p := &Pipeline{env: env, sets: map[string]*datasetInfo{}, procs: map[string]*procSlot{}}
	for _, f := range processorFactories(env.Config) {
		pr := f()
		name := pr.name()
		p.procs[name] = &procSlot{name: name, make: f}
		p.order = append(p.order, name)
		_, isPlain := pr.(*plain)
		for _, ds := range pr.datasets() {
			if err := p.addDataset(ds, name, !isPlain); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(p.order)
	return p, nil
}

// addDataset adds a dataset the processor proc consumes; windowed says
// whether proc has windows, which the dataset's spec must say too.
func (p *Pipeline) addDataset(name, proc string, windowed bool) error {
	spec, err := dataset.Lookup(name)
	if err != nil {
		return fmt.Errorf("stream: processor %s: %w", proc, err)
	}
	switch {
	case spec.Stream == nil:
		return fmt.Errorf("stream: processor %s: dataset %s declares no Stream in its spec", proc, name)
	case spec.Stream.Windowed != windowed:
		return fmt.Errorf("stream: processor %s: dataset %s has Stream.Windowed %v in its spec, its processor %v", proc, name, spec.Stream.Windowed, windowed)
	}
	cl, err := dataset.Compile(spec)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	d := &datasetInfo{spec: spec, cl: cl, proc: proc, index: map[string]int{}}
	for i, c := range cl.Schema().Columns {
		d.index[c.Name] = i
	}
	for _, tm := range spec.Star {
		mp, err := star.Compile(tm, cl.Schema())
		if err != nil {
			return fmt.Errorf("stream: dataset %s: %w", name, err)
		}
		d.mappers = append(d.mappers, mp)
	}
	p.sets[name] = d
	return nil
}

// Datasets lists the topics (dataset names) the stream path consumes,
// without building a Pipeline.
func Datasets() []string {
	var out []string
	for _, f := range processorFactories(Config{}) {
		out = append(out, f().datasets()...)
	}
	sort.Strings(out)
	return out
}

// Datasets lists the topics (dataset names) the stream path consumes.
func (p *Pipeline) Datasets() []string {
	var out []string
	for n := range p.sets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (p *Pipeline) now() time.Time {
	if p.env.Now != nil {
		return p.env.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Pipeline) log() *slog.Logger {
	if p.env.Log != nil {
		return p.env.Log
	}
	return slog.Default()
}

func (p *Pipeline) failpoint(step string) error {
	if p.env.Failpoint == nil {
		return nil
	}
	if err := p.env.Failpoint(step); err != nil {
		return fmt.Errorf("after step %s: %w", step, err)
	}
	return nil
}

// TopicResult is the accounting of one topic in one batch (DESIGN.md 4.2):
// Received = Loaded + Rejected + Duplicate over the records seen for the
// first time, Late counting the loaded records that missed every window
// they could count in. Redelivered counts records an earlier, committed
// run of this batch already accounted; they are not counted again.
type TopicResult struct {
	BatchID     string          `json:"batchId"`
	Counts      pipeline.Counts `json:"counts"`
	Redelivered int64           `json:"redelivered,omitempty"`
}

// Result is what one call did.
type Result struct {
	Topics  map[string]*TopicResult `json:"topics"`
	Metrics int                     `json:"metricRows"` // metric rows merged
	Late    int                     `json:"lateRows"`   // PULSE_LATE_EVENTS rows merged
}

// Total sums the counts of every topic.
func (r *Result) Total() pipeline.Counts {
	var c pipeline.Counts
	for _, t := range r.Topics {
		c.Received += t.Counts.Received
		c.Loaded += t.Counts.Loaded
		c.Rejected += t.Counts.Rejected
		c.Duplicate += t.Counts.Duplicate
		c.Late += t.Counts.Late
	}
	return c
}

// Process runs one batch of messages (in topic, partition, offset order,
// as awsevents.KafkaMessages returns them) through the stream path:
// load window state, archive, decode and clean, dedupe, fold into windows
// and sessions, quarantine rejects, MERGE facts, metrics, late events,
// rejects and manifests, then save window state. Running the same batch
// again, after a crash at any step, leaves warehouse, window state and
// dedupe keys as one clean run leaves them. An empty batch is a Tick.
func (p *Pipeline) Process(ctx context.Context, msgs []pipeline.Message) (*Result, error) {
	if len(msgs) == 0 {
		return p.Tick(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := newBatch(p, msgs)
	return b.run(ctx)
}

// ProcessFailed runs a batch the event-source mapping gave up on (it
// failed until the mapping's on-failure destination), brought back with
// its original positions (`pulse replay --failed`): as Process, its
// records in the ledger's gaps are processed and the others are
// redeliveries. Unlike the mapping's invocations it may run beside a
// batch of the same partitions, so its leases are never taken over by
// them, and it does not take theirs.
func (p *Pipeline) ProcessFailed(ctx context.Context, msgs []pipeline.Message) (*Result, error) {
	if len(msgs) == 0 {
		return &Result{Topics: map[string]*TopicResult{}}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := newBatch(p, msgs)
	b.replay = true
	return b.run(ctx)
}

// Tick applies the idle rule to every processor at the current processing
// time: windows whose end the clock has passed (by the allowed lateness)
// close without newer events. Run it on a timer (the local stack does
// every few seconds; on AWS a schedule can invoke the stream function
// with an empty batch).
func (p *Pipeline) Tick(ctx context.Context) (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sweep(ctx, false)
}

// Flush closes every window and releases every buffered event, for the
// end of a bounded input (tests, replays): afterwards every event is late.
func (p *Pipeline) Flush(ctx context.Context) (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sweep(ctx, true)
}

// sweep advances (or flushes) every processor and merges what closed.
func (p *Pipeline) sweep(ctx context.Context, flush bool) (*Result, error) {
	now := p.now()
	res := &Result{Topics: map[string]*TopicResult{}}
	out := newOutputs(now)
	var touched []*procSlot
	owner := "sweep-" + strconv.FormatInt(now.UnixNano(), 36)
	defer func() {
		for _, slot := range touched {
			p.release(ctx, slot, false) // a sweep writes no manifests: what it merges is keyed
		}
	}()
	for _, name := range p.order {
		slot := p.procs[name]
		if err := p.acquire(ctx, slot, owner, nil, now); err != nil {
			if errors.Is(err, ErrBusy) {
				continue // a batch is running on it: it will advance it
			}
			return nil, err
		}
		touched = append(touched, slot)
		if err := p.loadState(ctx, slot); err != nil {
			return nil, err
		}
		lk := &lookups{wh: p.env.Warehouse}
		var err error
		if flush {
			err = slot.proc.flush(ctx, now, out, lk)
		} else {
			err = slot.proc.advance(ctx, now, out, lk)
		}
		if err != nil {
			return nil, fmt.Errorf("advancing %s: %w", name, err)
		}
	}
	if err := p.mergeOutputs(ctx, out, res); err != nil {
		return nil, err
	}
	for _, slot := range touched {
		if err := p.saveState(ctx, slot); err != nil {
			return nil, err
		}
	}
	return res, nil
}
