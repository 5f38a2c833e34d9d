package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
)

func init() {
	register("query", "run SQL against the local warehouse: pulse query 'SELECT ...'", runQuery)
}

func runQuery(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	dir := fs.String("dir", "demo-data", "folder of the local warehouse")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: pulse query [--dir DIR] 'SELECT ...'")
	}
	wh, err := duckdb.Open(ctx, filepath.Join(*dir, "warehouse.duckdb"))
	if err != nil {
		return err
	}
	defer wh.Close()
	return printQuery(ctx, os.Stdout, wh, "", strings.Join(fs.Args(), " "))
}
