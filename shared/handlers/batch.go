// Package handlers adapts Pulse's use cases (shared/pipeline) to their
// triggers: Lambda payloads in, JSON out. The same handler values run in
// AWS Lambda (functions/<name>/main.go wires them), under the Step
// Functions executor in tests, and in process on the local stack.
//
// Batch workflow contract (the state machine's steps):
//
//	trigger:    events.S3Event          -> starts one execution per file, input StartInput
//	clean:      StartInput              -> pipeline.Manifest
//	model:      pipeline.Manifest       -> pipeline.Manifest
//	load:       pipeline.Manifest       -> pipeline.Manifest
//	datatests:  pipeline.Manifest       -> pipeline.Manifest (Status "tested")
//	quarantine: QuarantineInput         -> QuarantineOutput (the Catch path)
package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// StartInput is the batch workflow's input: the file that landed.
type StartInput struct {
	Drop pipeline.FileDrop `json:"drop"`
}

// Batch holds the batch steps over one Env.
type Batch struct {
	Env *pipeline.Env
}

// Clean is the clean step.
func (b *Batch) Clean(ctx context.Context, in StartInput) (*pipeline.Manifest, error) {
	if in.Drop.Bucket == "" || in.Drop.Key == "" {
		return nil, fmt.Errorf("%w: clean input needs drop.bucket and drop.key", pipeline.ErrNotADataset)
	}
	return pipeline.Clean(ctx, b.Env, in.Drop)
}

// Model is the model step.
func (b *Batch) Model(ctx context.Context, m *pipeline.Manifest) (*pipeline.Manifest, error) {
	if m == nil || m.FileID == "" {
		return nil, errors.New("model input is not a manifest (no fileId)")
	}
	return pipeline.Model(ctx, b.Env, m)
}

// Load is the load step.
func (b *Batch) Load(ctx context.Context, m *pipeline.Manifest) (*pipeline.Manifest, error) {
	if m == nil || m.FileID == "" {
		return nil, errors.New("load input is not a manifest (no fileId)")
	}
	return pipeline.Load(ctx, b.Env, m)
}

// DataTests is the data-test step; failures end the execution in the
// Catch path with the error name "DataTestsFailed".
func (b *Batch) DataTests(ctx context.Context, m *pipeline.Manifest) (*pipeline.Manifest, error) {
	if m == nil || m.FileID == "" {
		return nil, errors.New("datatests input is not a manifest (no fileId)")
	}
	if _, err := pipeline.DataTests(ctx, b.Env, m); err != nil {
		if errors.Is(err, pipeline.ErrDataTests) {
			return nil, &NamedError{Name: "DataTestsFailed", Err: err}
		}
		return nil, err
	}
	m.Status = "tested"
	return m, nil
}

// QuarantineInput is what the workflow's Catch passes on: the original
// input plus the error Step Functions caught.
type QuarantineInput struct {
	Drop  pipeline.FileDrop `json:"drop"`
	Error struct {
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	} `json:"error"`
}

// QuarantineOutput says where the file went.
type QuarantineOutput struct {
	Quarantined bool   `json:"quarantined"`
	Key         string `json:"key"`
	Reason      string `json:"reason"`
}

// Quarantine keeps a file whose workflow failed, with the reason.
func (b *Batch) Quarantine(ctx context.Context, in QuarantineInput) (*QuarantineOutput, error) {
	reason := in.Error.Error
	if in.Error.Cause != "" {
		reason += ": " + in.Error.Cause
	}
	if reason == "" {
		reason = "workflow failed"
	}
	if err := pipeline.QuarantineFile(ctx, b.Env, in.Drop, reason); err != nil {
		return nil, err
	}
	return &QuarantineOutput{Quarantined: true, Key: in.Drop.Key, Reason: reason}, nil
}

// NamedError carries the error name Step Functions matches in Retry and
// Catch (Lambda reports it as errorType).
type NamedError struct {
	Name string
	Err  error
}

func (e *NamedError) Error() string { return e.Err.Error() }
func (e *NamedError) Unwrap() error { return e.Err }

// ErrorName is the name a Retry/Catch sees for err: a NamedError's name,
// "NotADataset" for files Pulse cannot read, else "PulseError".
func ErrorName(err error) string {
	var ne *NamedError
	switch {
	case errors.As(err, &ne):
		return ne.Name
	case errors.Is(err, pipeline.ErrNotADataset):
		return "NotADataset"
	}
	return "PulseError"
}
