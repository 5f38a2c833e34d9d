package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
)

func init() {
	register("demo", "run the whole pipeline locally on generated data and print what it did", runDemo)
	describe("demo", "",
		"pulse demo --duration 60s",
		"Starts the local stack on the data folder (created if missing): S3, Kafka on 127.0.0.1:9092 with a schema\n"+
			"registry, the event-source mappings, the dedupe store, the DuckDB warehouse and the web dashboard. Every\n"+
			"--every it drops a round of dirty batch files through the batch workflow; meanwhile the simulator produces\n"+
			"every topic through the stream path. On Ctrl-C, or after --duration, it prints the accounting, answers\n"+
			"from the views and the data tests. Run again on the same folder, it finishes what a killed run left.")
}

func runDemo(ctx context.Context, args []string) error {
	fs := newFlags("demo")
	dir := fs.String("dir", "demo-data", "folder for the warehouse (warehouse.duckdb), dedupe state and generated files")
	rows := fs.Int("rows", 1000, "rows per generated batch file")
	seed := fs.Uint64("seed", 42, "seed for the generated data")
	duration := fs.Duration("duration", 0, "stop by itself after this long and print a summary (0 = run until Ctrl-C; one batch round only with --stream=false)")
	every := fs.Duration("every", 15*time.Second, "how often a new batch of files is dropped")
	s3addr := fs.String("s3", "127.0.0.1:0", "address for the local S3 endpoint")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the web dashboard (port 0 picks a free one; \"off\" serves none)")
	sf := addDemoStreamFlags(fs)
	dedupeTTL := fs.Duration("stream-dedupe-ttl", 0, "how long the dedupe store remembers a stream record's key (0: the stack's default, stack.DefaultStreamDedupeTTL)")
	fileTTL := fs.Duration("file-dedupe-ttl", time.Hour, "how long the dedupe store remembers a file record's key: the demo drops new files forever, so it keeps them an hour (on AWS: 400 days); a file dropped again later is loaded again, its facts merging into the same rows")
	memEvery := fs.Duration("mem-every", 0, "print the process's memory (RSS, Go heap, DuckDB) and event counts this often (0: never; pulse-bench soak reads these lines)")
	heapProfiles := fs.String("heap-profiles", "", "with --mem-every, write a Go heap profile into this folder at each memory line")
	goLimit := fs.Int64("go-memory-limit", 192, "MiB: the Go runtime's soft memory limit (the garbage collector works harder near it; 0: none). With DuckDB's 128 MiB it bounds a long demo's memory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo", "unexpected arguments %q (every setting is a flag)", fs.Args())
	}
	if *goLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(*goLimit << 20)
	}
	if *duration < 0 || *every <= 0 || *rows <= 0 {
		return usagef("demo", "--duration cannot be negative, --every and --rows must be above 0")
	}
	abs, _ := filepath.Abs(*dir)
	fmt.Printf("Pulse demo: the batch and stream paths on local stand-ins\n  data folder: %s\n", abs)
	st, err := startStack(ctx, stack.Options{Dir: abs, S3Addr: *s3addr, OnStep: printStep(os.Stdout), StreamDedupeTTL: *dedupeTTL, FileDedupeTTL: *fileTTL}, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Printf("  S3 (gofakes3): %s  buckets %s, %s, %s, %s\n", st.S3.Endpoint(), stack.Buckets.Raw, stack.Buckets.Staging, stack.Buckets.Curated, stack.Buckets.Quarantine)
	fmt.Printf("  warehouse (DuckDB): %s\n", filepath.Join(abs, "warehouse.duckdb"))
	var ds *demoStream
	if *sf.on {
		if ds, err = startDemoStream(ctx, st, sf); err != nil {
			return err
		}
	}
	dash, err := startDemoDashboard(ctx, st, *addr)
	if err != nil {
		return err
	}
	if dash != nil {
		defer dash.Close()
	}
	mem, err := startMemoryReport(ctx, os.Stdout, st, ds, *memEvery, *heapProfiles)
	if err != nil {
		return err
	}
	continuous := *sf.on && *duration <= 0

	start := time.Now()
	// With --duration the demo ends on time: a batch round starts only if it
	// can end before the deadline (judged by the last round's length), and
	// the stream is stopped a few seconds early to finish its last batches.
	deadline := start.Add(*duration)
	const stopReserve = 5 * time.Second
	round := 0
	var lastRound time.Duration
	for {
		round++
		t0 := time.Now()
		if err := demoRound(ctx, st, abs, *rows, *seed+uint64(round-1), round); err != nil {
			return err
		}
		if err := demoGold(ctx, st); err != nil {
			return err
		}
		lastRound = time.Since(t0)
		if !continuous && *duration <= 0 {
			break // one round of the batch path only
		}
		wait := *every
		if *duration > 0 && time.Now().Add(*every+lastRound+stopReserve).After(deadline) {
			if !*sf.on {
				break
			}
			// No more batch rounds; the stream runs to the end.
			wait = max(0, time.Until(deadline.Add(-stopReserve)))
			fmt.Printf("\nno more batch rounds; the stream goes on for %s\n", wait.Round(time.Second))
		} else {
			fmt.Printf("\nnext batch in %s (%s)\n", *every, demoEnd(*duration, start))
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() != nil || (*duration > 0 && !time.Now().Add(stopReserve).Before(deadline)) {
			break
		}
	}
	ctx = context.WithoutCancel(ctx) // Ctrl-C ends the demo, not the summary
	mem.close(ctx)
	if ds != nil {
		fmt.Println("\nStopping the simulator and finishing the stream...")
		grace := 30 * time.Second
		if *duration > 0 {
			grace = max(2*time.Second, time.Until(deadline))
		}
		if err := ds.stop(grace); err != nil {
			fmt.Printf("  simulator: %v\n", err)
		}
	}
	fmt.Println("\nPer-file accounting (received = loaded + rejected + duplicate):")
	printAccounting(os.Stdout, st.Runs())
	wh := st.Warehouse
	if err := printQuery(ctx, os.Stdout, wh, "Engagement by platform (ENGAGEMENT_BY_PLATFORM)",
		"SELECT PLATFORM, SOURCE, INTERACTIONS, AVG_ENGAGEMENT FROM ENGAGEMENT_BY_PLATFORM ORDER BY SOURCE, PLATFORM"); err != nil {
		return err
	}
	if err := printQuery(ctx, os.Stdout, wh, "Engagement by age group (ENGAGEMENT_BY_AGE_GROUP, all sources)",
		"SELECT AGE_GROUP, SUM(INTERACTIONS) AS INTERACTIONS FROM ENGAGEMENT_BY_AGE_GROUP GROUP BY AGE_GROUP ORDER BY AGE_GROUP"); err != nil {
		return err
	}
	if err := printQuery(ctx, os.Stdout, wh, "Rejected records by reason (PULSE_REJECTS, top 8)",
		"SELECT DATASET, FIELD, COUNT(*) AS RECORDS FROM PULSE_REJECTS GROUP BY DATASET, FIELD ORDER BY RECORDS DESC, DATASET, FIELD LIMIT 8"); err != nil {
		return err
	}
	if err := printQuery(ctx, os.Stdout, wh, "Daily and monthly active users, seed 002 (GOLD_DAU_MAU, last 5 days)",
		"SELECT * FROM (SELECT DAY, DAU, MAU FROM GOLD_DAU_MAU ORDER BY DAY DESC LIMIT 5) ORDER BY DAY"); err != nil {
		return err
	}
	if ds != nil {
		if err := printStreamSummary(ctx, os.Stdout, ds); err != nil {
			return err
		}
	}
	if err := printQuery(ctx, os.Stdout, wh, "Data tests (DATA_TEST_RESULTS: failing first)",
		"SELECT STATUS, TABLE_NAME, TEST, FAILURES FROM DATA_TEST_RESULTS ORDER BY STATUS, TABLE_NAME, TEST LIMIT 12"); err != nil {
		return err
	}
	fmt.Printf("\nDone in %s. Open the warehouse with: duckdb %s   (or: pulse query --dir %s 'SELECT * FROM ENGAGEMENT_BY_PLATFORM')\n",
		time.Since(start).Round(time.Millisecond), filepath.Join(abs, "warehouse.duckdb"), *dir)
	fmt.Printf("Quarantined records are in s3://%s/<dataset>/ (kept under %s) and in PULSE_REJECTS; replay them after a fix with: pulse replay --dir %s --dataset NAME\n",
		stack.Buckets.Quarantine, filepath.Join(*dir, "s3"), *dir)
	fmt.Printf("See the dashboards again with: pulse dashboard --dir %s\n", *dir)
	return nil
}

// demoRound generates one set of dirty files and drops each one.
func demoRound(ctx context.Context, st *stack.Stack, dir string, rows int, seed uint64, round int) error {
	in := filepath.Join(dir, "input", fmt.Sprintf("round-%03d", round))
	if err := os.MkdirAll(in, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", in, err)
	}
	fmt.Printf("\nRound %d: generating dirty batch files (%d rows each, seed %d) in %s\n", round, rows, seed, in)
	truths, err := batchgen.Generate(in, batchgen.Options{Seed: seed, Rows: rows, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, round-1)})
	if err != nil {
		return err
	}
	for _, t := range truths {
		path := filepath.Join(in, t.Name)
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("round-%03d-%s", round, t.Name)
		fmt.Printf("  drop s3://%s/raw/%s/%s (%d KB, %d records)\n", stack.Buckets.Raw, t.Dataset, name, info.Size()/1024, t.Rows)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = st.Drop(ctx, t.Dataset, name, f, info.Size())
		f.Close()
		if err != nil {
			return err
		}
	}
	// S3 delivers notifications at least once: deliver the first file's
	// notification again and show that it starts nothing new.
	if runs := st.Runs(); len(runs) > 0 {
		first := runs[len(runs)-len(truths)]
		out, err := st.Trigger.Handle(ctx, notification(first))
		if err != nil {
			return err
		}
		fmt.Printf("  redelivered the notification for %s: started %d, skipped %d (already running or done)\n", first.Drop.Key, len(out.Started), len(out.Skipped))
	}
	return nil
}

func demoEnd(duration time.Duration, start time.Time) string {
	if duration > 0 {
		return fmt.Sprintf("the demo ends by itself in %s; Ctrl-C to stop now", time.Until(start.Add(duration)).Round(time.Second))
	}
	return "Ctrl-C ends the demo with a summary"
}
