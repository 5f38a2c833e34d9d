// Command datatests is the batch workflow's last step: dbt-style data tests
// over what Load left in Snowflake for one file (failures end in the
// workflow's Catch as DataTestsFailed).
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() { wire.Start("datatests", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	env, err := wire.Env(ctx, getenv, false)
	if err != nil {
		return nil, err
	}
	if env.Warehouse, err = warehouse.Open(ctx, getenv); err != nil {
		return nil, err
	}
	b := &handlers.Batch{Env: env}
	return handlers.Lambda(b.DataTests), nil
}
