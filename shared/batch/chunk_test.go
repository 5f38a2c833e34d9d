package batch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

// chunkFixture is one S3 server holding two independent sets of buckets
// ("whole" and "split"), each with its own dedupe store, so a file can be
// cleaned whole in one and chunk by chunk in the other.
type chunkFixture struct {
	store        *s3store.Store
	whole, split *batch.Env
}

func newChunkFixture(t *testing.T) *chunkFixture {
	t.Helper()
	ctx := t.Context()
	srv, err := s3local.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	store := s3store.New(client)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(name string) *batch.Env {
		b := port.Buckets{Raw: "raw", Staging: name + "-staging", Curated: name + "-curated", Quarantine: name + "-quarantine"}
		if err := srv.CreateBuckets(ctx, b.Staging, b.Curated, b.Quarantine); err != nil {
			t.Fatal(err)
		}
		return &batch.Env{Store: store, Dedupe: memory.NewDedupe(), Buckets: b, TempDir: t.TempDir(), Log: quiet}
	}
	if err := srv.CreateBuckets(ctx, "raw"); err != nil {
		t.Fatal(err)
	}
	return &chunkFixture{store: store, whole: env("whole"), split: env("split")}
}

func (f *chunkFixture) put(t *testing.T, key string, body []byte) port.FileDrop {
	t.Helper()
	info, err := f.store.Put(t.Context(), "raw", key, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	return port.FileDrop{Bucket: "raw", Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}
}

// cleanSplit runs Split, CleanChunk for each chunk in the given order and
// Combine, as the batch workflow's Distributed Map does.
func cleanSplit(t *testing.T, env *batch.Env, drop port.FileDrop, chunkBytes int64, reverse bool) (*batch.Manifest, []batch.Chunk) {
	t.Helper()
	ctx := t.Context()
	sr, err := batch.Split(ctx, env, drop, chunkBytes)
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(sr.Chunks))
	for i := range order {
		order[i] = i
		if reverse {
			order[i] = len(order) - 1 - i
		}
	}
	for _, i := range order {
		if _, err := batch.CleanChunk(ctx, env, sr.File, sr.Chunks[i]); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	m, err := batch.Combine(ctx, env, sr.File, len(sr.Chunks))
	if err != nil {
		t.Fatal(err)
	}
	return m, sr.Chunks
}

// curatedRows reads every curated Parquet output of a manifest into sorted
// text lines, table by table.
func curatedRows(t *testing.T, env *batch.Env, m *batch.Manifest) string {
	t.Helper()
	ctx := t.Context()
	var out []string
	for _, o := range m.Curated {
		var schema *table.Schema
		for _, s := range dataset.Tables() {
			if s.Name == o.Table {
				schema = s
			}
		}
		body, info, err := env.Store.Get(ctx, env.Buckets.Curated, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			t.Fatal(err)
		}
		rd, err := table.OpenParquetRows(bytes.NewReader(data), info.Size, *schema)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]table.Row, 64)
		for i := range buf {
			buf[i] = make(table.Row, len(schema.Columns))
		}
		for {
			n, err := rd.Read(buf)
			for _, r := range buf[:n] {
				out = append(out, fmt.Sprintf("%s %v", o.Table, r))
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// smallRowGroups rewrites a Parquet file with at most rows rows per row group.
func smallRowGroups(t *testing.T, data []byte, rows int64) []byte {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := parquet.NewWriter(&out, f.Schema(), parquet.MaxRowsPerRowGroup(rows))
	for _, rg := range f.RowGroups() {
		if _, err := parquet.CopyRows(w, rg.Rows()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestChunkedCleanMatchesWhole cleans every generated batch file whole and
// split into small chunks: the counts are the generator's truth both ways,
// and Model writes exactly the same curated rows from both.
func TestChunkedCleanMatchesWhole(t *testing.T) {
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 11, Rows: 400})
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		key   string
		body  []byte
		truth *batchgen.Truth
	}
	var files []file
	for _, tr := range truths {
		body, err := os.ReadFile(filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		key := "raw/" + tr.Dataset + "/" + tr.Name
		if strings.HasSuffix(tr.Name, ".parquet") {
			body = smallRowGroups(t, body, 37)
		}
		files = append(files, file{key, body, tr})
		if strings.HasSuffix(tr.Name, ".csv") && tr.Dataset == "video_interactions" {
			files = append(files, file{key + ".gz", gzipped(t, body), tr})
		}
	}
	for _, f := range files {
		t.Run(f.key, func(t *testing.T) {
			ctx := t.Context()
			fx := newChunkFixture(t)
			drop := fx.put(t, f.key, f.body)
			whole, err := batch.Clean(ctx, fx.whole, drop)
			if err != nil {
				t.Fatal(err)
			}
			split, chunks := cleanSplit(t, fx.split, drop, int64(len(f.body)/6+1), false)
			if len(chunks) < 4 {
				t.Fatalf("%d chunks; the test wants at least 4", len(chunks))
			}
			tr := f.truth
			want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
			if whole.Counts != want {
				t.Errorf("whole: %s; want %s", whole.Counts, want)
			}
			if split.Counts != want {
				t.Errorf("split into %d: %s; want %s", len(chunks), split.Counts, want)
			}
			if split.Chunks != len(chunks) {
				t.Errorf("combined manifest: %d chunks, want %d", split.Chunks, len(chunks))
			}
			mw, err := batch.Model(ctx, fx.whole, whole)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := batch.Model(ctx, fx.split, split)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := curatedRows(t, fx.whole, mw), curatedRows(t, fx.split, ms); a != b {
				t.Errorf("curated rows differ between the whole and the split file:\n%s", firstDiff(a, b))
			}
		})
	}
}

// TestChunkRetryIsHarmless: a chunk cleaned again (Step Functions retried
// it, or the whole file ran twice) changes no count and no output.
func TestChunkRetryIsHarmless(t *testing.T) {
	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 12, Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	var tr *batchgen.Truth
	for _, x := range truths {
		if x.Name == "live_streaming.ndjson" {
			tr = x
		}
	}
	body, err := os.ReadFile(filepath.Join(dir, tr.Name))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fx := newChunkFixture(t)
	drop := fx.put(t, "raw/live_streaming/"+tr.Name, body)
	first, chunks := cleanSplit(t, fx.split, drop, 4096, false)
	for _, i := range []int{1, 0, len(chunks) - 1} {
		again, err := batch.CleanChunk(ctx, fx.split, first.Source, chunks[i])
		if err != nil {
			t.Fatal(err)
		}
		if again.Counts.Duplicate != 0 && tr.Duplicate == 0 {
			t.Errorf("chunk %d again: %s", i, again.Counts)
		}
	}
	second, err := batch.Combine(ctx, fx.split, first.Source, len(chunks))
	if err != nil {
		t.Fatal(err)
	}
	if second.Counts != first.Counts || strings.Join(second.StagingKeys, ",") != strings.Join(first.StagingKeys, ",") {
		t.Errorf("after retried chunks: %s %v; first run %s %v", second.Counts, second.StagingKeys, first.Counts, first.StagingKeys)
	}
	// A whole second run of the same version: every key is claimed again by
	// its own origin, so nothing turns into a duplicate.
	third, _ := cleanSplit(t, fx.split, drop, 4096, true)
	if third.Counts != first.Counts {
		t.Errorf("second run: %s; first %s", third.Counts, first.Counts)
	}
	// Combine before every chunk is done names the missing chunk.
	fx2 := newChunkFixture(t)
	drop2 := fx2.put(t, drop.Key, body)
	// Chunks cleaned in any order (a Distributed Map runs them at once)
	// still add up to the generator's truth: which of two records with the
	// same key is kept may change, how many are kept does not.
	rev, _ := cleanSplit(t, fx2.whole, drop2, 4096, true)
	want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
	if rev.Counts != want {
		t.Errorf("chunks in reverse order: %s; want %s", rev.Counts, want)
	}
	sr, err := batch.Split(ctx, fx2.split, drop2, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := batch.CleanChunk(ctx, fx2.split, sr.File, sr.Chunks[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Combine(ctx, fx2.split, sr.File, len(sr.Chunks)); err == nil || !strings.Contains(err.Error(), "chunk 1 of") {
		t.Errorf("combine with chunks missing: %v", err)
	}
}

func firstDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] != y[i] {
			return fmt.Sprintf("line %d:\n whole %s\n split %s", i+1, x[i], y[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(x), len(y))
}
