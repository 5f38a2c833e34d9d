package bench

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the yardstick's engine
)

// duckConn opens a private in-memory DuckDB on one thread.
func duckConn(tb testing.TB) *sql.Conn {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatalf("opening duckdb: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatalf("connecting to duckdb: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(context.Background(), "SET threads = 1"); err != nil {
		tb.Fatalf("SET threads: %v", err)
	}
	return conn
}

func execAll(ctx context.Context, conn *sql.Conn, stmts []string) error {
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w\nin: %.600s", err, s)
		}
	}
	return nil
}
