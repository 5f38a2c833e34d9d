// Command load is the batch workflow's load step: a file's curated Parquet
// merged into Snowflake (MERGE on each table's key, so a retry changes
// nothing).
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() { wire.Start("load", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	env, err := wire.Env(ctx, getenv, true) // with the dedupe store: Load renews and commits the claims
	if err != nil {
		return nil, err
	}
	if env.Warehouse, err = warehouse.Open(ctx, getenv); err != nil {
		return nil, err
	}
	b := &handlers.Batch{Env: env}
	return handlers.Lambda(b.Load), nil
}
