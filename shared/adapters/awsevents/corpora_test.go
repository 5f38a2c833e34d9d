package awsevents_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// corpusPath returns the path of a file in the reference kit's
// corpora/aws-events, found by walking up from the test directory to the
// module root (go.mod) and then to ../shared/corpora beside it.
func corpusPath(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpora", "aws-events", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	return p
}

// loadCorpus unmarshals a corpus file into v.
func loadCorpus(t *testing.T, name string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(corpusPath(t, name))
	if err != nil {
		t.Fatalf("reading corpus %s: %v", name, err)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decoding corpus %s: %v", name, err)
		}
	}
	return b
}
