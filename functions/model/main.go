// Command model is the batch workflow's model step: a file's staging
// Parquet (every chunk's, for a split file) into star-schema Parquet under
// the curated bucket.
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() { wire.Start("model", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	env, err := wire.Env(ctx, getenv, false)
	if err != nil {
		return nil, err
	}
	b := &handlers.Batch{Env: env}
	return handlers.Lambda(b.Model), nil
}
