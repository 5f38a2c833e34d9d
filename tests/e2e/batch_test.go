// Package e2e runs Pulse's batch path end to end on the local stack: real
// S3 protocol (gofakes3), the real dedupe store, DuckDB, the same handlers
// the Lambda functions run. Expected numbers come from the generator's own
// accounting of the dirt it injected, computed without Pulse's cleaning code.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
)

const seed = 7

func startStack(t *testing.T, o stack.Options) *stack.Stack {
	t.Helper()
	ctx := context.Background()
	st, err := stack.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func generate(t *testing.T, rows int) (string, []*batchgen.Truth) {
	t.Helper()
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: seed, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	return dir, truths
}

func dropAll(t *testing.T, st *stack.Stack, dir string, truths []*batchgen.Truth) []stack.Run {
	t.Helper()
	var runs []stack.Run
	for _, tr := range truths {
		run, err := st.DropFile(context.Background(), tr.Dataset, filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		if run.Err != nil {
			t.Fatalf("%s: workflow failed: %v", tr.Name, run.Err)
		}
		runs = append(runs, run)
	}
	return runs
}

func count(t *testing.T, st *stack.Stack, sql string) int64 {
	t.Helper()
	_, rows, err := st.Warehouse.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rows[0][0].(int64)
}

// TestBatchEndToEnd drops one dirty file per batch dataset and checks every
// count: manifests, facts, dimensions, quarantine, and the dashboard view.
func TestBatchEndToEnd(t *testing.T) {
	dir, truths := generate(t, 600)
	st := startStack(t, stack.Options{})
	runs := dropAll(t, st, dir, truths)

	byDataset := map[string][]*batchgen.Truth{}
	var rejected int64
	for i, tr := range truths {
		c := runs[i].Manifest.Counts
		want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
		if c != want {
			t.Errorf("%s: manifest %s, generator says %s", tr.Name, c, want)
		}
		if runs[i].Manifest.Status != "tested" {
			t.Errorf("%s: status %q, want tested", tr.Name, runs[i].Manifest.Status)
		}
		byDataset[tr.Dataset] = append(byDataset[tr.Dataset], tr)
		rejected += int64(tr.Rejected)
	}
	// The generator's dirt must be visible in these numbers, or the test proves little.
	for _, tr := range truths {
		if tr.Dataset != "app_users" && (tr.Rejected == 0 || tr.Duplicate == 0) {
			t.Fatalf("%s: generator injected no dirt (%d rejected, %d duplicate)", tr.Name, tr.Rejected, tr.Duplicate)
		}
	}
	for _, c := range expectedTableRows(truths, byDataset, rejected) {
		if got := count(t, st, "SELECT COUNT(*) FROM "+c.table); got != c.want {
			t.Errorf("%s has %d rows, want %d", c.table, got, c.want)
		}
	}
	// Exact figures for this seed, so a change in the generator or the
	// pipeline shows up as a diff here, not only as a mismatch of two outputs.
	if got := count(t, st, "SELECT COUNT(*) FROM FACT_VIDEO_INTERACTIONS"); got != 1105 {
		t.Errorf("FACT_VIDEO_INTERACTIONS = %d, want 1105 for seed %d", got, seed)
	}
	// Quarantine objects hold every rejected record, whole.
	objs, err := st.Env.Store.List(context.Background(), stack.Buckets.Quarantine, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(truths) {
		t.Errorf("%d quarantine files, want %d (one per file)", len(objs), len(truths))
	}
	// Engagement by platform equals the generator's sums.
	_, rows, err := st.Warehouse.Query(context.Background(), "SELECT SOURCE, PLATFORM, TOTAL_ENGAGEMENT FROM ENGAGEMENT_BY_PLATFORM")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range rows {
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
}

// snapshot renders every table except run-time columns (ingestion and
// step timestamps, version-derived ids), sorted, so two runs can be
// compared exactly.
func snapshot(t *testing.T, st *stack.Stack) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range dataset.Tables() {
		var cols []string
		for _, c := range tb.Columns {
			// Run-time columns, and ids derived from the S3 version id,
			// which differs from one stack to the next.
			if strings.HasSuffix(c.Name, "_AT") || c.Name == "INGESTION_TIMESTAMP" || c.Name == "REJECT_ID" || c.Name == "FILE_ID" || c.Name == "TEST_ID" {
				continue
			}
			cols = append(cols, c.Name)
		}
		_, rows, err := st.Warehouse.Query(context.Background(), fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), tb.Name))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, fmt.Sprint(r...))
		}
		sort.Strings(lines)
		fmt.Fprintf(&b, "%s %d\n%s\n", tb.Name, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// TestRetriesLeaveOneRunsRows: the same notification three times, a step
// retried after it had already done its work, and a workflow killed after
// Clean then run again all leave exactly the rows of one clean run.
func TestRetriesLeaveOneRunsRows(t *testing.T) {
	dir, truths := generate(t, 300)
	ctx := context.Background()

	clean := startStack(t, stack.Options{})
	dropAll(t, clean, dir, truths)
	want := snapshot(t, clean)

	// 1. Delivered three times: two redeliveries of every notification.
	st := startStack(t, stack.Options{})
	runs := dropAll(t, st, dir, truths)
	for i := 0; i < 2; i++ {
		for _, r := range runs {
			out, err := st.Trigger.Handle(ctx, awsevents.NewS3Event(r.Drop, "us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Started) != 0 || len(out.Skipped) != 1 {
				t.Fatalf("redelivery started %v, skipped %v; want one skipped", out.Started, out.Skipped)
			}
		}
	}
	// ... and executions that really ran again (a new execution of the same
	// file version, as after a manual restart).
	for _, r := range runs {
		st.Forget(r.Name)
		out, err := st.Trigger.Handle(ctx, awsevents.NewS3Event(r.Drop, "us-east-1"))
		if err != nil || len(out.Started) != 1 {
			t.Fatalf("re-execution: %v %v", out, err)
		}
	}
	for _, r := range st.Runs() {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Name, r.Err)
		}
	}
	if got := snapshot(t, st); got != want {
		t.Errorf("after redeliveries the warehouse differs from one clean run:\n%s", diff(got, want))
	}

	// 2. Every step fails once after doing its work (Lambda timed out after
	// the write), so Step Functions retries it.
	failed := map[string]bool{}
	st2 := startStack(t, stack.Options{Backoff: time.Millisecond, FailpointAfter: func(step string) error {
		if !failed[step] {
			failed[step] = true
			return fmt.Errorf("injected crash after %s", step)
		}
		return nil
	}})
	for _, tr := range truths {
		for k := range failed {
			delete(failed, k)
		}
		run, err := st2.DropFile(ctx, tr.Dataset, filepath.Join(dir, tr.Name))
		if err != nil || run.Err != nil {
			t.Fatalf("%s: %v %v", tr.Name, err, run.Err)
		}
	}
	if got := snapshot(t, st2); got != want {
		t.Errorf("after retried steps the warehouse differs from one clean run:\n%s", diff(got, want))
	}

	// 3. Killed after Clean, then the whole workflow rerun.
	st3 := startStack(t, stack.Options{})
	for _, tr := range truths {
		f, err := os.Open(filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		key := "raw/" + tr.Dataset + "/" + tr.Name
		// Put without notification, run Clean alone (the process dies here) ...
		obj, err := st3.Env.Store.Put(ctx, stack.Buckets.Raw, key, f, info.Size())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		drop := port.FileDrop{Bucket: stack.Buckets.Raw, Key: key, VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size}
		if _, err := batch.Clean(ctx, st3.Env, drop); err != nil {
			t.Fatal(err)
		}
		// ... then the notification arrives and the workflow runs whole.
		if _, err := st3.Trigger.Handle(ctx, awsevents.NewS3Event(drop, "us-east-1")); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range st3.Runs() {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Name, r.Err)
		}
	}
	if got := snapshot(t, st3); got != want {
		t.Errorf("after a crash after Clean the warehouse differs from one clean run:\n%s", diff(got, want))
	}
}

// TestNewVersionIsAllDuplicates: the same content uploaded again is a new
// object version: every record is a duplicate, nothing new is loaded.
func TestNewVersionIsAllDuplicates(t *testing.T) {
	dir, truths := generate(t, 200)
	st := startStack(t, stack.Options{})
	dropAll(t, st, dir, truths)
	before := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS")
	var live *batchgen.Truth
	for _, tr := range truths {
		if tr.Dataset == "live_streaming" {
			live = tr
		}
	}
	run, err := st.DropFile(context.Background(), "live_streaming", filepath.Join(dir, live.Name))
	if err != nil || run.Err != nil {
		t.Fatal(err, run.Err)
	}
	c := run.Manifest.Counts
	if c.Loaded != 0 || c.Duplicate != int64(live.Loaded+live.Duplicate) || c.Rejected != int64(live.Rejected) {
		t.Errorf("second version: %s; want loaded 0, duplicate %d, rejected %d", c, live.Loaded+live.Duplicate, live.Rejected)
	}
	if after := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); after != before {
		t.Errorf("facts %d -> %d after re-uploading the same content", before, after)
	}
}

