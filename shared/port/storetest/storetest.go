// Package storetest is the conformance suite for port.ObjectStore.
// Every implementation (the S3 adapter against gofakes3, the filesystem
// store) runs the same suite from its own tests:
//
//	func TestObjectStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (port.ObjectStore, string) {
//			return newStore(t), "bucket-that-exists"
//		})
//	}
//
// newStore is called once per subtest and returns a store and the name of
// an existing, empty bucket. The bucket MissingBucket must not exist.
//
// What the suite holds every store to, as S3 does: ETags are the lower-case
// hex MD5 of the content; a put with an unknown size (-1) works; a failed
// put stores nothing; an overwrite with other content changes the ETag and
// the VersionID, and Head, Get and List see only the latest; List returns
// every key under a prefix (also a partial last segment), sorted, past one
// S3 page; Delete of a missing key is not an error; a missing key is
// port.ErrNotFound, a missing bucket another error. Keys may hold
// spaces, '+', '%', non-ASCII text and a trailing '/'.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/pulse-analytics/pulse/shared/port"
)

// MissingBucket names a bucket the suite expects not to exist.
const MissingBucket = "storetest-no-such-bucket"

// Run runs the conformance suite against the stores newStore builds.
func Run(t *testing.T, newStore func(t *testing.T) (port.ObjectStore, string)) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s port.ObjectStore, bucket string)
	}{
		{"put get head list delete", testRoundTrip},
		{"awkward keys", testAwkwardKeys},
		{"empty object", testEmptyObject},
		{"not found", testNotFound},
		{"unknown size", testUnknownSize},
		{"failed put stores nothing", testFailedPut},
		{"canceled put stores nothing", testCanceledPut},
		{"overwrite", testOverwrite},
		{"list prefixes", testListPrefixes},
		{"list past one page", testListMany},
		{"concurrent puts", testConcurrent},
		{"streamed get", testStreamedGet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, bucket := newStore(t)
			tc.fn(t, s, bucket)
		})
	}
}

// MD5Hex is the ETag a store must report for body.
func MD5Hex(body []byte) string {
	s := md5.Sum(body)
	return hex.EncodeToString(s[:])
}

// opaque hides Seek, Len and ReadAt, so a store sees a plain stream.
type opaque struct{ io.Reader }

func put(t *testing.T, s port.ObjectStore, bucket, key string, body []byte) port.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), bucket, key, opaque{bytes.NewReader(body)}, int64(len(body)))
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	if info.Bucket != bucket || info.Key != key || info.Size != int64(len(body)) || info.ETag != MD5Hex(body) {
		t.Fatalf("Put %q = %+v, want bucket %s size %d etag %s", key, info, bucket, len(body), MD5Hex(body))
	}
	if info.VersionID == "" {
		t.Fatalf("Put %q: empty VersionID", key)
	}
	return info
}

// get reads an object whole and checks that Get's info matches Head's.
func get(t *testing.T, s port.ObjectStore, bucket, key string) ([]byte, port.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	body, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	head, err := s.Head(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("Head %q: %v", key, err)
	}
	if head.Bucket != bucket || head.Key != key || head.Modified.IsZero() {
		t.Errorf("Head %q = %+v", key, head)
	}
	if !head.Modified.Equal(info.Modified) || head.Size != info.Size || head.ETag != info.ETag || head.VersionID != info.VersionID {
		t.Errorf("Head %q = %+v, Get = %+v", key, head, info)
	}
	if info.Size != int64(len(body)) || info.ETag != MD5Hex(body) {
		t.Errorf("Get %q info = %+v for %d bytes with md5 %s", key, info, len(body), MD5Hex(body))
	}
	return body, info
}

func keysOf(list []port.ObjectInfo) []string {
	keys := []string{}
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	return keys
}

func list(t *testing.T, s port.ObjectStore, bucket, prefix string) []port.ObjectInfo {
	t.Helper()
	l, err := s.List(context.Background(), bucket, prefix)
	if err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	return l
}

