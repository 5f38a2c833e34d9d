package fsstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/storetest"
)

const bucket = "pulse-raw"

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBuckets(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (port.ObjectStore, string) { return newStore(t), bucket })
}

func TestEscapeRoundTrip(t *testing.T) {
	tests := []struct {
		key, path string
	}{
		{"raw/live_streaming/x.ndjson", "raw/live_streaming/x.ndjson"},
		{"raw/../up", "raw/%2E./up"},
		{"./here", "%2E/here"},
		{"a//b", "a/%/b"},
		{"dir/", "dir/%"},
		{"100%/x", "100%25/x"},
		{"tab\there/.hidden", "tab%09here/%2Ehidden"},
		{"café 日本+plus", "café 日本+plus"},
		{"%", "%25"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			rel, err := relPath(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.ToSlash(rel) != tt.path {
				t.Errorf("relPath(%q) = %q, want %q", tt.key, rel, tt.path)
			}
			if k, ok := keyOf(tt.path); !ok || k != tt.key {
				t.Errorf("keyOf(%q) = %q, %v; want %q", tt.path, k, ok, tt.key)
			}
		})
	}
	for _, bad := range []string{"", strings.Repeat("k", 1025), "\xff"} {
		if _, err := relPath(bad); err == nil {
			t.Errorf("relPath(%q) accepted an invalid key", bad)
		}
	}
	for _, notObject := range []string{".x.meta", "a/.b", "100%zz", "a/%2"} {
		if k, ok := keyOf(notObject); ok {
			t.Errorf("keyOf(%q) = %q, want not an object", notObject, k)
		}
	}
}

// Dot segments stay keys, not paths: nothing escapes the bucket.
func TestDotKeysStayInBucket(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, k := range []string{"../escape", "raw/../../escape", "x/.", "x/..", "./x"} {
		if _, err := s.Put(ctx, bucket, k, bytes.NewReader([]byte(k)), int64(len(k))); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key wrote outside its bucket: %v", err)
	}
	l, err := s.List(ctx, bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range l {
		keys = append(keys, o.Key)
	}
	if want := []string{"../escape", "./x", "raw/../../escape", "x/.", "x/.."}; strings.Join(keys, "|") != strings.Join(want, "|") {
		t.Errorf("keys = %q, want %q", keys, want)
	}
}

func TestFolderConflict(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, bucket, "a", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, bucket, "a/b", bytes.NewReader(nil), 0); err == nil || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("Put a/b over object a: err = %v, want an error naming the key", err)
	}
	if _, err := s.Put(ctx, bucket, "c/d", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, bucket, "c", bytes.NewReader(nil), 0); err == nil {
		t.Errorf("Put c over folder c/ succeeded")
	}
	if _, err := s.Head(ctx, bucket, "c"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head of a folder: err = %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(filepath.Join(s.Root(), tmpDir)); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// An object file changed behind the store's back is hashed again.
func TestStaleSidecar(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, bucket, "raw/x.csv", bytes.NewReader([]byte("one")), 3); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Root(), bucket, "raw", "x.csv")
	if err := os.WriteFile(path, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	info, err := s.Head(ctx, bucket, "raw/x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != storetest.MD5Hex([]byte("other")) || info.VersionID != info.ETag || info.Size != 5 {
		t.Errorf("Head after an outside change = %+v", info)
	}
	// A file dropped into a bucket folder by hand is an object too.
	if err := os.WriteFile(filepath.Join(s.Root(), bucket, "raw", "by hand.csv"), []byte("h"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.Get(ctx, bucket, "raw/by hand.csv")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if info.ETag != storetest.MD5Hex([]byte("h")) {
		t.Errorf("Get of a hand-placed file = %+v", info)
	}
}

func TestReopenAndVersions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBuckets(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	a, err := s.Put(ctx, bucket, "raw/x.csv", bytes.NewReader([]byte("same")), 4)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s2.Put(ctx, bucket, "raw/x.csv", bytes.NewReader([]byte("same")), 4)
	if err != nil {
		t.Fatal(err)
	}
	if a.VersionID != b.VersionID || a.VersionID != storetest.MD5Hex([]byte("same")) {
		t.Errorf("versions of the same content: %q then %q, want both the content MD5", a.VersionID, b.VersionID)
	}
	h, err := s2.Head(ctx, bucket, "raw/x.csv")
	if err != nil || h.VersionID != a.VersionID {
		t.Errorf("Head through a reopened store = %+v, %v", h, err)
	}
}

func TestDeleteRemovesEmptyFolders(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, k := range []string{"a/b/c/x", "a/y"} {
		if _, err := s.Put(ctx, bucket, k, bytes.NewReader(nil), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, bucket, "a/b/c/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), bucket, "a", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("emptied folders kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), bucket, "a", "y")); err != nil {
		t.Errorf("sibling object lost: %v", err)
	}
	if err := s.Delete(ctx, storetest.MissingBucket, "k"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("Delete in a missing bucket: err = %v, want ErrNoSuchBucket", err)
	}
}

func TestSizeMismatch(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, size := range []int64{2, 4} {
		if _, err := s.Put(ctx, bucket, "raw/x", bytes.NewReader([]byte("abc")), size); err == nil {
			t.Errorf("Put of 3 bytes with size %d succeeded", size)
		}
	}
	if _, err := s.Head(ctx, bucket, "raw/x"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head after size mismatches: %v", err)
	}
}
