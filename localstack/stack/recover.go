package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

// recoverFiles finishes the batch work an earlier process on the data
// folder left unfinished: a `pulse drop` or `pulse demo` killed between
// Clean and Load leaves its file's dedupe claims pending. On AWS, Step
// Functions would carry the execution on (or Catch would quarantine the
// file and release them); here the stack runs the file's workflow again,
// from Clean, over the same object: its claims are the same origins, so
// they are retries, and the file is loaded once. A file whose object is
// gone or was replaced since is given up instead: its claims are released
// (a later upload is not taken for duplicates) and its outputs removed.
// Unfinished stream batches need nothing: Kafka delivers them again from
// the last committed offsets, and their claims are retries too.
func (s *Stack) recoverFiles(ctx context.Context) error {
	for _, txn := range s.unfinished {
		drop, ok := parseFileTxn(txn)
		if !ok || drop.Bucket != Buckets.Raw {
			if strings.HasPrefix(txn, "replay:") {
				// An interrupted replay: `pulse replay` runs it again whole.
				if err := s.Env.Dedupe.Abort(ctx, txn); err != nil && !errors.Is(err, port.ErrTxnCommitted) {
					return fmt.Errorf("recovering %s: %w", txn, err)
				}
			}
			continue
		}
		info, err := s.Env.Store.Head(ctx, drop.Bucket, drop.Key)
		switch {
		case err == nil && (info.VersionID == drop.VersionID && drop.VersionID != "" || info.ETag == drop.ETag && drop.ETag != ""):
			drop.Size = info.Size
			input, err := json.Marshal(handlers.StartInput{File: drop})
			if err != nil {
				return fmt.Errorf("recovering %s: %w", txn, err)
			}
			s.opts.Log.Info("resuming a file an earlier run left unfinished", "key", drop.Key)
			name := handlers.ExecutionName(drop)
			run := s.execute(ctx, name, input)
			s.mu.Lock()
			s.addRun(name, run)
			s.mu.Unlock()
			s.recovered = append(s.recovered, run)
		case err == nil || errors.Is(err, port.ErrNotFound):
			s.opts.Log.Warn("giving up a file an earlier run left unfinished: its object is gone or was replaced", "key", drop.Key)
			if err := batch.AbandonFile(ctx, s.Env, drop, "its object was replaced or removed before the run that took it finished"); err != nil {
				return fmt.Errorf("recovering %s: %w", txn, err)
			}
		default:
			return fmt.Errorf("recovering %s: %w", txn, err)
		}
	}
	s.unfinished = nil
	return nil
}

// Recovered lists the workflow runs Start made to finish files an earlier
// process left unfinished.
func (s *Stack) Recovered() []Run { return append([]Run(nil), s.recovered...) }

// parseFileTxn reads a file version's dedupe transaction, the file's
// origin s3://bucket/key@version (batch.Origin).
func parseFileTxn(txn string) (port.FileDrop, bool) {
	rest, ok := strings.CutPrefix(txn, "s3://")
	if !ok {
		return port.FileDrop{}, false
	}
	at := strings.LastIndexByte(rest, '@')
	slash := strings.IndexByte(rest, '/')
	if at < 0 || slash < 0 || slash > at {
		return port.FileDrop{}, false
	}
	d := port.FileDrop{Bucket: rest[:slash], Key: rest[slash+1 : at]}
	// Origin uses the version ID when the bucket has one, else the ETag:
	// either names the same object version.
	d.VersionID, d.ETag = rest[at+1:], rest[at+1:]
	return d, true
}

// migrateObjects moves a data folder's buckets from the layout of earlier
// versions (s3/<bucket>/..., saved when the stack closed) to the folder
// backend's (s3/buckets/<bucket>/...).
func migrateObjects(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "buckets")); err == nil {
		return nil
	}
	for _, b := range []string{Buckets.Raw, Buckets.Staging, Buckets.Curated, Buckets.Quarantine} {
		old := filepath.Join(dir, b)
		if _, err := os.Stat(old); err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, "buckets"), 0o755); err != nil {
			return fmt.Errorf("moving %s: %w", old, err)
		}
		if err := os.Rename(old, filepath.Join(dir, "buckets", b)); err != nil {
			return fmt.Errorf("moving %s: %w", old, err)
		}
	}
	return nil
}

// s3Folder is where a data folder keeps its buckets.
const s3Folder = "s3"
