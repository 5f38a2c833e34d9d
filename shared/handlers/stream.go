package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
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
	res, err := s.Pipeline.Process(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("stream handler: batch of %d records: %w", len(msgs), err)
	}
	return &StreamOutput{Records: len(msgs), Counts: res.Total(), Topics: res.Topics, Metrics: res.Metrics, Late: res.Late}, nil
}
