package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Lambda wraps a handler for lambda.Start: an error is logged and returned
// as the Lambda error whose errorType is ErrorName(err), the name the
// workflows' Retry and Catch match (the runtime would otherwise report the
// Go type's name).
func Lambda[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err != nil {
			name := ErrorName(err)
			slog.ErrorContext(ctx, "invocation failed", "errorType", name, "error", err.Error())
			var zero Out
			return zero, messages.InvokeResponse_Error{Type: name, Message: err.Error()}
		}
		return out, nil
	}
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
			return nil, fmt.Errorf("%w: decoding %T: %v", ErrBadInput, in, err)
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
			return nil, fmt.Errorf("%w: decoding mode: %v", ErrBadInput, err)
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
