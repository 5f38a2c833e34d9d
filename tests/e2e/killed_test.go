package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
)

// TestKilledDropThenDroppedAgain is the failure the issue reproduced with
// the real command: `pulse drop` killed (SIGKILL) after Model, before Load,
// then the same file dropped again. Before the dedupe claims were bound to
// the load, the second drop counted every record a duplicate of the dead
// run's claims and the fact table held none of them. Now the second run
// first finishes the file the dead one left (same version, so its claims
// are retries), then takes the new upload, whose records are duplicates:
// the warehouse holds the file once, as one clean run does.
func TestKilledDropThenDroppedAgain(t *testing.T) {
	pulse := buildPulse(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "live_streaming.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	truth, err := batchgen.Live(f, batchgen.Options{Seed: seed, Rows: 2000, Users: 250, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil { // pulse drop wants a data folder that exists
		t.Fatal(err)
	}
	drop := func(env ...string) (string, error) {
		cmd := exec.Command(pulse, "drop", f.Name(), "--dataset", "live_streaming", "--dir", data)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := drop("PULSE_CRASH_AT=Model")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("pulse drop with PULSE_CRASH_AT=Model: %v, want killed by SIGKILL\n%s", err, out)
	}
	if !strings.Contains(out, "Clean") || strings.Contains(out, "Load") { // killed as Model ended, before it printed
		t.Fatalf("the killed run did not stop between Model and Load:\n%s", out)
	}
	if out, err = drop(); err != nil {
		t.Fatalf("pulse drop again: %v\n%s", err, out)
	}

	wh, err := duckdb.Open(context.Background(), filepath.Join(data, "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	q := func(sql string) int64 {
		_, rows, err := wh.Query(context.Background(), sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return rows[0][0].(int64)
	}
	if got := q("SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS"); got != int64(truth.Loaded) {
		t.Errorf("facts: %d, want %d (the generator's truth)\n%s", got, truth.Loaded, out)
	}
	if got := q("SELECT COUNT(*) FROM PULSE_REJECTS"); got != int64(truth.Rejected) {
		t.Errorf("rejects: %d, want %d", got, truth.Rejected)
	}
	// Two uploads: the one finished after the kill, loaded; the second, all duplicates.
	if got := q("SELECT SUM(LOADED) FROM PULSE_MANIFESTS"); got != int64(truth.Loaded) {
		t.Errorf("manifests count %d loaded, want %d", got, truth.Loaded)
	}
	// The file's own duplicates, then every valid record of the second upload.
	if want := int64(truth.Duplicate + truth.Loaded + truth.Duplicate); q("SELECT SUM(DUPLICATE) FROM PULSE_MANIFESTS") != want {
		t.Errorf("manifests count %d duplicates, want %d", q("SELECT SUM(DUPLICATE) FROM PULSE_MANIFESTS"), want)
	}
	if got := q("SELECT COUNT(*) FROM PULSE_MANIFESTS WHERE RECEIVED <> LOADED + REJECTED + DUPLICATE"); got != 0 {
		t.Errorf("%d manifests do not balance", got)
	}
}
