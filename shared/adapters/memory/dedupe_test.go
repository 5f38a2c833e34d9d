package memory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/pipeline/dedupetest"
)

func TestDedupeConformance(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T) pipeline.Dedupe { return NewDedupe() })
}

func TestFileDedupeConformance(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T) pipeline.Dedupe {
		d, err := OpenDedupe(filepath.Join(t.TempDir(), "dedupe.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := d.Close(); err != nil {
				t.Error(err)
			}
		})
		return d
	})
}

func mustClaim(t *testing.T, d pipeline.Dedupe, ns string, claims []pipeline.Claim, want ...pipeline.Outcome) {
	t.Helper()
	got, err := d.Claim(context.Background(), ns, claims)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Claim(%v) = %v, want %v", claims, got, want)
	}
}

func TestOpenDedupeRemembersAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	d, err := OpenDedupe(path)
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "ns", []pipeline.Claim{{Key: "a", Origin: "o1"}, {Key: "b\n\"#", Origin: "o2"}, {Key: "a", Origin: "o3"}},
		pipeline.Fresh, pipeline.Fresh, pipeline.Duplicate)
	mustClaim(t, d, "other", []pipeline.Claim{{Key: "a", Origin: "o9"}}, pipeline.Fresh)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(context.Background(), "ns", []pipeline.Claim{{Key: "z", Origin: "o"}}); err == nil {
		t.Fatal("Claim after Close: no error")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := "[\"ns\",\"a\",\"o1\"]\n[\"ns\",\"b\\n\\\"#\",\"o2\"]\n[\"other\",\"a\",\"o9\"]\n"
	if string(data) != wantFile {
		t.Fatalf("file = %q, want %q", data, wantFile)
	}

	d, err = OpenDedupe(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 {
		t.Fatalf("reopened Len = %d, want 3", d.Len())
	}
	mustClaim(t, d, "ns", []pipeline.Claim{{Key: "a", Origin: "o1"}, {Key: "a", Origin: "o3"}, {Key: "b\n\"#", Origin: "o2"}, {Key: "c", Origin: "o4"}},
		pipeline.Retry, pipeline.Duplicate, pipeline.Retry, pipeline.Fresh)
	mustClaim(t, d, "other", []pipeline.Claim{{Key: "a", Origin: "o1"}}, pipeline.Duplicate)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = OpenDedupe(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mustClaim(t, d, "ns", []pipeline.Claim{{Key: "c", Origin: "o4"}, {Key: "c", Origin: "o1"}}, pipeline.Retry, pipeline.Duplicate)
}

func TestOpenDedupeDropsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	if err := os.WriteFile(path, []byte("[\"ns\",\"a\",\"o1\"]\n[\"ns\",\"b\",\"o"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDedupe(path)
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "ns", []pipeline.Claim{{Key: "a", Origin: "o1"}, {Key: "b", Origin: "o7"}}, pipeline.Retry, pipeline.Fresh)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[\"ns\",\"a\",\"o1\"]\n[\"ns\",\"b\",\"o7\"]\n"; string(data) != want {
		t.Fatalf("file = %q, want %q", data, want)
	}
}

func TestOpenDedupeRejectsCorruptLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	if err := os.WriteFile(path, []byte("[\"ns\",\"a\",\"o1\"]\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDedupe(path); err == nil {
		t.Fatal("OpenDedupe of a corrupt file: no error")
	}
}
