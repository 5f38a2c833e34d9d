// Command datatests is the batch workflow's last step: dbt-style data tests
// over what Load left in Snowflake for one file (failures end in the
// workflow's Catch as DataTestsFailed).
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
	env, err := wire.Env(ctx, os.Getenv, false)
	if err != nil {
		fail(err)
	}
	if env.Warehouse, err = warehouse.Open(ctx, os.Getenv); err != nil {
		fail(err)
	}
	b := &handlers.Batch{Env: env}
	lambda.Start(handlers.Lambda(b.DataTests))
}

func fail(err error) {
	slog.Error("starting the datatests function", "error", err)
	os.Exit(1)
}
