package stepfunctions

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/handlers"
)

// TestGoldBackfillRunsTheMap: a backfill over 7 dates runs the synthesized gold state machine:
// ListDates (the gold function, mode "dates"), then a Map over the 7 dates (MaxConcurrency as
// synthesized) calling the gold function once per date. The gold tables end exactly as one
// gold.Compute over the whole range leaves them on the same facts.
func TestGoldBackfillRunsTheMap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 4, Rows: 400})
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tr := range truths {
		if tr.Dataset == "app_interactions" {
			if run, err := st.DropFile(ctx, tr.Dataset, filepath.Join(dir, tr.Name)); err != nil || run.Err != nil {
				t.Fatalf("loading %s: %v %v", tr.Name, err, run.Err)
			}
		}
	}
	from, _, ok, err := gold.PresentRange(ctx, st.Warehouse)
	if err != nil || !ok {
		t.Fatalf("no app interactions loaded: %v", err)
	}
	to := from.AddDate(0, 0, 6)
	var want []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		want = append(want, d.Format(gold.DateLayout))
	}

	g := &handlers.Gold{Warehouse: st.Warehouse}
	inv, err := NewInvoker(map[string]any{"gold": handlers.Lambda(handlers.GoldFunction(g.Dates, g.Day))})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	sm := machine(t, "PulseGold/GoldWorkflow")
	res, err := tools.Run(ctx, inv, sm, sm.Definition, "backfill", map[string]string{"from": want[0], "to": want[6]})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "SUCCEEDED" {
		t.Fatalf("backfill %s %s: %s", res.Status, res.Error, res.Cause)
	}
	if got := res.Count("StateEntered", "GoldForDate"); got != 7 {
		t.Errorf("GoldForDate ran %d times, want 7", got)
	}
	calls := inv.Calls("gold")
	if len(calls) != 8 {
		t.Fatalf("gold invoked %d times, want 1 (dates) + 7", len(calls))
	}
	var days []string
	for _, c := range calls[1:] {
		var in struct{ Mode, Date string }
		if err := json.Unmarshal(c.Payload, &in); err != nil {
			t.Fatalf("per-date payload %s: %v", c.Payload, err)
		}
		if in.Mode != "gold" || c.ErrorType != "" {
			t.Errorf("per-date call %s: %s %s", c.Payload, c.ErrorType, c.Error)
		}
		days = append(days, in.Date)
	}
	sort.Strings(days)
	if !reflect.DeepEqual(days, want) {
		t.Errorf("days computed %v, want %v", days, want)
	}
	var out struct {
		Gold []handlers.GoldDayOutput `json:"gold"`
	}
	if err := json.Unmarshal(res.Output, &out); err != nil || len(out.Gold) != 7 {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	maxConc := definition(t, sm)["States"].(map[string]any)["GoldPerDate"].(map[string]any)["MaxConcurrency"]
	if maxConc != 4.0 {
		t.Errorf("GoldPerDate MaxConcurrency %v, want 4", maxConc)
	}

	// Recomputing the range in one gold.Compute (which replaces the days' rows) changes nothing:
	// the Map's parallel days left exactly what one computation over the range leaves.
	daily := func() string {
		_, rows, err := st.Warehouse.Query(ctx, fmt.Sprintf("SELECT DAY, DAU, SESSIONS, ACTIONS FROM GOLD_DAILY WHERE DAY BETWEEN DATE '%s' AND DATE '%s' ORDER BY DAY", want[0], want[6]))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	got := daily()
	if err := gold.Compute(ctx, st.Warehouse, from, to, time.Now()); err != nil {
		t.Fatal(err)
	}
	if again := daily(); again != got {
		t.Errorf("the Map's gold differs from one Compute over the range:\n map     %s\n compute %s", got, again)
	}
}
