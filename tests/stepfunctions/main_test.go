package stepfunctions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The CDK app is synthesized once per test binary, through the CDK CLI, into a temporary cdk.out;
// every test runs the state machines read from there.
var (
	tools    Tools
	machines map[string]*StateMachine
	cdkOut   string
	synthLog []byte
	synthDur time.Duration
)

// functionNames are infra/stacks.FunctionNames (placeholders are written for each).
var functionNames = []string{"trigger", "clean", "model", "load", "datatests", "stream", "catalog", "gold", "schema", "topics"}

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests/stepfunctions:", err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	// The handlers log failed invocations; the tests cause some on purpose.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return 0, err
	}
	if tools, err = FindTools(root); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "pulse-sfn-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	lambdaDir := filepath.Join(dir, "lambda")
	for _, name := range functionNames {
		if err := os.MkdirAll(filepath.Join(lambdaDir, name), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(lambdaDir, name, "bootstrap"), []byte("placeholder "+name+"\n"), 0o755); err != nil {
			return 0, err
		}
	}
	cdkOut = filepath.Join(dir, "cdk.out")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	// A synth without a deployment's inputs: a placeholder secret and a new MSK Serverless cluster.
	if synthLog, err = tools.Synth(ctx, cdkOut, lambdaDir, map[string]string{"placeholders": "true"}); err != nil {
		return 0, err
	}
	synthDur = time.Since(t0)
	if machines, err = Load(cdkOut); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

func machine(t *testing.T, path string) *StateMachine {
	t.Helper()
	sm, ok := machines[path]
	if !ok {
		names := make([]string, 0, len(machines))
		for k := range machines {
			names = append(names, k)
		}
		t.Fatalf("no state machine %s in cdk.out (have %v)", path, names)
	}
	return sm
}

// definition decodes a state machine's ASL for inspection or patching.
func definition(t *testing.T, sm *StateMachine) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(sm.Definition, &d); err != nil {
		t.Fatal(err)
	}
	return d
}
