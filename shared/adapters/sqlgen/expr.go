package sqlgen

import (
	"fmt"
	"strings"
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
