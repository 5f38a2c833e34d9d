package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func init() {
	register("status", "the operator's view: freshness, accounting, data tests and the last failures; exit 1 when something is wrong", runStatus)
	describe("status", "",
		"pulse status --dir demo-data --stale 24h --stream-stale 15m",
		"Reads the data folder's warehouse and reports, per dataset (files) and per topic (stream batches): when it\n"+
			"last loaded and whether that is older than --stale / --stream-stale; its accounting (received = loaded +\n"+
			"rejected + duplicate, late within loaded) and any manifest that does not balance; the data tests failing now;\n"+
			"and the last files given up (quarantined or abandoned). Exits 1 when something is stale, unbalanced or\n"+
			"failing, 0 otherwise, so cron or CI can run it; --format json prints the same as one JSON object.")
}

// statusReport is what pulse status found.
type statusReport struct {
	Warehouse string         `json:"warehouse"`
	At        time.Time      `json:"at"`
	Sources   []sourceStatus `json:"sources"`
	Failing   []failingTest  `json:"failingTests"`
	GivenUp   []givenUp      `json:"givenUp"`
	Problems  []string       `json:"problems"`
	OK        bool           `json:"ok"`
}

type sourceStatus struct {
	Name       string      `json:"name"`
	Kind       string      `json:"kind"` // file dataset, or stream topic
	Loads      int64       `json:"loads"`
	LastLoaded *time.Time  `json:"lastLoaded,omitempty"`
	Age        string      `json:"age,omitempty"`
	Stale      bool        `json:"stale"`
	Counts     port.Counts `json:"counts"`
	Unbalanced int64       `json:"unbalancedManifests"`
}

type failingTest struct {
	Table    string `json:"table"`
	Test     string `json:"test"`
	Failures int64  `json:"failures"`
	Dataset  string `json:"dataset"`
}

