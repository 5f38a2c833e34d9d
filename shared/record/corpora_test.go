package record

import (
	"os"
	"path/filepath"
	"testing"
)

// corpora returns the reference kit's corpora folder: ../shared/corpora
// beside the repository root (the folder holding go.mod).
func corpora(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting working dir: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's working dir")
		}
		dir = parent
	}
	c := filepath.Join(filepath.Dir(dir), "shared", "corpora")
	if _, err := os.Stat(c); err != nil {
		t.Fatalf("reference corpora not found at %s: %v", c, err)
	}
	return c
}
