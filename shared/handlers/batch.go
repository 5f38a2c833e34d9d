// Package handlers adapts Pulse's use cases (shared/batch,
// shared/catalog) to their triggers: Lambda payloads in, JSON out. The same
// handler values run in AWS Lambda (functions/<name>/main.go wires them),
// under aws-local-stepfunctions in tests/stepfunctions (which executes the
// state machines cdk synth writes) and in process on the local stack.
//
// Batch workflow contract (the state machine of infra/stacks/batch.go):
//
//	execution input {"file": FileDrop}, written by the trigger
//	clean  {"mode":"clean","file"}               -> ManifestRef (the whole file)
//	clean  {"mode":"split","file"}               -> batch.SplitResult (a file above the size threshold)
//	clean  {"mode":"clean","file","chunk"}       -> ManifestRef (one chunk: a Distributed Map item)
//	clean  {"mode":"combine","file","chunks":n}  -> ManifestRef (the file, from its n chunks)
//	clean  {"mode":"quarantine","file","error"}  -> QuarantineOutput (the Catch path)
//	model      ManifestRef -> ManifestRef
//	load       ManifestRef -> ManifestRef
//	datatests  ManifestRef -> ManifestRef (status "tested")
//
// Steps pass a ManifestRef, not the manifest: the manifest itself lives in
// the staging bucket, so the state stays far below Step Functions' 256 KB
// payload limit whatever the number of staging parts.
//
// A failed step's error reaches Retry and Catch under the name ErrorName
// gives it (Lambda's errorType, see Lambda); PermanentErrors are not
// retried.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Clean function modes.
const (
	ModeClean      = "clean"
	ModeSplit      = "split"
	ModeCombine    = "combine"
	ModeQuarantine = "quarantine"
)

// StartInput is the batch workflow's input: the file that landed.
type StartInput struct {
	File port.FileDrop `json:"file"`
}

// CleanInput is the clean function's input; Mode says what to do.
type CleanInput struct {
	Mode   string        `json:"mode"`
	File   port.FileDrop `json:"file"`
	Chunk  *batch.Chunk  `json:"chunk,omitempty"`  // clean: one chunk only
	Chunks int           `json:"chunks,omitempty"` // combine: how many chunks
	Error  *TaskError    `json:"error,omitempty"`  // quarantine: what the Catch caught
}

// TaskError is the error a Step Functions Catch records (ResultPath $.error).
type TaskError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// ManifestRef names a file's manifest (or one chunk's) in the staging
// bucket, with its status and counts for the execution history.
type ManifestRef struct {
	Dataset string      `json:"dataset"`
	FileID  string      `json:"fileId"`
	Status  string      `json:"status"`
	Counts  port.Counts `json:"counts"`
	Chunk   *int        `json:"chunk,omitempty"`
}

// RefOf is the reference to m.
func RefOf(m *batch.Manifest) *ManifestRef {
	r := &ManifestRef{Dataset: m.Dataset, FileID: m.FileID, Status: m.Status, Counts: m.Counts}
	if m.Chunk != nil {
		i := m.Chunk.Index
		r.Chunk = &i
	}
	return r
}

// Batch holds the batch steps over one Env.
type Batch struct {
	Env *batch.Env
	// ChunkBytes is the size of a split file's chunks (batch.DefaultChunkBytes when 0).
	ChunkBytes int64
	// Platforms is the platform registry, read again before cleaning and
	// before the data tests once it is a minute old (nil: the registry of
	// Env, batch.Platforms).
	Platforms *batch.PlatformRegistry

	once sync.Once
}

// refreshPlatforms makes the platform registry's platforms known before a
// step that standardizes platforms or tests DIM_PLATFORM.
func (b *Batch) refreshPlatforms(ctx context.Context) error {
	b.once.Do(func() {
		if b.Platforms == nil {
			b.Platforms = batch.Platforms(b.Env)
		}
	})
	return b.Platforms.Refresh(ctx)
}

