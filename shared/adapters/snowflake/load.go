package snowflake

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// loader is a port.Loader on one Snowflake session. Stage writes each
// call's rows (with a staging sequence number) to a Parquet file, PUTs it
// and COPYs it into a session temporary table; Commit then runs, in one
// explicit transaction (no DDL inside it: DDL would commit it):
//
//	BEGIN
//	<statements>
//	MERGE INTO <T> ... USING <stage of T> ...   (one per table)
//	COMMIT
//
// Close drops the temporary tables.
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
	conn, err := w.db.Conn(ctx) // the temporary tables live in this session
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
		st = &stagedTable{t: t, stage: "PULSE_LOAD_" + stageFolder(t.Name)}
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
	seqd := sqlmodel.StageSchema(t)
	withSeq := make([]table.Row, len(rows))
	for i, r := range rows {
		l.seq++
		withSeq[i] = append(append(make(table.Row, 0, len(r)+1), r...), table.Cell{I: l.seq})
	}
	location := l.w.stage + "/" + stageFolder(st.stage) + "/"
	var files []string
	for start := 0; start < len(withSeq); start += l.w.fileRows {
		name, err := l.w.putBatch(ctx, l.conn, location, seqd, withSeq[start:min(start+l.w.fileRows, len(withSeq))])
		if err != nil {
			return fmt.Errorf("staging %s: %w", t.Name, err)
		}
		files = append(files, name)
	}
	if _, err := l.conn.ExecContext(ctx, copyInto(st.stage, location, files)); err != nil {
		return fmt.Errorf("staging %s: copying %d files into the stage table: %w", t.Name, len(files), err)
	}
	return nil
}

func (l *loader) Exec(sql string) { l.stmts = append(l.stmts, sql) }

func (l *loader) Commit(ctx context.Context) (inserted map[string]int, err error) {
	if l.done {
		return nil, fmt.Errorf("committing a load: the load is closed")
	}
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	if _, err := l.conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("committing a load: BEGIN: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = l.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for _, q := range l.stmts {
		if _, err := l.conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("committing a load: executing %s: %w", q, err)
		}
	}
	inserted = make(map[string]int, len(l.tables))
	for _, st := range l.tables {
		if st.calls == 0 {
			continue
		}
		cols, rows, err := queryMerge(ctx, l.conn, dialect.Merge(st.t, dialect.LoadSource(st.t, st.stage, st.calls == 1)))
		if err != nil {
			return nil, fmt.Errorf("committing a load: merging into %s: %w", st.t.Name, err)
		}
		n, err := rowsInserted(cols, rows)
		if err != nil {
			return nil, fmt.Errorf("committing a load: merging into %s: %w", st.t.Name, err)
		}
		inserted[st.t.Name] = n
	}
	if _, err := l.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("committing a load: COMMIT: %w", err)
	}
	return inserted, nil
}

func (l *loader) Close() error {
	if l.done {
		return nil
	}
	l.done = true
	for _, st := range l.tables {
		_, _ = l.conn.ExecContext(context.Background(), dialect.DropTable(st.stage)) // the session's temporary tables go with it anyway
	}
	return l.conn.Close()
}
