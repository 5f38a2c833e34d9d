package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// Stream is the MSK-triggered stream function: one events.KafkaEvent (a
// batch from one or more partitions) in, the batch's accounting out.
//
// Contract with the event-source mapping: Handle returns an error only when
// the whole batch must be retried (the warehouse, the dedupe table, the
// window state or the schema registry could not be reached, or another
// invocation holds a processor's lease: stream.ErrBusy); Lambda then
// redelivers the same batch, which is harmless (stream.Pipeline.Process). A bad message
// never fails the batch: it is quarantined with its reason. An event with
// no records (a scheduled invocation) applies the idle rule (Tick).
type Stream struct {
	Pipeline *stream.Pipeline
	// Tests, when set, runs the stream and marts data tests (dbt-style,
	// results in PULSE_DATA_TESTS) after a successful batch, at most once
	// per TestsEvery (default 5 min) per function instance: whole-table
	// checks are too dear for every micro-batch. A failing test is logged
	// and shown on the dashboard; it never fails the batch.
	Tests      datatest.Warehouse
	TestsEvery time.Duration
	// Platforms, when set, is the platform registry, read again before a
	// batch once it is a minute old (the cleaning of social_sales,
	// live_streaming and video_interactions standardizes platforms).
	Platforms *pipeline.PlatformRegistry

	mu        sync.Mutex
	lastTests time.Time
}

// StreamOutput is what one invocation did, per topic.
type StreamOutput struct {
	Records int                            `json:"records"`
	Counts  pipeline.Counts                `json:"counts"`
	Topics  map[string]*stream.TopicResult `json:"topics"`
	Metrics int                            `json:"metricRows"`
	Late    int                            `json:"lateRows"`
}

// Handle processes one Kafka batch.
func (s *Stream) Handle(ctx context.Context, e events.KafkaEvent) (*StreamOutput, error) {
	if s.Pipeline == nil {
		return nil, errors.New("stream handler: no pipeline configured")
	}
	msgs, err := awsevents.KafkaMessages(e)
	if err != nil {
		return nil, fmt.Errorf("stream handler: %w", err)
	}
	if s.Platforms != nil {
		if err := s.Platforms.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("stream handler: %w", err)
		}
	}
	res, err := s.Pipeline.Process(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("stream handler: batch of %d records: %w", len(msgs), err)
	}
	s.dataTests(ctx)
	return &StreamOutput{Records: len(msgs), Counts: res.Total(), Topics: res.Topics, Metrics: res.Metrics, Late: res.Late}, nil
}

// dataTests runs the stream and marts suites when they are due.
func (s *Stream) dataTests(ctx context.Context) {
	if s.Tests == nil {
		return
	}
	every := s.TestsEvery
	if every <= 0 {
		every = 5 * time.Minute
	}
	now := time.Now()
	s.mu.Lock()
	due := now.Sub(s.lastTests) >= every
	if due {
		s.lastTests = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	tests := append(datatest.Group("stream"), datatest.Group("marts")...)
	results, err := datatest.Run(ctx, s.Tests, tests, now)
	if err != nil {
		slog.Warn("stream data tests could not all run", "error", err)
	}
	for _, r := range datatest.Failed(results) {
		slog.Warn("stream data test failed", "test", r.Test.Name(), "table", r.Test.Table, "failures", r.Failures)
	}
}
