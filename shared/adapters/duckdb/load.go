package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// loader is a port.Loader on one connection: each table's rows are
// appended to a connection-private temporary table (with a staging
// sequence number), and Commit merges them all in one transaction.
type loader struct {
	w      *Warehouse
	conn   *sql.Conn
	tables []*stagedTable
	byName map[string]*stagedTable
	stmts  []string
	seq    int64
	done   bool
}

type stagedTable struct {
	t     table.Schema
	stage string
	calls int
}

// BeginLoad implements port.Warehouse.
func (w *Warehouse) BeginLoad(ctx context.Context) (port.Loader, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("beginning a load: getting a connection: %w", err)
	}
	return &loader{w: w, conn: conn, byName: map[string]*stagedTable{}}, nil
}

func (l *loader) Stage(ctx context.Context, t table.Schema, rows []table.Row) error {
	if l.done {
		return fmt.Errorf("staging %s: the load is closed", t.Name)
	}
	if err := sqlmodel.CheckSchema(t); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	rows, err := sqlmodel.LastByKey(t, rows)
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	st := l.byName[t.Name]
	if st == nil {
		st = &stagedTable{t: t, stage: "PULSE_LOAD_" + stageName(t.Name)[len("PULSE_STAGE_"):]}
		if _, err := l.conn.ExecContext(ctx, dialect.CreateTempTable(st.stage, sqlmodel.StageSchema(t))); err != nil {
			return fmt.Errorf("staging %s: creating stage table: %w", t.Name, err)
		}
		l.byName[t.Name] = st
		l.tables = append(l.tables, st)
	}
	if len(rows) == 0 {
		return nil
	}
	st.calls++
	err = l.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", st.stage)
		if err != nil {
			return fmt.Errorf("creating appender: %w", err)
		}
		vals := make([]driver.Value, len(t.Columns)+1)
		for n, r := range rows {
			for i, c := range t.Columns {
				vals[i] = value(c.Type, r[i])
			}
			l.seq++
			vals[len(t.Columns)] = l.seq
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
	if err != nil {
		return fmt.Errorf("staging %d rows of %s: %w", len(rows), t.Name, err)
	}
	return nil
}

func (l *loader) Exec(sql string) { l.stmts = append(l.stmts, sql) }

func (l *loader) Commit(ctx context.Context) (map[string]int, error) {
	if l.done {
		return nil, fmt.Errorf("committing a load: the load is closed")
	}
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("committing a load: beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, q := range l.stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("committing a load: %s: %w", q, err)
		}
	}
	inserted := make(map[string]int, len(l.tables))
	for _, st := range l.tables {
		if st.calls == 0 {
			continue
		}
		src := dialect.LoadSource(st.t, st.stage, st.calls == 1)
		var n int64
		if err := tx.QueryRowContext(ctx, dialect.CountNew(st.t, src)).Scan(&n); err != nil {
			return nil, fmt.Errorf("committing a load: counting new keys of %s: %w", st.t.Name, err)
		}
		if _, err := tx.ExecContext(ctx, dialect.Merge(st.t, src)); err != nil {
			return nil, fmt.Errorf("committing a load: merging into %s: %w", st.t.Name, err)
		}
		inserted[st.t.Name] = int(n)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing a load: %w", err)
	}
	return inserted, nil
}

func (l *loader) Close() error {
	if l.done {
		return nil
	}
	l.done = true
	ctx := context.Background()
	for _, st := range l.tables {
		if _, err := l.conn.ExecContext(ctx, dialect.DropTable(st.stage)); err != nil {
			_ = l.conn.Raw(func(any) error { return driver.ErrBadConn }) // discard the connection
			break
		}
	}
	return l.conn.Close()
}
