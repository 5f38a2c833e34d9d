// Package esm is the local stand-in for Lambda's MSK event-source mapping:
// it polls a Kafka consumer group, hands each batch to a handler as the
// events.KafkaEvent Lambda would send, commits the batch's offsets only after
// the handler succeeds, and on error retries the very same batch after a
// backoff, never skipping ahead (Lambda's contract for Kafka sources). A
// batch that fails Retry.MaxAttempts times goes to the on-failure
// destination (Config.OnFailure), as with an S3 destination on AWS, which
// receives the whole batch, and the mapping commits past it and goes on.
package esm

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Retry is the backoff between attempts of a failed batch.
type Retry struct {
	Initial    time.Duration // first wait; default 100ms
	Max        time.Duration // cap; default 5s
	Multiplier float64       // growth per attempt; default 2
	// MaxAttempts bounds the invocations of one batch. 0 retries forever
	// (Lambda retries until the records expire), or 10 with an OnFailure
	// destination (Lambda's own bound when both are configured).
	MaxAttempts int
}

// DefaultMaxAttemptsWithDestination is Retry.MaxAttempts when it is 0 and
// Config.OnFailure is set.
const DefaultMaxAttemptsWithDestination = 10

// Config describes one event-source mapping.
type Config struct {
	Brokers     []string
	Topics      []string
	Group       string        // consumer group (Lambda uses the mapping's UUID)
	BatchSize   int           // records per invocation at most; default 100
	BatchWindow time.Duration // wait this long to fill a batch; default 500ms (Lambda's MSK default)
	Source      string        // eventSourceArn, e.g. arn:aws:kafka:local:000000000000:cluster/pulse/local
	Retry       Retry
	// OnFailure is the on-failure destination: it receives a batch that
	// failed Retry.MaxAttempts times, with the last error and the number of
	// attempts. When it returns nil the mapping commits past the batch and
	// goes on with the next; when it fails, Run stops without committing
	// (the batch is delivered again to the next poller of the group). nil:
	// a batch that exhausts its retries stops Run (ErrRetriesExhausted).
	OnFailure FailureFunc
}

// FailureFunc keeps a batch the mapping gave up on.
type FailureFunc func(ctx context.Context, e lambdaevents.KafkaEvent, cause error, attempts int) error

// Handler is the function the mapping invokes, as a Lambda handler would be.
type Handler func(ctx context.Context, e lambdaevents.KafkaEvent) error

// Stats counts what the poller did.
type Stats struct {
	Batches int64 // successful invocations (committed batches)
	Records int64 // records in committed batches
	Retries int64 // failed invocations that were retried
	Failed  int64 // batches sent to the on-failure destination (committed past)
	Skipped int64 // records in those batches
}

// ErrRetriesExhausted is returned by Run when a batch failed Retry.MaxAttempts times.
var ErrRetriesExhausted = errors.New("batch retries exhausted")

// Poller is one running event-source mapping. Run it once.
type Poller struct {
	cfg     Config
	handler Handler
	client  *kgo.Client

	batches, records, retries, failed, skipped atomic.Int64

	// crashAfterHandle, for tests, simulates a crash between a successful
	// invocation and the commit: when it returns true, Run stops without
	// committing.
	crashAfterHandle func(batch int64) bool
}

