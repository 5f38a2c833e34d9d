package wire

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
)

// Builder makes a function's Lambda handler (a handlers.Lambda value) from
// its environment.
type Builder func(ctx context.Context, getenv func(string) string) (handler any, err error)

// Start is every function's main: it sets the masking JSON logger
// (handlers.NewLogger), builds the handler from the process environment
// and serves it on Lambda. A build error is logged ("starting the <name>
// function") and exits with status 1.
func Start(name string, build Builder) {
	slog.SetDefault(handlers.NewLogger())
	h, err := build(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("starting the "+name+" function", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
