// Package streamfn wires the stream function (functions/stream) from its
// environment: the buckets, S3, the dedupe and window-state tables on
// DynamoDB, the warehouse, and the decoder (JSON, or Avro through
// PULSE_SCHEMA_REGISTRY_URL). It is apart from shared/wire so that only
// the stream function's binary holds the Avro decoder.
package streamfn

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

// EnvStateTable names the window-state table.
const EnvStateTable = "PULSE_STATE_TABLE"

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
	dec := avro.NewDecoder(nil) // JSON only
	if url := getenv(wire.EnvSchemaRegistry); url != "" {
		if dec, err = avro.NewRegistryDecoder(url); err != nil {
			return nil, err
		}
	}
	p, err := stream.New(stream.Env{
		Store: env.Store, Dedupe: env.Dedupe, Warehouse: wh, Buckets: env.Buckets, Decoder: dec,
		State:  dynamo.NewWindowStore(ddb, getenv(EnvStateTable), ttl),
		Config: stream.Config{Partitions: int(parts)},
	})
	if err != nil {
		return nil, err
	}
	h := &handlers.Stream{Pipeline: p, Tests: wh, Platforms: pipeline.Platforms(env)}
	return handlers.Lambda(h.Handle), nil
}
