package snowflake

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/adapters/sqldb"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Migrate brings each table to its schema version: a version (table name
// and column-list hash) already recorded in PULSE_MIGRATIONS is skipped;
// otherwise the table is created if missing, the columns it lacks are
// added (ADD COLUMN IF NOT EXISTS), and the version is recorded. Every
// statement is idempotent, so an interrupted Migrate can be re-run.
func (w *Warehouse) Migrate(ctx context.Context, tables []table.Schema) error {
	for _, s := range tables {
		if err := sqlmodel.CheckSchema(s); err != nil {
			return fmt.Errorf("migrating: %w", err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrating: getting a connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, dialect.CreateTable(sqlmodel.MigrationsTable)); err != nil {
		return fmt.Errorf("creating %s: %w", sqlmodel.MigrationsTable.Name, err)
	}
	for _, s := range tables {
		if err := migrateTable(ctx, conn, s); err != nil {
			return err
		}
	}
	return nil
}

func migrateTable(ctx context.Context, conn *sql.Conn, s table.Schema) error {
	m := dialect.QuoteName(sqlmodel.MigrationsTable.Name)
	hash := sqlmodel.ColumnsHash(s)
	_, rows, err := sqldb.Query(ctx, conn, convert, "SELECT COUNT(*) FROM "+m+" WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?", s.Name, hash)
	if err != nil {
		return fmt.Errorf("migrating table %s: %w", s.Name, err)
	}
	if len(rows) == 1 && rows[0][0] != int64(0) {
		return nil // this version is applied
	}
	if _, err := conn.ExecContext(ctx, dialect.CreateTable(s)); err != nil {
		return fmt.Errorf("creating table %s: %w", s.Name, err)
	}
	_, rows, err = sqldb.Query(ctx, conn, convert, "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS"+
		" WHERE TABLE_SCHEMA = CURRENT_SCHEMA() AND TABLE_NAME = ?", s.Name)
	if err != nil {
		return fmt.Errorf("migrating table %s: %w", s.Name, err)
	}
	existing := make([]string, 0, len(rows))
	for _, r := range rows {
		if name, ok := r[0].(string); ok {
			existing = append(existing, name)
		}
	}
	for _, stmt := range dialect.AddColumns(s.Name, sqlmodel.MissingColumns(s, existing)) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrating table %s: %s: %w", s.Name, stmt, err)
		}
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO "+m+" (TABLE_NAME, COLUMNS_HASH, COLUMNS, APPLIED_AT) SELECT ?, ?, ?, SYSDATE()"+
		" WHERE NOT EXISTS (SELECT 1 FROM "+m+" WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?)",
		s.Name, hash, sqlmodel.ColumnList(s), s.Name, hash)
	if err != nil {
		return fmt.Errorf("recording migration of %s: %w", s.Name, err)
	}
	return nil
}
