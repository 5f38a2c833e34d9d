// Command trigger starts one batch workflow execution per file an S3
// ObjectCreated notification names (execution name from bucket, key and
// version, so a repeated notification starts nothing new).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/adapters/sfn"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	ctx := context.Background()
	if err := wire.Require(os.Getenv, wire.EnvStateMachineARN); err != nil {
		fail(err)
	}
	client, err := sfn.NewClient(ctx, "")
	if err != nil {
		fail(err)
	}
	h := &handlers.Trigger{Starter: sfn.NewStarter(client, os.Getenv(wire.EnvStateMachineARN))}
	lambda.Start(handlers.Lambda(h.Handle))
}

func fail(err error) {
	slog.Error("starting the trigger function", "error", err)
	os.Exit(1)
}
