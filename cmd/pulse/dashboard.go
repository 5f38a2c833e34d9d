package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulse-analytics/pulse/dashboards/web"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
)

func init() {
	register("dashboard", "serve the web dashboard over the local warehouse: pulse dashboard [--dir demo-data] [--addr 127.0.0.1:8080]", runDashboard)
	describe("dashboard", "",
		"pulse dashboard --dir demo-data --addr 127.0.0.1:8080",
		"Serves Pulse's web dashboard (every seed's views as charts, with filters and auto-refresh, and the pipeline\n"+
			"health page) over the data folder's warehouse, read-only. pulse demo serves the same dashboard while it runs.")
}

func runDashboard(ctx context.Context, args []string) error {
	fs := newFlags("dashboard")
	dir := fs.String("dir", "demo-data", "folder of the local warehouse (warehouse.duckdb), as written by pulse demo")
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve the dashboard on (port 0 picks a free one)")
	refresh := fs.Duration("refresh", 0, "auto-refresh interval of every section (at least 5s; 0: each section at its seed's rate, 5s social sales, 15s page views, 60s the others; ?refresh=N overrides it)")
	echarts := fs.String("echarts", "", "echarts.min.js to serve (default $"+web.EChartsEnv+", else "+web.EChartsRel+" found upward from here)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("dashboard", "unexpected arguments %q", fs.Args())
	}
	abs, err := dataFolder("dashboard", *dir)
	if err != nil {
		return err
	}
	path := filepath.Join(abs, "warehouse.duckdb")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no warehouse at %s (run `pulse demo --dir %s` first): %w", path, *dir, err)
	}
	// Read-only: the dashboard never writes, and other readers may share the file.
	// It runs for days: DuckDB's cache stays within the local stack's limit.
	wh, err := duckdb.OpenWith(ctx, path+"?access_mode=read_only", duckdb.Options{MemoryLimit: stack.DefaultWarehouseMemoryLimit})
	if err != nil {
		return fmt.Errorf("opening %s (is pulse demo still running on it? it holds the file until it exits): %w", path, err)
	}
	defer wh.Close()
	h, err := web.New(wh, web.Options{Refresh: *refresh, EChartsPath: *echarts})
	if err != nil {
		return err
	}
	srv, err := web.Serve(ctx, *addr, h)
	if err != nil {
		return err
	}
	defer srv.Close()

	every := "each section at its seed's rate"
	if *refresh > 0 {
		every = "every " + refresh.String()
	}
	fmt.Printf("Pulse dashboard over %s\n  dashboards:      %s\n  pipeline health: %spipeline\n  auto-refresh %s; Ctrl-C to stop\n", path, srv.URL, srv.URL, every)
	<-ctx.Done()
	return nil
}
