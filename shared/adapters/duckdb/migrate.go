package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Migrate creates each table if missing and adds the columns an existing
// table lacks (additive only: a column whose type differs is an error).
// Every schema version applied is recorded once in PULSE_MIGRATIONS
// (table name, column-list hash, columns, applied_at). It runs in one
// transaction; running it again changes nothing.
func (w *Warehouse) Migrate(ctx context.Context, tables []table.Schema) error {
	for _, s := range tables {
		if err := sqlmodel.CheckSchema(s); err != nil {
			return fmt.Errorf("migrating: %w", err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, dialect.CreateTable(sqlmodel.MigrationsTable)); err != nil {
		return fmt.Errorf("creating %s: %w", sqlmodel.MigrationsTable.Name, err)
	}
	for _, s := range tables {
		if err := w.migrateTable(ctx, tx, s); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating: committing: %w", err)
	}
	return nil
}

func (w *Warehouse) migrateTable(ctx context.Context, tx *sql.Tx, s table.Schema) error {
	if _, err := tx.ExecContext(ctx, dialect.CreateTable(s)); err != nil {
		return fmt.Errorf("creating table %s: %w", s.Name, err)
	}
	existing, err := columnTypes(ctx, tx, s.Name)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(existing))
	for name := range existing {
		names = append(names, name)
	}
	for _, c := range s.Columns {
		have, ok := existing[strings.ToUpper(c.Name)]
		if want := dialect.TypeName(c.Type); ok && have != want {
			return fmt.Errorf("migrating table %s: column %s is %s, schema wants %s (only additive migrations)", s.Name, c.Name, have, want)
		}
	}
	for _, stmt := range dialect.AddColumns(s.Name, sqlmodel.MissingColumns(s, names)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrating table %s: %s: %w", s.Name, stmt, err)
		}
	}
	m := dialect.QuoteName(sqlmodel.MigrationsTable.Name)
	hash := sqlmodel.ColumnsHash(s)
	_, err = tx.ExecContext(ctx, "INSERT INTO "+m+" (TABLE_NAME, COLUMNS_HASH, COLUMNS, APPLIED_AT) SELECT ?, ?, ?, ?"+
		" WHERE NOT EXISTS (SELECT 1 FROM "+m+" WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?)",
		s.Name, hash, sqlmodel.ColumnList(s), w.now().UTC(), s.Name, hash)
	if err != nil {
		return fmt.Errorf("recording migration of %s: %w", s.Name, err)
	}
	return nil
}

// columnTypes maps the upper-cased column names of a table to their
// DuckDB type names. An unqualified name is looked up in the current
// schema, SCHEMA.TABLE in SCHEMA.
func columnTypes(ctx context.Context, tx *sql.Tx, name string) (map[string]string, error) {
	schemaExpr, args := "upper(current_schema())", []any{name}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		schema := name[:i]
		if j := strings.LastIndexByte(schema, '.'); j >= 0 {
			schema = schema[j+1:]
		}
		schemaExpr, args = "upper(?)", []any{name[i+1:], schema}
	}
	rows, err := tx.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns"+
		" WHERE upper(table_name) = upper(?) AND upper(table_schema) = "+schemaExpr, args...)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", name, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return nil, fmt.Errorf("reading columns of %s: %w", name, err)
		}
		cols[strings.ToUpper(c)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", name, err)
	}
	return cols, nil
}
