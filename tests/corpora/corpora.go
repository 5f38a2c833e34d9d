// Package corpora finds the third-party test material Pulse's tests read
// (JSONTestSuite, csv-spectrum, apache/parquet-testing, AWS sample trigger
// payloads, the Time-Wasters CSV). A copy lives in tests/testdata/corpora,
// with its sources and licences in SOURCES.md there, so a clone anywhere
// runs the same tests; PULSE_CORPORA points elsewhere (the reference kit's
// own ../shared/corpora, for instance).
package corpora

import (
	"os"
	"path/filepath"
	"testing"
)

// Env overrides the folder.
const Env = "PULSE_CORPORA"

// Dir returns the corpora folder, failing the test if it is missing.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(Env); d != "" {
		return check(tb, d)
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("finding the corpora: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return check(tb, filepath.Join(dir, "tests", "testdata", "corpora"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("finding the corpora: no go.mod above the test's folder (set %s)", Env)
		}
		dir = parent
	}
}

// Path joins parts under Dir.
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{Dir(tb)}, parts...)...)
}

func check(tb testing.TB, d string) string {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(d, "SOURCES.md")); err != nil {
		tb.Fatalf("the test corpora are not at %s (they are committed under tests/testdata/corpora; %s overrides): %v", d, Env, err)
	}
	return d
}
