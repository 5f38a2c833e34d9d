// Package catalogfn wires the catalog function (functions/catalog) from
// its environment: S3, the MSK producer (IAM auth) and its encoder (JSON,
// or Avro through PULSE_SCHEMA_REGISTRY_URL). It is apart from shared/wire
// so that only the catalog function's binary holds the Kafka client.
package catalogfn

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// Build makes the catalog function's Lambda handler (a wire.Builder).
func Build(ctx context.Context, getenv func(string) string) (any, error) {
	store, err := wire.Store(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := msk.ConfigFromEnv(getenv); err != nil {
		return nil, err // a missing setting fails the init; the client waits for the first file
	}
	// A registry client is made here (it checks the URL, sends nothing).
	var registry *sr.Client
	if url := getenv(wire.EnvSchemaRegistry); url != "" {
		if registry, err = sr.NewClient(sr.URLs(url)); err != nil {
			return nil, fmt.Errorf("schema registry client for %s: %w", url, err)
		}
	}
	topic := getenv(wire.EnvCatalogTopic)
	if topic == "" {
		topic = catalog.Topic
	}
	if err := wire.Require(getenv, wire.EnvQuarantineBucket); err != nil {
		return nil, err
	}
	// The Kafka client (which may ask MSK for the bootstrap brokers) and
	// the Avro encoder (which registers the schema) are made by the first
	// file's invocation: nothing at init waits on the network.
	producer := msk.NewLazyProducer(func(ctx context.Context) (*msk.Producer, error) {
		client, err := msk.ClientFromEnv(ctx, getenv)
		if err != nil {
			return nil, err
		}
		var enc msk.Encoder = msk.JSON{}
		if registry != nil {
			if enc, err = msk.NewAvro(ctx, registry); err != nil {
				client.Close()
				return nil, err
			}
		}
		return msk.NewProducer(client, topic, enc), nil
	})
	h := &handlers.Catalog{Store: store, Producer: producer, QuarantineBucket: getenv(wire.EnvQuarantineBucket)}
	return handlers.Lambda(h.Handle), nil
}
