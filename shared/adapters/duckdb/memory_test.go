package duckdb

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMemoryLimitBoundsTheCache scans a table several times larger than
// the memory limit, in a file database, and checks that DuckDB's buffer
// manager holds no more than the limit afterwards, while the same scan
// with DuckDB's default limit caches more than that.
func TestMemoryLimitBoundsTheCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "big.duckdb")
	const limit = 32 << 20
	w, err := OpenWith(ctx, path, Options{MemoryLimit: limit, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	// About 128 MB of strings that barely compress.
	if err := w.Exec(ctx, `CREATE TABLE big AS SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(2000000) t(i); CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	_, rows, err := w.Query(ctx, "SELECT current_setting('memory_limit'), current_setting('threads')")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0][0], "32.0 MiB"; got != want {
		t.Errorf("memory_limit = %v, want %v", got, want)
	}
	if got, want := rows[0][1], int64(1); got != want {
		t.Errorf("threads = %v, want %v", got, want)
	}
	scan := func(w *Warehouse) int64 {
		t.Helper()
		if _, rows, err := w.Query(ctx, "SELECT count(DISTINCT s), sum(length(s)) FROM big"); err != nil {
			t.Fatal(err)
		} else if rows[0][0] != int64(2000000) || rows[0][1] != int64(128000000) {
			t.Fatalf("scan = %v, want [2000000 128000000]", rows[0])
		}
		n, err := w.MemoryUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := scan(w); n > limit {
		t.Errorf("DuckDB holds %d bytes after the scan, over the %d-byte limit", n, limit)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	free, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer free.Close()
	if n := scan(free); n <= limit {
		t.Errorf("without a limit DuckDB holds %d bytes after the scan, want more than %d (else this test shows nothing)", n, limit)
	}
}
