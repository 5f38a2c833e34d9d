// Package datatest runs dbt-style data tests over warehouse tables and
// views: not_null, unique, accepted_values and relationships, each a SQL
// count of the rows that break it (0 = pass). Results go to
// PULSE_DATA_TESTS, the one table every data-test result goes to (the
// per-file checks of shared/batch write there too), and the
// DATA_TEST_RESULTS view shows the latest result of each test with its
// failure count.
//
// Suite declares the tests of every table Pulse loads or computes (the
// star schema, the stream tables, gold, the marts), and ForTables picks
// those a load of some tables should re-run: after each batch file's load,
// batch.DataTests runs ForTables(the tables the file wrote); the stream
// path and the gold job do the same with theirs. A failing test is reported
// (its count of offending rows, status "fail"), never an error: it says
// something about the data, not about the run. The package imports no AWS
// code.
package datatest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Kind is a dbt schema test.
type Kind string

// The test kinds.
const (
	NotNull        Kind = "not_null"
	Unique         Kind = "unique"
	AcceptedValues Kind = "accepted_values"
	Relationships  Kind = "relationships"
)

// Test is one data test over one table or view.
type Test struct {
	Group  string   // star, stream, gold or marts: written as DATASET
	Table  string   // the table or view tested
	Kind   Kind     // what is checked
	Column []string // the column (unique: the columns that together must be unique)
	Values []string // accepted_values: the accepted values
	// Relationships: every non-NULL Column[0] must exist as To.ToColumn.
	To, ToColumn string
	// Where restricts the tested rows (SQL over Table's columns), "" = all.
	Where string
	// After lists further tables whose load should re-run this test (a
	// view's base tables); Table and To are always included.
	After []string
}

// Name is the test's name as results show it, for example
// "relationships(USER_ID -> CONSUMER_USERS.USER_ID)".
func (t Test) Name() string {
	var s string
	switch t.Kind {
	case AcceptedValues:
		s = string(t.Kind) + "(" + t.Column[0] + ": " + strings.Join(t.Values, ", ") + ")"
	case Relationships:
		s = string(t.Kind) + "(" + t.Column[0] + " -> " + t.To + "." + t.ToColumn + ")"
	default:
		s = string(t.Kind) + "(" + strings.Join(t.Column, ", ") + ")"
	}
	if t.Where != "" {
		s += " where " + t.Where
	}
	return s
}

// SQL is the query counting the rows that break the test (for unique, the
// rows beyond the first of each repeated value).
func (t Test) SQL(d sqlmodel.Dialect) (string, error) {
	if len(t.Column) == 0 || t.Table == "" {
		return "", fmt.Errorf("data test %s on %q: no table or column", t.Kind, t.Table)
	}
	cols := make([]string, len(t.Column))
	for i, c := range t.Column {
		cols[i] = d.Quote(c)
	}
	tbl := d.QuoteName(t.Table)
	where := ""
	if t.Where != "" {
		where = " AND (" + t.Where + ")"
	}
	switch t.Kind {
	case NotNull:
		conds := make([]string, len(cols))
		for i, c := range cols {
			conds[i] = c + " IS NULL"
		}
		return "SELECT COUNT(*) FROM " + tbl + " WHERE (" + strings.Join(conds, " OR ") + ")" + where, nil
	case Unique:
		w := ""
		if t.Where != "" {
			w = " WHERE " + t.Where
		}
		return "SELECT COALESCE(SUM(N - 1), 0) FROM (SELECT COUNT(*) AS N FROM " + tbl + w + " GROUP BY " +
			strings.Join(cols, ", ") + " HAVING COUNT(*) > 1) d", nil
	case AcceptedValues:
		if len(t.Values) == 0 {
			return "", fmt.Errorf("data test %s on %s: no accepted values", t.Kind, t.Table)
		}
		vals := make([]string, len(t.Values))
		for i, v := range t.Values {
			vals[i] = d.StringLiteral(v)
		}
		return "SELECT COUNT(*) FROM " + tbl + " WHERE " + cols[0] + " IS NOT NULL AND " + cols[0] +
			" NOT IN (" + strings.Join(vals, ", ") + ")" + where, nil
	case Relationships:
		if t.To == "" || t.ToColumn == "" {
			return "", fmt.Errorf("data test %s on %s: no target", t.Kind, t.Table)
		}
		return "SELECT COUNT(*) FROM " + tbl + " f WHERE f." + cols[0] + " IS NOT NULL" + where +
			" AND NOT EXISTS (SELECT 1 FROM " + d.QuoteName(t.To) + " p WHERE p." + d.Quote(t.ToColumn) + " = f." + cols[0] + ")", nil
	}
	return "", fmt.Errorf("data test on %s: unknown kind %q", t.Table, t.Kind)
}

// Result is one test's outcome.
type Result struct {
	Test     Test
	Failures int64 // offending rows; 0 = pass
}

// Status is "pass" or "fail".
func (r Result) Status() string {
	if r.Failures > 0 {
		return "fail"
	}
	return "pass"
}

func (r Result) String() string {
	return fmt.Sprintf("%s %s on %s: %d failing rows", r.Status(), r.Test.Name(), r.Test.Table, r.Failures)
}

// SuiteFileID is PULSE_DATA_TESTS.FILE_ID of suite results: each test
// keeps one row, its latest result.
const SuiteFileID = "suite"

// Run runs tests, records each result in PULSE_DATA_TESTS (one row per
// test, replaced on every run; RUN_AT = at) and returns them in order. A
// test whose query fails is left out and named in the error; the others
// still run and are recorded.
func Run(ctx context.Context, wh port.Warehouse, tests []Test, at time.Time) ([]Result, error) {
	d := sqlmodel.Of(wh)
	var (
		results []Result
		errs    []error
		rows    []table.Row
	)
	for _, t := range tests {
		q, err := t.SQL(d)
		if err == nil {
			var n int64
			n, err = Count(ctx, wh, q)
			if err == nil {
				r := Result{Test: t, Failures: n}
				results = append(results, r)
				rows = append(rows, table.Row{
					table.Str(star.MD5Hex([]byte(SuiteFileID + "|" + t.Table + "|" + t.Name()))), table.Str(SuiteFileID),
					table.Str(t.Group), table.Str(t.Table), table.Str(t.Name()), table.Int64(n), table.Str(r.Status()),
					table.Int64(at.UTC().UnixMicro()),
				})
				continue
			}
		}
		errs = append(errs, fmt.Errorf("data test %s on %s: %w", t.Name(), t.Table, err))
	}
	if len(rows) > 0 {
		if _, err := wh.Merge(ctx, *star.DataTests, rows); err != nil {
			errs = append(errs, fmt.Errorf("recording %d data test results: %w", len(rows), err))
		}
	}
	return results, errors.Join(errs...)
}

// Failed returns the failing results.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Failures > 0 {
			out = append(out, r)
		}
	}
	return out
}

// Count runs a query that returns one number (a COUNT) and returns it; a
// NULL counts as 0.
func Count(ctx context.Context, wh port.Warehouse, q string) (int64, error) {
	_, rows, err := wh.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("count query returned %d rows", len(rows))
	}
	switch v := rows[0][0].(type) {
	case int64:
		return v, nil
	case float64:
		return int64(v), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("count query returned %T", rows[0][0])
}
