package pipeline

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

// ErrNotFound is returned by ObjectStore.Get and Head for a missing key.
var ErrNotFound = errors.New("object not found")

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket    string
	Key       string
	Size      int64
	ETag      string
	VersionID string
	Modified  time.Time
}

// ObjectStore is the S3-shaped store for the raw, staging, curated and
// quarantine layers. Implementations: shared/adapters/s3 (aws-sdk-go-v2,
// tested against gofakes3).
type ObjectStore interface {
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (ObjectInfo, error) // size -1 if unknown
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error)
	Head(ctx context.Context, bucket, key string) (ObjectInfo, error)
	List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) // all keys under prefix, sorted by key
	Delete(ctx context.Context, bucket, key string) error
}

// Claim asks to record that Key was first seen at Origin. Origin is the
// position of the record in its source (S3 object + version + row, or
// topic/partition/offset), so a retry of the same position is recognised.
type Claim struct {
	Key    string
	Origin string
}

// Outcome of one Claim.
type Outcome int

const (
	// Fresh: the key was new and is now claimed by this origin.
	Fresh Outcome = iota
	// Retry: the key was already claimed by this same origin (a redelivery); the record proceeds.
	Retry
	// Duplicate: the key was claimed by another origin; the record is a duplicate.
	Duplicate
)

func (o Outcome) String() string {
	switch o {
	case Fresh:
		return "fresh"
	case Retry:
		return "retry"
	case Duplicate:
		return "duplicate"
	}
	return "unknown"
}

// Dedupe remembers which origin first claimed each key (DESIGN.md 4.1).
// Implementations: shared/adapters/memory and shared/adapters/dynamodb,
// both passing shared/pipeline/dedupetest.
type Dedupe interface {
	// Claim resolves claims in order and returns one Outcome per claim.
	// Within one call, a later claim of a key already claimed earlier in
	// the same call by a different origin is a Duplicate (and costs no
	// extra write); by the same origin, a Retry.
	Claim(ctx context.Context, namespace string, claims []Claim) ([]Outcome, error)
}

// Warehouse is where modelled tables are loaded and queried.
// Implementations: shared/adapters/duckdb (embedded default) and
// shared/adapters/snowflake.
type Warehouse interface {
	// Migrate creates the tables (and anything else the DDL needs) if they
	// do not exist. Running it again changes nothing.
	Migrate(ctx context.Context, tables []table.Schema) error
	// Merge upserts rows into the table by its Key: a row whose key exists
	// replaces it, a new key is inserted. Loading the same rows again
	// leaves the table unchanged. It returns the number of rows inserted
	// (not updated).
	Merge(ctx context.Context, t table.Schema, rows []table.Row) (inserted int, err error)
	// Exec runs a statement (views, deletes) in the warehouse's dialect.
	Exec(ctx context.Context, sql string) error
	// Query runs a read-only query and returns its rows as strings-or-nil,
	// for views, tests and the dashboard.
	Query(ctx context.Context, sql string, args ...any) ([]string, [][]any, error)
	Close() error
}
