package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/stream"
)

func init() {
	register("replay", "re-ingest quarantined records of a dataset after a fix (batch files and stream messages): pulse replay --dataset NAME; "+
		"or the stream batches that failed until the on-failure destination: pulse replay --failed", runReplay)
	describe("replay", "",
		"pulse replay --dataset live_streaming --add-platform Myspace",
		"After a fix, takes a dataset's quarantine back through the pipeline: whole files quarantined because a step\n"+
			"kept failing are run again (while they are still the current version of their key), and rejected records\n"+
			"(batch and stream) are cleaned again with today's rules; what passes is loaded, without duplicates, and\n"+
			"what still fails stays with its reason. --add-platform accepts a platform name for good (kept in the data\n"+
			"folder's platform registry). --failed replays the stream batches the event-source mappings gave up on, with\n"+
			"their original positions. Running it twice is harmless.")
}

func runReplay(ctx context.Context, args []string) error {
	fs := newFlags("replay")
	ds := fs.String("dataset", "", "dataset whose quarantined records to replay")
	failed := fs.Bool("failed", false, "replay the stream batches the event-source mappings gave up on (kept in s3://"+
		stack.Buckets.Raw+"/"+handlers.FailedBatchPrefix+"), with their original positions")
	dir := fs.String("dir", "demo-data", "data folder of the local stack (warehouse, dedupe keys, buckets, stream state)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait while another pulse process holds the data folder")
	var platforms []string
	fs.Func("add-platform", "a fix to apply first: accept this platform name from now on (repeatable; kept in the platform registry of the data folder), for records rejected as \"unknown platform\"", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty platform name")
		}
		platforms = append(platforms, v)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ds == "" && !*failed {
		return usagef("replay", "--dataset NAME (one of %s) or --failed", strings.Join(dataset.Names(), ", "))
	}
	if *ds != "" {
		if _, err := dataset.Lookup(*ds); err != nil {
			return usagef("replay", "--dataset %s: %v", *ds, err)
		}
	}
	abs, err := dataFolder("replay", *dir)
	if err != nil {
		return err
	}
	st, err := startStack(ctx, stack.Options{Dir: abs}, *wait)
	if err != nil {
		return err
	}
	defer st.Close()
	// The fix: the platforms go into the platform registry (the curated
	// bucket's reference/platforms.json, kept in the data folder), so the
	// cleaning and the data tests of every later run accept them too.
	if len(platforms) > 0 {
		added, err := st.Batch.Platforms.Add(ctx, platforms...)
		if err != nil {
			return err
		}
		where := filepath.Join(abs, "s3", "buckets", stack.Buckets.Curated, filepath.FromSlash(batch.PlatformsKey))
		if len(added) > 0 {
			fmt.Printf("platform registry %s: added %s\n", where, strings.Join(added, ", "))
		} else {
			fmt.Printf("platform registry %s: %s already known\n", where, strings.Join(platforms, ", "))
		}
	}

	if *failed {
		if err := replayFailed(ctx, st); err != nil {
			return err
		}
		if *ds == "" {
			return nil
		}
	}

	// Whole files quarantined because a step kept failing (or they could
	// not be read): run again while they are still the current version.
	files, err := st.ReplayFiles(ctx, *ds)
	if err != nil {
		return err
	}
	for _, f := range files {
		switch {
		case f.Run == nil:
			fmt.Printf("quarantined file %s: not run again: %s\n", f.Drop.Key, f.Skip)
		case f.Run.Err != nil:
			fmt.Printf("quarantined file %s: failed again: %v\n", f.Drop.Key, f.Run.Err)
		case f.Run.Manifest != nil:
			fmt.Printf("quarantined file %s: loaded: %s\n", f.Drop.Key, f.Run.Manifest.Counts)
		}
	}

	// Batch records: quarantined under <dataset>/.
	res, err := batch.Replay(ctx, st.Env, *ds)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Manifest == nil {
			fmt.Printf("%s: nothing passes yet (%d still rejected)\n", r.QuarantineKey, r.StillRejected)
			continue
		}
		fmt.Printf("%s: %s\n", r.QuarantineKey, r.Manifest.Counts)
	}
	found := len(res) > 0 || len(files) > 0

	// Stream messages: quarantined under stream/<dataset>/.
	if slices.Contains(stream.Datasets(), *ds) {
		sr, err := st.ReplayStream(ctx, *ds, stack.StreamOptions{})
		if err != nil {
			return err
		}
		printStreamReplay(sr)
		found = found || len(sr.Files) > 0
	}
	if !found {
		fmt.Printf("no quarantined records for %s in s3://%s/%s/ or s3://%s/%s\n", *ds, stack.Buckets.Quarantine, *ds,
			stack.Buckets.Quarantine, stream.QuarantinePrefix(*ds))
	}
	return nil
}

