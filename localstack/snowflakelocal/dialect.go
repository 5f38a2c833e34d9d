package snowflakelocal

import (
	"fmt"
	"strings"
)

// The Snowflake dialect this stand-in executes on DuckDB. Translate turns one
// statement of Snowflake SQL into DuckDB SQL; everything it does not name
// passes through unchanged, because the two read it the same way (CTEs,
// window functions, QUALIFY, MERGE, CASE, COALESCE, CAST, DATE literals,
// INFORMATION_SCHEMA, CREATE [OR REPLACE] [TEMPORARY] TABLE, ALTER TABLE ...
// ADD COLUMN IF NOT EXISTS, BEGIN/COMMIT/ROLLBACK).
//
//	Snowflake                        DuckDB
//	NUMBER(p,0), NUMBER, INT         BIGINT (NUMBER(p,s>0): DECIMAL(p,s))
//	FLOAT, FLOAT8, DOUBLE PRECISION  DOUBLE (Snowflake's FLOAT is 64-bit; DuckDB's is 32-bit)
//	TIMESTAMP_NTZ, DATETIME          TIMESTAMP
//	STRING, TEXT                     VARCHAR
//	IFF(c, a, b)                     (CASE WHEN c THEN a ELSE b END)
//	MD5(x)                           md5(CAST(x AS VARCHAR))
//	DATEADD(unit, n, x)              (x + (n) * INTERVAL 1 unit)   (a DATE becomes a TIMESTAMP at midnight)
//	DATEDIFF(unit, a, b)             date_diff('unit', a, b)
//	DATE_PART(EPOCH_MICROSECOND, x)  epoch_us(x)   (other units: date_part('unit', x))
//	TO_TIMESTAMP_NTZ(x, 6|3|0)       make_timestamp(x * 10^(6-scale))
//	SYSDATE()                        CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)
//	'a\\b', 'it\'s'                  'a\b', 'it''s'   (Snowflake reads backslash escapes in literals)
//
// COPY INTO, PUT and MERGE's result are handled by the executor (exec.go).

// token kinds.
const (
	tkWord   = iota // identifier or keyword, bare
	tkQuoted        // "identifier"
	tkString        // 'literal' (text holds the decoded value)
	tkNumber
	tkPunct // one character: ( ) , . ; * = < > + - / etc. (multi-char operators come as single chars)
	tkSpace // whitespace and comments, kept as written
)

type token struct {
	kind int
	text string // as written, except tkString: the decoded value
}

