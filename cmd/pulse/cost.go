package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pulse-analytics/pulse/shared/cost"
)

func init() {
	register("cost", "monthly cost on AWS + Snowflake by service: pulse cost --events-per-second N", func(ctx context.Context, args []string) error {
		return runCost(ctx, args, os.Stdout, os.Stderr)
	})
	describe("cost", "",
		"pulse cost --events-per-second 1000 --load-mode snowpipe --dedupe provisioned",
		"Prints Pulse's modeled monthly cost by service (us-east-1, 730 hours) from the price table and the measured\n"+
			"figures in shared/cost; the flags are the assumptions, with their defaults.")
}

func runCost(_ context.Context, args []string, stdout, stderr io.Writer) error {
	a := cost.DefaultAssumptions()
	fs := newFlags("cost")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pulse cost --events-per-second N [--files-per-day F --file-mb M] [--load-mode merge|snowpipe]\n"+
			"                  [--dedupe on-demand|provisioned] [--kafka msk-serverless|msk-provisioned|existing] [--format table|json] ...\n\n"+
			"Prints Pulse's modeled monthly cost by service (us-east-1, 730 hours) from the price table and the measured\n"+
			"figures in shared/cost; the flags below are the assumptions, with their defaults.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	fs.Float64Var(&a.EventsPerSecond, "events-per-second", a.EventsPerSecond, "stream events a second, over all topics")
	fs.Float64Var(&a.FilesPerDay, "files-per-day", a.FilesPerDay, "batch files a day")
	fs.Float64Var(&a.FileMB, "file-mb", a.FileMB, "size of one batch file, MB")
	fs.Float64Var(&a.RecordBytes, "record-bytes", a.RecordBytes, "bytes of one record in the files (644: NDJSON video_interactions)")
	fs.StringVar(&a.LoadMode, "load-mode", a.LoadMode, "stream loads: merge (PUT+COPY+MERGE per micro-batch) or snowpipe (Snowpipe Streaming, MERGE of upserted tables every --merge-every)")
	fs.DurationVar(&a.MergeEvery, "merge-every", a.MergeEvery, "snowpipe mode: cadence of the MERGE of upserted tables")
	fs.Float64Var(&a.MergeSeconds, "merge-seconds", a.MergeSeconds, "warehouse seconds one cadence MERGE runs")
	fs.DurationVar(&a.TestsEvery, "tests-every", a.TestsEvery, "stream data tests per function instance (0: off)")
	fs.Float64Var(&a.TestsSeconds, "tests-seconds", a.TestsSeconds, "warehouse seconds one data-test run takes")
	fs.StringVar(&a.Warehouse, "warehouse", a.Warehouse, "warehouse size: xs, s, m, l")
	fs.StringVar(&a.Edition, "edition", a.Edition, "Snowflake edition: standard, enterprise, business_critical")
	fs.Float64Var(&a.AutoSuspendSeconds, "auto-suspend", a.AutoSuspendSeconds, "warehouse AUTO_SUSPEND, seconds")
	fs.StringVar(&a.Dedupe, "dedupe", a.Dedupe, "dedupe and state tables: on-demand or provisioned (with autoscaling)")
	fs.Float64Var(&a.TargetUtilization, "target-utilization", a.TargetUtilization, "provisioned: autoscaling target utilization")
	fs.DurationVar(&a.StreamDedupeTTL, "stream-dedupe-ttl", a.StreamDedupeTTL, "how long stream claims are kept (the stream function's PULSE_DEDUPE_TTL)")
	fs.BoolVar(&a.PITR, "pitr", a.PITR, "point-in-time recovery on the tables")
	fs.StringVar(&a.Kafka, "kafka", a.Kafka, "msk-serverless, msk-provisioned or existing (not counted)")
	fs.IntVar(&a.Brokers, "brokers", a.Brokers, "msk-provisioned: brokers")
	fs.StringVar(&a.BrokerType, "broker-type", a.BrokerType, "msk-provisioned: kafka.t3.small or kafka.m7g.large")
	fs.DurationVar(&a.KafkaRetention, "kafka-retention", a.KafkaRetention, "topic retention")
	fs.BoolVar(&a.NewVPC, "new-vpc", a.NewVPC, "the deployment made the VPC (one NAT gateway)")
	fs.IntVar(&a.PartitionsPerTopic, "partitions", a.PartitionsPerTopic, "partitions per topic")
	fs.IntVar(&a.StreamMemoryMB, "stream-memory-mb", a.StreamMemoryMB, "stream function memory")
	fs.Float64Var(&a.StatementSeconds, "statement-seconds", a.StatementSeconds, "round trip of one Snowflake statement")
	fs.Float64Var(&a.DynamoDBSeconds, "dynamodb-seconds", a.DynamoDBSeconds, "round trip of one DynamoDB request")
	fs.StringVar(&a.Workflow, "workflow", a.Workflow, "batch workflow type: standard or express")
	fs.Float64Var(&a.FileWarehouseSeconds, "file-warehouse-seconds", a.FileWarehouseSeconds, "warehouse seconds of one file's Load and DataTests")
	window := fs.Float64("batching-window", 0, "seconds: every topic's event-source mapping batching window (0: the deployed 5 s JSON, 10 s Avro)")
	format := fs.String("format", "table", "table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cost", "unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	if *window < 0 || *window > 300 {
		return usagef("cost", "--batching-window %v: Lambda allows 0 to 300 seconds", *window)
	}
	if *window > 0 {
		groups := make([]cost.TopicGroup, len(a.TopicGroups))
		for i, g := range a.TopicGroups {
			g.WindowSeconds = *window
			groups[i] = g
		}
		a.TopicGroups = groups
	}
	if *format != "table" && *format != "json" {
		return usagef("cost", "--format %q: table or json", *format)
	}
	if err := a.Check(); err != nil {
		return usagef("cost", "%v", err)
	}
	prices, err := cost.DefaultPrices()
	if err != nil {
		return err
	}
	r, err := cost.Estimate(a, cost.Figures, prices)
	if err != nil {
		return fmt.Errorf("estimating: %w", err)
	}
	if *format == "json" {
		return r.WriteJSON(stdout)
	}
	return r.WriteTable(stdout)
}
