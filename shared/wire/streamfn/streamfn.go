// Package streamfn wires the stream function (functions/stream) from its
// environment: the buckets, S3, the dedupe and window-state tables on
// DynamoDB, the warehouse, and the decoder (JSON, or Avro through
// PULSE_SCHEMA_REGISTRY_URL). It is apart from shared/wire so that only
// the stream function's binary holds the Avro decoder.
package streamfn

import (
	"context"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

// The stream function's own settings.
const (
	EnvStateTable = "PULSE_STATE_TABLE" // the window-state table
	// EnvLoadMode is the load mode: merge (default: a MERGE transaction
	// per batch) or snowpipe (facts through Snowpipe Streaming, the rest
	// staged and merged every EnvMergeEvery); see stream.LoadSnowpipe.
	EnvLoadMode = "PULSE_LOAD_MODE"
	// EnvMergeEvery is the snowpipe mode's cadence merge (Go duration;
	// default stream.DefaultMergeEvery).
	EnvMergeEvery = "PULSE_MERGE_EVERY"
)

// EnvTopicPartitions is how many partitions the deployment creates per
// topic (stream.Config.Partitions; 1 when unset).
const EnvTopicPartitions = "PULSE_TOPIC_PARTITIONS"

// Build makes the stream function's Lambda handler (a wire.Builder).
func Build(ctx context.Context, getenv func(string) string) (any, error) {
	env, err := wire.Env(ctx, getenv, true) // buckets, S3, the dedupe store on PULSE_DEDUPE_TABLE
	if err != nil {
		return nil, err
	}
	wh, err := warehouse.Open(ctx, getenv)
	if err != nil {
		return nil, err
	}
	if err := wire.Require(getenv, EnvStateTable); err != nil {
		return nil, err
	}
	ttl, err := wire.Duration(getenv, wire.EnvDedupeTTL, wire.DefaultDedupeTTL)
	if err != nil {
		return nil, err
	}
	parts, err := wire.Int64(getenv, EnvTopicPartitions, 1)
	if err != nil {
		return nil, err
	}
	ddb, err := dynamo.NewClient(ctx, "")
	if err != nil {
		return nil, err
	}
	mode, err := stream.ParseLoadMode(getenv(EnvLoadMode))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", EnvLoadMode, err)
	}
	every, err := wire.Duration(getenv, EnvMergeEvery, stream.DefaultMergeEvery)
	if err != nil {
		return nil, err
	}
	var app port.Appender
	if mode == stream.LoadSnowpipe {
		if app, err = warehouse.OpenAppender(getenv); err != nil {
			return nil, err
		}
	}
	dec := avro.NewDecoder(nil) // JSON only
	if url := getenv(wire.EnvSchemaRegistry); url != "" {
		if dec, err = avro.NewRegistryDecoder(url); err != nil {
			return nil, err
		}
	}
	p, err := stream.New(stream.Env{
		Store: env.Store, Dedupe: env.Dedupe, Warehouse: wh, Appender: app, Buckets: env.Buckets, Decoder: dec,
		State:  dynamo.NewWindowStore(ddb, getenv(EnvStateTable), ttl),
		Config: stream.Config{Partitions: int(parts), LoadMode: mode, MergeEvery: every},
	})
	if err != nil {
		return nil, err
	}
	h := &handlers.Stream{Pipeline: p, Tests: wh, Platforms: batch.Platforms(env)}
	return handlers.Lambda(h.Handle), nil
}
