// Command trigger starts one batch workflow execution per file an S3
// ObjectCreated notification names (execution name from bucket, key and
// version, so a repeated notification starts nothing new).
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/adapters/sfn"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() { wire.Start("trigger", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	if err := wire.Require(getenv, wire.EnvStateMachineARN); err != nil {
		return nil, err
	}
	client, err := sfn.NewClient(ctx, "")
	if err != nil {
		return nil, err
	}
	h := &handlers.Trigger{Starter: sfn.NewStarter(client, getenv(wire.EnvStateMachineARN))}
	return handlers.Lambda(h.Handle), nil
}
