package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// FailedBatchPrefix is where the stream's on-failure destination keeps the
// batches the event-source mappings gave up on, in the raw bucket: a
// failed batch is raw input, kept whole and unmasked like the stream's raw
// archive (DESIGN.md 4.6: no other bucket holds personal data), outside
// raw/ so it starts no batch workflow.
const FailedBatchPrefix = "_failed-batches/"

// FailedBatchKey names a failed batch's part of one partition:
// _failed-batches/<topic>/<partition>/<first offset>-<last offset>.json,
// offsets zero-padded so keys sort in offset order.
func FailedBatchKey(topic string, partition int32, first, last int64) string {
	return fmt.Sprintf("%s%s/%d/%020d-%020d.json", FailedBatchPrefix, strings.ReplaceAll(topic, "/", "_"), partition, first, last)
}

// KafkaFailure is a failed batch as the on-failure destination keeps it,
// shaped like the record Lambda's Kafka event-source mapping writes to an
// S3 on-failure destination: the request context (why: the retries were
// exhausted; how many invocations), the response context (the function
// error), the time, and the whole invocation payload. Error, Pulse's own,
// is the last error in full. ReplayFailed reads only the payload.
type KafkaFailure struct {
	RequestContext  FailureRequest    `json:"requestContext"`
	ResponseContext FailureResponse   `json:"responseContext"`
	Version         string            `json:"version"`
	Timestamp       string            `json:"timestamp"`
	Error           string            `json:"error,omitempty"`
	Payload         events.KafkaEvent `json:"payload"`
}