// New validates cfg and connects a consumer group client (manual commits).
func New(cfg Config, handler Handler) (*Poller, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("creating event-source mapping: no brokers")
	case len(cfg.Topics) == 0:
		return nil, errors.New("creating event-source mapping: no topics")
	case cfg.Group == "":
		return nil, errors.New("creating event-source mapping: no consumer group")
	case handler == nil:
		return nil, errors.New("creating event-source mapping: no handler")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.BatchWindow <= 0 {
		cfg.BatchWindow = 500 * time.Millisecond
	}
	if cfg.Retry.Initial <= 0 {
		cfg.Retry.Initial = 100 * time.Millisecond
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = 5 * time.Second
	}
	if cfg.Retry.Multiplier < 1 {
		cfg.Retry.Multiplier = 2
	}
	if cfg.Retry.MaxAttempts <= 0 && cfg.OnFailure != nil {
		cfg.Retry.MaxAttempts = DefaultMaxAttemptsWithDestination
	}
	if cfg.Source == "" {
		cfg.Source = "arn:aws:kafka:local:000000000000:cluster/pulse/local"
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// The client reads ahead one fetch while a batch is handled; a
		// stack runs a mapping per topic, so keep that small (kgo's
		// defaults let each one buffer several MB when behind).
		kgo.FetchMaxBytes(1<<20),
		kgo.FetchMaxPartitionBytes(256<<10),
	)
	if err != nil {
		return nil, fmt.Errorf("creating consumer for group %s: %w", cfg.Group, err)
	}
	return &Poller{cfg: cfg, handler: handler, client: client}, nil
}

// Stats returns the counts so far.
func (p *Poller) Stats() Stats {
	return Stats{Batches: p.batches.Load(), Records: p.records.Load(), Retries: p.retries.Load(), Failed: p.failed.Load(), Skipped: p.skipped.Load()}
}

// Run polls, invokes and commits until ctx is done (returning nil), a
// commit fails, or a batch exhausts its retries and no on-failure
// destination takes it. It closes the consumer
// (leaving the group) when it returns; uncommitted records are delivered
// again to the next poller of the group.
func (p *Poller) Run(ctx context.Context) error {
	defer func() {
		// With BlockRebalanceOnPoll, leaving the group waits for the
		// rebalance this poller still blocks: allow it before closing.
		p.client.AllowRebalance()
		p.client.Close()
	}()
	for {
		batch, err := p.fill(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if len(batch) == 0 {
			p.client.AllowRebalance()
			continue
		}
		gaveUp, err := p.invoke(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		n := p.batches.Load() + p.failed.Load() + 1
		if p.crashAfterHandle != nil && p.crashAfterHandle(n) {
			return errCrashed
		}
		// The handler succeeded: commit even if ctx was cancelled meanwhile,
		// so a graceful stop does not redeliver a finished batch.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = p.client.CommitRecords(cctx, batch...)
		cancel()
		if err != nil {
			return fmt.Errorf("committing batch of %d records: %w", len(batch), err)
		}
		if gaveUp {
			p.failed.Add(1)
			p.skipped.Add(int64(len(batch)))
		} else {
			p.batches.Add(1)
			p.records.Add(int64(len(batch)))
		}
		p.client.AllowRebalance()
	}
}

var errCrashed = errors.New("simulated crash before commit")

// fill waits for the first records, then for up to BatchWindow more until
// BatchSize records are gathered.
func (p *Poller) fill(ctx context.Context) ([]*kgo.Record, error) {
	var batch []*kgo.Record
	var deadline time.Time
	for len(batch) < p.cfg.BatchSize {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if len(batch) > 0 {
			if time.Until(deadline) <= 0 {
				break
			}
			pctx, cancel = context.WithDeadline(ctx, deadline)
		}
		fs := p.client.PollRecords(pctx, p.cfg.BatchSize-len(batch))
		cancel()
		if fs.IsClientClosed() {
			return nil, errors.New("polling: client closed")
		}
		fs.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				slog.Warn("esm: fetch error", "topic", topic, "partition", partition, "err", err)
			}
		})
		if len(batch) == 0 && fs.NumRecords() > 0 {
			deadline = time.Now().Add(p.cfg.BatchWindow)
		}
		batch = append(batch, fs.Records()...)
		if ctx.Err() != nil {
			return nil, nil
		}
	}
	return batch, nil
}

