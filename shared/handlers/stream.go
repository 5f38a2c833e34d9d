package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/port"
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
	// results in PULSE_DATA_TESTS) on the idle tick (an invocation whose
	// eventSource is IdleTickSource, once a minute from one EventBridge
	// rule), in the tick of the first minute of each TestsEvery of the
	// clock (default DefaultStreamTestsEvery): once per interval for the
	// whole deployment however many function instances the mappings run,
	// so the tests wake the warehouse that often and no more. Whole-table
	// checks are too dear for every micro-batch. A failing test is logged
	// and shown on the dashboard; it never fails the tick.
	Tests      port.Warehouse
	TestsEvery time.Duration
	Now        func() time.Time // default time.Now
	// Platforms, when set, is the platform registry, read again before a
	// batch once it is a minute old (the cleaning of social_sales,
	// live_streaming and video_interactions standardizes platforms).
	Platforms *batch.PlatformRegistry
}

// IdleTickSource is the eventSource of the scheduled empty batch that
// closes idle windows (infra/stacks' IdleTick rule sends it).
const IdleTickSource = "pulse:idle-tick"

// DefaultStreamTestsEvery is how often the idle tick runs the stream data
// tests.
const DefaultStreamTestsEvery = 15 * time.Minute

// StreamOutput is what one invocation did, per topic.
type StreamOutput struct {
	Records int                            `json:"records"`
	Counts  port.Counts                    `json:"counts"`
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
	if e.EventSource == IdleTickSource {
		s.dataTests(ctx)
	}
	return &StreamOutput{Records: len(msgs), Counts: res.Total(), Topics: res.Topics, Metrics: res.Metrics, Late: res.Late}, nil
}

// dataTests runs the stream and marts suites when they are due: in the
// first minute of each TestsEvery of the clock.
func (s *Stream) dataTests(ctx context.Context) {
	if s.Tests == nil {
		return
	}
	every := s.TestsEvery
	if every <= 0 {
		every = DefaultStreamTestsEvery
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if now.Sub(now.Truncate(every)) >= time.Minute {
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