// tokenize splits Snowflake SQL into tokens. String literals are decoded with
// Snowflake's rules (” and backslash escapes).
func tokenize(sql string) ([]token, error) {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			j := i
			for j < len(sql) && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' || sql[j] == '\r') {
				j++
			}
			out = append(out, token{tkSpace, sql[i:j]})
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			out = append(out, token{tkSpace, sql[i : i+j]})
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", i)
			}
			out = append(out, token{tkSpace, sql[i : i+2+j+2]})
			i += 2 + j + 2
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(sql) {
					return nil, fmt.Errorf("unterminated string literal at offset %d", i)
				}
				d := sql[j]
				if d == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					j++
					break
				}
				if d == '\\' && j+1 < len(sql) {
					e := sql[j+1]
					switch e {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					case '0':
						b.WriteByte(0)
					case 'b':
						b.WriteByte('\b')
					case 'f':
						b.WriteByte('\f')
					default: // \\ \' \" and any other: the character itself
						b.WriteByte(e)
					}
					j += 2
					continue
				}
				b.WriteByte(d)
				j++
			}
			out = append(out, token{tkString, b.String()})
			i = j
		case c == '"':
			j := i + 1
			for {
				if j >= len(sql) {
					return nil, fmt.Errorf("unterminated quoted identifier at offset %d", i)
				}
				if sql[j] == '"' {
					if j+1 < len(sql) && sql[j+1] == '"' {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			out = append(out, token{tkQuoted, sql[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (sql[j] >= '0' && sql[j] <= '9' || sql[j] == '.' || sql[j] == 'e' || sql[j] == 'E') {
				j++
			}
			out = append(out, token{tkNumber, sql[i:j]})
			i = j
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			j := i
			for j < len(sql) {
				d := sql[j]
				if d == '_' || d == '$' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d >= '0' && d <= '9' || d >= 0x80 {
					j++
					continue
				}
				break
			}
			out = append(out, token{tkWord, sql[i:j]})
			i = j
		default:
			out = append(out, token{tkPunct, string(c)})
			i++
		}
	}
	return out, nil
}

// render writes tokens back as DuckDB SQL (string literals re-quoted the
// standard way, with no backslash escapes).
func render(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		if t.kind == tkString {
			b.WriteString(duckString(t.text))
			continue
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// duckString quotes s as a DuckDB string literal.
func duckString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (t token) is(word string) bool { return t.kind == tkWord && strings.EqualFold(t.text, word) }

func (t token) punct(p string) bool { return t.kind == tkPunct && t.text == p }

// Translate turns one Snowflake statement into DuckDB SQL (see the table at
// the top of this file).
func Translate(sql string) (string, error) {
	ts, err := tokenize(sql)
	if err != nil {
		return "", fmt.Errorf("reading %q: %w", clip(sql), err)
	}
	ts, err = rewrite(ts)
	if err != nil {
		return "", fmt.Errorf("translating %q: %w", clip(sql), err)
	}
	return render(ts), nil
}

// next returns the index of the first non-space token at or after i, or len(ts).
func next(ts []token, i int) int {
	for i < len(ts) && ts[i].kind == tkSpace {
		i++
	}
	return i
}

// call finds the argument list of a function call whose name is at i: it
// returns the index of the closing parenthesis and the arguments (each a token
// slice, spaces trimmed). ok is false when no "(" follows the name.
func call(ts []token, i int) (end int, args [][]token, ok bool, err error) {
	open := next(ts, i+1)
	if open >= len(ts) || !ts[open].punct("(") {
		return 0, nil, false, nil
	}
	depth, start := 0, open+1
	for j := open; j < len(ts); j++ {
		switch {
		case ts[j].punct("("):
			depth++
		case ts[j].punct(")"):
			depth--
			if depth == 0 {
				if arg := trim(ts[start:j]); len(arg) > 0 || len(args) > 0 {
					args = append(args, arg)
				}
				return j, args, true, nil
			}
		case ts[j].punct(",") && depth == 1:
			args = append(args, trim(ts[start:j]))
			start = j + 1
		}
	}
	return 0, nil, false, fmt.Errorf("%s( has no closing parenthesis", ts[i].text)
}

func trim(ts []token) []token {
	for len(ts) > 0 && ts[0].kind == tkSpace {
		ts = ts[1:]
	}
	for len(ts) > 0 && ts[len(ts)-1].kind == tkSpace {
		ts = ts[:len(ts)-1]
	}
	return ts
}

// raw makes a token holding SQL text to emit as is.
func raw(s string) token { return token{tkPunct, s} }

// unit reads a date-part argument: a bare word (DAY) or a string ('day').
func unit(arg []token) (string, error) {
	if len(arg) == 1 && (arg[0].kind == tkWord || arg[0].kind == tkString) {
		return strings.ToUpper(arg[0].text), nil
	}
	return "", fmt.Errorf("date part %q is not a word", render(arg))
}

// units DuckDB names differently from Snowflake.
var duckUnits = map[string]string{
	"YEAR": "year", "YEARS": "year", "Y": "year", "YY": "year", "YYYY": "year",
	"QUARTER": "quarter", "Q": "quarter",
	"MONTH": "month", "MONTHS": "month", "MM": "month", "MON": "month",
	"WEEK": "week", "WEEKS": "week", "W": "week", "WK": "week",
	"DAY": "day", "DAYS": "day", "D": "day", "DD": "day",
	"HOUR": "hour", "HOURS": "hour", "H": "hour", "HH": "hour",
	"MINUTE": "minute", "MINUTES": "minute", "MI": "minute", "M": "minute",
	"SECOND": "second", "SECONDS": "second", "S": "second", "SEC": "second",
	"MILLISECOND": "millisecond", "MS": "millisecond",
	"MICROSECOND": "microsecond", "US": "microsecond",
	"DAYOFWEEK": "dayofweek", "DOW": "dayofweek", "DAYOFYEAR": "dayofyear", "DOY": "dayofyear",
	"EPOCH_SECOND": "epoch", "EPOCH": "epoch",
}

func duckUnit(u string) (string, error) {
	if d, ok := duckUnits[u]; ok {
		return d, nil
	}
	return "", fmt.Errorf("date part %s is not supported here", u)
}

// rewrite applies the type and function translations, innermost calls first
// (arguments are rewritten before their function).
func rewrite(ts []token) ([]token, error) {
	var out []token
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if t.kind != tkWord {
			out = append(out, t)
			continue
		}
		// A qualified name (x.IFF) is not a function of ours.
		if p := prevNonSpace(out); p >= 0 && out[p].punct(".") {
			out = append(out, t)
			continue
		}
		upper := strings.ToUpper(t.text)
		isType := typeContext(out)
		switch {
		case isType && (upper == "NUMBER" || upper == "NUMERIC" || upper == "DECIMAL"):
			end, args, ok, err := call(ts, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				if upper == "NUMBER" {
					out = append(out, raw("BIGINT"))
				} else {
					out = append(out, t)
				}
				continue
			}
			if len(args) == 2 && render(args[1]) != "0" {
				out = append(out, raw("DECIMAL("+render(args[0])+", "+render(args[1])+")"))
			} else {
				out = append(out, raw("BIGINT"))
			}
			i = end
			continue
		case isType && typeNames[upper] != "":
			out = append(out, raw(typeNames[upper]))
			continue
		}
		end, args, ok, err := call(ts, i)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, t)
			continue
		}
		// Rewrite the arguments first.
		for k, a := range args {
			if args[k], err = rewrite(a); err != nil {
				return nil, err
			}
		}
		repl, handled, err := function(upper, args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", upper, err)
		}
		if !handled {
			// Not ours: keep the name and rewrite inside its parentheses.
			out = append(out, t)
			inner, err := rewrite(ts[i+1 : end])
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			out = append(out, ts[end])
			i = end
			continue
		}
		out = append(out, repl...)
		i = end
	}
	return out, nil
}

// typeNames are the Snowflake type names DuckDB spells differently.
var typeNames = map[string]string{
	"INT": "BIGINT", "INTEGER": "BIGINT", "BIGINT": "BIGINT", "SMALLINT": "BIGINT", "TINYINT": "BIGINT", "BYTEINT": "BIGINT",
	"FLOAT": "DOUBLE", "FLOAT4": "DOUBLE", "FLOAT8": "DOUBLE", "REAL": "DOUBLE",
	"TIMESTAMP_NTZ": "TIMESTAMP", "DATETIME": "TIMESTAMP",
	"STRING": "VARCHAR", "TEXT": "VARCHAR",
}

// notNames are keywords after which a word is not a type name.
var notNames = map[string]bool{}

func init() {
	for _, w := range strings.Fields("SELECT FROM WHERE AND OR NOT ON BY SET JOIN WHEN THEN ELSE CASE END IN IS LIKE " +
		"HAVING GROUP ORDER UNION ALL DISTINCT INTO VALUES USING RETURNING WITH TABLE VIEW QUALIFY OVER PARTITION LIMIT") {
		notNames[w] = true
	}
}

// typeContext says whether a word after out is in a type position: after AS
// (a cast) or after a column name (a column definition).
func typeContext(out []token) bool {
	p := prevNonSpace(out)
	if p < 0 {
		return false
	}
	switch t := out[p]; t.kind {
	case tkQuoted:
		return true
	case tkWord:
		return t.is("AS") || !notNames[strings.ToUpper(t.text)]
	}
	return false
}

func prevNonSpace(ts []token) int {
	for j := len(ts) - 1; j >= 0; j-- {
		if ts[j].kind != tkSpace {
			return j
		}
	}
	return -1
}

// function rewrites one Snowflake function call whose arguments are already
// translated. handled is false for functions DuckDB reads the same way.
func function(name string, args [][]token) (out []token, handled bool, err error) {
	arity := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("want %d arguments, have %d", n, len(args))
		}
		return nil
	}
	paren := func(parts ...any) []token {
		var ts []token
		for _, p := range parts {
			switch v := p.(type) {
			case string:
				ts = append(ts, raw(v))
			case []token:
				ts = append(ts, v...)
			}
		}
		return ts
	}
	switch name {
	case "IFF":
		if err := arity(3); err != nil {
			return nil, false, err
		}
		return paren("(CASE WHEN ", args[0], " THEN ", args[1], " ELSE ", args[2], " END)"), true, nil
	case "MD5":
		if err := arity(1); err != nil {
			return nil, false, err
		}
		return paren("md5(CAST(", args[0], " AS VARCHAR))"), true, nil
	case "DATEADD", "TIMESTAMPADD":
		if err := arity(3); err != nil {
			return nil, false, err
		}
		u, err := unit(args[0])
		if err != nil {
			return nil, false, err
		}
		d, err := duckUnit(u)
		if err != nil {
			return nil, false, err
		}
		return paren("(", args[2], " + (", args[1], ") * INTERVAL 1 "+strings.ToUpper(d)+")"), true, nil
	case "DATEDIFF", "TIMESTAMPDIFF":
		if err := arity(3); err != nil {
			return nil, false, err
		}
		u, err := unit(args[0])
		if err != nil {
			return nil, false, err
		}
		d, err := duckUnit(u)
		if err != nil {
			return nil, false, err
		}
		return paren("date_diff('"+d+"', ", args[1], ", ", args[2], ")"), true, nil
	case "DATE_PART":
		if err := arity(2); err != nil {
			return nil, false, err
		}
		u, err := unit(args[0])
		if err != nil {
			return nil, false, err
		}
		switch u {
		case "EPOCH_MICROSECOND", "EPOCH_MICROSECONDS":
			return paren("epoch_us(", args[1], ")"), true, nil
		case "EPOCH_MILLISECOND", "EPOCH_MILLISECONDS":
			return paren("epoch_ms(", args[1], ")"), true, nil
		case "EPOCH_SECOND", "EPOCH_SECONDS", "EPOCH":
			return paren("CAST(floor(epoch(", args[1], ")) AS BIGINT)"), true, nil
		}
		d, err := duckUnit(u)
		if err != nil {
			return nil, false, err
		}
		return paren("date_part('"+d+"', ", args[1], ")"), true, nil
	case "TO_TIMESTAMP_NTZ", "TO_TIMESTAMP":
		switch len(args) {
		case 1:
			return paren("CAST(", args[0], " AS TIMESTAMP)"), true, nil
		case 2:
			switch render(args[1]) {
			case "6":
				return paren("make_timestamp(", args[0], ")"), true, nil
			case "3":
				return paren("make_timestamp((", args[0], ") * 1000)"), true, nil
			case "0":
				return paren("make_timestamp((", args[0], ") * 1000000)"), true, nil
			case "9":
				return paren("make_timestamp((", args[0], ") // 1000)"), true, nil
			}
			return nil, false, fmt.Errorf("scale %s is not 0, 3, 6 or 9", render(args[1]))
		}
		return nil, false, fmt.Errorf("want 1 or 2 arguments, have %d", len(args))
	case "SYSDATE":
		if err := arity(0); err != nil {
			return nil, false, err
		}
		return paren("CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"), true, nil
	case "DATE_TRUNC":
		if err := arity(2); err != nil {
			return nil, false, err
		}
		u, err := unit(args[0])
		if err != nil {
			return nil, false, err
		}
		d, err := duckUnit(u)
		if err != nil {
			return nil, false, err
		}
		return paren("date_trunc('"+d+"', ", args[1], ")"), true, nil
	}
	return nil, false, nil
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}
