// Command stream is the function behind the MSK event-source mappings: each Kafka batch is decoded
// (JSON, or Avro through PULSE_SCHEMA_REGISTRY_URL), cleaned, deduplicated, archived, folded into
// windows and sessions and loaded into Snowflake (shared/handlers.Stream over shared/stream).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	ctx := context.Background()
	env, err := wire.Env(ctx, os.Getenv, true) // buckets, S3, the dedupe store on PULSE_DEDUPE_TABLE
	check(err)
	wh, err := warehouse.Open(ctx, os.Getenv)
	check(err)
	check(wire.Require(os.Getenv, "PULSE_STATE_TABLE"))
	ttl, err := wire.Duration(os.Getenv, wire.EnvDedupeTTL, wire.DefaultDedupeTTL)
	check(err)
	ddb, err := dynamo.NewClient(ctx, "")
	check(err)
	dec := avro.NewDecoder(nil) // JSON only
	if url := os.Getenv(wire.EnvSchemaRegistry); url != "" {
		dec, err = avro.NewRegistryDecoder(url)
		check(err)
	}
	p, err := stream.New(stream.Env{
		Store: env.Store, Dedupe: env.Dedupe, Warehouse: wh, Buckets: env.Buckets, Decoder: dec,
		State: dynamo.NewWindowStore(ddb, os.Getenv("PULSE_STATE_TABLE"), ttl),
	})
	check(err)
	h := &handlers.Stream{Pipeline: p, Tests: wh, Platforms: pipeline.Platforms(env)}
	lambda.Start(handlers.Lambda(h.Handle))
}

func check(err error) {
	if err != nil {
		slog.Error("starting the stream function", "error", err)
		os.Exit(1)
	}
}