type givenUp struct {
	Source string    `json:"source"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

func runStatus(ctx context.Context, args []string) error {
	fs := newFlags("status")
	dir := fs.String("dir", "demo-data", "data folder of the local warehouse, as pulse demo made it")
	stale := fs.Duration("stale", 24*time.Hour, "a file dataset whose last load is older than this is stale")
	streamStale := fs.Duration("stream-stale", 15*time.Minute, "a topic whose last batch is older than this is stale")
	format := fs.String("format", "table", "output: table or json")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait while another pulse process holds the warehouse")
	target := fs.String("warehouse", "local", "local (the data folder's DuckDB) or snowflake (a deployment's: SNOWFLAKE_ACCOUNT, _USER, _ROLE,\n"+
		"_WAREHOUSE, _DATABASE, _SCHEMA and SNOWFLAKE_PRIVATE_KEY_SECRET, the Secrets Manager ARN of the key, as the functions have them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *target != "local" && *target != "snowflake" {
		return usagef("status", "--warehouse %q: want local or snowflake", *target)
	}
	if fs.NArg() > 0 {
		return usagef("status", "unexpected arguments %q", fs.Args())
	}
	if *format != "table" && *format != "json" {
		return usagef("status", "--format %q: want table or json", *format)
	}
	var wh port.Warehouse
	where := ""
	if *target == "snowflake" {
		sf, err := warehouse.Open(ctx, os.Getenv)
		if err != nil {
			return fmt.Errorf("connecting to the deployment's Snowflake: %w", err)
		}
		wh, where = sf, "snowflake://"+os.Getenv("SNOWFLAKE_ACCOUNT")+"/"+os.Getenv("SNOWFLAKE_DATABASE")+"/"+os.Getenv("SNOWFLAKE_SCHEMA")
		fmt.Printf("warehouse: %s\n", where)
	} else {
		abs, err := dataFolder("status", *dir)
		if err != nil {
			return err
		}
		dw, err := openWarehouse(ctx, abs, false, *wait)
		if err != nil {
			return err
		}
		wh, where = dw, abs+"/warehouse.duckdb"
	}
	defer wh.Close()
	rep, err := status(ctx, wh, time.Now().UTC(), *stale, *streamStale)
	if err != nil {
		return err
	}
	rep.Warehouse = where
	if *format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printStatus(os.Stdout, rep)
	}
	if !rep.OK {
		return fmt.Errorf("%d problem(s): %s", len(rep.Problems), strings.Join(rep.Problems, "; "))
	}
	return nil
}

// status reads the warehouse's manifests and data tests.
func status(ctx context.Context, wh port.Warehouse, now time.Time, stale, streamStale time.Duration) (*statusReport, error) {
	rep := &statusReport{At: now}
	topics := map[string]bool{}
	for _, t := range stream.Datasets() {
		topics[t] = true
	}
	// Stream batches' manifests are named kafka-<topic>-...; replays replay-...
	_, rows, err := wh.Query(ctx, `SELECT DATASET, CASE WHEN FILE_ID LIKE 'kafka-%' THEN 'topic' ELSE 'dataset' END AS KIND,
  COUNT(*), MAX(FINISHED_AT), SUM(RECEIVED), SUM(LOADED), SUM(REJECTED), SUM(DUPLICATE), SUM(LATE),
  SUM(CASE WHEN RECEIVED <> LOADED + REJECTED + DUPLICATE OR LATE > LOADED OR LATE < 0 THEN 1 ELSE 0 END)
FROM PULSE_MANIFESTS
WHERE STATUS NOT LIKE 'quarantined%' AND STATUS NOT LIKE 'abandoned%'
GROUP BY 1, 2 ORDER BY 2, 1`)
	if err != nil {
		return nil, fmt.Errorf("reading PULSE_MANIFESTS: %w", err)
	}
	for _, r := range rows {
		s := sourceStatus{Name: fmt.Sprint(r[0]), Kind: fmt.Sprint(r[1]), Loads: toInt(r[2])}
		if t, ok := r[3].(time.Time); ok {
			t = t.UTC()
			s.LastLoaded = &t
			age := now.Sub(t)
			s.Age = age.Round(time.Second).String()
			limit := stale
			if s.Kind == "topic" {
				limit = streamStale
			}
			if age > limit {
				s.Stale = true
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s last loaded %s ago (over %s)", s.Kind, s.Name, s.Age, limit))
			}
		}
		s.Counts = port.Counts{Received: toInt(r[4]), Loaded: toInt(r[5]), Rejected: toInt(r[6]), Duplicate: toInt(r[7]), Late: toInt(r[8])}
		if s.Unbalanced = toInt(r[9]); s.Unbalanced > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s: %d manifests do not balance", s.Kind, s.Name, s.Unbalanced))
		}
		rep.Sources = append(rep.Sources, s)
	}
	_, rows, err = wh.Query(ctx, `SELECT TABLE_NAME, TEST, FAILURES, DATASET FROM DATA_TEST_RESULTS WHERE STATUS = 'fail' ORDER BY TABLE_NAME, TEST`)
	if err != nil {
		return nil, fmt.Errorf("reading DATA_TEST_RESULTS: %w", err)
	}
	for _, r := range rows {
		rep.Failing = append(rep.Failing, failingTest{Table: fmt.Sprint(r[0]), Test: fmt.Sprint(r[1]), Failures: toInt(r[2]), Dataset: fmt.Sprint(r[3])})
	}
	if len(rep.Failing) > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d data tests failing", len(rep.Failing)))
	}
	_, rows, err = wh.Query(ctx, `SELECT SOURCE, STATUS, FINISHED_AT FROM PULSE_MANIFESTS
WHERE STATUS LIKE 'quarantined%' OR STATUS LIKE 'abandoned%' ORDER BY FINISHED_AT DESC LIMIT 10`)
	if err != nil {
		return nil, fmt.Errorf("reading PULSE_MANIFESTS: %w", err)
	}
	for _, r := range rows {
		g := givenUp{Source: fmt.Sprint(r[0]), Status: fmt.Sprint(r[1])}
		if t, ok := r[2].(time.Time); ok {
			g.At = t.UTC()
		}
		rep.GivenUp = append(rep.GivenUp, g)
	}
	sort.SliceStable(rep.Sources, func(i, j int) bool { return rep.Sources[i].Kind < rep.Sources[j].Kind })
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func printStatus(w io.Writer, rep *statusReport) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nsource\tkind\tloads\tlast loaded (UTC)\tage\treceived\tloaded\tof which late\trejected\tduplicate\t")
	for _, s := range rep.Sources {
		last, flag := "-", ""
		if s.LastLoaded != nil {
			last = s.LastLoaded.Format("2006-01-02 15:04:05")
		}
		if s.Stale {
			flag = "  STALE"
		}
		if s.Unbalanced > 0 {
			flag += fmt.Sprintf("  %d UNBALANCED", s.Unbalanced)
		}
		c := s.Counts
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s%s\t%d\t%d\t%d\t%d\t%d\t\n", s.Name, s.Kind, s.Loads, last, s.Age, flag, c.Received, c.Loaded, c.Late, c.Rejected, c.Duplicate)
	}
	tw.Flush()
	if len(rep.Sources) == 0 {
		fmt.Fprintln(w, "nothing loaded yet")
	}
	fmt.Fprintf(w, "\ndata tests failing now: %d\n", len(rep.Failing))
	for _, f := range rep.Failing {
		fmt.Fprintf(w, "  %s %s: %d rows\n", f.Table, f.Test, f.Failures)
	}
	fmt.Fprintf(w, "\nlast files given up: %d\n", len(rep.GivenUp))
	for _, g := range rep.GivenUp {
		fmt.Fprintf(w, "  %s  %s  %s\n", g.At.Format("2006-01-02 15:04:05"), g.Source, g.Status)
	}
	if rep.OK {
		fmt.Fprintln(w, "\nstatus: ok")
		return
	}
	fmt.Fprintf(w, "\nstatus: %d problem(s)\n", len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