func testRoundTrip(t *testing.T, s port.ObjectStore, bucket string) {
	keys := []string{"raw/live_streaming/b.ndjson", "raw/live_streaming/a.ndjson", "staging/live_streaming/ingest_date=2024-02-03/f.parquet", "_manifests/x/f.json"}
	bodies := map[string][]byte{}
	for i, k := range keys {
		bodies[k] = bytes.Repeat([]byte{byte('a' + i)}, 100+i)
		put(t, s, bucket, k, bodies[k])
	}
	for _, k := range keys {
		got, info := get(t, s, bucket, k)
		if !bytes.Equal(got, bodies[k]) {
			t.Errorf("Get %q = %q, want %q", k, got, bodies[k])
		}
		if info.VersionID == "" {
			t.Errorf("Get %q: empty VersionID", k)
		}
	}
	l := list(t, s, bucket, "")
	want := slices.Sorted(slices.Values(keys))
	if got := keysOf(l); !slices.Equal(got, want) {
		t.Fatalf("List all = %q, want %q", got, want)
	}
	for _, o := range l {
		if o.Bucket != bucket || o.Size != int64(len(bodies[o.Key])) || o.ETag != MD5Hex(bodies[o.Key]) || o.Modified.IsZero() {
			t.Errorf("List entry %+v", o)
		}
	}
	if err := s.Delete(context.Background(), bucket, keys[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Head(context.Background(), bucket, keys[0]); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head after Delete: err = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Get(context.Background(), bucket, keys[0]); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if got := keysOf(list(t, s, bucket, "raw/")); !slices.Equal(got, []string{keys[1]}) {
		t.Errorf("List raw/ after Delete = %q, want %q", got, keys[1:2])
	}
	if err := s.Delete(context.Background(), bucket, "raw/never/there.csv"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	// A deleted key can be written again.
	put(t, s, bucket, keys[0], []byte("again"))
	if got, _ := get(t, s, bucket, keys[0]); string(got) != "again" {
		t.Errorf("Get after re-put = %q", got)
	}
}

func testAwkwardKeys(t *testing.T, s port.ObjectStore, bucket string) {
	keys := []string{
		"raw/social_sales/a file with spaces.csv",
		"raw/social_sales/café 日本+plus%pct.json",
		"raw/social_sales/100%25 literal.csv",
		"raw/social_sales/semi;colon,comma=eq&amp'quote\".csv",
		"raw/social_sales/.hidden.csv",
		"raw/social_sales/dir marker/",
		"raw/social_sales/dir marker/inside.csv",
		"raw/social_sales/~tilde#hash.csv",
		"top-level.csv",
	}
	bodies := map[string][]byte{}
	for i, k := range keys {
		bodies[k] = []byte(k + strconv.Itoa(i))
		put(t, s, bucket, k, bodies[k])
	}
	for _, k := range keys {
		if got, _ := get(t, s, bucket, k); !bytes.Equal(got, bodies[k]) {
			t.Errorf("Get %q = %q, want %q", k, got, bodies[k])
		}
	}
	want := slices.Sorted(slices.Values(keys))
	if got := keysOf(list(t, s, bucket, "")); !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
	if got := keysOf(list(t, s, bucket, "raw/social_sales/dir marker/")); !slices.Equal(got, []string{"raw/social_sales/dir marker/", "raw/social_sales/dir marker/inside.csv"}) {
		t.Errorf("List of a directory marker's prefix = %q", got)
	}
	if got := keysOf(list(t, s, bucket, "raw/social_sales/caf")); !slices.Equal(got, []string{"raw/social_sales/café 日本+plus%pct.json"}) {
		t.Errorf("List raw/social_sales/caf = %q", got)
	}
}

func testEmptyObject(t *testing.T, s port.ObjectStore, bucket string) {
	put(t, s, bucket, "raw/empty.csv", nil)
	got, info := get(t, s, bucket, "raw/empty.csv")
	if len(got) != 0 || info.Size != 0 || info.ETag != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("empty object: %d bytes, info %+v", len(got), info)
	}
}

func testNotFound(t *testing.T, s port.ObjectStore, bucket string) {
	ctx := context.Background()
	put(t, s, bucket, "raw/here.csv", []byte("x"))
	for _, k := range []string{"raw/no such key.csv", "raw/here.csv/below", "raw/here", "raw/"} {
		if _, _, err := s.Get(ctx, bucket, k); !errors.Is(err, port.ErrNotFound) {
			t.Errorf("Get %q: err = %v, want ErrNotFound", k, err)
		}
		if _, err := s.Head(ctx, bucket, k); !errors.Is(err, port.ErrNotFound) {
			t.Errorf("Head %q: err = %v, want ErrNotFound", k, err)
		}
	}
	if _, _, err := s.Get(ctx, MissingBucket, "k"); err == nil || errors.Is(err, port.ErrNotFound) {
		t.Errorf("Get from a missing bucket: err = %v, want an error that is not ErrNotFound", err)
	}
	if _, err := s.Put(ctx, MissingBucket, "k", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Errorf("Put into a missing bucket succeeded")
	}
	if l, err := s.List(ctx, bucket, "nothing/"); err != nil || len(l) != 0 {
		t.Errorf("List of an empty prefix = %v, %v; want nothing, no error", l, err)
	}
}

func randomBody(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testUnknownSize(t *testing.T, s port.ObjectStore, bucket string) {
	body := randomBody(6<<20+12345, 1)
	info, err := s.Put(context.Background(), bucket, "raw/big unknown.bin", iotest.HalfReader(opaque{bytes.NewReader(body)}), -1)
	if err != nil {
		t.Fatalf("Put with size -1: %v", err)
	}
	if info.Size != int64(len(body)) || info.ETag != MD5Hex(body) || info.VersionID == "" {
		t.Errorf("Put info = %+v, want size %d etag %s", info, len(body), MD5Hex(body))
	}
	if got, _ := get(t, s, bucket, "raw/big unknown.bin"); !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes, want %d identical bytes", len(got), len(body))
	}
}

func testFailedPut(t *testing.T, s port.ObjectStore, bucket string) {
	boom := errors.New("boom")
	for _, size := range []int64{-1, 6} {
		key := "raw/broken" + strconv.FormatInt(size, 10) + ".bin"
		_, err := s.Put(context.Background(), bucket, key, io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), size)
		if err == nil {
			t.Errorf("Put (size %d) with a failing reader succeeded", size)
		}
		if _, err := s.Head(context.Background(), bucket, key); !errors.Is(err, port.ErrNotFound) {
			t.Errorf("Head after a failed put (size %d): err = %v, want ErrNotFound", size, err)
		}
	}
	// A failed overwrite keeps the old content.
	put(t, s, bucket, "raw/kept.csv", []byte("old"))
	if _, err := s.Put(context.Background(), bucket, "raw/kept.csv", io.MultiReader(bytes.NewReader([]byte("new")), iotest.ErrReader(boom)), 6); err == nil {
		t.Errorf("overwrite with a failing reader succeeded")
	}
	if got, _ := get(t, s, bucket, "raw/kept.csv"); string(got) != "old" {
		t.Errorf("after a failed overwrite the object holds %q, want old", got)
	}
	if got := keysOf(list(t, s, bucket, "")); !slices.Equal(got, []string{"raw/kept.csv"}) {
		t.Errorf("List after failed puts = %q", got)
	}
}

func testCanceledPut(t *testing.T, s port.ObjectStore, bucket string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, bucket, "raw/canceled.csv", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Errorf("Put with a canceled context succeeded")
	}
	if _, err := s.Head(context.Background(), bucket, "raw/canceled.csv"); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("Head after a canceled put: err = %v, want ErrNotFound", err)
	}
}