// invoke calls the handler with the batch until it succeeds, waiting a
// growing backoff between attempts. The event is built once, so every
// attempt sees the identical payload. After Retry.MaxAttempts failures the
// batch goes to the on-failure destination: gaveUp reports that it did,
// and the batch may be committed past.
func (p *Poller) invoke(ctx context.Context, batch []*kgo.Record) (gaveUp bool, _ error) {
	ev := p.event(batch)
	wait := p.cfg.Retry.Initial
	for attempt := 1; ; attempt++ {
		err := p.handler(ctx, ev)
		if err == nil {
			return false, nil
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if p.cfg.Retry.MaxAttempts > 0 && attempt >= p.cfg.Retry.MaxAttempts {
			if p.cfg.OnFailure == nil {
				return false, fmt.Errorf("invoking handler for %s: %w after %d attempts: %w", describe(batch), ErrRetriesExhausted, attempt, err)
			}
			if ferr := p.cfg.OnFailure(context.WithoutCancel(ctx), ev, err, attempt); ferr != nil {
				return false, fmt.Errorf("sending %s to the on-failure destination after %d failed attempts (%v): %w", describe(batch), attempt, err, ferr) //nolint:errorlint // the destination failure (%w) is what the caller sorts on; the batch failure is detail only
			}
			slog.Warn("esm: batch sent to the on-failure destination, going on with the next", "batch", describe(batch), "attempts", attempt, "err", err)
			return true, nil
		}
		p.retries.Add(1)
		slog.Warn("esm: handler failed, retrying batch", "batch", describe(batch), "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		wait = min(time.Duration(float64(wait)*p.cfg.Retry.Multiplier), p.cfg.Retry.Max)
	}
}

// event builds the payload MSK would send: records grouped under
// "topic-partition" in offset order, base64 keys and values, headers as a
// list of one-entry objects in record order (their bytes marshal as signed
// integers), timestamps in milliseconds with their type. An ARN source gives
// eventSource "aws:kafka"; anything else "SelfManagedKafka".
func (p *Poller) event(batch []*kgo.Record) lambdaevents.KafkaEvent {
	ev := lambdaevents.KafkaEvent{
		EventSource:      "aws:kafka",
		EventSourceARN:   p.cfg.Source,
		BootstrapServers: strings.Join(p.cfg.Brokers, ","),
		Records:          map[string][]lambdaevents.KafkaRecord{},
	}
	if !strings.HasPrefix(p.cfg.Source, "arn:") {
		ev.EventSource = "SelfManagedKafka"
	}
	for _, r := range batch {
		headers := make([]map[string]lambdaevents.JSONNumberBytes, 0, len(r.Headers))
		for _, h := range r.Headers {
			headers = append(headers, map[string]lambdaevents.JSONNumberBytes{h.Key: append(lambdaevents.JSONNumberBytes{}, h.Value...)})
		}
		tsType := "CREATE_TIME"
		if r.Attrs.TimestampType() == 1 {
			tsType = "LOG_APPEND_TIME"
		}
		rec := lambdaevents.KafkaRecord{
			Topic:         r.Topic,
			Partition:     int64(r.Partition),
			Offset:        r.Offset,
			Timestamp:     lambdaevents.MilliSecondsEpochTime{Time: time.UnixMilli(r.Timestamp.UnixMilli()).UTC()},
			TimestampType: tsType,
			Headers:       headers,
		}
		if r.Key != nil {
			rec.Key = base64.StdEncoding.EncodeToString(r.Key)
		}
		if r.Value != nil {
			rec.Value = base64.StdEncoding.EncodeToString(r.Value)
		}
		group := r.Topic + "-" + strconv.Itoa(int(r.Partition))
		ev.Records[group] = append(ev.Records[group], rec)
	}
	for _, rs := range ev.Records {
		slices.SortStableFunc(rs, func(a, b lambdaevents.KafkaRecord) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	return ev
}

func describe(batch []*kgo.Record) string {
	first, last := batch[0], batch[len(batch)-1]
	return fmt.Sprintf("%d records from %s/%d/%d to %s/%d/%d", len(batch), first.Topic, first.Partition, first.Offset, last.Topic, last.Partition, last.Offset)
}
