package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/fsstore"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Buckets are the benchmark's four layers, folders of one fsstore.
var Buckets = port.Buckets{Raw: "raw", Staging: "staging", Curated: "curated", Quarantine: "quarantine"}

// Batch is one raw file in a filesystem object store, ready to be put
// through Clean and Model as the batch workflow does.
type Batch struct {
	Store *CountingStore
	Drop  port.FileDrop
	temp  string
}

// Prepare opens (creating) an fsstore at root and puts file into the raw
// bucket under raw/<dataset>/<file name>.
func Prepare(ctx context.Context, root, datasetName, file string) (*Batch, error) {
	fs, err := fsstore.Open(root)
	if err != nil {
		return nil, err
	}
	if err := fs.CreateBuckets(ctx, Buckets.Raw, Buckets.Staging, Buckets.Curated, Buckets.Quarantine); err != nil {
		return nil, err
	}
	temp := filepath.Join(root, "spool")
	if err := os.MkdirAll(temp, 0o755); err != nil {
		return nil, fmt.Errorf("making spool folder: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	key := "raw/" + datasetName + "/" + filepath.Base(file)
	info, err := fs.Put(ctx, Buckets.Raw, key, f, fi.Size())
	if err != nil {
		return nil, err
	}
	return &Batch{
		Store: &CountingStore{ObjectStore: fs},
		Drop:  port.FileDrop{Bucket: Buckets.Raw, Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID},
		temp:  temp,
	}, nil
}

// OpenBatch opens the fsstore at root for the raw object key put there
// before (by Prepare or PrepareOnce).
func OpenBatch(ctx context.Context, root, key string) (*Batch, error) {
	fs, err := fsstore.Open(root)
	if err != nil {
		return nil, err
	}
	info, err := fs.Head(ctx, Buckets.Raw, key)
	if err != nil {
		return nil, err
	}
	return &Batch{
		Store: &CountingStore{ObjectStore: fs},
		Drop:  port.FileDrop{Bucket: Buckets.Raw, Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID},
		temp:  filepath.Join(root, "spool"),
	}, nil
}

// PrepareOnce is Prepare, except that a raw object of the file's name and
// size already in the store is kept rather than copied again (the fixtures
// are generated once; copying a gigabyte costs seconds).
func PrepareOnce(ctx context.Context, root, datasetName, file string) (*Batch, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	key := "raw/" + datasetName + "/" + filepath.Base(file)
	if b, err := OpenBatch(ctx, root, key); err == nil && b.Drop.Size == fi.Size() {
		return b, nil
	}
	return Prepare(ctx, root, datasetName, file)
}

// Key is the raw object's key.
func (b *Batch) Key() string { return b.Drop.Key }

// Result is what one Clean+Model run did.
type Result struct {
	Manifest *batch.Manifest
	Counts   port.Counts
	Clean    time.Duration
	Model    time.Duration
	Rows     map[string]int64 // curated rows per table
}

// CleanModel runs Clean then Model on the batch's file with dedupe, the
// steps of the batch workflow before Load. The pipeline's logging is
// discarded (it logs one line per file).
func (b *Batch) CleanModel(ctx context.Context, dedupe port.Dedupe) (Result, error) {
	env := &batch.Env{
		Store:   b.Store,
		Dedupe:  dedupe,
		Buckets: Buckets,
		TempDir: b.temp,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	var r Result
	start := time.Now()
	m, err := batch.Clean(ctx, env, b.Drop)
	if err != nil {
		return r, fmt.Errorf("clean: %w", err)
	}
	r.Clean = time.Since(start)
	b.Store.phase.Store(phaseModel)
	start = time.Now()
	m, err = batch.Model(ctx, env, m)
	if err != nil {
		return r, fmt.Errorf("model: %w", err)
	}
	r.Model = time.Since(start)
	r.Manifest, r.Counts = m, m.Counts
	r.Rows = map[string]int64{}
	for _, o := range m.Curated {
		r.Rows[o.Table] = o.Rows
	}
	return r, nil
}

// Check compares a run's counts with the generator's truth.
func (r Result) Check(t Truth) error {
	c := r.Counts
	if c.Received != int64(t.Rows) || c.Loaded != int64(t.Loaded) || c.Rejected != int64(t.Rejected) || c.Duplicate != int64(t.Duplicate) || c.Late != 0 {
		return fmt.Errorf("counts %s; the generator wrote %d rows: %d to load, %d to reject, %d duplicates", c, t.Rows, t.Loaded, t.Rejected, t.Duplicate)
	}
	return nil
}

const (
	phaseClean int32 = iota
	phaseModel
)

// CountingStore counts the bytes read from the raw bucket, for progress.
type CountingStore struct {
	port.ObjectStore
	raw   atomic.Int64
	phase atomic.Int32
}

// Get counts what is read from the raw bucket.
func (c *CountingStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	rc, info, err := c.ObjectStore.Get(ctx, bucket, key)
	if err != nil || bucket != Buckets.Raw {
		return rc, info, err
	}
	return &countingReader{rc: rc, n: &c.raw}, info, nil
}

// Progress reports the phase ("clean" or "model") and the raw bytes read.
func (c *CountingStore) Progress() (string, int64) {
	if c.phase.Load() == phaseModel {
		return "model", c.raw.Load()
	}
	return "clean", c.raw.Load()
}

// Reset starts a new run's count.
func (c *CountingStore) Reset() {
	c.raw.Store(0)
	c.phase.Store(phaseClean)
}

type countingReader struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n.Add(int64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