// TestReplayAfterFix: records rejected for an unknown platform are
// replayed after the platform is added, loaded once, and not duplicated by
// a second replay.
func TestReplayAfterFix(t *testing.T) {
	dir, truths := generate(t, 400)
	st := startStack(t, stack.Options{})
	dropAll(t, st, dir, truths)
	ctx := context.Background()
	myspace := count(t, st, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE DATASET = 'live_streaming' AND REASON LIKE 'unknown platform \"Myspace\"%'")
	if myspace == 0 {
		t.Fatal("the generator injected no Myspace records")
	}
	facts := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS")
	defer dataset.AddPlatform("Myspace")()
	res, err := batch.Replay(ctx, st.Env, "live_streaming")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Manifest == nil {
		t.Fatalf("replay results: %+v", res)
	}
	if got := res[0].Manifest.Counts.Loaded; got != myspace {
		t.Errorf("replay loaded %d, want the %d Myspace records", got, myspace)
	}
	if got := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); got != facts+myspace {
		t.Errorf("facts after replay = %d, want %d", got, facts+myspace)
	}
	if got := count(t, st, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE REPLAYED"); got != myspace {
		t.Errorf("%d rejects marked replayed, want %d", got, myspace)
	}
	// A second replay finds only the records that still fail.
	res2, err := batch.Replay(ctx, st.Env, "live_streaming")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res2 {
		if r.Manifest != nil && r.Manifest.Counts.Loaded != 0 {
			t.Errorf("second replay loaded %d", r.Manifest.Counts.Loaded)
		}
	}
	if got := count(t, st, "SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); got != facts+myspace {
		t.Errorf("facts after second replay = %d, want %d", got, facts+myspace)
	}
}