// FailureRequest is KafkaFailure's request context.
type FailureRequest struct {
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// FailureResponse is KafkaFailure's response context.
type FailureResponse struct {
	FunctionError string `json:"functionError"`
}

// FailedBatches is the on-failure destination of the stream's
// event-source mappings: objects under Prefix in Bucket, one per failed
// batch and partition.
type FailedBatches struct {
	Store  port.ObjectStore
	Bucket string
	Prefix string           // FailedBatchPrefix when ""
	Now    func() time.Time // time.Now when nil
}

func (f FailedBatches) prefix() string {
	if f.Prefix == "" {
		return FailedBatchPrefix
	}
	return f.Prefix
}

// StoredBatch describes a kept failed batch's part of one partition.
type StoredBatch struct {
	Key       string `json:"key"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	First     int64  `json:"first"`
	Last      int64  `json:"last"`
	Records   int    `json:"records"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error"`
}

func (b StoredBatch) String() string {
	return fmt.Sprintf("offsets %d-%d of %s/%d (%d records) failed %d times: %s", b.First, b.Last, b.Topic, b.Partition, b.Records, b.Attempts, b.Error)
}

// Put keeps a batch the mapping gave up on after attempts invocations
// that ended with cause: one object per partition of the event (written
// again whole if the same batch fails again), and returns their keys.
func (f FailedBatches) Put(ctx context.Context, e events.KafkaEvent, cause error, attempts int) ([]string, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	groups := make([]string, 0, len(e.Records))
	for g := range e.Records {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var keys []string
	for _, g := range groups {
		rs := e.Records[g]
		if len(rs) == 0 {
			continue
		}
		first, last := rs[0].Offset, rs[0].Offset
		for _, r := range rs {
			first, last = min(first, r.Offset), max(last, r.Offset)
		}
		part := e
		part.Records = map[string][]events.KafkaRecord{g: rs}
		rec := KafkaFailure{
			RequestContext:  FailureRequest{Condition: "RetryAttemptsExhausted", ApproximateInvokeCount: attempts},
			ResponseContext: FailureResponse{FunctionError: ErrorName(cause)},
			Version:         "1.0",
			Timestamp:       now().UTC().Format(time.RFC3339Nano),
			Payload:         part,
		}
		if cause != nil {
			rec.Error = cause.Error()
		}
		body, err := json.Marshal(rec)
		if err != nil {
			return keys, fmt.Errorf("encoding the failed batch of %s: %w", g, err)
		}
		key := f.prefix() + strings.TrimPrefix(FailedBatchKey(rs[0].Topic, int32(rs[0].Partition), first, last), FailedBatchPrefix)
		if _, err := f.Store.Put(ctx, f.Bucket, key, bytes.NewReader(body), int64(len(body))); err != nil {
			return keys, fmt.Errorf("keeping the failed batch in s3://%s/%s: %w", f.Bucket, key, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// List describes every kept failed batch, in key order (topic, partition,
// offset).
func (f FailedBatches) List(ctx context.Context) ([]StoredBatch, error) {
	objs, err := f.Store.List(ctx, f.Bucket, f.prefix())
	if err != nil {
		return nil, fmt.Errorf("listing failed batches in s3://%s/%s: %w", f.Bucket, f.prefix(), err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	var out []StoredBatch
	for _, o := range objs {
		rec, err := f.Read(ctx, o.Key)
		if err != nil {
			return out, err
		}
		out = append(out, describeFailure(o.Key, rec))
	}
	return out, nil
}

func describeFailure(key string, rec *KafkaFailure) StoredBatch {
	b := StoredBatch{Key: key, Attempts: rec.RequestContext.ApproximateInvokeCount, Error: rec.Error}
	if b.Error == "" {
		b.Error = rec.ResponseContext.FunctionError
	}
	for _, rs := range rec.Payload.Records {
		for _, r := range rs {
			if b.Records == 0 {
				b.Topic, b.Partition, b.First, b.Last = r.Topic, int32(r.Partition), r.Offset, r.Offset
			}
			b.First, b.Last = min(b.First, r.Offset), max(b.Last, r.Offset)
			b.Records++
		}
	}
	return b
}

// Read decodes one kept failed batch.
func (f FailedBatches) Read(ctx context.Context, key string) (*KafkaFailure, error) {
	body, _, err := f.Store.Get(ctx, f.Bucket, key)
	if err != nil {
		return nil, fmt.Errorf("reading the failed batch s3://%s/%s: %w", f.Bucket, key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("reading the failed batch s3://%s/%s: %w", f.Bucket, key, err)
	}
	var rec KafkaFailure
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("decoding the failed batch s3://%s/%s: %w", f.Bucket, key, err)
	}
	if len(rec.Payload.Records) == 0 {
		return nil, fmt.Errorf("decoding the failed batch s3://%s/%s: payload: no records", f.Bucket, key)
	}
	return &rec, nil
}

// GiveUp is the on-failure destination of the local event-source
// mappings (esm.Config.OnFailure): it keeps the batch (FailedBatches.Put;
// an error there keeps the mapping from going past the batch), then tells
// the stream path the batch was given up (stream.Pipeline.Abandon releases
// its dedupe claims, so later deliveries of its events are not held up by
// them; if that fails, the claims are released at their deadline all the
// same, and the failure is only logged).
func (s *Stream) GiveUp(ctx context.Context, dest FailedBatches, e events.KafkaEvent, cause error, attempts int) error {
	keys, err := dest.Put(ctx, e, cause, attempts)
	if err != nil {
		return err
	}
	msgs, err := awsevents.KafkaMessages(e)
	if err == nil {
		err = s.Pipeline.Abandon(ctx, msgs)
	}
	if err != nil {
		slog.WarnContext(ctx, "stream: releasing the claims of a failed batch (they expire at their deadline)", "err", err)
	}
	for _, k := range keys {
		slog.WarnContext(ctx, "stream: a batch failed until the on-failure destination; later batches go on; bring it back with: pulse replay --failed",
			"kept", "s3://"+dest.Bucket+"/"+k, "attempts", attempts, "err", cause)
	}
	return nil
}

// ReplayedBatch is what the replay of one kept failed batch did.
type ReplayedBatch struct {
	StoredBatch
	// Counts accounts the records seen for the first time (received =
	// loaded + rejected + duplicate, late among the loaded); Redelivered
	// counts those a saved batch had already accounted (the batch went
	// through meanwhile, or an earlier replay stopped before removing it).
	Counts      port.Counts `json:"counts"`
	Redelivered int64       `json:"redelivered,omitempty"`
	Err         string      `json:"error,omitempty"` // the replay failed: the batch is kept
}

// FailedReplay is what ReplayFailed did.
type FailedReplay struct {
	Batches []ReplayedBatch `json:"batches"`
	// Gaps are the offsets still not accounted after the replay.
	Gaps []stream.Gap `json:"gaps,omitempty"`
}

// ReplayFailed takes every kept failed batch, in key order, back through
// the stream path with its original positions, as the mapping would have
// delivered it: records in a ledger gap (later batches went past them)
// are processed, their dedupe claims made by the failed attempts are
// retries (same origins), and a record whose event another delivery
// loaded meanwhile is a duplicate. Each batch is removed once its effect
// is saved; one that fails again is kept, with the others going on. A
// record replayed after its windows closed is late: loaded into its fact
// table, its missed windows in PULSE_LATE_EVENTS. Running it twice, or
// again after a crash, changes nothing more (the ledger then skips the
// records as redeliveries).
func (s *Stream) ReplayFailed(ctx context.Context, dest FailedBatches) (*FailedReplay, error) {
	if s.Pipeline == nil {
		return nil, errors.New("replaying failed batches: no pipeline configured")
	}
	if s.Platforms != nil {
		if err := s.Platforms.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("replaying failed batches: %w", err)
		}
	}
	objs, err := dest.Store.List(ctx, dest.Bucket, dest.prefix())
	if err != nil {
		return nil, fmt.Errorf("listing failed batches in s3://%s/%s: %w", dest.Bucket, dest.prefix(), err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	out := &FailedReplay{}
	var errs []error
	for _, o := range objs {
		rb, err := s.replayFailed(ctx, dest, o.Key)
		if err != nil {
			rb.Err = err.Error()
			errs = append(errs, err)
		}
		out.Batches = append(out.Batches, rb)
	}
	gaps, err := s.Pipeline.Gaps(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	out.Gaps = gaps
	return out, errors.Join(errs...)
}

func (s *Stream) replayFailed(ctx context.Context, dest FailedBatches, key string) (ReplayedBatch, error) {
	rb := ReplayedBatch{StoredBatch: StoredBatch{Key: key}}
	rec, err := dest.Read(ctx, key)
	if err != nil {
		return rb, err
	}
	rb.StoredBatch = describeFailure(key, rec)
	msgs, err := awsevents.KafkaMessages(rec.Payload)
	if err != nil {
		return rb, fmt.Errorf("replaying s3://%s/%s: %w", dest.Bucket, key, err)
	}
	res, err := s.Pipeline.ProcessFailed(ctx, msgs)
	if err != nil {
		return rb, fmt.Errorf("replaying s3://%s/%s: %w", dest.Bucket, key, err)
	}
	for _, t := range res.Topics {
		rb.Counts.Received += t.Counts.Received
		rb.Counts.Loaded += t.Counts.Loaded
		rb.Counts.Rejected += t.Counts.Rejected
		rb.Counts.Duplicate += t.Counts.Duplicate
		rb.Counts.Late += t.Counts.Late
		rb.Redelivered += t.Redelivered
	}
	if err := dest.Store.Delete(ctx, dest.Bucket, key); err != nil {
		return rb, fmt.Errorf("removing the replayed failed batch s3://%s/%s: %w", dest.Bucket, key, err)
	}
	return rb, nil
}
