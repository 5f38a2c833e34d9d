package stepfunctions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
)

// aslStarter is port.Starter running the batch state machine with aws-local-stepfunctions: the
// real trigger handler starts real ASL executions. A name already started starts nothing (Step
// Functions' rule for execution names).
type aslStarter struct {
	sm  *StateMachine
	def json.RawMessage
	inv *Invoker

	mu      sync.Mutex
	results map[string]*Result
	order   []string
}

func (s *aslStarter) Start(ctx context.Context, name string, input []byte) (bool, error) {
	s.mu.Lock()
	if _, ok := s.results[name]; ok {
		s.mu.Unlock()
		return false, nil
	}
	s.results[name] = nil
	s.order = append(s.order, name)
	s.mu.Unlock()
	res, err := tools.Run(ctx, s.inv, s.sm, s.def, name, json.RawMessage(input))
	s.mu.Lock()
	s.results[name] = res
	s.mu.Unlock()
	return true, err
}

// batchFixture is the local stack (gofakes3 S3, the dedupe store, DuckDB) with the batch functions
// wired as on AWS: clean has no warehouse, model neither a warehouse nor the dedupe store.
type batchFixture struct {
	st      *stack.Stack
	inv     *Invoker
	starter *aslStarter
	store   port.ObjectStore // puts under raw/ notify the trigger
}

type fixtureOptions struct {
	chunkBytes int64          // clean's PULSE_CHUNK_BYTES
	threshold  float64        // the FileSize choice's threshold, if lowered (0: as synthesized)
	load       port.Warehouse // the load function's warehouse (nil: the stack's)
}

