package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/pipeline"
)

func init() {
	register("replay", "re-ingest quarantined records of a dataset after a fix: pulse replay --dataset NAME", runReplay)
}

func runReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	ds := fs.String("dataset", "", "dataset whose quarantined records to replay")
	dir := fs.String("dir", "demo-data", "folder of the local warehouse and dedupe state")
	var platforms []string
	fs.Func("add-platform", "a fix to apply first: accept this platform name (repeatable), for records rejected as \"unknown platform\"", func(v string) error {
		platforms = append(platforms, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, p := range platforms {
		dataset.AddPlatform(p)
	}
	if *ds == "" {
		return errors.New("usage: pulse replay --dataset NAME")
	}
	abs, _ := filepath.Abs(*dir)
	st, err := stack.Start(ctx, stack.Options{Dir: abs})
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := pipeline.Replay(ctx, st.Env, *ds)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		fmt.Printf("no quarantined records for %s in s3://%s/%s/\n", *ds, stack.Buckets.Quarantine, *ds)
	}
	for _, r := range res {
		if r.Manifest == nil {
			fmt.Printf("%s: nothing passes yet (%d still rejected)\n", r.QuarantineKey, r.StillRejected)
			continue
		}
		fmt.Printf("%s: %s\n", r.QuarantineKey, r.Manifest.Counts)
	}
	return nil
}
