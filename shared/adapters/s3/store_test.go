package s3store_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/port"
)

const bucket = "pulse-raw"

// newStore starts an s3local server with a versioned bucket and returns a
// Store talking to it over HTTP through the SDK.
func newStore(t testing.TB) *s3store.Store {
	st, _ := newStoreClient(t)
	return st
}

func newStoreClient(t testing.TB) (*s3store.Store, *s3.Client) {
	t.Helper()
	ctx := t.Context()
	srv, err := s3local.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting s3local: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing s3local: %v", err)
		}
	})
	if err := srv.CreateBuckets(ctx, bucket); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return s3store.New(client), client
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// opaque hides any Seek/Len method so the SDK sees a plain stream.
type opaque struct{ io.Reader }

func TestPutGetHeadListDelete(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)

	keys := []string{
		"raw/social_sales/b.csv",
		"raw/social_sales/a file with spaces.csv",
		"raw/social_sales/café 日本+plus%pct.json",
		"raw/other/x.csv",
		"staging/y.parquet",
	}
	bodies := map[string][]byte{}
	for i, k := range keys {
		body := bytes.Repeat([]byte{byte('a' + i)}, 100+i)
		bodies[k] = body
		info, err := st.Put(ctx, bucket, k, opaque{bytes.NewReader(body)}, int64(len(body)))
		if err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
		if info.Bucket != bucket || info.Key != k || info.Size != int64(len(body)) || info.ETag != md5hex(body) {
			t.Errorf("Put %q info = %+v, want size %d etag %s", k, info, len(body), md5hex(body))
		}
		if info.VersionID == "" {
			t.Errorf("Put %q: no version ID on a versioned bucket", k)
		}
	}

	for _, k := range keys {
		t.Run("get "+k, func(t *testing.T) {
			rc, info, err := st.Get(ctx, bucket, k)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			got, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if !bytes.Equal(got, bodies[k]) {
				t.Errorf("body = %q, want %q", got, bodies[k])
			}
			if info.Size != int64(len(bodies[k])) || info.ETag != md5hex(bodies[k]) || info.VersionID == "" || info.Modified.IsZero() {
				t.Errorf("Get info = %+v", info)
			}
			head, err := st.Head(ctx, bucket, k)
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if head != info {
				t.Errorf("Head = %+v, Get = %+v", head, info)
			}
		})
	}

	list, err := st.List(ctx, bucket, "raw/social_sales/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, o := range list {
		got = append(got, o.Key)
		if o.Size != int64(len(bodies[o.Key])) || o.ETag != md5hex(bodies[o.Key]) {
			t.Errorf("List entry %+v", o)
		}
	}
	want := []string{"raw/social_sales/a file with spaces.csv", "raw/social_sales/b.csv", "raw/social_sales/café 日本+plus%pct.json"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List keys = %q, want %q", got, want)
	}

	if err := st.Delete(ctx, bucket, keys[1]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := st.Head(ctx, bucket, keys[1]); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head after delete: err = %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, bucket, "raw/never-there"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	list, err = st.List(ctx, bucket, "raw/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != 3 {
		t.Errorf("List raw/ after delete = %d objects, want 3: %+v", len(list), list)
	}
}

func TestNotFound(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	if _, _, err := st.Get(ctx, bucket, "no/such key.csv"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Get missing: err = %v, want ErrNotFound", err)
	}
	if _, err := st.Head(ctx, bucket, "no/such key.csv"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head missing: err = %v, want ErrNotFound", err)
	}
	_, _, err := st.Get(ctx, "no-such-bucket", "k")
	if err == nil || errors.Is(err, port.ErrNotFound) {
		t.Errorf("Get from a missing bucket: err = %v, want an error that is not ErrNotFound", err)
	}
	list, err := st.List(ctx, bucket, "nothing/")
	if err != nil || len(list) != 0 {
		t.Errorf("List of an empty prefix = %v, %v", list, err)
	}
}

func TestPutUnknownSize(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir, where the spool file goes

	body := make([]byte, 6<<20+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	// A reader returning small chunks, with no Len or Seek to peek at.
	info, err := st.Put(ctx, bucket, "raw/big unknown.bin", iotest.HalfReader(opaque{bytes.NewReader(body)}), -1)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info.Size != int64(len(body)) || info.ETag != md5hex(body) || info.VersionID == "" {
		t.Errorf("Put info = %+v, want size %d etag %s", info, len(body), md5hex(body))
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("spool files left behind: %v", left)
	}
	rc, got, err := st.Get(ctx, bucket, "raw/big unknown.bin")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, body) || got.Size != int64(len(body)) {
		t.Errorf("read back %d bytes (info %+v), want %d identical bytes", len(b), got, len(body))
	}

	// A failing reader fails the put and stores nothing.
	boom := errors.New("boom")
	if _, err := st.Put(ctx, bucket, "raw/broken.bin", io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), -1); !errors.Is(err, boom) {
		t.Errorf("Put with a failing reader: err = %v, want boom", err)
	}
	if _, err := st.Head(ctx, bucket, "raw/broken.bin"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head after failed put: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("spool files left behind after failure: %v", left)
	}
}

func TestVersionsChangeOnOverwrite(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	a, err := st.Put(ctx, bucket, "raw/v.csv", bytes.NewReader([]byte("one")), 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Put(ctx, bucket, "raw/v.csv", bytes.NewReader([]byte("two!")), 4)
	if err != nil {
		t.Fatal(err)
	}
	if a.VersionID == "" || b.VersionID == "" || a.VersionID == b.VersionID {
		t.Errorf("version IDs %q then %q, want two different non-empty IDs", a.VersionID, b.VersionID)
	}
	h, err := st.Head(ctx, bucket, "raw/v.csv")
	if err != nil {
		t.Fatal(err)
	}
	if h.VersionID != b.VersionID || h.Size != 4 || h.ETag != md5hex([]byte("two!")) {
		t.Errorf("Head = %+v, want the second version %q", h, b.VersionID)
	}
}

func TestListPaginates(t *testing.T) {
	ctx := t.Context()
	st, client := newStoreClient(t)
	const n = 1005 // more than one ListObjectsV2 page (1000 keys)
	var want []string
	for i := range n {
		k := "curated/part-" + string(rune('a'+i%26)) + "-" + strconv.Itoa(i) + ".parquet"
		want = append(want, k)
		if _, err := st.Put(ctx, bucket, k, bytes.NewReader(nil), 0); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	first, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("curated/")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(first.IsTruncated) || len(first.Contents) != 1000 {
		t.Fatalf("first page: %d keys, truncated %v; want 1000, true (so List must page)", len(first.Contents), aws.ToBool(first.IsTruncated))
	}
	list, err := st.List(ctx, bucket, "curated/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("List returned %d keys, want %d", len(list), n)
	}
	for i := 1; i < len(list); i++ {
		if list[i-1].Key >= list[i].Key {
			t.Fatalf("not sorted at %d: %q >= %q", i, list[i-1].Key, list[i].Key)
		}
	}
	slices.Sort(want)
	for i := range want {
		if list[i].Key != want[i] {
			t.Fatalf("List key %d = %q, want %q", i, list[i].Key, want[i])
		}
	}
}
