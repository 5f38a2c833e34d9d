package memory_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/window"
	"github.com/pulse-analytics/pulse/shared/window/storetest"
)

func TestWindowStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store { return memory.NewWindowStore() })
}

func TestWindowStoreFolderConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) window.Store {
		s, err := memory.OpenWindowStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestWindowStoreReopen: what one process saved, the next one loads, at the
// same versions; a stale version still conflicts after the reopen; a
// temporary file left by a crash mid-save is removed, the old state kept.
func TestWindowStoreReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := memory.OpenWindowStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{"stream/session_metrics": "{\"a\":1}\nsecond line", "stream/lease/x": "", "odd name/%/..": "\x00\xff"}
	for name, st := range states {
		if err := s.Save(ctx, name, []byte(st), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(ctx, "stream/session_metrics", []byte("v2"), 1); err != nil {
		t.Fatal(err)
	}
	states["stream/session_metrics"] = "v2"
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := memory.OpenWindowStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range states {
		got, v, err := r.Load(ctx, name)
		wantV := int64(1)
		if name == "stream/session_metrics" {
			wantV = 2
		}
		if err != nil || string(got) != want || v != wantV {
			t.Errorf("%s after reopen = %q v%d %v; want %q v%d", name, got, v, err, want, wantV)
		}
	}
	if err := r.Save(ctx, "stream/session_metrics", []byte("stale"), 1); err == nil {
		t.Fatal("a save at a stale version succeeded after the reopen")
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Fatalf("the crash leftover is still there: %v", err)
	}
	if got := strings.Join(r.Names(), ","); got != "odd name/%/..,stream/lease/x,stream/session_metrics" {
		t.Fatalf("names %s", got)
	}
}

func TestWindowStoreRejectsAForeignFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.state"), []byte("not a header"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := memory.OpenWindowStore(dir)
	if err == nil || !strings.Contains(err.Error(), "x.state") {
		t.Fatalf("open = %v; want an error naming x.state", err)
	}
}