// TestUnreadableFileIsQuarantinedWhole: a file Pulse cannot read is
// quarantined whole: its reason names the raw object, which stays in the
// raw bucket (only the raw bucket keeps input as it came), and the rest
// goes on.
func TestUnreadableFileIsQuarantinedWhole(t *testing.T) {
	st := startStack(t, stack.Options{Backoff: time.Millisecond})
	ctx := context.Background()
	body := "PAR1 this is not parquet"
	run, err := st.Drop(ctx, "community_interactions", "broken.parquet", strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if !run.Quarantined || run.Err == nil {
		t.Fatalf("broken file: quarantined=%v err=%v", run.Quarantined, run.Err)
	}
	objs, err := st.Env.Store.List(ctx, stack.Buckets.Quarantine, "_files/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || !strings.HasSuffix(objs[0].Key, "/reason.json") {
		t.Fatalf("quarantine holds %v, want the file's reason only", objs)
	}
	rb, _, err := st.Env.Store.Get(ctx, stack.Buckets.Quarantine, objs[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	var reason struct {
		Reason string        `json:"reason"`
		Source port.FileDrop `json:"source"`
	}
	err = json.NewDecoder(rb).Decode(&reason)
	rb.Close()
	if err != nil {
		t.Fatal(err)
	}
	src := reason.Source
	if src.Bucket != stack.Buckets.Raw || src.Key != "raw/community_interactions/broken.parquet" || src.VersionID == "" || reason.Reason == "" {
		t.Fatalf("reason.json: %+v", reason)
	}
	kept, _, err := st.Env.Store.Get(ctx, src.Bucket, src.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(kept)
	kept.Close()
	if string(b) != body {
		t.Errorf("the raw object holds %q, want the file", b)
	}
	if got := count(t, st, "SELECT COUNT(*) FROM PULSE_MANIFESTS WHERE STATUS LIKE 'quarantined:%'"); got != 1 {
		t.Errorf("%d quarantined manifests, want 1", got)
	}
}

func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("first difference at line %d:\n got  %s\n want %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(g), len(w))
}

// TestChunkedWorkflowMatchesWhole: with a split threshold below every
// file's size, each file goes through Split -> CleanChunk per chunk ->
// Combine, and the warehouse ends exactly as when every file is cleaned
// whole; the manifests' counts are the generator's truth.
func TestChunkedWorkflowMatchesWhole(t *testing.T) {
	dir, truths := generate(t, 300)
	whole := startStack(t, stack.Options{})
	dropAll(t, whole, dir, truths)
	want := snapshot(t, whole)

	chunks := map[string]int{}
	split := startStack(t, stack.Options{LargeFileBytes: 1, ChunkBytes: 2048, OnStep: func(e stack.StepEvent) {
		if strings.HasPrefix(e.Step, "CleanChunk") && e.Err == nil {
			chunks[e.Execution]++
		}
	}})
	runs := dropAll(t, split, dir, truths)
	for i, r := range runs {
		tr := truths[i]
		if chunks[r.Name] < 2 && !strings.HasSuffix(tr.Name, ".parquet") { // one row group: one chunk
			t.Errorf("%s: %d chunks cleaned, want several", tr.Name, chunks[r.Name])
		}
		c := r.Manifest.Counts
		if c.Received != int64(tr.Rows) || c.Loaded != int64(tr.Loaded) || c.Rejected != int64(tr.Rejected) || c.Duplicate != int64(tr.Duplicate) {
			t.Errorf("%s: %s; want received %d loaded %d rejected %d duplicate %d", tr.Name, c, tr.Rows, tr.Loaded, tr.Rejected, tr.Duplicate)
		}
		if r.Manifest.Status != "tested" || r.Manifest.Chunks != chunks[r.Name] {
			t.Errorf("%s: manifest status %q with %d chunks", tr.Name, r.Manifest.Status, r.Manifest.Chunks)
		}
	}
	if got := snapshot(t, split); got != want {
		t.Errorf("after chunked runs the warehouse differs from whole-file runs:\n%s", diff(got, want))
	}
}

// tableRows is a table and the rows it must hold.
type tableRows struct {
	table string
	want  int64
}

// expectedTableRows is what the warehouse holds after every file of
// truths was dropped once, from the generator's truths alone: each fact
// table the loaded records of its dataset, each dimension the distinct keys
// of the datasets that map to it, every reject and one manifest per file.
func expectedTableRows(truths []*batchgen.Truth, byDataset map[string][]*batchgen.Truth, rejected int64) []tableRows {
	loaded := func(ds string) (n int64) {
		for _, tr := range byDataset[ds] {
			n += int64(tr.Loaded)
		}
		return n
	}
	union := func(field func(*batchgen.Truth) map[string]bool, dss ...string) int64 {
		set := map[string]bool{}
		for _, ds := range dss {
			for _, tr := range byDataset[ds] {
				for k := range field(tr) {
					set[k] = true
				}
			}
		}
		return int64(len(set))
	}
	users := func(tr *batchgen.Truth) map[string]bool { return tr.Users }
	plats := func(tr *batchgen.Truth) map[string]bool { return tr.Platforms }
	seed0 := []string{"community_interactions", "live_streaming", "video_interactions"}
	return []tableRows{
		{star.FactCommunityInteractions.Name, loaded("community_interactions")},
		{star.FactLiveStreamingInteractions.Name, loaded("live_streaming")},
		{star.FactVideoInteractions.Name, loaded("video_interactions")},
		{star.FactAppInteractions.Name, loaded("app_interactions")},
		{star.DimUser.Name, union(users, seed0...)},
		{star.DimPlatform.Name, union(plats, seed0...)},
		{star.DimAppUser.Name, union(users, "app_users")},
		{star.DimCommunity.Name, 8},
		{star.Rejects.Name, rejected},
		{star.Manifests.Name, int64(len(truths))},
	}
}
