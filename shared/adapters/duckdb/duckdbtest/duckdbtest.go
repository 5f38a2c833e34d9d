// Package duckdbtest opens throwaway warehouses for tests: an in-memory
// DuckDB database with the tables already created, closed when the test
// ends.
package duckdbtest

import (
	"context"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/table"
)

// New opens an in-memory warehouse and creates the given tables; with none
// given, every table of the model (dataset.Schemas). It fails the test on any
// error and closes the warehouse in tb.Cleanup.
func New(tb testing.TB, schemas ...table.Schema) *duckdb.Warehouse {
	tb.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { wh.Close() })
	if len(schemas) == 0 {
		schemas = dataset.Schemas()
	}
	if err := wh.Migrate(ctx, schemas); err != nil {
		tb.Fatal(err)
	}
	return wh
}
