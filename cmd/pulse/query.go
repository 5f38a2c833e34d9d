package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

func init() {
	register("query", "run SQL against the local warehouse (read-only unless --write): pulse query 'SELECT ...'", runQuery)
	describe("query", "'SQL'",
		`pulse query --dir demo-data 'SELECT PLATFORM, EVENTS FROM ENGAGEMENT_BY_PLATFORM ORDER BY EVENTS DESC'`,
		"Runs one statement on the data folder's DuckDB warehouse and prints the rows as a table, CSV or JSON.\n"+
			"The warehouse is opened read-only: a statement that writes fails unless --write is given. While pulse demo\n"+
			"or pulse dashboard holds the warehouse, query waits for it (--wait), then says which process holds it.")
}

func runQuery(ctx context.Context, args []string) error {
	fs := newFlags("query")
	dir := fs.String("dir", "demo-data", "data folder of the local warehouse, as pulse demo made it")
	write := fs.Bool("write", false, "open the warehouse for writing (INSERT, UPDATE, DELETE, DDL)")
	format := fs.String("format", "table", "output: table, csv or json")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait while another pulse process holds the warehouse")
	sql, err := flagsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(sql) == 0 {
		return usagef("query", "no SQL given: pulse query 'SELECT ...'")
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return usagef("query", "--format %q: want table, csv or json", *format)
	}
	abs, err := dataFolder("query", *dir)
	if err != nil {
		return err
	}
	wh, err := openWarehouse(ctx, abs, *write, *wait)
	if err != nil {
		return err
	}
	defer wh.Close()
	q := strings.Join(sql, " ")
	if *format == "table" {
		err = printQuery(ctx, os.Stdout, wh, "", q)
	} else {
		err = writeQuery(ctx, os.Stdout, wh, q, *format)
	}
	if err != nil && !*write && strings.Contains(err.Error(), "read-only") {
		return fmt.Errorf("%w (the warehouse is opened read-only: add --write to change it)", err)
	}
	return err
}

// writeQuery prints a query's rows as CSV (with a header) or as a JSON
// array of objects.
func writeQuery(ctx context.Context, w io.Writer, wh port.Warehouse, q, format string) error {
	cols, rows, err := wh.Query(ctx, q)
	if err != nil {
		return err
	}
	if format == "json" {
		out := make([]map[string]any, 0, len(rows))
		for _, r := range rows {
			m := make(map[string]any, len(cols))
			for i, c := range cols {
				if t, ok := r[i].(time.Time); ok {
					m[c] = t.UTC().Format(time.RFC3339Nano)
					continue
				}
				m[c] = r[i]
			}
			out = append(out, m)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
			case time.Time:
				rec[i] = x.UTC().Format(time.RFC3339Nano)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
