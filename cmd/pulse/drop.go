package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

func init() {
	register("drop", "put your own file through the batch path: pulse drop FILE --dataset NAME", runDrop)
}

func notification(r stack.Run) events.S3Event {
	return awsevents.NewS3Event(r.Drop, "us-east-1")
}

// flagsAnywhere lets flags follow positional arguments (pulse drop FILE --dataset X).
func flagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
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
	fs := flag.NewFlagSet("drop", flag.ContinueOnError)
	ds := fs.String("dataset", "", "dataset the file belongs to: "+fmt.Sprint(dataset.Names()))
	dir := fs.String("dir", "demo-data", "folder of the local warehouse and dedupe state")
	files, err := flagsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || *ds == "" {
		return errors.New("usage: pulse drop FILE... --dataset NAME")
	}
	if _, err := dataset.Lookup(*ds); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	st, err := stack.Start(ctx, withCrashHook(stack.Options{Dir: abs, OnStep: printStep(os.Stdout)}))
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
