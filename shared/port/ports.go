package port

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
	// Fresh: the key was new, or its holder's work never committed (its
	// transaction was aborted or abandoned past its deadline), and it is
	// now claimed by this origin in this transaction.
	Fresh Outcome = iota
	// Retry: the key was already claimed by this same origin (a redelivery); the record proceeds.
	Retry
	// Duplicate: the key is held by another origin whose transaction
	// committed, or by another origin of this same transaction (the same
	// record twice in one file or batch); the record is a duplicate.
	Duplicate
	// Held: the key is held by another origin whose transaction is still
	// in flight (pending, before its deadline). Whether this record is a
	// duplicate depends on how that work ends, so the caller must not
	// decide yet: it fails its unit of work with ErrClaimHeld and is
	// retried later.
	Held
)

func (o Outcome) String() string {
	switch o {
	case Fresh:
		return "fresh"
	case Retry:
		return "retry"
	case Duplicate:
		return "duplicate"
	case Held:
		return "held"
	}
	return "unknown"
}

// TxnState is the state of a dedupe transaction.
type TxnState int

const (
	// TxnUnknown: no such transaction is recorded (never begun, or expired).
	TxnUnknown TxnState = iota
	// TxnPending: begun, neither committed nor aborted. Its claims hold
	// their keys until its deadline; past it the transaction counts as
	// abandoned and its claims can be taken over.
	TxnPending
	// TxnCommitted: its effect landed; its claims shadow every other origin.
	TxnCommitted
	// TxnAborted: its work failed or was given up; its claims hold nothing.
	TxnAborted
)

func (s TxnState) String() string {
	switch s {
	case TxnPending:
		return "pending"
	case TxnCommitted:
		return "committed"
	case TxnAborted:
		return "aborted"
	}
	return "unknown"
}

// Dedupe claim errors.
var (
	// ErrClaimHeld: a record's key is held by another unit of work still in
	// flight; retry the unit later (a transient error).
	ErrClaimHeld = errors.New("dedupe key held by work still in flight")
	// ErrTxnAborted: Commit of a transaction that was aborted meanwhile
	// (quarantined, or taken over after its deadline).
	ErrTxnAborted = errors.New("dedupe transaction was aborted")
	// ErrTxnCommitted: Abort of a transaction that already committed.
	ErrTxnCommitted = errors.New("dedupe transaction already committed")
)

// Dedupe remembers which origin first claimed each key, and binds each
// claim to the transaction (a file version, a stream batch) whose effect
// makes it count (DESIGN.md 4.1): a claim shadows other origins only once
// its transaction committed, that is once the warehouse load of its
// records landed. A transaction that was aborted (the file quarantined),
// or is still pending after its deadline (its work died), holds nothing:
// a later delivery of the same record takes its keys over.
//
// The protocol of a unit of work is Begin, Claim (any number of times,
// retries included), then, after the effect is committed, Commit; or
// Abort when the work is given up. Cost: one conditional write per
// distinct key claimed, plus one write per Begin, Commit and Abort.
//
// Implementations: shared/adapters/memory and shared/adapters/dynamo, both
// passing shared/port/dedupetest.
type Dedupe interface {
	// Begin opens txn (or reopens it: a retry) as pending until deadline.
	// A pending or aborted transaction becomes pending with the new
	// deadline; a committed one stays committed.
	Begin(ctx context.Context, txn string, deadline time.Time) error
	// Claim resolves claims in order, for transaction txn, and returns one
	// Outcome per claim. Within one call, a later claim of a key claimed
	// earlier in the call by a different origin is a Duplicate (and costs
	// no extra write); by the same origin, a Retry. A Retry by an origin
	// whose claim was made in another transaction moves the claim to txn.
	Claim(ctx context.Context, namespace, txn string, claims []Claim) ([]Outcome, error)
	// Commit marks txn committed: its claims now shadow every other
	// origin. Committing again is harmless; ErrTxnAborted if it was aborted.
	Commit(ctx context.Context, txn string) error
	// Abort releases txn's claims; aborting again is harmless.
	// ErrTxnCommitted if it had committed (nothing is released then).
	Abort(ctx context.Context, txn string) error
	// State returns txn's state (TxnUnknown if it was never begun or expired).
	State(ctx context.Context, txn string) (TxnState, error)
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
	// BeginLoad starts the load of one unit of work (a file, a stream
	// batch): its rows, over any number of tables, land together or not
	// at all.
	BeginLoad(ctx context.Context) (Loader, error)
	// Exec runs a statement (views, deletes) in the warehouse's dialect.
	Exec(ctx context.Context, sql string) error
	// Query runs a read-only query and returns its rows as strings-or-nil,
	// for views, tests and the dashboard.
	Query(ctx context.Context, sql string, args ...any) ([]string, [][]any, error)
	Close() error
}

// TxExecer is a Warehouse that can run statements in one transaction
// (both Pulse adapters can); gold uses it where the warehouse offers it.
type TxExecer interface {
	ExecTx(ctx context.Context, stmts []string) error
}

// Loader is the load of one unit of work. Rows of any number of tables are
// staged (in the warehouse, so memory stays bounded), then merged in one
// warehouse transaction: a failure or a crash before Commit returns leaves
// every table as it was.
type Loader interface {
	// Stage adds rows to merge into t by its key. Of rows repeating a key
	// (within and across calls), the last staged wins.
	Stage(ctx context.Context, t table.Schema, rows []table.Row) error
	// Exec adds a statement to run in the transaction, before the merges.
	Exec(sql string)
	// Commit runs the statements, then merges every staged table in the
	// order it was first staged, in one transaction, and returns how many
	// rows each table gained (keys that were new).
	Commit(ctx context.Context) (inserted map[string]int, err error)
	// Close drops what was staged. Without a successful Commit, nothing changed.
	Close() error
}

// AppendRow is one row to append and the offset token of the source
// position it came from (a Kafka offset, or a version); rows sharing a
// token are appended together.
type AppendRow struct {
	Token int64
	Cells table.Row
}

// Appender appends rows to tables on named channels, exactly once per
// offset token: a channel is one writer's ordered stream into one table,
// and remembers the last token it committed (Snowpipe Streaming's model,
// DESIGN.md 2 "Warehouse"). A redelivery appends nothing twice: rows at or
// below the committed token are skipped. Implementations:
// shared/adapters/snowpipe (Snowflake, no virtual warehouse) and
// shared/adapters/duckdb (the local stack and the tests: the token is
// kept in PULSE_CHANNELS, updated in the append's transaction).
type Appender interface {
	// Open opens the channel (creating it on first use) and returns its
	// last committed token, -1 when it has none.
	Open(ctx context.Context, t table.Schema, channel string) (token int64, err error)
	// Append appends the rows whose Token is above the channel's committed
	// token, in token order, and commits end (at least every row's token)
	// as the channel's token: when it returns nil, every row is in the
	// table once. A failed Append may have landed any prefix of the rows
	// with its tokens; calling it again appends only the rest.
	Append(ctx context.Context, t table.Schema, channel string, rows []AppendRow, end int64) error
}

// Buckets names the four storage layers.
type Buckets struct {
	Raw        string // bronze: files as they arrived, under raw/<dataset>/
	Staging    string // silver: cleaned Parquet, partitioned, plus _manifests/
	Curated    string // gold: star-schema Parquet per table
	Quarantine string // rejected records, kept whole with their reasons
}

// RangeGetter is an ObjectStore that can read part of an object. Stores
// without it are read from the start and the bytes before offset skipped.
type RangeGetter interface {
	GetRange(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, error)
}
