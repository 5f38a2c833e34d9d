// Command model is the batch workflow's model step: a file's staging
// Parquet (every chunk's, for a split file) into star-schema Parquet under
// the curated bucket.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	env, err := wire.Env(context.Background(), os.Getenv, false)
	if err != nil {
		slog.Error("starting the model function", "error", err)
		os.Exit(1)
	}
	b := &handlers.Batch{Env: env}
	lambda.Start(handlers.Lambda(b.Model))
}
