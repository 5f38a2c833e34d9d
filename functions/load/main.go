// Command load is the batch workflow's load step: a file's curated Parquet
// merged into Snowflake (MERGE on each table's key, so a retry changes
// nothing).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	ctx := context.Background()
	env, err := wire.Env(ctx, os.Getenv, true) // with the dedupe store: Load renews and commits the claims
	if err != nil {
		fail(err)
	}
	if env.Warehouse, err = warehouse.Open(ctx, os.Getenv); err != nil {
		fail(err)
	}
	b := &handlers.Batch{Env: env}
	lambda.Start(handlers.Lambda(b.Load))
}

func fail(err error) {
	slog.Error("starting the load function", "error", err)
	os.Exit(1)
}
