package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

func TestErrorName(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		want      string
		permanent bool
	}{
		{"not a dataset", fmt.Errorf("cleaning: %w", port.ErrNotADataset), handlers.ErrorNotADataset, true},
		{"data tests", fmt.Errorf("x: %w", port.ErrDataTests), handlers.ErrorDataTestsFailed, true},
		{"bad input", fmt.Errorf("%w: no file", handlers.ErrBadInput), handlers.ErrorBadInput, true},
		{"named", &handlers.NamedError{Name: "Custom", Err: errors.New("x")}, "Custom", false},
		{"anything else", errors.New("connection reset"), handlers.ErrorPulse, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := handlers.ErrorName(tc.err); got != tc.want {
				t.Errorf("ErrorName = %q, want %q", got, tc.want)
			}
			if got := handlers.Permanent(tc.err); got != tc.permanent {
				t.Errorf("Permanent = %v, want %v", got, tc.permanent)
			}
		})
	}
}

// TestLambdaErrorType invokes a wrapped handler the way the Lambda runtime
// does (lambda.NewHandler): the error it reports carries the workflow's
// error name, not the Go type's.
func TestLambdaErrorType(t *testing.T) {
	fail := func(_ context.Context, in struct{ N int }) (*struct{ N int }, error) {
		if in.N < 0 {
			return nil, fmt.Errorf("%w: n is negative", handlers.ErrBadInput)
		}
		return &struct{ N int }{in.N * 2}, nil
	}
	h := lambda.NewHandler(handlers.Lambda(fail))
	out, err := h.Invoke(context.Background(), []byte(`{"N":21}`))
	if err != nil || string(out) != `{"N":42}` {
		t.Fatalf("ok call: %s %v", out, err)
	}
	_, err = h.Invoke(context.Background(), []byte(`{"N":-1}`))
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Type != handlers.ErrorBadInput || !strings.Contains(ie.Message, "n is negative") {
		t.Errorf("failed call: %#v", err)
	}
}

// TestLambdaErrorMasked: the error a function reports (Step Functions'
// history, the Catch's quarantine reason, the failure notification) and
// logs has its e-mail addresses masked.
func TestLambdaErrorMasked(t *testing.T) {
	var logs strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	fail := func(context.Context, struct{}) (int, error) {
		return 0, errors.New("loading row of ann.k@Example.com: closed")
	}
	_, err := lambda.NewHandler(handlers.Lambda(fail)).Invoke(context.Background(), []byte(`{}`))
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Message != "loading row of ****@example.com: closed" {
		t.Errorf("reported error: %#v", err)
	}
	if strings.Contains(logs.String(), "ann.k") || !strings.Contains(logs.String(), "****@example.com") {
		t.Errorf("logged: %s", logs.String())
	}
}

func TestModes(t *testing.T) {
	double := func(_ context.Context, in struct{ N int }) (int, error) { return in.N * 2, nil }
	neg := func(_ context.Context, in struct{ N int }) (int, error) { return -in.N, nil }
	f := handlers.Modes("double", map[string]handlers.Func{"double": handlers.JSON(double), "neg": handlers.JSON(neg)})
	for _, tc := range []struct {
		payload string
		want    any
		errName string
	}{
		{`{"N":4}`, 8, ""},
		{`{"mode":"neg","N":4}`, -4, ""},
		{`{"mode":"cube","N":4}`, nil, handlers.ErrorBadInput},
		{`[1]`, nil, handlers.ErrorBadInput},
		{`{"mode":"neg","N":"x"}`, nil, handlers.ErrorBadInput},
	} {
		got, err := f(context.Background(), json.RawMessage(tc.payload))
		if tc.errName != "" {
			if handlers.ErrorName(err) != tc.errName {
				t.Errorf("%s: err %v, want %s", tc.payload, err, tc.errName)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s = %v %v, want %v", tc.payload, got, err, tc.want)
		}
	}
}

// TestGoldFunction routes the gold workflow's two payloads.
func TestGoldFunction(t *testing.T) {
	type datesIn struct{ From, To string }
	type day struct {
		Date string `json:"date"`
	}
	var seen []string
	f := handlers.GoldFunction(func(_ context.Context, in datesIn) ([]string, error) {
		return []string{in.From, in.To}, nil
	}, func(_ context.Context, in day) (map[string]string, error) {
		seen = append(seen, in.Date)
		return map[string]string{"date": in.Date}, nil
	})
	out, err := f(context.Background(), json.RawMessage(`{"mode":"dates","request":{"from":"2024-01-01","to":"2024-01-02"}}`))
	if err != nil || !reflect.DeepEqual(out, []string{"2024-01-01", "2024-01-02"}) {
		t.Fatalf("dates: %v %v", out, err)
	}
	if _, err := f(context.Background(), json.RawMessage(`{"mode":"gold","date":"2024-01-02"}`)); err != nil || !reflect.DeepEqual(seen, []string{"2024-01-02"}) {
		t.Fatalf("gold: %v %v", seen, err)
	}
	if _, err := f(context.Background(), json.RawMessage(`{"mode":"dates"}`)); handlers.ErrorName(err) != handlers.ErrorBadInput {
		t.Errorf("dates without request: %v", err)
	}
}

// TestCleanFunctionModes: a mode outside the contract, or a file without
// bucket and key, is BadInput (not retried).
func TestCleanFunctionModes(t *testing.T) {
	b := &handlers.Batch{Env: &batch.Env{}}
	for _, in := range []handlers.CleanInput{
		{Mode: "shred", File: port.FileDrop{Bucket: "b", Key: "k"}},
		{Mode: handlers.ModeClean},
		{Mode: handlers.ModeSplit},
		{Mode: handlers.ModeCombine, File: port.FileDrop{Bucket: "b"}},
		{Mode: handlers.ModeQuarantine},
	} {
		if _, err := b.CleanFunction(context.Background(), in); handlers.ErrorName(err) != handlers.ErrorBadInput {
			t.Errorf("%+v: %v", in, err)
		}
	}
	for _, step := range []func(context.Context, *handlers.ManifestRef) (*handlers.ManifestRef, error){b.Model, b.Load, b.DataTests} {
		if _, err := step(context.Background(), &handlers.ManifestRef{Dataset: "x"}); handlers.ErrorName(err) != handlers.ErrorBadInput {
			t.Errorf("step without fileId: %v", err)
		}
		chunk := 2
		if _, err := step(context.Background(), &handlers.ManifestRef{Dataset: "x", FileID: "f", Chunk: &chunk}); handlers.ErrorName(err) != handlers.ErrorBadInput {
			t.Errorf("step given a chunk: %v", err)
		}
	}
}
