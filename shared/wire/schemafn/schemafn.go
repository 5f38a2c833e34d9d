// Package schemafn builds the schema function (functions/schema): the
// deployment's warehouse migration. A CloudFormation custom resource
// (infra/stacks/warehouse.go) invokes it on create and on every update of
// the DDL digest; it applies shared/migration (tables, gold tables, views
// and marts) to Snowflake, then answers CloudFormation. Deleting the
// resource leaves the warehouse as it is.
package schemafn

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/pulse-analytics/pulse/shared/migration"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

// PhysicalID is the resource's one physical ID: the warehouse schema.
const PhysicalID = "pulse-warehouse-schema"

// Build opens the warehouse (lazily: no network call at init) and returns
// the custom resource's handler.
func Build(ctx context.Context, getenv func(string) string) (any, error) {
	wh, err := warehouse.Open(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType == cfn.RequestDelete {
			return PhysicalID, nil, nil
		}
		if err := migration.Apply(ctx, wh); err != nil {
			slog.Error("applying the warehouse migration", "error", err)
			return PhysicalID, nil, err
		}
		digest := migration.Digest()
		slog.Info("warehouse migration applied", "digest", digest, "statements", len(migration.Statements()))
		return PhysicalID, map[string]any{"Digest": digest}, nil
	}), nil
}