func testOverwrite(t *testing.T, s port.ObjectStore, bucket string) {
	a := put(t, s, bucket, "raw/v.csv", []byte("one"))
	b := put(t, s, bucket, "raw/v.csv", []byte("two!"))
	if a.VersionID == b.VersionID {
		t.Errorf("VersionID %q did not change when the content did", a.VersionID)
	}
	got, info := get(t, s, bucket, "raw/v.csv")
	if string(got) != "two!" || info.VersionID != b.VersionID || info.ETag != MD5Hex([]byte("two!")) {
		t.Errorf("after overwrite: body %q info %+v, want two! version %s", got, info, b.VersionID)
	}
	l := list(t, s, bucket, "raw/")
	if len(l) != 1 || l[0].Size != 4 || l[0].ETag != info.ETag {
		t.Errorf("List after overwrite = %+v, want the one latest object", l)
	}
}

func testListPrefixes(t *testing.T, s port.ObjectStore, bucket string) {
	keys := []string{
		"raw/live_streaming/2024/02/03/a.ndjson",
		"raw/live_streaming/2024/02/04/b.ndjson",
		"raw/live_streaming_old/c.ndjson",
		"raw/live.ndjson",
		"raw/video_interactions/d.csv",
		"staging/live_streaming/e.parquet",
	}
	for _, k := range keys {
		put(t, s, bucket, k, []byte(k))
	}
	tests := []struct{ prefix string }{
		{""}, {"raw/"}, {"raw/live"}, {"raw/live_streaming/"}, {"raw/live_streaming"}, {"raw/live_streaming/2024/02/0"},
		{"raw/live_streaming/2024/02/03/a.ndjson"}, {"raw/live_streaming/2024/02/03/a.ndjsonX"}, {"r"}, {"staging/"}, {"nothing"},
	}
	for _, tt := range tests {
		want := []string{}
		for _, k := range slices.Sorted(slices.Values(keys)) {
			if len(k) >= len(tt.prefix) && k[:len(tt.prefix)] == tt.prefix {
				want = append(want, k)
			}
		}
		if got := keysOf(list(t, s, bucket, tt.prefix)); !slices.Equal(got, want) {
			t.Errorf("List %q = %q, want %q", tt.prefix, got, want)
		}
	}
}