// CleanFunction is the clean function: every mode of CleanInput.
func (b *Batch) CleanFunction(ctx context.Context, in CleanInput) (any, error) {
	switch in.Mode {
	case ModeClean, "":
		if in.Chunk != nil {
			return b.CleanChunk(ctx, in.File, *in.Chunk)
		}
		return b.Clean(ctx, StartInput{File: in.File})
	case ModeSplit:
		return b.Split(ctx, in.File)
	case ModeCombine:
		return b.Combine(ctx, in.File, in.Chunks)
	case ModeQuarantine:
		q := QuarantineInput{File: in.File}
		if in.Error != nil {
			q.Error = *in.Error
		}
		return b.Quarantine(ctx, q)
	}
	return nil, fmt.Errorf("%w: clean mode %q (want clean, split, combine or quarantine)", ErrBadInput, in.Mode)
}

func checkFile(step string, f port.FileDrop) error {
	if f.Bucket == "" || f.Key == "" {
		return fmt.Errorf("%w: %s input needs file.bucket and file.key", ErrBadInput, step)
	}
	return nil
}

// Clean cleans a whole file.
func (b *Batch) Clean(ctx context.Context, in StartInput) (*ManifestRef, error) {
	if err := checkFile("clean", in.File); err != nil {
		return nil, err
	}
	if err := b.refreshPlatforms(ctx); err != nil {
		return nil, err
	}
	m, err := batch.Clean(ctx, b.Env, in.File)
	if err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

// Split cuts a large file into chunks for the Distributed Map.
func (b *Batch) Split(ctx context.Context, f port.FileDrop) (*batch.SplitResult, error) {
	if err := checkFile("split", f); err != nil {
		return nil, err
	}
	return batch.Split(ctx, b.Env, f, b.ChunkBytes)
}

// CleanChunk cleans one chunk of a split file.
func (b *Batch) CleanChunk(ctx context.Context, f port.FileDrop, ch batch.Chunk) (*ManifestRef, error) {
	if err := checkFile("clean chunk", f); err != nil {
		return nil, err
	}
	if err := b.refreshPlatforms(ctx); err != nil {
		return nil, err
	}
	m, err := batch.CleanChunk(ctx, b.Env, f, ch)
	if err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

// Combine makes a split file's manifest from its chunks.
func (b *Batch) Combine(ctx context.Context, f port.FileDrop, chunks int) (*ManifestRef, error) {
	if err := checkFile("combine", f); err != nil {
		return nil, err
	}
	m, err := batch.Combine(ctx, b.Env, f, chunks)
	if err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

func (b *Batch) manifest(ctx context.Context, step string, r *ManifestRef) (*batch.Manifest, error) {
	if r == nil || r.Dataset == "" || r.FileID == "" {
		return nil, fmt.Errorf("%w: %s input is not a manifest reference (needs dataset and fileId)", ErrBadInput, step)
	}
	if r.Chunk != nil {
		return nil, fmt.Errorf("%w: %s input names chunk %d of %s; combine the chunks first", ErrBadInput, step, *r.Chunk, r.FileID)
	}
	return b.Env.LoadManifest(ctx, r.Dataset, r.FileID)
}

// Model is the model step.
func (b *Batch) Model(ctx context.Context, r *ManifestRef) (*ManifestRef, error) {
	m, err := b.manifest(ctx, "model", r)
	if err != nil {
		return nil, err
	}
	if m, err = batch.Model(ctx, b.Env, m); err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

// Load is the load step.
func (b *Batch) Load(ctx context.Context, r *ManifestRef) (*ManifestRef, error) {
	m, err := b.manifest(ctx, "load", r)
	if err != nil {
		return nil, err
	}
	if m, err = batch.Load(ctx, b.Env, m); err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

// DataTests is the data-test step; failures end the execution in the
// Catch path with the error name "DataTestsFailed".
func (b *Batch) DataTests(ctx context.Context, r *ManifestRef) (*ManifestRef, error) {
	m, err := b.manifest(ctx, "datatests", r)
	if err != nil {
		return nil, err
	}
	if err := b.refreshPlatforms(ctx); err != nil {
		return nil, err
	}
	if _, err := batch.DataTests(ctx, b.Env, m); err != nil {
		return nil, err
	}
	m.Status = "tested"
	if err := b.Env.SaveManifest(ctx, m); err != nil {
		return nil, err
	}
	return RefOf(m), nil
}

// QuarantineInput is what the workflow's Catch passes on: the file plus
// the error Step Functions caught.
type QuarantineInput struct {
	File  port.FileDrop `json:"file"`
	Error TaskError     `json:"error"`
}

// QuarantineOutput says where the file went.
type QuarantineOutput struct {
	Quarantined bool   `json:"quarantined"`
	Key         string `json:"key"`
	Reason      string `json:"reason"`
}

// Quarantine keeps a file whose workflow failed, with the reason.
func (b *Batch) Quarantine(ctx context.Context, in QuarantineInput) (*QuarantineOutput, error) {
	if err := checkFile("quarantine", in.File); err != nil {
		return nil, err
	}
	reason := in.Error.Error
	if in.Error.Cause != "" {
		reason += ": " + in.Error.Cause
	}
	if reason == "" {
		reason = "workflow failed"
	}
	reason = dataset.MaskEmails(reason)
	if err := batch.QuarantineFile(ctx, b.Env, in.File, reason); err != nil {
		return nil, err
	}
	return &QuarantineOutput{Quarantined: true, Key: in.File.Key, Reason: reason}, nil
}

// ErrBadInput marks an input that does not follow the contract above.
var ErrBadInput = errors.New("bad input")

// Error names a Retry or Catch sees.
const (
	ErrorNotADataset     = "NotADataset"     // a file Pulse cannot read: quarantined whole, not retried
	ErrorDataTestsFailed = "DataTestsFailed" // loaded rows failed a data test: not retried
	ErrorBadInput        = "BadInput"        // the input breaks the contract: not retried
	ErrorClaimsReleased  = "ClaimsReleased"  // the file's dedupe claims were released: not retried (run the file again)
	ErrorPermanent       = "PermanentError"  // any other failure port.Retryable calls permanent
	ErrorClaimHeld       = "ClaimHeld"       // a record's key is held by work in flight: retried longer
	ErrorPulse           = "PulseError"      // anything else: retried with backoff
)

// PermanentErrors are the error names the workflows do not retry (their
// first Retry entry lists them with MaxAttempts 0; tests/stepfunctions
// checks the synthesized ASL against this list): the names ErrorName gives
// the failures port.Retryable calls permanent.
var PermanentErrors = []string{ErrorNotADataset, ErrorDataTestsFailed, ErrorBadInput, ErrorClaimsReleased, ErrorPermanent}

// NamedError carries the error name Step Functions matches in Retry and
// Catch (Lambda reports it as errorType).
type NamedError struct {
	Name string
	Err  error
}

func (e *NamedError) Error() string { return e.Err.Error() }
func (e *NamedError) Unwrap() error { return e.Err }

// ErrorName is the name a Retry/Catch sees for err.
func ErrorName(err error) string {
	var ne *NamedError
	switch {
	case errors.As(err, &ne):
		return ne.Name
	case errors.Is(err, ErrBadInput):
		return ErrorBadInput
	case errors.Is(err, port.ErrNotADataset):
		return ErrorNotADataset
	case errors.Is(err, port.ErrDataTests):
		return ErrorDataTestsFailed
	case errors.Is(err, port.ErrTxnAborted):
		return ErrorClaimsReleased
	case errors.Is(err, port.ErrClaimHeld):
		return ErrorClaimHeld
	case !port.Retryable(err):
		return ErrorPermanent
	}
	return ErrorPulse
}

// Permanent reports whether err is one the workflows do not retry:
// ErrBadInput, or what port.Retryable calls permanent.
func Permanent(err error) bool {
	return err != nil && (errors.Is(err, ErrBadInput) || !port.Retryable(err))
}
