package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pulse-analytics/pulse/shared/dataset"
)

// Lambda wraps a handler for lambda.Start: an error is logged and returned
// as the Lambda error whose errorType is ErrorName(err), the name the
// workflows' Retry and Catch match (the runtime would otherwise report the
// Go type's name). Its message has its e-mail addresses masked
// (dataset.MaskEmails): it reaches Step Functions' history, the Catch's
// quarantine reason and the failure notification.
func Lambda[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err != nil {
			name, msg := ErrorName(err), dataset.MaskEmails(err.Error())
			slog.ErrorContext(ctx, "invocation failed", "errorType", name, "error", msg)
			var zero Out
			return zero, messages.InvokeResponse_Error{Type: name, Message: msg}
		}
		return out, nil
	}
}

// NewLogger is the functions' logger: the Lambda runtime's JSON logger
// (lambdacontext.NewLogger) through dataset.MaskingHandler, so no e-mail
// address reaches CloudWatch.
func NewLogger() *slog.Logger {
	return slog.New(dataset.MaskingHandler(lambdacontext.NewLogger().Handler()))
}

// Func is a handler over raw JSON, the shape one Lambda function with
// several modes takes.
type Func func(ctx context.Context, payload json.RawMessage) (any, error)

// JSON adapts a typed handler to a Func: the payload is decoded into In
// (unknown fields ignored, as the Lambda runtime does).
func JSON[In, Out any](fn func(context.Context, In) (Out, error)) Func {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		var in In
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("%w: decoding %T: %v", ErrBadInput, in, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
		}
		return fn(ctx, in)
	}
}

// Modes dispatches on the payload's "mode" field; "" picks def.
func Modes(def string, modes map[string]Func) Func {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		var m struct {
			Mode string `json:"mode"`
		}
		if err := json.Unmarshal(payload, &m); err != nil {
			return nil, fmt.Errorf("%w: decoding mode: %v", ErrBadInput, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
		}
		if m.Mode == "" {
			m.Mode = def
		}
		fn, ok := modes[m.Mode]
		if !ok {
			return nil, fmt.Errorf("%w: unknown mode %q", ErrBadInput, m.Mode)
		}
		return fn(ctx, payload)
	}
}
