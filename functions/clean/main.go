// Command clean is the batch workflow's clean function, in every mode of
// handlers.CleanInput: clean a file or one chunk, split a large file,
// combine its chunks, quarantine a file whose workflow failed.
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() { wire.Start("clean", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	env, err := wire.Env(ctx, getenv, true)
	if err != nil {
		return nil, err
	}
	chunk, err := wire.Int64(getenv, wire.EnvChunkBytes, batch.DefaultChunkBytes)
	if err != nil {
		return nil, err
	}
	b := &handlers.Batch{Env: env, ChunkBytes: chunk}
	return handlers.Lambda(b.CleanFunction), nil
}
