package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
)

// dataFolder resolves a command's --dir, which must exist: a typo would
// otherwise start a new, empty warehouse (only pulse demo creates one).
// It prints where the data lives.
func dataFolder(cmd, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usagef(cmd, "--dir %s: %v", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", usagef(cmd, "--dir %s: no such data folder (pulse demo --dir %s creates one; or give the folder pulse demo used)", dir, dir)
	}
	fmt.Printf("data folder: %s\n", abs)
	return abs, nil
}

// lockHolder finds the PID DuckDB names in a lock conflict.
var lockHolder = regexp.MustCompile(`PID (\d+)`)

// heldElsewhere tells whether err says another process holds the data
// folder (DuckDB's file lock, or the dedupe store's), and which process.
func heldElsewhere(err error) (bool, string) {
	if err == nil {
		return false, ""
	}
	if errors.Is(err, memory.ErrInUse) {
		return true, ""
	}
	msg := err.Error()
	if strings.Contains(msg, "Conflicting lock") || strings.Contains(msg, "Could not set lock") {
		if m := lockHolder.FindStringSubmatch(msg); m != nil {
			return true, m[1]
		}
		return true, ""
	}
	return false, ""
}

// heldError is the clear message for a data folder another process holds.
func heldError(path, pid string, wait time.Duration) error {
	who := "another pulse process (pulse demo or pulse dashboard)"
	if pid != "" {
		who = "process " + pid + " (pulse demo or pulse dashboard)"
	}
	return fmt.Errorf("%s is in use by %s, and still was after waiting %s: stop it (Ctrl-C), or wait longer with --wait; "+
		"while the demo runs, its dashboard shows the same tables", path, who, wait)
}

// waitFor retries open while the data folder is held by another process,
// for at most wait, saying once that it waits.
func waitFor[T any](ctx context.Context, path string, wait time.Duration, open func() (T, error)) (T, error) {
	deadline := time.Now().Add(wait)
	said := false
	for {
		v, err := open()
		held, pid := heldElsewhere(err)
		if !held {
			return v, err
		}
		if time.Now().After(deadline) {
			return v, heldError(path, pid, wait)
		}
		if !said {
			fmt.Fprintf(os.Stderr, "waiting for %s: it is in use by another pulse process (up to %s)\n", path, wait)
			said = true
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// openWarehouse opens a data folder's warehouse, read-only unless write.
func openWarehouse(ctx context.Context, dir string, write bool, wait time.Duration) (*duckdb.Warehouse, error) {
	path := filepath.Join(dir, "warehouse.duckdb")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no warehouse at %s (run pulse demo --dir %s first)", path, dir)
	}
	dsn := path
	if !write {
		dsn += "?access_mode=read_only"
	}
	return waitFor(ctx, path, wait, func() (*duckdb.Warehouse, error) {
		return duckdb.OpenWith(ctx, dsn, duckdb.Options{MemoryLimit: stack.DefaultWarehouseMemoryLimit})
	})
}

// startStack starts the local stack on a data folder, waiting while
// another process holds it.
func startStack(ctx context.Context, o stack.Options, wait time.Duration) (*stack.Stack, error) {
	return waitFor(ctx, o.Dir, wait, func() (*stack.Stack, error) { return stack.Start(ctx, withCrashHook(o)) })
}
