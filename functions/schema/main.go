// Command schema is the deployment's warehouse migration: a CloudFormation
// custom resource (infra/stacks/warehouse.go) invokes it on create and on
// every update of the DDL digest, and it applies shared/migration (tables,
// gold tables, views and marts) to Snowflake, then answers CloudFormation.
// Deleting the resource leaves the warehouse as it is.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/migration"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

// physicalID is the resource's one physical ID: the warehouse schema.
const physicalID = "pulse-warehouse-schema"

func main() {
	slog.SetDefault(handlers.NewLogger())
	ctx := context.Background()
	wh, err := warehouse.Open(ctx, os.Getenv)
	if err != nil {
		slog.Error("starting the schema function", "error", err)
		os.Exit(1)
	}
	lambda.Start(cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType == cfn.RequestDelete {
			return physicalID, nil, nil
		}
		if err := migration.Apply(ctx, wh); err != nil {
			slog.Error("applying the warehouse migration", "error", err)
			return physicalID, nil, err
		}
		digest := migration.Digest()
		slog.Info("warehouse migration applied", "digest", digest, "statements", len(migration.Statements()))
		return physicalID, map[string]any{"Digest": digest}, nil
	}))
}
