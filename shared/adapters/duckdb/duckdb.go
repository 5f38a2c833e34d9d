// Package duckdb is the embedded warehouse: port.Warehouse on DuckDB
// through duckdb-go (cgo). It is the default warehouse for the local flow
// and tests, and speaks the DuckDB dialect of shared/sqlmodel.
// Never import it from a Lambda function (cgo).
package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pulse-analytics/pulse/shared/adapters/sqldb"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

var (
	_ port.Warehouse = (*Warehouse)(nil)
	_ port.TxExecer  = (*Warehouse)(nil)
)

const dialect = sqlmodel.DuckDB

// Warehouse is a DuckDB database. It is safe for concurrent use: writes
// (Migrate, Merge, Exec) are serialised, queries run in parallel.
type Warehouse struct {
	db  *sql.DB
	mu  sync.Mutex // serialises writes
	now func() time.Time

	// stageByInsert stages rows with multi-row INSERTs instead of the
	// Appender (kept for the benchmark that compares the two).
	stageByInsert bool
}

// Options bound what DuckDB takes of the machine. Zero values keep
// DuckDB's defaults: a memory limit of 80% of the machine's memory, one
// thread per core.
type Options struct {
	// MemoryLimit caps DuckDB's buffer manager (cached table blocks, hash
	// tables, sorts) in bytes, as SET memory_limit does; work beyond it
	// spills to <path>.tmp or, where it cannot, fails with an
	// out-of-memory error. Blocks of the database file are evicted from
	// the cache as needed, so a warehouse that grows does not grow the
	// process.
	MemoryLimit int64
	// Threads is DuckDB's worker threads (SET threads).
	Threads int
}

// dsn adds o's settings to path as DuckDB configuration parameters.
func (o Options) dsn(path string) string {
	var params []string
	if o.MemoryLimit > 0 {
		// DuckDB reads KiB/MiB/GiB as powers of two, KB/MB/GB as powers of ten.
		params = append(params, fmt.Sprintf("memory_limit=%dKiB", max(o.MemoryLimit>>10, 1)))
	}
	if o.Threads > 0 {
		params = append(params, fmt.Sprintf("threads=%d", o.Threads))
	}
	if len(params) == 0 {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + strings.Join(params, "&")
}

// Open opens (creating if needed) the database file at path; "" opens a
// private in-memory database. path may carry DuckDB configuration
// parameters (path?access_mode=read_only).
func Open(ctx context.Context, path string) (*Warehouse, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith opens the database at path as Open does, with o's bounds.
func OpenWith(ctx context.Context, path string, o Options) (*Warehouse, error) {
	connector, err := duckdb.NewConnector(o.dsn(path), nil)
	if err != nil {
		return nil, fmt.Errorf("opening duckdb %q: %w", path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to duckdb %q: %w", path, err)
	}
	return &Warehouse{db: db, now: time.Now}, nil
}

// Close closes the database; the file (if any) keeps its rows.
func (w *Warehouse) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("closing duckdb: %w", err)
	}
	return nil
}

// Exec runs one or more statements in the DuckDB dialect.
func (w *Warehouse) Exec(ctx context.Context, query string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("executing %s: %w", sqldb.Abbrev(query), err)
	}
	return nil
}

// Query runs a read-only query. Values come back as string, int64,
// float64, bool, time.Time (UTC; DATE at midnight) or nil; HUGEINT sums
// that fit become int64, DECIMALs float64, anything else its text.
func (w *Warehouse) Query(ctx context.Context, query string, args ...any) ([]string, [][]any, error) {
	return sqldb.Query(ctx, w.db, convert, query, args...)
}

// convert narrows a driver value to the types Query promises.
func convert(_ *sql.ColumnType, v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return x
	case time.Time:
		return x.UTC()
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return fmt.Sprint(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case []byte:
		return string(x)
	case duckdb.UUID:
		return x.String()
	}
	return fmt.Sprint(v)
}

// Dialect says the warehouse speaks DuckDB SQL (sqlmodel.Speaker).
func (w *Warehouse) Dialect() sqlmodel.Dialect { return dialect }

// ExecTx runs statements in order in one transaction: all of them take
// effect or none does.
func (w *Warehouse) ExecTx(ctx context.Context, stmts []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return sqldb.ExecTx(ctx, w.db, stmts)
}

// MemoryUsage returns the bytes DuckDB's buffer manager holds now (the sum
// of duckdb_memory()): cached table blocks, query intermediates and the
// like, all outside Go's heap.
func (w *Warehouse) MemoryUsage(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := w.db.QueryRowContext(ctx, "SELECT CAST(SUM(memory_usage_bytes) AS BIGINT) FROM duckdb_memory()").Scan(&n); err != nil {
		return 0, fmt.Errorf("reading duckdb_memory(): %w", err)
	}
	return n.Int64, nil
}
