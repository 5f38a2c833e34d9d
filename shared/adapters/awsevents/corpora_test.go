package awsevents_test

import (
	"encoding/json"
	"os"
	"testing"

	testcorpora "github.com/pulse-analytics/pulse/tests/corpora"
)

// corpusPath returns the path of a file in the test corpora's aws-events
// folder (tests/corpora).
func corpusPath(t *testing.T, name string) string {
	t.Helper()
	p := testcorpora.Path(t, "aws-events", name)
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
