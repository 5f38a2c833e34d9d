// Package scenario holds the failure-and-recovery matrix (DESIGN.md 4.1):
// for each way a deployment fails (the rows) and each thing a person does
// next (the columns), the warehouse ends exactly as one clean run over the
// final input, row for row: facts, dimensions, PULSE_REJECTS,
// PULSE_LATE_EVENTS, the manifests, and the record rejects awaiting
// replay.
//
// The final input is what was delivered and not given up, in order: a
// file version that was quarantined (or abandoned) contributed nothing; a
// version that loaded stays loaded (a later version of the same key adds
// its own records, it does not retract the earlier version's). Manifest
// rows of versions given up are the history of failed work: they are
// compared apart, with zero counts. Columns holding processing times or a
// version's name (FILE_ID) are left out: no two runs share them.
//
// The stream's cells (a batch failing until the on-failure destination)
// are in shared/handlers (TestFailedBatchRecoveries), shared/stream
// (TestReproducedAfterClaimDeadline, TestLeaseTakeoverAfterCrash) and
// tests/e2e (TestStreamFailedBatchAcrossRestart); the cell with a real SIGKILL of the
// pulse binary is TestKilledDropThenDroppedAgain.
package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
)

// failure makes the first upload of v1 fail in one way and returns its run.
// crashed tells whether the process died (every recovery then begins with
// the restart that gives a person a process again).
type failure struct {
	name    string
	crashed bool
	run     func(w *world, v *versions) stack.Run
	// given: the failed version is given up (quarantined) rather than
	// resumed; the final input then lacks it.
	given bool
	// upload is what was uploaded (v1, or the truncated file).
	upload func(v *versions) []byte
}

var failures = []failure{
	{name: "clean fails mid-file until quarantined", given: true, upload: v1,
		run: func(w *world, v *versions) stack.Run {
			w.f.rawReadFailures = 3 // every attempt: connection reset two thirds into the file
			w.f.breakAfter = len(v.v1) * 2 / 3
			return w.drop(v.v1)
		}},
	{name: "truncated upload", given: true, upload: trunc,
		run: func(w *world, v *versions) stack.Run { return w.drop(v.trunc) }},
	{name: "crash after clean", crashed: true, upload: v1,
		run: func(w *world, v *versions) stack.Run { w.f.crashAfter = "Clean"; return w.drop(v.v1) }},
	{name: "crash after model", crashed: true, upload: v1,
		run: func(w *world, v *versions) stack.Run { w.f.crashAfter = "Model"; return w.drop(v.v1) }},
	{name: "crash during load", crashed: true, upload: v1,
		run: func(w *world, v *versions) stack.Run { w.f.crashAt = batch.FailLoadStaged; return w.drop(v.v1) }},
	{name: "crash after the load landed, before its claims committed", crashed: true, upload: v1,
		run: func(w *world, v *versions) stack.Run { w.f.crashAt = batch.FailLoadCommitted; return w.drop(v.v1) }},
	{name: "load fails until quarantined", given: true, upload: v1,
		run: func(w *world, v *versions) stack.Run { w.f.loadDown = true; return w.drop(v.v1) }},
}

func v1(v *versions) []byte    { return v.v1 }
func trunc(v *versions) []byte { return v.trunc }

// recovery is what a person does next; it returns what the final input
// gained (besides the failed upload, when that was not given up).
type recovery struct {
	name string
	do   func(w *world, v *versions, run stack.Run, f failure) (added [][]byte, replayed bool)
}

var recoveries = []recovery{
	{name: "notification redelivered", do: func(w *world, v *versions, run stack.Run, f failure) ([][]byte, bool) {
		w.redeliver(run)
		return nil, false
	}},
	{name: "same file uploaded again", do: func(w *world, v *versions, run stack.Run, f failure) ([][]byte, bool) {
		body := f.upload(v)
		if f.name == "truncated upload" {
			body = v.v1 // the upload that failed was cut short: the person uploads the whole file
		}
		w.drop(body)
		return [][]byte{body}, false
	}},
	{name: "corrected file uploaded", do: func(w *world, v *versions, run stack.Run, f failure) ([][]byte, bool) {
		w.drop(v.fixed)
		return [][]byte{v.fixed}, false
	}},
	{name: "pulse replay", do: func(w *world, v *versions, run stack.Run, f failure) ([][]byte, bool) {
		res, err := w.st.ReplayFiles(ctx, dataset)
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := batch.Replay(ctx, w.st.Env, dataset); err != nil {
			w.t.Fatal(err)
		}
		return nil, len(res) == 1 && res[0].Run != nil && res[0].Run.Err == nil
	}},
	{name: "stack restarted", do: func(w *world, v *versions, run stack.Run, f failure) ([][]byte, bool) {
		w.restart()
		return nil, false
	}},
}

// TestFailureAndRecovery is the matrix: every failure, then every recovery.
func TestFailureAndRecovery(t *testing.T) {
	v, err := files()
	if err != nil {
		t.Fatal(err)
	}
	cells := 0
	for _, f := range failures {
		for _, r := range recoveries {
			cells++
			t.Run(f.name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				run := f.run(w, v)
				switch {
				case f.crashed:
					if !errors.Is(run.Err, stack.ErrCrash) {
						t.Fatalf("the failed upload: %v, want a crash", run.Err)
					}
					w.restart() // a person needs a process again; it finishes what the dead one left
				case f.given:
					if !run.Quarantined {
						t.Fatalf("the failed upload was not quarantined: %+v", run.Err)
					}
				}
				w.f.loadDown = false // the outage is over
				added, replayed := r.do(w, v, run, f)

				// What the final input is, from the rule above.
				var input [][]byte
				if !f.given || replayed {
					input = append(input, f.upload(v))
				}
				input = append(input, added...)
				want := clean(t, input...)
				got := w.snapshot()
				same(t, got, want)

				// The history of work given up: one row per quarantined
				// version that was not loaded later, with zero counts.
				wantGiven := 0
				if f.given && !replayed {
					wantGiven = 1
				}
				if len(got.given) != wantGiven {
					t.Errorf("manifests of work given up: %d, want %d: %q", len(got.given), wantGiven, got.given)
				}
				for _, g := range got.given {
					if !strings.Contains(g, "RECEIVED=0 LOADED=0 REJECTED=0 DUPLICATE=0") {
						t.Errorf("a version given up counts records: %s", g)
					}
				}
			})
		}
	}
	t.Logf("%d failures x %d recoveries = %d cells", len(failures), len(recoveries), cells)
}