func newBatchFixture(t *testing.T, o fixtureOptions) *batchFixture {
	t.Helper()
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cleanEnv, modelEnv, loadEnv := *st.Env, *st.Env, *st.Env
	cleanEnv.Warehouse = nil
	modelEnv.Warehouse, modelEnv.Dedupe = nil, nil
	if o.load != nil {
		loadEnv.Warehouse = o.load
	}
	inv, err := NewInvoker(map[string]any{
		"clean":     handlers.Lambda((&handlers.Batch{Env: &cleanEnv, ChunkBytes: o.chunkBytes}).CleanFunction),
		"model":     handlers.Lambda((&handlers.Batch{Env: &modelEnv}).Model),
		"load":      handlers.Lambda((&handlers.Batch{Env: &loadEnv}).Load),
		"datatests": handlers.Lambda((&handlers.Batch{Env: st.Env}).DataTests),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	sm := machine(t, "PulseBatch/BatchWorkflow")
	def := sm.Definition
	if o.threshold > 0 {
		d := definition(t, sm)
		choice := d["States"].(map[string]any)["FileSize"].(map[string]any)["Choices"].([]any)[0].(map[string]any)
		if choice["Variable"] != "$.file.size" || choice["NumericGreaterThan"] != float64(128<<20) {
			t.Fatalf("FileSize choice %v: want $.file.size > 128 MiB as synthesized", choice)
		}
		choice["NumericGreaterThan"] = o.threshold
		if def, err = json.Marshal(d); err != nil {
			t.Fatal(err)
		}
	}
	starter := &aslStarter{sm: sm, def: def, inv: inv, results: map[string]*Result{}}
	trigger := &handlers.Trigger{Starter: starter}
	store := s3local.NotifyingStore(st.Env.Store, stack.Buckets.Raw, "raw/", func(ctx context.Context, e events.S3Event) error {
		_, err := trigger.Handle(ctx, e)
		return err
	})
	return &batchFixture{st: st, inv: inv, starter: starter, store: store}
}

// drop puts a file under raw/<dataset>/ (the notification runs the trigger, which runs the state
// machine) and returns the execution's result.
func (f *batchFixture) drop(t *testing.T, ds, name string, body []byte) (*Result, port.FileDrop) {
	t.Helper()
	before := len(f.starter.order)
	key := "raw/" + ds + "/" + name
	info, err := f.store.Put(context.Background(), stack.Buckets.Raw, key, strings.NewReader(string(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.starter.order) != before+1 {
		t.Fatalf("dropping %s started %d executions", key, len(f.starter.order)-before)
	}
	res := f.starter.results[f.starter.order[before]]
	return res, port.FileDrop{Bucket: stack.Buckets.Raw, Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}
}

func (f *batchFixture) count(t *testing.T, sql string) int64 {
	t.Helper()
	_, rows, err := f.st.Warehouse.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rows[0][0].(int64)
}

func generate(t *testing.T, rows int) (string, []*batchgen.Truth) {
	t.Helper()
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 5, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	return dir, truths
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stepOutput decodes what a step left at $.<step>.result in the execution's output.
func stepOutput(t *testing.T, res *Result, step string, v any) {
	t.Helper()
	var out map[string]json.RawMessage
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatalf("execution output %s: %v", res.Output, err)
	}
	var wrap struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(out[step], &wrap); err != nil || wrap.Result == nil {
		t.Fatalf("no %s.result in %s", step, res.Output)
	}
	if err := json.Unmarshal(wrap.Result, v); err != nil {
		t.Fatal(err)
	}
}

var factTables = map[string]string{
	"community_interactions": star.FactCommunityInteractions.Name,
	"live_streaming":         star.FactLiveStreamingInteractions.Name,
	"video_interactions":     star.FactVideoInteractions.Name,
	"app_interactions":       star.FactAppInteractions.Name,
}

// TestFileDropRunsTheBatchASL: each generated batch file dropped in the raw bucket goes S3
// notification -> trigger handler -> the synthesized batch state machine (Clean -> Model -> Load ->
// DataTests) -> rows in the warehouse, exactly the generator's counts; a repeated notification starts
// nothing new.
func TestFileDropRunsTheBatchASL(t *testing.T) {
	dir, truths := generate(t, 200)
	f := newBatchFixture(t, fixtureOptions{})
	loaded := map[string]int64{}
	var first port.FileDrop
	for i, tr := range truths {
		res, drop := f.drop(t, tr.Dataset, tr.Name, read(t, filepath.Join(dir, tr.Name)))
		if i == 0 {
			first = drop
		}
		if res.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s %s: %s", tr.Name, res.Status, res.Error, res.Cause)
		}
		var ref handlers.ManifestRef
		stepOutput(t, res, "tests", &ref)
		want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
		if ref.Counts != want || ref.Status != "tested" {
			t.Errorf("%s: %s %s, want %s tested", tr.Name, ref.Status, ref.Counts, want)
		}
		for _, s := range []string{"Clean", "Model", "Load", "DataTests"} {
			if n := res.Count("StateEntered", s); n != 1 {
				t.Errorf("%s: %s entered %d times", tr.Name, s, n)
			}
		}
		if n := res.Count("StateEntered", "Split"); n != 0 {
			t.Errorf("%s: a small file was split", tr.Name)
		}
		loaded[tr.Dataset] += int64(tr.Loaded)
	}
	for ds, table := range factTables {
		if got := f.count(t, "SELECT COUNT(*) FROM "+table); got != loaded[ds] {
			t.Errorf("%s holds %d rows, want %d", table, got, loaded[ds])
		}
	}
	if got := f.count(t, "SELECT COUNT(*) FROM PULSE_MANIFESTS"); got != int64(len(truths)) {
		t.Errorf("%d manifests, want %d", got, len(truths))
	}
	for _, fn := range []string{"clean", "model", "load", "datatests"} {
		if n := len(f.inv.Calls(fn)); n != len(truths) {
			t.Errorf("%s invoked %d times, want %d", fn, n, len(truths))
		}
	}
	// The same notification again: the execution name is taken, nothing runs.
	out, err := (&handlers.Trigger{Starter: f.starter}).Handle(context.Background(), awsevents.NewS3Event(first, "us-east-1"))
	if err != nil || len(out.Started) != 0 || len(out.Skipped) != 1 {
		t.Errorf("redelivery: %+v %v, want one skipped", out, err)
	}
	if n := len(f.inv.Calls("clean")); n != len(truths) {
		t.Errorf("after a redelivery clean ran %d times, want %d", n, len(truths))
	}
}

// TestLargeFileRunsTheDistributedMap: with the FileSize threshold lowered to 1 KiB, a file goes
// Split -> CleanChunks (a Distributed Map, one CleanChunk per chunk) -> Combine -> Model -> Load ->
// DataTests, and the warehouse holds exactly the generator's rows.
func TestLargeFileRunsTheDistributedMap(t *testing.T) {
	dir, truths := generate(t, 300)
	f := newBatchFixture(t, fixtureOptions{chunkBytes: 8 << 10, threshold: 1024})
	for _, tr := range truths {
		if tr.Name != "video_interactions.csv" && tr.Name != "live_streaming.ndjson" {
			continue
		}
		body := read(t, filepath.Join(dir, tr.Name))
		before := len(f.inv.Calls("clean"))
		res, _ := f.drop(t, tr.Dataset, tr.Name, body)
		if res.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s %s: %s", tr.Name, res.Status, res.Error, res.Cause)
		}
		var split batch.SplitResult
		stepOutput(t, res, "split", &split)
		n := len(split.Chunks)
		if n < 3 || int64(n) < int64(len(body))/(8<<10) {
			t.Errorf("%s (%d bytes): %d chunks of 8 KiB", tr.Name, len(body), n)
		}
		if got := res.Count("StateEntered", "CleanChunk"); got != n {
			t.Errorf("%s: CleanChunk ran %d times, want %d", tr.Name, got, n)
		}
		if got := res.Count("StateEntered", "Combine"); got != 1 {
			t.Errorf("%s: Combine ran %d times", tr.Name, got)
		}
		// clean: split + one per chunk + combine.
		if got := len(f.inv.Calls("clean")) - before; got != n+2 {
			t.Errorf("%s: clean invoked %d times, want %d", tr.Name, got, n+2)
		}
		var ref handlers.ManifestRef
		stepOutput(t, res, "tests", &ref)
		want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
		if ref.Counts != want {
			t.Errorf("%s: %s, want %s", tr.Name, ref.Counts, want)
		}
		if got := f.count(t, "SELECT COUNT(*) FROM "+factTables[tr.Dataset]); got != int64(tr.Loaded) {
			t.Errorf("%s: %d fact rows, want %d", tr.Name, got, tr.Loaded)
		}
		if got := f.count(t, fmt.Sprintf("SELECT COUNT(*) FROM PULSE_REJECTS WHERE SOURCE = 'raw/%s/%s'", tr.Dataset, tr.Name)); got != int64(tr.Rejected) {
			t.Errorf("%s: %d rejects loaded, want %d", tr.Name, got, tr.Rejected)
		}
	}
}

// TestLoadFailureRetriesThenQuarantines: the load function's warehouse is down (a closed DuckDB), so
// every Load attempt fails: the ASL retries it RetryMaxAttempts times, catches it into Quarantine
// (a reason naming the raw object in the quarantine bucket), publishes the failure to SNS and ends in
// the Fail state.
func TestLoadFailureRetriesThenQuarantines(t *testing.T) {
	down, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "down.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	down.Close()
	dir, truths := generate(t, 100)
	f := newBatchFixture(t, fixtureOptions{load: down})
	tr := truths[1] // live_streaming.ndjson
	res, drop := f.drop(t, tr.Dataset, tr.Name, read(t, filepath.Join(dir, tr.Name)))
	if res.Status != "FAILED" || res.Error != "BatchFileFailed" {
		t.Fatalf("execution %s %s: %s, want FAILED BatchFileFailed", res.Status, res.Error, res.Cause)
	}
	// Attempts as the synthesized Retry says: one, then MaxAttempts retries.
	var retry []struct {
		ErrorEquals []string
		MaxAttempts int
	}
	load := definition(t, f.starter.sm)["States"].(map[string]any)["Load"].(map[string]any)
	b, _ := json.Marshal(load["Retry"])
	if err := json.Unmarshal(b, &retry); err != nil || len(retry) != 3 || retry[2].ErrorEquals[0] != "States.ALL" {
		t.Fatalf("Load's Retry %s", b)
	}
	attempts := 1 + retry[2].MaxAttempts
	calls := f.inv.Calls("load")
	if len(calls) != attempts || attempts != 4 {
		t.Fatalf("load invoked %d times, want %d (1 + MaxAttempts %d)", len(calls), attempts, retry[2].MaxAttempts)
	}
	for _, c := range calls {
		if c.ErrorType != handlers.ErrorPulse || !strings.Contains(c.Error, "closed") {
			t.Errorf("load attempt: %s %s", c.ErrorType, c.Error)
		}
	}
	if got := res.Count("StateRetried", "Load"); got != retry[2].MaxAttempts {
		t.Errorf("Load retried %d times, want %d", got, retry[2].MaxAttempts)
	}
	if res.Count("StateCaught", "Load") != 1 || res.Count("StateEntered", "Quarantine") != 1 || res.Count("StateEntered", "DataTests") != 0 {
		t.Errorf("events after the last attempt: %+v", res.Events)
	}
	// The clean function in quarantine mode kept the reason, naming the raw
	// object, which keeps the file (the quarantine holds no copy: it could
	// hold personal data, which only the raw bucket keeps).
	ctx := context.Background()
	fileID := batch.FileID(drop)
	// Its record rejects left the replayable area for the file's folder:
	// the file's work was given up (its dedupe claims released too).
	objs, err := f.st.Env.Store.List(ctx, stack.Buckets.Quarantine, "_files/"+fileID+"/")
	if err != nil || len(objs) != 2 || objs[0].Key != "_files/"+fileID+"/reason.json" || objs[1].Key != "_files/"+fileID+"/rejects/"+fileID+".ndjson" {
		t.Errorf("quarantine holds %v (%v), want the reason and the file's record rejects", objs, err)
	}
	if objs, err := f.st.Env.Store.List(ctx, stack.Buckets.Quarantine, tr.Dataset+"/"); err != nil || len(objs) != 0 {
		t.Errorf("replayable rejects of the quarantined file: %v (%v), want none", objs, err)
	}
	if st, err := f.st.Env.Dedupe.State(ctx, batch.Origin(drop)); err != nil || st != port.TxnAborted {
		t.Errorf("the file's dedupe claims: %v (%v), want released (aborted)", st, err)
	}
	body, _, err := f.st.Env.Store.Get(ctx, drop.Bucket, drop.Key)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(body)
	body.Close()
	if string(kept) != string(read(t, filepath.Join(dir, tr.Name))) {
		t.Errorf("the raw object differs from the file (%d bytes)", len(kept))
	}
	rb, _, err := f.st.Env.Store.Get(ctx, stack.Buckets.Quarantine, "_files/"+fileID+"/reason.json")
	if err != nil {
		t.Fatal(err)
	}
	var reason struct {
		Reason string        `json:"reason"`
		Source port.FileDrop `json:"source"`
	}
	if err := json.NewDecoder(rb).Decode(&reason); err != nil {
		t.Fatal(err)
	}
	rb.Close()
	if !strings.HasPrefix(reason.Reason, "PulseError: ") || !strings.Contains(reason.Reason, "closed") || reason.Source.Key != drop.Key {
		t.Errorf("reason.json: %+v", reason)
	}
	// One notification, to the failure topic, naming the file and the error.
	pubs := f.inv.Publishes()
	if len(pubs) != 1 {
		t.Fatalf("%d SNS publishes, want 1", len(pubs))
	}
	var topic string
	for arn := range f.starter.sm.Topics {
		topic = arn
	}
	var msg struct {
		Execution   string        `json:"execution"`
		File        port.FileDrop `json:"file"`
		Error       handlers.TaskError
		Quarantined bool   `json:"quarantined"`
		Workflow    string `json:"workflowName"`
	}
	if err := json.Unmarshal([]byte(pubs[0].Message), &msg); err != nil {
		t.Fatalf("SNS message %q: %v", pubs[0].Message, err)
	}
	mf := msg.File
	mf.EventTime = ""
	if pubs[0].TopicArn != topic || pubs[0].Subject != "Pulse batch file failed" || mf != drop || msg.Error.Error != handlers.ErrorPulse ||
		!strings.Contains(msg.Error.Cause, `"errorMessage":"migrating warehouse`) ||
		!msg.Quarantined || msg.Workflow != "batch" || !strings.HasSuffix(msg.Execution, ":"+handlers.ExecutionName(drop)) {
		t.Errorf("SNS publish %+v, message %+v", pubs[0], msg)
	}
	if got := f.count(t, "SELECT COUNT(*) FROM "+star.FactLiveStreamingInteractions.Name); got != 0 {
		t.Errorf("%d fact rows in the stack's warehouse, want 0", got)
	}
}

// TestUnreadableFileIsNotRetried: a file Pulse cannot read fails Clean with NotADataset, a permanent
// error: one attempt, then Quarantine.
func TestUnreadableFileIsNotRetried(t *testing.T) {
	f := newBatchFixture(t, fixtureOptions{})
	res, _ := f.drop(t, "community_interactions", "broken.parquet", []byte("PAR1 this is not parquet"))
	if res.Status != "FAILED" {
		t.Fatalf("execution %s", res.Status)
	}
	calls := f.inv.Calls("clean")
	if len(calls) != 2 || calls[0].ErrorType != handlers.ErrorNotADataset || !strings.Contains(string(calls[1].Payload), `"mode":"quarantine"`) {
		t.Fatalf("clean calls %+v, want one failed clean then the quarantine", calls)
	}
	if res.Count("StateRetried", "Clean") != 0 || len(f.inv.Publishes()) != 1 {
		t.Errorf("retried %d times, %d publishes", res.Count("StateRetried", "Clean"), len(f.inv.Publishes()))
	}
}