func testListMany(t *testing.T, s port.ObjectStore, bucket string) {
	const n = 1005 // more than one ListObjectsV2 page
	var want []string
	for i := range n {
		k := fmt.Sprintf("curated/part-%c/%d.parquet", 'a'+i%26, i)
		want = append(want, k)
		if _, err := s.Put(context.Background(), bucket, k, bytes.NewReader(nil), 0); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	slices.Sort(want)
	if got := keysOf(list(t, s, bucket, "curated/")); !slices.Equal(got, want) {
		t.Fatalf("List returned %d keys (sorted: %v), want %d", len(got), slices.IsSorted(got), n)
	}
}

func testConcurrent(t *testing.T, s port.ObjectStore, bucket string) {
	const writers = 8
	bodies := make([][]byte, writers)
	for i := range bodies {
		bodies[i] = randomBody(256<<10+i, uint64(i+10))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Add(2)
		go func() { // all write one key
			defer wg.Done()
			if _, err := s.Put(context.Background(), bucket, "raw/same.bin", bytes.NewReader(bodies[i]), int64(len(bodies[i]))); err != nil {
				errs <- err
			}
		}()
		go func() { // each writes its own key, in the same folder
			defer wg.Done()
			if _, err := s.Put(context.Background(), bucket, fmt.Sprintf("raw/own-%d.bin", i), bytes.NewReader(bodies[i]), -1); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	got, info := get(t, s, bucket, "raw/same.bin")
	whole := false
	for _, b := range bodies {
		whole = whole || bytes.Equal(got, b)
	}
	if !whole {
		t.Errorf("raw/same.bin holds %d bytes (etag %s) that are none of the bodies written: a torn write", len(got), info.ETag)
	}
	for i := range writers {
		k := fmt.Sprintf("raw/own-%d.bin", i)
		if b, _ := get(t, s, bucket, k); !bytes.Equal(b, bodies[i]) {
			t.Errorf("%s: %d bytes, want its own %d", k, len(b), len(bodies[i]))
		}
	}
	if l := list(t, s, bucket, "raw/"); len(l) != writers+1 {
		t.Errorf("List after concurrent puts: %d objects, want %d: %q", len(l), writers+1, keysOf(l))
	}
}

// testStreamedGet reads an object in small pieces and closes it early.
func testStreamedGet(t *testing.T, s port.ObjectStore, bucket string) {
	body := randomBody(512<<10, 3)
	put(t, s, bucket, "raw/stream.bin", body)
	rc, _, err := s.Get(context.Background(), bucket, "raw/stream.bin")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatalf("reading the first 1000 bytes: %v", err)
	}
	if !bytes.Equal(buf, body[:1000]) {
		t.Errorf("first 1000 bytes differ")
	}
	if err := rc.Close(); err != nil {
		t.Errorf("closing a partly read body: %v", err)
	}
	rc, _, err = s.Get(context.Background(), bucket, "raw/stream.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := iotest.TestReader(rc, body); err != nil {
		t.Errorf("streamed body: %v", err)
	}
}
