package s3local_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

// TestDirReader: what a folder-backed server stored (through the S3
// protocol) reads back the same from its folder, with no server: the keys
// under a prefix in order, sizes, bodies and modification times; a missing
// key is ErrNotFound, a missing bucket and keys leaving their bucket are
// errors; Put and Delete fail naming the folder and change no file.
func TestDirReader(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	srv, err := s3local.StartDir(ctx, "127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.CreateBuckets(ctx, "stage", "other"); err != nil {
		t.Fatal(err)
	}
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	s3 := s3store.New(client)
	objects := map[string]string{
		"_profiles/a/f1.json":        `{"a":1}`,
		"_profiles/a/f2/c00000.json": `{"chunk":0}`,
		"_profiles/b/f3.json":        `{"b":333}`,
		"_profilesX/z.json":          `z`,
		"a/b/c d.parquet":            "PAR1....",
		"top.txt":                    "",
	}
	for k, v := range objects {
		if _, err := s3.Put(ctx, "stage", k, strings.NewReader(v), int64(len(v))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s3.Put(ctx, "other", "_profiles/a/elsewhere.json", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}

	ro, err := s3local.OpenDirReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"_profiles/", []string{"_profiles/a/f1.json", "_profiles/a/f2/c00000.json", "_profiles/b/f3.json"}},
		{"_profiles", []string{"_profiles/a/f1.json", "_profiles/a/f2/c00000.json", "_profiles/b/f3.json", "_profilesX/z.json"}},
		{"_profiles/a/f", []string{"_profiles/a/f1.json", "_profiles/a/f2/c00000.json"}},
		{"", []string{"_profiles/a/f1.json", "_profiles/a/f2/c00000.json", "_profiles/b/f3.json", "_profilesX/z.json", "a/b/c d.parquet", "top.txt"}},
		{"a/b/", []string{"a/b/c d.parquet"}},
		{"nothing/here/", nil},
	} {
		got, err := ro.List(ctx, "stage", c.prefix)
		if err != nil {
			t.Fatalf("list %q: %v", c.prefix, err)
		}
		want, err := s3.List(ctx, "stage", c.prefix) // the server's answer
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for i, o := range got {
			keys = append(keys, o.Key)
			if o.Bucket != "stage" || o.Size != int64(len(objects[o.Key])) {
				t.Errorf("list %q: %+v, want size %d", c.prefix, o, len(objects[o.Key]))
			}
			if i < len(want) && (want[i].Key != o.Key || want[i].Size != o.Size || o.Modified.Sub(want[i].Modified).Abs() > time.Second) {
				t.Errorf("list %q: %+v, the server lists %+v", c.prefix, o, want[i])
			}
		}
		if strings.Join(keys, ",") != strings.Join(c.want, ",") || len(want) != len(c.want) {
			t.Errorf("list %q: %q (the server %d keys), want %q", c.prefix, keys, len(want), c.want)
		}
	}

	body, info, err := ro.Get(ctx, "stage", "_profiles/b/f3.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	head, err := s3.Head(ctx, "stage", "_profiles/b/f3.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"b":333}` || info.Size != 9 || info.Modified.Sub(head.Modified).Abs() > time.Second || info.Modified.IsZero() {
		t.Errorf("get: %q, %+v; the server's head %+v", b, info, head)
	}
	if h, err := ro.Head(ctx, "stage", "top.txt"); err != nil || h.Size != 0 || h.Key != "top.txt" {
		t.Errorf("head of an empty object: %+v, %v", h, err)
	}

	for _, key := range []string{"_profiles/a/none.json", "_profiles/a/f2", "_profiles/a"} { // a folder is no object
		if _, _, err := ro.Get(ctx, "stage", key); !errors.Is(err, port.ErrNotFound) {
			t.Errorf("get %s: %v, want ErrNotFound", key, err)
		}
	}
	if _, err := ro.List(ctx, "missing", ""); err == nil || !strings.Contains(err.Error(), "no bucket missing in "+dir) {
		t.Errorf("list of a missing bucket: %v", err)
	}
	if _, err := ro.Head(ctx, "missing", "x"); err == nil || errors.Is(err, port.ErrNotFound) || !strings.Contains(err.Error(), "no bucket missing") {
		t.Errorf("head in a missing bucket: %v", err)
	}
	for _, key := range []string{"../other/_profiles/a/elsewhere.json", "a/../../other/x", "/etc/passwd", "a//b", ""} {
		if _, _, err := ro.Get(ctx, "stage", key); err == nil || errors.Is(err, port.ErrNotFound) {
			t.Errorf("get %q: %v, want a refusal", key, err)
		}
	}
	if _, err := ro.List(ctx, "../stage", ""); err == nil {
		t.Error("list of bucket ../stage: no error")
	}

	before := tree(t, dir)
	if _, err := ro.Put(ctx, "stage", "new.json", strings.NewReader("{}"), 2); !errors.Is(err, s3local.ErrReadOnly) || !strings.Contains(err.Error(), dir) {
		t.Errorf("put: %v, want ErrReadOnly naming %s", err, dir)
	}
	if err := ro.Delete(ctx, "stage", "top.txt"); !errors.Is(err, s3local.ErrReadOnly) || !strings.Contains(err.Error(), "s3://stage/top.txt") {
		t.Errorf("delete: %v, want ErrReadOnly", err)
	}
	if after := tree(t, dir); after != before {
		t.Errorf("the folder changed:\n%s\nwas\n%s", after, before)
	}

	if _, err := s3local.OpenDirReadOnly(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening a missing folder: %v", err)
	}
}

// tree lists every file under dir with its size and time.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintln(&b, p, st.ModTime(), st.Size(), e.IsDir())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// BenchmarkLatestProfilesFromDir: what `pulse dashboard` does at each
// refresh of the pipeline page, over a data folder holding the profiles of
// 6,000 files (6 datasets, each file also with 2 chunk profiles).
func BenchmarkLatestProfilesFromDir(b *testing.B) {
	dir := b.TempDir()
	body := []byte(`{"dataset":"d","fileId":"f","source":"raw/d/f.csv","rows":1,"columns":[{"name":"c","type":"STRING","nulls":0,"nullShare":0,"distinct":1,"distinctExact":true}]}`)
	for ds := range 6 {
		folder := filepath.Join(dir, "buckets", "staging", "_profiles", fmt.Sprintf("ds%d", ds))
		for f := range 1000 {
			chunks := filepath.Join(folder, fmt.Sprintf("file%04d", f))
			if err := os.MkdirAll(chunks, 0o755); err != nil {
				b.Fatal(err)
			}
			for _, p := range []string{filepath.Join(folder, fmt.Sprintf("file%04d.json", f)), filepath.Join(chunks, "c00000.json"), filepath.Join(chunks, "c00001.json")} {
				if err := os.WriteFile(p, body, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	ro, err := s3local.OpenDirReadOnly(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ps, err := batch.LatestProfiles(b.Context(), ro, "staging")
		if err != nil || len(ps) != 6 {
			b.Fatalf("%d profiles, %v", len(ps), err)
		}
	}
}
