package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Trigger turns S3 notifications into batch workflow executions.
type Trigger struct {
	Starter port.Starter
}

// TriggerOutput lists the executions a notification asked for.
type TriggerOutput struct {
	Started []string `json:"started"`
	Skipped []string `json:"skipped"` // already started: a repeated notification
}

// ExecutionName is the execution name of a file version: derived from
// bucket, key and version (or ETag), at most 80 characters.
func ExecutionName(d port.FileDrop) string {
	name := batch.FileID(d)
	if len(name) > 80 {
		name = name[len(name)-80:]
	}
	return name
}

// Handle starts one execution per file in the event.
func (t *Trigger) Handle(ctx context.Context, e events.S3Event) (*TriggerOutput, error) {
	drops, err := awsevents.S3Drops(e)
	if err != nil {
		return nil, fmt.Errorf("decoding S3 event: %w", err)
	}
	out := &TriggerOutput{}
	for _, d := range drops {
		input, err := json.Marshal(StartInput{File: d})
		if err != nil {
			return nil, fmt.Errorf("encoding workflow input for %s: %w", d.Key, err)
		}
		name := ExecutionName(d)
		started, err := t.Starter.Start(ctx, name, input)
		if err != nil {
			return nil, fmt.Errorf("starting workflow for s3://%s/%s: %w", d.Bucket, d.Key, err)
		}
		if started {
			out.Started = append(out.Started, name)
		} else {
			out.Skipped = append(out.Skipped, name)
		}
	}
	return out, nil
}
