package s3local_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
)

// TestFolderServerVersions: a folder-backed server gives every put a new
// version ID, answers it on HEAD and GET, and keeps objects and versions
// across a restart.
func TestFolderServerVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() (*s3local.Server, *s3store.Store) {
		srv, err := s3local.StartDir(ctx, "127.0.0.1:0", dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateBuckets(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		c, err := s3store.NewClient(ctx, srv.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		return srv, s3store.New(c)
	}
	srv, st := open()
	v1, err := st.Put(ctx, "b", "raw/x/a.csv", strings.NewReader("a,b\n1,2\n"), -1)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := st.Put(ctx, "b", "raw/x/a.csv", strings.NewReader("a,b\n1,2\n"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if v1.VersionID == "" || v1.VersionID == v2.VersionID || v1.ETag != v2.ETag {
		t.Fatalf("two puts of the same bytes: versions %q, %q (want two different ones), ETags %q, %q (want equal)", v1.VersionID, v2.VersionID, v1.ETag, v2.ETag)
	}
	h, err := st.Head(ctx, "b", "raw/x/a.csv")
	if err != nil || h.VersionID != v2.VersionID {
		t.Fatalf("Head: %+v, %v; want version %q", h, err, v2.VersionID)
	}
	srv.Close()
	srv, st = open()
	defer srv.Close()
	body, info, err := st.Get(ctx, "b", "raw/x/a.csv")
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	if info.VersionID != v2.VersionID || info.Size != 8 {
		t.Fatalf("after a restart: %+v, want version %q and 8 bytes", info, v2.VersionID)
	}
}
