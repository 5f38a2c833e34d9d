package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
)

// TestStatus: after a clean load pulse status exits 0 and reports the
// dataset's accounting; an unbalanced manifest, a stale source or a
// failing data test each make it exit 1 and say so.
func TestStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := stack.Start(ctx, stack.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	truth, err := batchgen.AppUsers(&b, batchgen.Options{Seed: 3, Rows: 200, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.Drop(ctx, "app_users", "users.csv", bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil || run.Err != nil {
		t.Fatal(err, run.Err)
	}
	st.Close()

	code, out, errOut := call("status", "--dir", dir, "--format", "json")
	var rep statusReport
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		t.Fatalf("status --format json: %v\n%s", err, out)
	}
	if code != 0 || !rep.OK || len(rep.Sources) != 1 {
		t.Fatalf("after a clean load: exit %d, %+v, %s", code, rep, errOut)
	}
	s := rep.Sources[0]
	if s.Name != "app_users" || s.Kind != "dataset" || s.Loads != 1 || s.Counts.Received != int64(truth.Rows) ||
		s.Counts.Loaded != int64(truth.Loaded) || s.Counts.Rejected != int64(truth.Rejected) || s.Counts.Duplicate != int64(truth.Duplicate) {
		t.Fatalf("source %+v, want app_users with the generator's truth %+v", s, truth)
	}

	if code, out, _ := call("status", "--dir", dir, "--stale", "1ns"); code != 1 || !strings.Contains(out, "STALE") {
		t.Errorf("--stale 1ns: exit %d, %q; want 1 and STALE", code, out)
	}

	wh, err := duckdb.Open(ctx, filepath.Join(dir, "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Exec(ctx, "UPDATE PULSE_MANIFESTS SET LOADED = LOADED - 1"); err != nil {
		t.Fatal(err)
	}
	if err := wh.Exec(ctx, "INSERT INTO PULSE_DATA_TESTS VALUES ('t1', 'f1', 'app_users', 'DIM_APP_USER', 'unique(APP_USER_S_ID)', 3, 'fail', TIMESTAMP '2099-01-01')"); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	code, out, errOut = call("status", "--dir", dir)
	if code != 1 || !strings.Contains(out, "1 UNBALANCED") || !strings.Contains(out, "DIM_APP_USER unique(APP_USER_S_ID): 3 rows") ||
		!strings.Contains(errOut, "2 problem(s)") {
		t.Fatalf("after breaking the accounting and a data test: exit %d\n%s\n%s", code, out, errOut)
	}
	os.RemoveAll(filepath.Join(dir, "tmp"))
}
