package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulse-analytics/pulse/dashboards/web"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/batch"
)

func init() {
	register("dashboard", "serve the web dashboard over the local warehouse: pulse dashboard [--dir demo-data] [--addr 127.0.0.1:8080]", runDashboard)
	describe("dashboard", "",
		"pulse dashboard --dir demo-data --addr 127.0.0.1:8080",
		"Serves Pulse's web dashboard (every seed's views as charts, with filters and auto-refresh, and the pipeline\n"+
			"health page with each dataset's newest data profile) over the data folder's warehouse and staging bucket,\n"+
			"read-only. pulse demo serves the same dashboard while it runs.")
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
	// The data profiles are in the staging bucket, whose objects are files
	// under the data folder: read them there, read-only, with no server,
	// so a demo can keep writing the folder.
	o := web.Options{Refresh: *refresh, EChartsPath: *echarts}
	s3dir := filepath.Join(abs, s3Folder)
	profiles := "the staging bucket's files under " + s3dir
	if objects, err := s3local.OpenDirReadOnly(s3dir); err != nil {
		profiles = fmt.Sprintf("none (%v)", err)
	} else {
		o.Profiles = func(ctx context.Context) ([]batch.Profile, error) {
			return batch.LatestProfiles(ctx, objects, stack.Buckets.Staging)
		}
	}
	h, err := web.New(wh, o)
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
	fmt.Printf("Pulse dashboard over %s\n  data profiles:   %s\n  dashboards:      %s\n  pipeline health: %spipeline\n  auto-refresh %s; Ctrl-C to stop\n",
		path, profiles, srv.URL, srv.URL, every)
	<-ctx.Done()
	return nil
}

// s3Folder is where a data folder keeps its buckets (the local stack's
// StartDir folder: s3/buckets/<bucket>/<key>).
const s3Folder = "s3"
