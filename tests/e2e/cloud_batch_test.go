package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/cloud"
)

// TestCloudBatchFileDrops drops one dirty file per batch dataset into the
// raw bucket of the local cloud: the bucket's notification invokes the
// trigger binary, which starts the batch state machine through the Step
// Functions API; its Tasks run the clean, model, load and datatests
// binaries under the emulator, which load the warehouse through
// gosnowflake. The rows loaded are the generator's truth, exactly as in
// TestBatchEndToEnd (the in-process run). On the same cloud the gold and
// catalog workflows then run from their rules (cloud_workflows_test.go),
// and every call of the run is judged against the roles.
func TestCloudBatchFileDrops(t *testing.T) {
	dir, truths := generate(t, 600)
	c := startCloud(t, cloud.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	raw := c.BucketName("PulseStorage/Raw")
	if raw == "" {
		t.Fatal("the assembly has no PulseStorage/Raw bucket")
	}
	for _, tr := range truths {
		body, err := os.ReadFile(filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		put(ctx, t, c, raw, "raw/"+tr.Dataset+"/"+tr.Name, body)
	}
	if err := c.Idle(ctx); err != nil {
		t.Fatal(err)
	}

	// One trigger invocation and one successful execution per file.
	if n := len(c.Function("trigger").Invocations()); n != len(truths) {
		t.Errorf("trigger invoked %d times, want %d (one notification per file)", n, len(truths))
	}
	xs := c.StateMachine("PulseBatch/BatchWorkflow").Executions()
	if len(xs) != len(truths) {
		t.Fatalf("%d batch executions, want %d", len(xs), len(truths))
	}
	// Each execution ends with the data-test step's manifest: tested.
	for _, x := range xs {
		status, out, errName, cause := x.Result()
		if status != "SUCCEEDED" {
			t.Errorf("execution %s: %s %s %s", x.Name, status, errName, cause)
			continue
		}
		var ref struct {
			Tests struct{ Result struct{ Status string } }
		}
		if err := json.Unmarshal(out, &ref); err != nil || ref.Tests.Result.Status != "tested" {
			t.Errorf("execution %s ended with %s, want a manifest with status tested", x.Name, out)
		}
	}

	// Manifests: received = loaded + rejected + duplicate, as the generator
	// says; the warehouse row is written by the load step (status loaded).
	byDataset := map[string][]*batchgen.Truth{}
	var rejected int64
	for _, tr := range truths {
		rows := cloudQuery(t, c, "SELECT RECEIVED, LOADED, REJECTED, DUPLICATE, STATUS FROM PULSE_MANIFESTS WHERE SOURCE = ?", "raw/"+tr.Dataset+"/"+tr.Name)
		if len(rows) != 1 {
			t.Errorf("%s: %d manifest rows, want 1", tr.Name, len(rows))
			continue
		}
		got := fmt.Sprint(rows[0][:4]...)
		if want := fmt.Sprint(int64(tr.Rows), int64(tr.Loaded), int64(tr.Rejected), int64(tr.Duplicate)); got != want {
			t.Errorf("%s: manifest (received loaded rejected duplicate) %s, generator says %s", tr.Name, got, want)
		}
		if rows[0][4] != "loaded" {
			t.Errorf("%s: status %v, want loaded", tr.Name, rows[0][4])
		}
		byDataset[tr.Dataset] = append(byDataset[tr.Dataset], tr)
		rejected += int64(tr.Rejected)
	}
	tables := append(expectedTableRows(truths, byDataset, rejected),
		tableRows{"FACT_VIDEO_INTERACTIONS", 1105}) // the exact figure of seed 7, as TestBatchEndToEnd
	for _, cs := range tables {
		if got := cloudQuery(t, c, "SELECT COUNT(*) FROM "+cs.table)[0][0]; got != cs.want {
			t.Errorf("%s has %v rows, want %d", cs.table, got, cs.want)
		}
	}
	// Every file's data tests ran and passed.
	for _, r := range cloudQuery(t, c, "SELECT TABLE_NAME, TEST, FAILURES FROM PULSE_DATA_TESTS WHERE STATUS <> 'pass'") {
		t.Errorf("data test %v on %v failed with %v failures", r[1], r[0], r[2])
	}
	// Engagement by platform (the view, created in the Snowflake dialect)
	// equals the generator's sums.
	got := map[string]float64{}
	for _, r := range cloudQuery(t, c, "SELECT SOURCE, PLATFORM, TOTAL_ENGAGEMENT FROM ENGAGEMENT_BY_PLATFORM") {
		got[r[0].(string)+"/"+r[1].(string)] = r[2].(float64)
	}
	want := map[string]float64{}
	for ds, src := range map[string]string{"community_interactions": "community", "live_streaming": "live_streaming", "video_interactions": "video"} {
		for _, tr := range byDataset[ds] {
			for p, v := range tr.Engagement {
				want[src+"/"+p] += v
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("ENGAGEMENT_BY_PLATFORM has %d groups, want %d", len(got), len(want))
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-6*math.Max(1, v) {
			t.Errorf("engagement %s = %.4f, want %.4f", k, got[k], v)
		}
	}
	checkGoldWorkflow(ctx, t, c, dir, truths)
	checkCatalogWorkflow(ctx, t, c)
	// The deployment made the warehouse objects: the schema custom resource
	// applied shared/migration (the views read above exist only through it).
	checkCustomResources(t, c)
	checkIAM(t, c)
	// A repeated notification of the same version starts nothing new: the
	// trigger's execution name is taken.
	if out, err := c.Function("trigger").Invoke(ctx, "test", c.Function("trigger").Invocations()[0].Payload); err != nil {
		t.Fatalf("repeating a notification: %v", err)
	} else if n := len(c.StateMachine("PulseBatch/BatchWorkflow").Executions()); n != len(truths) {
		t.Errorf("a repeated notification made %d executions, want %d (trigger said %s)", n, len(truths), out)
	}
}
