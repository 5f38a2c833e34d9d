// Command clean is the batch workflow's clean function, in every mode of
// handlers.CleanInput: clean a file or one chunk, split a large file,
// combine its chunks, quarantine a file whose workflow failed.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/wire"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	env, err := wire.Env(context.Background(), os.Getenv, true)
	if err != nil {
		fail(err)
	}
	chunk, err := wire.Int64(os.Getenv, wire.EnvChunkBytes, pipeline.DefaultChunkBytes)
	if err != nil {
		fail(err)
	}
	b := &handlers.Batch{Env: env, ChunkBytes: chunk}
	lambda.Start(handlers.Lambda(b.CleanFunction))
}

func fail(err error) {
	slog.Error("starting the clean function", "error", err)
	os.Exit(1)
}
