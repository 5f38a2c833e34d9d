package batch_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
)

// syncBuffer is a log sink tests read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// memEnv is an Env on the in-memory store, its log kept in logs.
func memEnv(t *testing.T, store port.ObjectStore) (*batch.Env, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	return &batch.Env{
		Store: store, Dedupe: memory.NewDedupe(), TempDir: t.TempDir(),
		Buckets: port.Buckets{Raw: "raw", Staging: "staging", Curated: "curated", Quarantine: "quarantine"},
		Log:     slog.New(slog.NewTextHandler(logs, nil)),
	}, logs
}

func putRaw(t *testing.T, store port.ObjectStore, key string, body []byte) port.FileDrop {
	t.Helper()
	info, err := store.Put(t.Context(), "raw", key, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	return port.FileDrop{Bucket: "raw", Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}
}

// cleanBoth runs Clean on the whole file and Split + CleanChunk on it (tiny
// chunks), returning the first error of each.
func cleanBoth(t *testing.T, env *batch.Env, drop port.FileDrop) (whole, split error) {
	t.Helper()
	ctx := t.Context()
	_, whole = batch.Clean(ctx, env, drop)
	sr, err := batch.Split(ctx, env, drop, 64)
	if err != nil {
		return whole, err
	}
	for _, ch := range sr.Chunks {
		if _, err := batch.CleanChunk(ctx, env, sr.File, ch); err != nil {
			return whole, err
		}
	}
	return whole, nil
}

// TestWrongDatasetIsRefused: a file whose header has none of its dataset's
// critical columns is refused as a file, permanently, naming what is
// missing; a file with some of them is read record by record.
func TestWrongDatasetIsRefused(t *testing.T) {
	store := memory.NewObjects()
	env, _ := memEnv(t, store)
	var pq bytes.Buffer
	type appUser struct {
		UserID  string `parquet:"user_id"`
		Country string `parquet:"country"`
	}
	if err := parquet.Write(&pq, []appUser{{"u1", "IN"}}); err != nil {
		t.Fatal(err)
	}
	appUsers := "user_id,country,age\n" + strings.Repeat("u1,IN,30\n", 50)
	for _, tc := range []struct {
		key  string
		body []byte
	}{
		{"raw/video_interactions/app_users.csv", []byte(appUsers)},
		{"raw/video_interactions/app_users.csv.gz", gzipped(t, []byte(appUsers))},
		{"raw/video_interactions/header_only.csv", []byte("user_id,country\n")},
		{"raw/video_interactions/app_users.parquet", pq.Bytes()},
	} {
		t.Run(tc.key, func(t *testing.T) {
			drop := putRaw(t, store, tc.key, tc.body)
			whole, split := cleanBoth(t, env, drop)
			for _, err := range []error{whole, split} {
				if !errors.Is(err, port.ErrWrongDataset) || !errors.Is(err, port.ErrNotADataset) {
					t.Fatalf("got %v, want ErrWrongDataset", err)
				}
				if !strings.Contains(err.Error(), "none of video_interactions's critical columns (missing UserID, Video_ID)") {
					t.Errorf("reason %q does not name the missing columns", err)
				}
				if got := handlers.ErrorName(err); got != handlers.ErrorNotADataset || !handlers.Permanent(err) {
					t.Errorf("ErrorName %q, permanent %v: want NotADataset, permanent", got, handlers.Permanent(err))
				}
			}
		})
	}
	// One critical column of two: the file is of the dataset, its records
	// are rejected one by one for the other.
	drop := putRaw(t, store, "raw/video_interactions/half.csv", []byte("UserID,Age\nu1,30\nu2,31\n"))
	m, err := batch.Clean(t.Context(), env, drop)
	if err != nil {
		t.Fatal(err)
	}
	if want := (port.Counts{Received: 2, Rejected: 2}); m.Counts != want {
		t.Errorf("counts %s, want %s", m.Counts, want)
	}
}

// TestEmptyFileIsReportedEmpty: a file with no records is counted all zero,
// said to be empty in the log, and leaves no staging, rejects or curated
// files behind.
func TestEmptyFileIsReportedEmpty(t *testing.T) {
	for _, tc := range []struct {
		key  string
		body []byte
	}{
		{"raw/video_interactions/zero.csv", nil},
		{"raw/video_interactions/header.csv", []byte("UserID,Video_ID,Age\r\n")},
		{"raw/video_interactions/header.csv.gz", gzipped(t, []byte("UserID,Video_ID\n\n\n"))},
		{"raw/live_streaming/zero.ndjson", nil},
		{"raw/live_streaming/blank.ndjson", []byte("\n  \n\r\n")},
		{"raw/live_streaming/zero.ndjson.gz", gzipped(t, []byte(""))},
	} {
		t.Run(tc.key, func(t *testing.T) {
			store := memory.NewObjects()
			env, logs := memEnv(t, store)
			ctx := t.Context()
			drop := putRaw(t, store, tc.key, tc.body)
			m, err := batch.Clean(ctx, env, drop)
			if err != nil {
				t.Fatal(err)
			}
			if m.Counts != (port.Counts{}) || len(m.StagingKeys) != 0 || m.QuarantineKey != "" {
				t.Errorf("manifest counts %s, staging %v, rejects %q: want all zero and none", m.Counts, m.StagingKeys, m.QuarantineKey)
			}
			if !strings.Contains(logs.String(), `msg="empty file: no records"`) {
				t.Errorf("no empty-file line in the log:\n%s", logs)
			}
			m, err = batch.Model(ctx, env, m)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Curated) != 0 {
				t.Errorf("Model wrote %d curated outputs for an empty file: %+v", len(m.Curated), m.Curated)
			}
			for _, b := range []string{"staging", "curated", "quarantine"} {
				objs, err := store.List(ctx, b, "")
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					if !strings.HasPrefix(o.Key, "_manifests/") {
						t.Errorf("s3://%s/%s written for an empty file", b, o.Key)
					}
				}
			}
		})
	}
}

