package batch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// Env is what the use cases run against: the ports and a few settings.
type Env struct {
	Store     port.ObjectStore
	Dedupe    port.Dedupe
	Warehouse port.Warehouse // needed by Load and DataTests only
	Buckets   port.Buckets
	TempDir   string           // for spooling Parquet ("" = os.TempDir())
	Now       func() time.Time // defaults to time.Now
	Log       *slog.Logger     // defaults to slog.Default()
	// ClaimBatch is how many records are claimed in one Dedupe call (default 1000).
	ClaimBatch int
	// ClaimTimeout is how long a file's dedupe claims hold their keys
	// without being committed (DefaultClaimTimeout when 0): past it, the
	// file's work counts as dead and a later delivery of its records
	// takes them over. It must exceed the batch workflow's timeout.
	ClaimTimeout time.Duration
	// Failpoint, for tests of failures and recoveries, is called at the
	// named points inside the use cases (FailLoadStaged, FailLoadCommitted);
	// an error it returns fails the work there. nil in production.
	Failpoint func(point string) error
}

// Failpoints inside the use cases (Env.Failpoint).
const (
	// FailLoadStaged: Load staged every table, the warehouse transaction is not committed.
	FailLoadStaged = "load:staged"
	// FailLoadCommitted: Load's warehouse transaction committed, the file's dedupe claims are not.
	FailLoadCommitted = "load:committed"
)

func (e *Env) failpoint(point string) error {
	if e.Failpoint == nil {
		return nil
	}
	return e.Failpoint(point)
}

// DefaultClaimTimeout is Env.ClaimTimeout's default: longer than the batch
// workflow's timeout (6 hours, infra/stacks/batch.go; a test holds them so),
// so only work that can no longer commit is ever taken over.
const DefaultClaimTimeout = 7 * time.Hour

func (e *Env) claimDeadline() time.Time {
	d := e.ClaimTimeout
	if d <= 0 {
		d = DefaultClaimTimeout
	}
	return e.now().Add(d)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Env) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

func (e *Env) claimBatch() int {
	if e.ClaimBatch > 0 {
		return e.ClaimBatch
	}
	return 1000
}

// spool copies an object into a temporary file (for formats that need
// random access, such as Parquet). The caller removes the file.
func (e *Env) spool(ctx context.Context, bucket, key string) (*os.File, int64, error) {
	body, _, err := e.Store.Get(ctx, bucket, key)
	if err != nil {
		return nil, 0, fmt.Errorf("getting s3://%s/%s: %w", bucket, key, err)
	}
	defer body.Close()
	f, err := os.CreateTemp(e.TempDir, "pulse-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("creating spool file: %w", err)
	}
	n, err := io.Copy(f, body)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, fmt.Errorf("spooling s3://%s/%s: %w", bucket, key, err)
	}
	return f, n, nil
}

// tempWriter is a temporary file that is uploaded when done.
type tempWriter struct {
	f *os.File
}

func (e *Env) newTemp() (*tempWriter, error) {
	f, err := os.CreateTemp(e.TempDir, "pulse-out-*")
	if err != nil {
		return nil, fmt.Errorf("creating temp file: %w", err)
	}
	return &tempWriter{f: f}, nil
}

func (t *tempWriter) Write(p []byte) (int, error) { return t.f.Write(p) }

// upload puts the temp file's content at bucket/key and removes the file.
func (t *tempWriter) upload(ctx context.Context, store port.ObjectStore, bucket, key string) error {
	defer t.discard()
	size, err := t.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("sizing %s: %w", key, err)
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewinding %s: %w", key, err)
	}
	if _, err := store.Put(ctx, bucket, key, t.f, size); err != nil {
		return fmt.Errorf("putting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func (t *tempWriter) discard() {
	if t.f != nil {
		t.f.Close()
		os.Remove(t.f.Name())
		t.f = nil
	}
}
