package stepfunctions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/handlers"
)

// TestCDKSynthCLI: `cdk synth` through the CLI, offline, wrote a cloud assembly of the seven stacks,
// and the three state machines resolve to JSON definitions.
func TestCDKSynthCLI(t *testing.T) {
	t.Logf("cdk synth took %s", synthDur.Round(1e6))
	b, err := os.ReadFile(filepath.Join(cdkOut, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Artifacts map[string]struct {
			Type string `json:"type"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	var stacks []string
	for id, a := range man.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			stacks = append(stacks, id)
			if _, err := os.Stat(filepath.Join(cdkOut, id+".template.json")); err != nil {
				t.Errorf("stack %s: %v", id, err)
			}
		}
	}
	sort.Strings(stacks)
	want := []string{"PulseBatch", "PulseCatalog", "PulseGold", "PulseObservability", "PulseState", "PulseStorage", "PulseStreaming"}
	if !reflect.DeepEqual(stacks, want) {
		t.Errorf("stacks %v, want %v", stacks, want)
	}
	var paths []string
	for p := range machines {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if want := []string{"PulseBatch/BatchWorkflow", "PulseCatalog/CatalogWorkflow", "PulseGold/GoldWorkflow"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("state machines %v, want %v", paths, want)
	}
	wantFns := map[string][]string{
		"PulseBatch/BatchWorkflow":     {"clean", "datatests", "load", "model"},
		"PulseCatalog/CatalogWorkflow": {"catalog"},
		"PulseGold/GoldWorkflow":       {"gold"},
	}
	for p, sm := range machines {
		var fns []string
		for _, n := range sm.Functions {
			fns = append(fns, n)
		}
		sort.Strings(fns)
		if !reflect.DeepEqual(fns, wantFns[p]) {
			t.Errorf("%s calls %v, want %v", p, fns, wantFns[p])
		}
	}
	if strings.Contains(string(synthLog), "Error") {
		t.Errorf("cdk synth printed an error:\n%s", synthLog)
	}
}

// taskStates walks a definition's states, Map item processors included.
func taskStates(def map[string]any, visit func(name string, st map[string]any)) {
	states, _ := def["States"].(map[string]any)
	for name, v := range states {
		st := v.(map[string]any)
		visit(name, st)
		if p, ok := st["ItemProcessor"].(map[string]any); ok {
			taskStates(p, visit)
		}
	}
}

// TestRetryPolicy: every Task of every workflow first lists handlers.PermanentErrors with no retry,
// retries a key held by other work in flight (ClaimHeld) 10 times over about 19 minutes, then
// retries anything else 3 times with backoff; every batch step is caught into Quarantine.
func TestRetryPolicy(t *testing.T) {
	wantPermanent := make([]any, len(handlers.PermanentErrors))
	for i, e := range handlers.PermanentErrors {
		wantPermanent[i] = e
	}
	for path, sm := range machines {
		tasks := 0
		taskStates(definition(t, sm), func(name string, st map[string]any) {
			if st["Type"] != "Task" {
				return
			}
			tasks++
			retry, _ := st["Retry"].([]any)
			if name == "NotifyFailure" {
				return // SNS: retried on anything
			}
			if len(retry) != 3 {
				t.Errorf("%s %s: %d retriers, want 3", path, name, len(retry))
				return
			}
			first, held, second := retry[0].(map[string]any), retry[1].(map[string]any), retry[2].(map[string]any)
			if !reflect.DeepEqual(first["ErrorEquals"], wantPermanent) || first["MaxAttempts"] != 0.0 {
				t.Errorf("%s %s: first retrier %v, want %v with MaxAttempts 0", path, name, first, wantPermanent)
			}
			if !reflect.DeepEqual(held["ErrorEquals"], []any{handlers.ErrorClaimHeld}) || held["MaxAttempts"] != 10.0 || held["IntervalSeconds"] != 10.0 || held["BackoffRate"] != 1.5 {
				t.Errorf("%s %s: claim-held retrier %v", path, name, held)
			}
			if !reflect.DeepEqual(second["ErrorEquals"], []any{"States.ALL"}) || second["MaxAttempts"] != 3.0 || second["IntervalSeconds"] != 2.0 || second["BackoffRate"] != 2.0 {
				t.Errorf("%s %s: second retrier %v", path, name, second)
			}
			if path == "PulseBatch/BatchWorkflow" && name != "Quarantine" && name != "CleanChunk" {
				catch, _ := st["Catch"].([]any)
				if len(catch) != 1 || catch[0].(map[string]any)["Next"] != "Quarantine" {
					t.Errorf("%s %s: catch %v, want one into Quarantine", path, name, catch)
				}
			}
		})
		if tasks == 0 {
			t.Errorf("%s has no Task states", path)
		}
	}
	var mode any
	taskStates(definition(t, machine(t, "PulseBatch/BatchWorkflow")), func(name string, st map[string]any) {
		if name == "CleanChunks" {
			mode = st["ItemProcessor"].(map[string]any)["ProcessorConfig"].(map[string]any)["Mode"]
		}
	})
	if mode != "DISTRIBUTED" {
		t.Errorf("CleanChunks map mode %v, want DISTRIBUTED", mode)
	}
}
