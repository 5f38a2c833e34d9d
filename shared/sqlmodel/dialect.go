// Package sqlmodel writes the SQL text the warehouse adapters run, keeping
// every difference between the DuckDB and Snowflake dialects in one place:
// type names, identifier quoting, DDL for tables and additive migrations,
// the MERGE used by loads, and the few expressions views and the gold and
// mart models need (IF, MD5, DATE_TRUNC, DATEADD, timestamp differences,
// epoch conversion, literals). It also holds the dialect-free batch helpers
// both adapters share (schema checks, last-row-wins de-duplication).
//
// Everything else those models use is SQL both dialects read the same way
// (CTEs, window functions, QUALIFY, CAST(x AS DOUBLE), DATE 'YYYY-MM-DD',
// COUNT(DISTINCT ...), CASE), so the models are written once and only call
// into this package where the dialects differ.
package sqlmodel

import (
	"fmt"
	"strings"

	"github.com/pulse-analytics/pulse/shared/table"
)

// Dialect is a SQL dialect spoken by a warehouse adapter.
type Dialect int

const (
	// DuckDB is the embedded warehouse (duckdb-go).
	DuckDB Dialect = iota
	// Snowflake is the hosted warehouse (gosnowflake).
	Snowflake
)

// Speaker is implemented by a warehouse adapter that says which dialect it
// speaks (both Pulse adapters do).
type Speaker interface {
	Dialect() Dialect
}

// Of returns the dialect of wh if it is a Speaker, else DuckDB (the
// embedded default).
func Of(wh any) Dialect {
	if s, ok := wh.(Speaker); ok {
		return s.Dialect()
	}
	return DuckDB
}

func (d Dialect) String() string {
	switch d {
	case DuckDB:
		return "duckdb"
	case Snowflake:
		return "snowflake"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// TypeName is the column type the dialect uses for t.
func (d Dialect) TypeName(t table.Type) string {
	if d == Snowflake {
		switch t {
		case table.String:
			return "VARCHAR"
		case table.Int:
			return "NUMBER(38,0)"
		case table.Float:
			return "FLOAT"
		case table.Bool:
			return "BOOLEAN"
		case table.Timestamp:
			return "TIMESTAMP_NTZ"
		case table.Date:
			return "DATE"
		}
		return "VARCHAR"
	}
	switch t {
	case table.String:
		return "VARCHAR"
	case table.Int:
		return "BIGINT"
	case table.Float:
		return "DOUBLE"
	case table.Bool:
		return "BOOLEAN"
	case table.Timestamp:
		return "TIMESTAMP"
	case table.Date:
		return "DATE"
	}
	return "VARCHAR"
}

// reserved holds the words either dialect refuses as a bare identifier
// (the union of DuckDB's reserved keywords and Snowflake's reserved and
// limited keywords). Quoting a word that did not need it is harmless
// because identifiers are upper case, so the quoted and bare forms name
// the same object in both dialects.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
ACCOUNT ALL ALTER ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BETWEEN BOTH BY CASE CAST CHECK COLLATE
COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE
CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DEFAULT DEFERRABLE DELETE DESC
DESCRIBE DISTINCT DO DROP ELSE END EXCEPT EXISTS FALSE FETCH FOLLOWING FOR FOREIGN FROM FULL GRANT GROUP
GSCLUSTER HAVING ILIKE IN INCREMENT INITIALLY INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEADING
LEFT LIKE LIMIT LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF OFFSET ON ONLY OR ORDER ORGANIZATION
PIVOT PIVOT_LONGER PIVOT_WIDER PLACING PRIMARY QUALIFY REFERENCES REGEXP RETURNING REVOKE RIGHT RLIKE
ROW ROWS SAMPLE SCHEMA SELECT SET SHOW SOME START SUMMARIZE SYMMETRIC TABLE TABLESAMPLE THEN TO
TRAILING TRIGGER TRUE TRY_CAST UNION UNIQUE UNPIVOT UPDATE USING VALUES VARIADIC VIEW WHEN WHENEVER
WHERE WINDOW WITH`) {
		reserved[w] = true
	}
}

// Quote returns ident as the dialect should spell it. Identifiers are
// stored UPPER_SNAKE as given; a plain upper-case identifier that is not a
// keyword is left bare, anything else is double-quoted (inner quotes
// doubled). Both dialects quote the same way.
func (d Dialect) Quote(ident string) string {
	if bare(ident) {
		return ident
	}
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

func bare(ident string) bool {
	if ident == "" || reserved[ident] {
		return false
	}
	for i, r := range ident {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// QuoteName quotes a possibly qualified object name (DB.SCHEMA.TABLE),
// one dot-separated part at a time.
func (d Dialect) QuoteName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = d.Quote(p)
	}
	return strings.Join(parts, ".")
}
