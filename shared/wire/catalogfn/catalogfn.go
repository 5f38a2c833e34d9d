// Package catalogfn wires the catalog function (functions/catalog) from
// its environment: S3, the MSK producer (IAM auth) and its encoder (JSON,
// or Avro through PULSE_SCHEMA_REGISTRY_URL). It is apart from shared/wire
// so that only the catalog function's binary holds the Kafka client.
package catalogfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// Build makes the catalog function's Lambda handler (a wire.Builder).
func Build(ctx context.Context, getenv func(string) string) (any, error) {
	store, err := wire.Store(ctx)
	if err != nil {
		return nil, err
	}
	kcfg, err := msk.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	client, err := msk.NewClient(ctx, kcfg, awsCfg)
	if err != nil {
		return nil, err
	}
	var enc msk.Encoder = msk.JSON{}
	if url := getenv(wire.EnvSchemaRegistry); url != "" {
		rc, err := sr.NewClient(sr.URLs(url))
		if err != nil {
			return nil, err
		}
		if enc, err = msk.NewAvro(ctx, rc); err != nil {
			return nil, err
		}
	}
	topic := getenv(wire.EnvCatalogTopic)
	if topic == "" {
		topic = port.CatalogTopic
	}
	if err := wire.Require(getenv, wire.EnvQuarantineBucket); err != nil {
		return nil, err
	}
	h := &handlers.Catalog{Store: store, Producer: msk.NewProducer(client, topic, enc), QuarantineBucket: getenv(wire.EnvQuarantineBucket)}
	return handlers.Lambda(h.Handle), nil
}
