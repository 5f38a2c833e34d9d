// Package sqldb is the database/sql plumbing the SQL warehouses share
// (shared/adapters/duckdb and shared/adapters/snowflake): running a query
// into rows of plain Go values, running statements in one transaction, and
// shortening statements for error messages. Each adapter keeps its own
// value conversion, since the drivers return different types.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
)

// Queryer is a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Convert narrows one driver value of a column to the types the
// port.Warehouse port promises.
type Convert func(col *sql.ColumnType, v any) any

// Query runs q and returns the column names and every row, each value
// passed through convert.
func Query(ctx context.Context, db Queryer, convert Convert, q string, args ...any) ([]string, [][]any, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("querying %s: %w", Abbrev(q), err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, fmt.Errorf("reading columns of %s: %w", Abbrev(q), err)
	}
	cols := make([]string, len(types))
	for i, t := range types {
		cols[i] = t.Name()
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, fmt.Errorf("scanning row %d of %s: %w", len(out), Abbrev(q), err)
		}
		for i, v := range vals {
			vals[i] = convert(types[i], v)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading rows of %s: %w", Abbrev(q), err)
	}
	return cols, out, nil
}

// ExecTx runs statements in order in one transaction: all of them take
// effect or none does.
func ExecTx(ctx context.Context, db *sql.DB, stmts []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("executing %s: %w", Abbrev(q), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// Abbrev shortens a statement for error messages.
func Abbrev(q string) string {
	if len(q) > 120 {
		return q[:117] + "..."
	}
	return q
}
