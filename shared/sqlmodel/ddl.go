package sqlmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulse-analytics/pulse/shared/table"
)

// MigrationsTable records every schema version a Migrate applied: one row
// per table and column-list hash, with the time it was first applied.
var MigrationsTable = table.Schema{
	Name: "PULSE_MIGRATIONS",
	Columns: []table.Column{
		{Name: "TABLE_NAME", Type: table.String},
		{Name: "COLUMNS_HASH", Type: table.String},
		{Name: "COLUMNS", Type: table.String},
		{Name: "APPLIED_AT", Type: table.Timestamp},
	},
	Key: []string{"TABLE_NAME", "COLUMNS_HASH"},
}

// ColumnList is the canonical text of a schema's columns and key, for
// example "ID BIGINT,NAME VARCHAR;KEY ID" (portable type names, not the
// dialect's), the input of ColumnsHash.
func ColumnList(s table.Schema) string {
	var b strings.Builder
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.Name)
		b.WriteByte(' ')
		b.WriteString(c.Type.String())
	}
	b.WriteString(";KEY ")
	b.WriteString(strings.Join(s.Key, ","))
	return b.String()
}

// ColumnsHash identifies a schema version: the first 16 hex digits of the
// SHA-256 of ColumnList.
func ColumnsHash(s table.Schema) string {
	sum := sha256.Sum256([]byte(ColumnList(s)))
	return hex.EncodeToString(sum[:8])
}

// columnDefs writes "A VARCHAR, B BIGINT".
func (d Dialect) columnDefs(cols []table.Column) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = d.Quote(c.Name) + " " + d.TypeName(c.Type)
	}
	return strings.Join(defs, ", ")
}

// CreateTable is CREATE TABLE IF NOT EXISTS for the schema. Keys are not
// declared as constraints: Snowflake does not enforce them and DuckDB's
// would make MERGE updates costlier; loads keep keys unique themselves.
func (d Dialect) CreateTable(s table.Schema) string {
	return "CREATE TABLE IF NOT EXISTS " + d.QuoteName(s.Name) + " (" + d.columnDefs(s.Columns) + ")"
}

// CreateTempTable is the session-private staging table with the schema's
// columns, replacing one left by an earlier load on the same session.
func (d Dialect) CreateTempTable(name string, s table.Schema) string {
	return "CREATE OR REPLACE TEMPORARY TABLE " + d.QuoteName(name) + " (" + d.columnDefs(s.Columns) + ")"
}

// DropTable is DROP TABLE IF EXISTS.
func (d Dialect) DropTable(name string) string {
	return "DROP TABLE IF EXISTS " + d.QuoteName(name)
}

// AddColumns returns one additive migration statement per column, each
// ALTER TABLE ... ADD COLUMN IF NOT EXISTS so that re-running it is a
// no-op. New columns are NULL in existing rows.
func (d Dialect) AddColumns(tableName string, cols []table.Column) []string {
	stmts := make([]string, len(cols))
	for i, c := range cols {
		stmts[i] = "ALTER TABLE " + d.QuoteName(tableName) + " ADD COLUMN IF NOT EXISTS " +
			d.Quote(c.Name) + " " + d.TypeName(c.Type)
	}
	return stmts
}

// MissingColumns lists the columns of s whose names are not in existing
// (compared case-insensitively), in schema order.
func MissingColumns(s table.Schema, existing []string) []table.Column {
	have := make(map[string]bool, len(existing))
	for _, e := range existing {
		have[strings.ToUpper(e)] = true
	}
	var missing []table.Column
	for _, c := range s.Columns {
		if !have[strings.ToUpper(c.Name)] {
			missing = append(missing, c)
		}
	}
	return missing
}