func printStreamReplay(r *stream.ReplayResult) {
	var lateRows, pending, finished int64
	for _, f := range r.Files {
		switch {
		case f.Finished > 0:
			fmt.Printf("%s: finished an interrupted replay (%d records left quarantine)\n", f.QuarantineKey, f.Finished)
		case f.ManifestID == "":
			fmt.Printf("%s: nothing passes yet (%d still rejected)\n", f.QuarantineKey, f.Counts.Rejected)
		default:
			fmt.Printf("%s: %s\n", f.QuarantineKey, f.Counts)
		}
		lateRows += int64(f.LateRows)
		pending += f.Pending
		finished += f.Finished
	}
	if len(r.Files) == 0 {
		return
	}
	t := r.Total()
	switch {
	case t.Received > t.Rejected:
		fmt.Printf("stream %s: replayed %s\n", r.Dataset, t)
	case t.Rejected > 0:
		fmt.Printf("stream %s: nothing written (%d records still rejected)\n", r.Dataset, t.Rejected)
	}
	if t.Late > 0 {
		fmt.Printf("  %d of the loaded records arrived after their windows had closed: in the fact table, not in those windows (PULSE_LATE_EVENTS: %d rows, one per window missed)\n", t.Late, lateRows)
	}
	if pending > 0 {
		fmt.Printf("  %d records belong to stream batches not committed yet: left in quarantine for a later replay\n", pending)
	}
}

// replayFailed replays the stream batches the mappings gave up on and
// prints what each did and the offsets still not processed.
func replayFailed(ctx context.Context, st *stack.Stack) error {
	res, err := st.ReplayFailed(ctx, stack.StreamOptions{})
	if res == nil {
		return err
	}
	for _, b := range res.Batches {
		switch {
		case b.Err != "":
			fmt.Printf("%s: still failing, kept: %s\n", b.Key, b.Err)
		case b.Counts.Received == 0:
			fmt.Printf("%s: offsets %d-%d of %s/%d were already processed (%d records): removed\n", b.Key, b.First, b.Last, b.Topic, b.Partition, b.Redelivered)
		default:
			fmt.Printf("%s: offsets %d-%d of %s/%d: %s\n", b.Key, b.First, b.Last, b.Topic, b.Partition, b.Counts)
			if b.Counts.Late > 0 {
				fmt.Printf("  %d of the loaded records arrived after their windows had closed: in the fact table, not in those windows (PULSE_LATE_EVENTS)\n", b.Counts.Late)
			}
		}
	}
	if len(res.Batches) == 0 {
		fmt.Printf("no failed stream batches in s3://%s/%s\n", stack.Buckets.Raw, handlers.FailedBatchPrefix)
	}
	for _, g := range res.Gaps {
		kept := false
		for _, b := range res.Batches {
			if b.Err != "" && b.Topic == g.Topic && b.Partition == g.Partition && b.First <= g.Last && b.Last >= g.First {
				kept = true
			}
		}
		if kept {
			fmt.Printf("%s: their batch is still kept; run pulse replay --failed again once the cause is fixed\n", g)
		} else {
			fmt.Printf("%s, and no kept failed batch holds them (offsets Kafka skips hold no records: transaction markers, compaction)\n", g)
		}
	}
	return err
}
