//go:build localstack

package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/adapters/sfn"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// outputs reads the stack outputs `cdklocal deploy --outputs-file` wrote (localstack/deploy.sh).
func outputs(t *testing.T) map[string]map[string]string {
	t.Helper()
	path := os.Getenv("PULSE_OUTPUTS_FILE")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the deploy outputs (PULSE_OUTPUTS_FILE=%q; run make localstack-up): %v", path, err)
	}
	var out map[string]map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeployedBatchWorkflow drops a file into the deployed raw bucket: LocalStack's S3 notification
// runs the trigger function, which starts the batch state machine; its Lambda tasks run the built
// functions. Clean and Model must have written the manifest and the curated tables; without a
// Snowflake endpoint configured the Load fails, is retried, and the file ends quarantined.
func TestDeployedBatchWorkflow(t *testing.T) {
	out := outputs(t)
	raw, staging, quarantine := out["PulseStorage"]["RawBucketName"], out["PulseStorage"]["StagingBucketName"], out["PulseStorage"]["QuarantineBucketName"]
	smARN := out["PulseBatch"]["BatchStateMachineArn"]
	if raw == "" || smARN == "" {
		t.Fatalf("outputs lack the raw bucket or the state machine: %v", out)
	}
	ctx := context.Background()
	store, err := wire.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 3, Rows: 100})
	if err != nil {
		t.Fatal(err)
	}
	tr := truths[1] // live_streaming.ndjson
	body, err := os.ReadFile(filepath.Join(dir, tr.Name))
	if err != nil {
		t.Fatal(err)
	}
	key := "raw/" + tr.Dataset + "/" + tr.Name
	info, err := store.Put(ctx, raw, key, strings.NewReader(string(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	drop := port.FileDrop{Bucket: raw, Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}
	client, err := sfn.NewClient(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	execARN := strings.Replace(smARN, ":stateMachine:", ":execution:", 1) + ":" + handlers.ExecutionName(drop)
	deadline := time.Now().Add(5 * time.Minute)
	var status types.ExecutionStatus
	for time.Now().Before(deadline) {
		d, err := client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(execARN)})
		if err == nil && d.Status != types.ExecutionStatusRunning {
			status = d.Status
			break
		}
		time.Sleep(2 * time.Second)
	}
	if status == "" {
		t.Fatalf("execution %s did not finish in time", execARN)
	}
	env := &batch.Env{Store: store, Buckets: port.Buckets{Staging: staging}}
	m, err := env.LoadManifest(ctx, tr.Dataset, batch.FileID(drop))
	if err != nil {
		t.Fatalf("no manifest after the execution (%s): %v", status, err)
	}
	want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
	if m.Counts != want || len(m.Curated) == 0 {
		t.Errorf("manifest %s with %d curated tables, want %s", m.Counts, len(m.Curated), want)
	}
	if os.Getenv("SNOWFLAKE_ACCOUNT") != "" {
		if status != types.ExecutionStatusSucceeded {
			t.Errorf("execution %s, want SUCCEEDED with a warehouse", status)
		}
		return
	}
	if status != types.ExecutionStatusFailed {
		t.Errorf("execution %s, want FAILED (no warehouse)", status)
	}
	if _, err := store.Head(ctx, quarantine, "_files/"+batch.FileID(drop)+"/reason.json"); err != nil {
		t.Errorf("the file was not quarantined: %v", err)
	}
}
