package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

func init() {
	register("drop", "put your own file through the batch path: pulse drop FILE... --dataset NAME", runDrop)
	describe("drop", "FILE...",
		"pulse drop tests/testdata/corpora/time-wasters/time-wasters-on-social-media.csv --dataset video_interactions",
		"Puts each FILE into the local raw bucket under raw/<dataset>/, which notifies the trigger and runs the batch\n"+
			"workflow (Clean, Model, Load, DataTests) as on AWS, with its progress and accounting. Exits 1 if a file\n"+
			"was quarantined (unreadable, or not of the dataset). Waits (--wait) while pulse demo holds the data folder.")
}

func notification(r stack.Run) events.S3Event {
	return awsevents.NewS3Event(r.Drop, "us-east-1")
}

// flagsAnywhere lets flags follow positional arguments (pulse drop FILE --dataset X).
func flagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runDrop(ctx context.Context, args []string) error {
	fs := newFlags("drop")
	ds := fs.String("dataset", "", "dataset the file belongs to: "+fmt.Sprint(dataset.Names()))
	dir := fs.String("dir", "demo-data", "data folder of the local stack (warehouse, dedupe keys, buckets), as pulse demo made it")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait while another pulse process holds the data folder")
	files, err := flagsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("drop", "no FILE given: pulse drop FILE --dataset NAME")
	}
	if *ds == "" {
		return usagef("drop", "--dataset missing: one of %s", strings.Join(dataset.Names(), ", "))
	}
	if _, err := dataset.Lookup(*ds); err != nil {
		return usagef("drop", "--dataset %s: %v", *ds, err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return usagef("drop", "%s: no such file", f)
		}
	}
	abs, err := dataFolder("drop", *dir)
	if err != nil {
		return err
	}
	st, err := startStack(ctx, stack.Options{Dir: abs, OnStep: printStep(os.Stdout)}, *wait)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, f := range files {
		fmt.Printf("drop %s -> s3://%s/raw/%s/%s\n", f, stack.Buckets.Raw, *ds, filepath.Base(f))
		if _, err := st.DropFile(ctx, *ds, f); err != nil {
			return err
		}
	}
	printAccounting(os.Stdout, st.Runs())
	fmt.Printf("warehouse: %s\n", filepath.Join(abs, "warehouse.duckdb"))
	for _, r := range st.Runs() {
		if r.Err != nil {
			return fmt.Errorf("%s: %w", r.Drop.Key, r.Err)
		}
	}
	return nil
}
