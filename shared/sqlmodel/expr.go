package sqlmodel

import (
	"fmt"
	"strings"
	"time"
)

// IfExpr is a conditional expression: Snowflake IFF(cond, a, b), DuckDB
// CASE WHEN cond THEN a ELSE b END (DuckDB has no IFF).
func (d Dialect) IfExpr(cond, a, b string) string {
	if d == Snowflake {
		return "IFF(" + cond + ", " + a + ", " + b + ")"
	}
	return "CASE WHEN " + cond + " THEN " + a + " ELSE " + b + " END"
}

// MD5 is the lower-case hex MD5 of expr's text. DuckDB's md5 takes only
// VARCHAR, so the argument is cast; Snowflake converts implicitly.
func (d Dialect) MD5(expr string) string {
	if d == Snowflake {
		return "MD5(" + expr + ")"
	}
	return "md5(CAST(" + expr + " AS VARCHAR))"
}

// truncUnits are the units DateTrunc accepts.
var truncUnits = map[string]bool{
	"YEAR": true, "QUARTER": true, "MONTH": true, "WEEK": true, "DAY": true,
	"HOUR": true, "MINUTE": true, "SECOND": true,
}

// DateTrunc truncates a timestamp or date expression to unit (year,
// quarter, month, week, day, hour, minute or second, any case):
// Snowflake DATE_TRUNC('HOUR', x), DuckDB date_trunc('hour', x). An
// unknown unit is an error, so no caller text reaches the quoted literal.
func (d Dialect) DateTrunc(unit, expr string) (string, error) {
	u := strings.ToUpper(unit)
	if !truncUnits[u] {
		return "", fmt.Errorf("date_trunc unit %q: want year, quarter, month, week, day, hour, minute or second", unit)
	}
	if d == Snowflake {
		return "DATE_TRUNC('" + u + "', " + expr + ")", nil
	}
	return "date_trunc('" + strings.ToLower(u) + "', " + expr + ")", nil
}

// EpochToTimestamp converts an integer expression holding Unix
// microseconds (the table package's Timestamp encoding) to a UTC
// timestamp without time zone: Snowflake TO_TIMESTAMP_NTZ(x, 6), DuckDB
// make_timestamp(x).
func (d Dialect) EpochToTimestamp(expr string) string {
	if d == Snowflake {
		return "TO_TIMESTAMP_NTZ(" + expr + ", 6)"
	}
	return "make_timestamp(" + expr + ")"
}

// dateAddUnits are the units DateAdd accepts.
var dateAddUnits = map[string]bool{"DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}

// DateAdd adds n units (day, hour, minute or second, any case; n may be
// negative or an integer expression) to a date or timestamp expression:
// Snowflake DATEADD(DAY, n, x), DuckDB (x + INTERVAL (n) DAY). On DuckDB a
// DATE plus an interval is a TIMESTAMP at midnight, which compares with
// DATEs as the date itself; use it in predicates, not as an output column.
func (d Dialect) DateAdd(unit string, n, expr string) (string, error) {
	u := strings.ToUpper(unit)
	if !dateAddUnits[u] {
		return "", fmt.Errorf("dateadd unit %q: want day, hour, minute or second", unit)
	}
	if d == Snowflake {
		return "DATEADD(" + u + ", " + n + ", " + expr + ")", nil
	}
	return "(" + expr + " + INTERVAL (" + n + ") " + u + ")", nil
}

// DiffMicros is b - a in microseconds for two timestamp expressions:
// Snowflake DATEDIFF(MICROSECOND, a, b), DuckDB date_diff('microsecond', a, b).
func (d Dialect) DiffMicros(a, b string) string {
	if d == Snowflake {
		return "DATEDIFF(MICROSECOND, " + a + ", " + b + ")"
	}
	return "date_diff('microsecond', " + a + ", " + b + ")"
}

// EpochMicros is a timestamp expression as Unix microseconds (an
// integer): Snowflake DATE_PART(EPOCH_MICROSECOND, x), DuckDB epoch_us(x).
func (d Dialect) EpochMicros(expr string) string {
	if d == Snowflake {
		return "DATE_PART(EPOCH_MICROSECOND, " + expr + ")"
	}
	return "epoch_us(" + expr + ")"
}

// DateLiteral is the SQL literal of a calendar date, DATE 'YYYY-MM-DD',
// the same in both dialects. The date is written from its parts, so no
// caller text reaches the literal.
func (d Dialect) DateLiteral(t time.Time) string {
	return "DATE '" + t.Format("2006-01-02") + "'"
}

// StringLiteral quotes s as a SQL string literal (” for each '); both
// dialects read it the same way. Snowflake also treats backslash as an
// escape inside literals, so it is doubled there.
func (d Dialect) StringLiteral(s string) string {
	s = strings.ReplaceAll(s, "'", "''")
	if d == Snowflake {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + s + "'"
}
