// Command catalog is the movie-catalog workflow's task: it reads a
// Movies.txt from the raw bucket and produces movies_catalog_enriched
// events to MSK (JSON, or Avro when PULSE_SCHEMA_REGISTRY_URL is set).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	ctx := context.Background()
	store, err := wire.Store(ctx)
	check(err)
	kcfg, err := msk.ConfigFromEnv(os.Getenv)
	check(err)
	awsCfg, err := config.LoadDefaultConfig(ctx)
	check(err)
	client, err := msk.NewClient(ctx, kcfg, awsCfg)
	check(err)
	var enc msk.Encoder = msk.JSON{}
	if url := os.Getenv(wire.EnvSchemaRegistry); url != "" {
		rc, err := sr.NewClient(sr.URLs(url))
		check(err)
		enc, err = msk.NewAvro(ctx, rc)
		check(err)
	}
	topic := os.Getenv(wire.EnvCatalogTopic)
	if topic == "" {
		topic = catalog.Topic
	}
	check(wire.Require(os.Getenv, wire.EnvQuarantineBucket))
	h := &handlers.Catalog{Store: store, Producer: msk.NewProducer(client, topic, enc), QuarantineBucket: os.Getenv(wire.EnvQuarantineBucket)}
	lambda.Start(handlers.Lambda(h.Handle))
}

func check(err error) {
	if err != nil {
		slog.Error("starting the catalog function", "error", err)
		os.Exit(1)
	}
}
