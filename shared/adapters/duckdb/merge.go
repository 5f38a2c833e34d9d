package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// insertBatchRows is the number of rows per multi-row INSERT when staging
// without the Appender.
const insertBatchRows = 500

// Merge upserts rows into t by its key and returns how many keys were new.
// Rows repeating a key within the call are reduced to the last one. The
// rows are staged in a connection-private temporary table with the
// duckdb-go Appender, then counted and merged in one transaction, so a
// failed Merge leaves the table as it was and loading the same rows again
// changes nothing and returns 0.
func (w *Warehouse) Merge(ctx context.Context, t table.Schema, rows []table.Row) (int, error) {
	if err := sqlmodel.CheckSchema(t); err != nil {
		return 0, fmt.Errorf("merging: %w", err)
	}
	rows, err := sqlmodel.LastByKey(t, rows)
	if err != nil {
		return 0, fmt.Errorf("merging: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	conn, err := w.db.Conn(ctx) // the temp table is visible on this connection only
	if err != nil {
		return 0, fmt.Errorf("merging into %s: getting a connection: %w", t.Name, err)
	}
	defer conn.Close()
	stage := stageName(t.Name)
	if _, err := conn.ExecContext(ctx, dialect.CreateTempTable(stage, t)); err != nil {
		return 0, fmt.Errorf("merging into %s: creating stage table: %w", t.Name, err)
	}
	defer func() {
		// Dropped even when ctx is done, so the pooled connection does not keep the rows.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), dialect.DropTable(stage)); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // discard the connection
		}
	}()
	if w.stageByInsert {
		err = stageInsert(ctx, conn, stage, t, rows)
	} else {
		err = stageAppend(conn, stage, t, rows)
	}
	if err != nil {
		return 0, fmt.Errorf("merging into %s: staging %d rows: %w", t.Name, len(rows), err)
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("merging into %s: beginning transaction: %w", t.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	src := dialect.QuoteName(stage)
	var inserted int64
	if err := tx.QueryRowContext(ctx, dialect.CountNew(t, src)).Scan(&inserted); err != nil {
		return 0, fmt.Errorf("merging into %s: counting new keys: %w", t.Name, err)
	}
	if _, err := tx.ExecContext(ctx, dialect.Merge(t, src)); err != nil {
		return 0, fmt.Errorf("merging into %s: %w", t.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("merging into %s: committing: %w", t.Name, err)
	}
	return int(inserted), nil
}

// stageName is the temporary table a load of name stages into.
func stageName(name string) string {
	return "PULSE_STAGE_" + strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// stageAppend writes rows into the temporary table with the Appender.
func stageAppend(conn *sql.Conn, stage string, t table.Schema, rows []table.Row) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", stage)
		if err != nil {
			return fmt.Errorf("creating appender: %w", err)
		}
		vals := make([]driver.Value, len(t.Columns))
		for n, r := range rows {
			for i, c := range t.Columns {
				vals[i] = value(c.Type, r[i])
			}
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return fmt.Errorf("appending row %d: %w", n, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flushing appender: %w", err)
		}
		return nil
	})
}

// stageInsert writes rows into the temporary table with multi-row INSERTs
// of insertBatchRows rows.
func stageInsert(ctx context.Context, conn *sql.Conn, stage string, t table.Schema, rows []table.Row) error {
	args := make([]any, 0, insertBatchRows*len(t.Columns))
	for start := 0; start < len(rows); start += insertBatchRows {
		batch := rows[start:min(start+insertBatchRows, len(rows))]
		args = args[:0]
		for _, r := range batch {
			for i, c := range t.Columns {
				args = append(args, value(c.Type, r[i]))
			}
		}
		if _, err := conn.ExecContext(ctx, dialect.InsertValues(stage, t, len(batch)), args...); err != nil {
			return fmt.Errorf("inserting rows %d-%d: %w", start, start+len(batch)-1, err)
		}
	}
	return nil
}

// value is the driver value of a cell of type typ.
func value(typ table.Type, c table.Cell) driver.Value {
	if c.Null {
		return nil
	}
	switch typ {
	case table.String:
		return c.S
	case table.Int:
		return c.I
	case table.Float:
		return c.F
	case table.Bool:
		return c.B
	case table.Timestamp:
		return time.UnixMicro(c.I).UTC()
	case table.Date:
		return time.Unix(c.I*86400, 0).UTC()
	}
	return nil
}