// failingStore is the in-memory store whose bodies fail after a number of
// bytes, as a network read would.
type failingStore struct {
	port.ObjectStore
	after int
	err   error
}

func (s *failingStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	body, info, err := s.ObjectStore.Get(ctx, bucket, key)
	if err != nil || bucket != "raw" {
		return body, info, err
	}
	b, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return nil, info, err
	}
	return io.NopCloser(io.MultiReader(bytes.NewReader(b[:min(s.after, len(b))]), errReader{s.err})), info, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestReadErrorsAreSorted: a corrupt file is ErrUnreadable (permanent); a
// read of the store failing mid-file is not, and comes out as it was.
func TestReadErrorsAreSorted(t *testing.T) {
	var lines strings.Builder
	for i := range 3000 {
		lines.WriteString(`{"UserID":"u` + strings.Repeat("x", i%7) + `","EventID":1,"EventTime":"2024-01-01T00:00:00Z"}` + "\n")
	}
	z := gzipped(t, []byte(lines.String()))
	t.Run("corrupt", func(t *testing.T) {
		store := memory.NewObjects()
		env, _ := memEnv(t, store)
		for key, body := range map[string][]byte{
			"raw/live_streaming/truncated.ndjson.gz": z[:len(z)/2],
			"raw/live_streaming/damaged.ndjson.gz":   append(append([]byte{}, z[:30]...), bytes.Repeat([]byte{0xff}, 200)...),
			"raw/community_interactions/bad.parquet": []byte("PAR1 this is not parquet PAR1"),
			"raw/video_interactions/bad-header.csv":  []byte("UserID,\"Video_ID\"x\n1,2\n"),
		} {
			drop := putRaw(t, store, key, body)
			whole, split := cleanBoth(t, env, drop)
			for _, err := range []error{whole, split} {
				if !errors.Is(err, port.ErrUnreadable) || !errors.Is(err, record.ErrCorrupt) || handlers.ErrorName(err) != handlers.ErrorNotADataset {
					t.Errorf("%s: got %v (%s), want ErrUnreadable named NotADataset", key, err, handlers.ErrorName(err))
				}
			}
		}
	})
	t.Run("transient", func(t *testing.T) {
		reset := errors.New("read tcp: connection reset by peer")
		store := &failingStore{ObjectStore: memory.NewObjects(), after: 1000, err: reset}
		env, _ := memEnv(t, store)
		for _, tc := range []struct {
			key  string
			body []byte
			err  error
		}{
			{"raw/live_streaming/a.ndjson", []byte(lines.String()), reset},
			{"raw/live_streaming/a.ndjson.gz", z, reset},
			{"raw/live_streaming/b.ndjson.gz", z, io.ErrUnexpectedEOF}, // a body cut short by the network
		} {
			store.err = tc.err
			drop := putRaw(t, store, tc.key, tc.body)
			whole, split := cleanBoth(t, env, drop)
			for _, err := range []error{whole, split} {
				if err == nil || errors.Is(err, port.ErrNotADataset) || !errors.Is(err, tc.err) || handlers.Permanent(err) {
					t.Errorf("%s: got %v (%s), want the store's error, not permanent", tc.key, err, handlers.ErrorName(err))
				}
			}
			// The files hold the same records: give this one up (as its
			// quarantine would) so its claims do not hold the next one's.
			if err := env.Dedupe.Abort(context.Background(), batch.Origin(drop)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
