package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

// FileReplay is what ReplayFiles did with one quarantined file.
type FileReplay struct {
	Drop   port.FileDrop
	Reason string // why it was quarantined
	Run    *Run   // the workflow run again; nil when skipped
	Skip   string // why it was not run again
}

// ReplayFiles runs the batch workflow again for the files of a dataset
// ("" = every dataset) that were quarantined whole (a step kept failing,
// or the file could not be read), as an operator does once the cause is
// fixed. A file is run again only while its raw object is still the
// version that failed: a newer upload under the same key has superseded it
// (and was processed on its own). A file that now loads leaves the
// quarantine; one that fails again stays, with its new reason.
func (s *Stack) ReplayFiles(ctx context.Context, datasetName string) ([]FileReplay, error) {
	objs, err := s.Env.Store.List(ctx, Buckets.Quarantine, "_files/")
	if err != nil {
		return nil, fmt.Errorf("listing quarantined files: %w", err)
	}
	var out []FileReplay
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, "/reason.json") {
			continue
		}
		var why struct {
			Source port.FileDrop `json:"source"`
			Reason string        `json:"reason"`
		}
		body, _, err := s.Env.Store.Get(ctx, Buckets.Quarantine, o.Key)
		if err != nil {
			return out, fmt.Errorf("reading %s: %w", o.Key, err)
		}
		data, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			return out, fmt.Errorf("reading %s: %w", o.Key, err)
		}
		if err := json.Unmarshal(data, &why); err != nil {
			return out, fmt.Errorf("decoding %s: %w", o.Key, err)
		}
		d := why.Source
		spec, err := batch.DatasetOf(d.Key)
		if datasetName != "" && (err != nil || spec.Name != datasetName) {
			continue
		}
		fr := FileReplay{Drop: d, Reason: why.Reason}
		info, err := s.Env.Store.Head(ctx, d.Bucket, d.Key)
		switch {
		case errors.Is(err, port.ErrNotFound):
			fr.Skip = "its object is gone from the raw bucket"
		case err != nil:
			return out, fmt.Errorf("reading s3://%s/%s: %w", d.Bucket, d.Key, err)
		case batch.Origin(port.FileDrop{Bucket: d.Bucket, Key: d.Key, VersionID: info.VersionID, ETag: info.ETag}) != batch.Origin(d):
			fr.Skip = "a newer upload under the same key superseded it"
		case err == nil && spec == nil:
			fr.Skip = "it is not under raw/<dataset>/"
		}
		if fr.Skip == "" {
			d.Size = info.Size
			input, err := json.Marshal(handlers.StartInput{File: d})
			if err != nil {
				return out, err
			}
			name := handlers.ExecutionName(d)
			s.Forget(name)
			run := s.execute(ctx, name, input)
			s.mu.Lock()
			s.started[name] = true
			s.runs = append(s.runs, run)
			s.mu.Unlock()
			fr.Run = &run
			if run.Err == nil {
				if err := s.leaveQuarantine(ctx, strings.TrimSuffix(o.Key, "reason.json")); err != nil {
					return out, err
				}
			}
		}
		out = append(out, fr)
	}
	return out, nil
}

// leaveQuarantine removes a quarantined file's folder once it loaded.
func (s *Stack) leaveQuarantine(ctx context.Context, prefix string) error {
	objs, err := s.Env.Store.List(ctx, Buckets.Quarantine, prefix)
	if err != nil {
		return fmt.Errorf("listing %s: %w", prefix, err)
	}
	for _, o := range objs {
		if err := s.Env.Store.Delete(ctx, Buckets.Quarantine, o.Key); err != nil {
			return fmt.Errorf("removing s3://%s/%s: %w", Buckets.Quarantine, o.Key, err)
		}
	}
	return nil
}
