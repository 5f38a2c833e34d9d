package memory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/dedupetest"
)

func TestDedupeConformance(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		return NewDedupeWith(DedupeOptions{TTL: dedupetest.TTL, Now: clock.Now})
	})
}

func TestFileDedupeConformance(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		d, err := OpenDedupe(filepath.Join(t.TempDir(), "dedupe.jsonl"), DedupeOptions{TTL: dedupetest.TTL, Now: clock.Now})
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

// TestFileDedupeConformanceAcrossReopen runs the suite on a store that is
// closed and opened again (from its file) before every call, so every
// state the suite reaches must survive a restart.
func TestFileDedupeConformanceAcrossReopen(t *testing.T) {
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		return &reopening{t: t, path: filepath.Join(t.TempDir(), "dedupe.jsonl"), opts: DedupeOptions{TTL: dedupetest.TTL, Now: clock.Now}}
	})
}

// reopening opens the store for each call and closes it after.
type reopening struct {
	mu   sync.Mutex
	t    *testing.T
	path string
	opts DedupeOptions
}

func (r *reopening) with(fn func(d *Dedupe) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := OpenDedupe(r.path, r.opts)
	if err != nil {
		return err
	}
	err = fn(d)
	if cerr := d.Close(); cerr != nil {
		r.t.Fatal(cerr)
	}
	return err
}

func (r *reopening) Begin(ctx context.Context, txn string, deadline time.Time) error {
	return r.with(func(d *Dedupe) error { return d.Begin(ctx, txn, deadline) })
}

func (r *reopening) Claim(ctx context.Context, ns, txn string, claims []port.Claim) (out []port.Outcome, err error) {
	err = r.with(func(d *Dedupe) error { out, err = d.Claim(ctx, ns, txn, claims); return err })
	return out, err
}

func (r *reopening) Commit(ctx context.Context, txn string) error {
	return r.with(func(d *Dedupe) error { return d.Commit(ctx, txn) })
}

func (r *reopening) Abort(ctx context.Context, txn string) error {
	return r.with(func(d *Dedupe) error { return d.Abort(ctx, txn) })
}

func (r *reopening) State(ctx context.Context, txn string) (st port.TxnState, err error) {
	err = r.with(func(d *Dedupe) error { st, err = d.State(ctx, txn); return err })
	return st, err
}

func mustClaim(t *testing.T, d port.Dedupe, ns, txn string, claims []port.Claim, want ...port.Outcome) {
	t.Helper()
	got, err := d.Claim(context.Background(), ns, txn, claims)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Claim(%v) = %v, want %v", claims, got, want)
	}
}

func TestOpenDedupeReadsOldFiles(t *testing.T) {
	// A file written before transactions existed: its claims count as committed.
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	if err := os.WriteFile(path, []byte("[\"ns\",\"a\",\"o1\"]\n[\"ns\",\"b\\n\\\"#\",\"o2\"]\n[\"other\",\"a\",\"o9\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	mustClaim(t, d, "ns", "T", []port.Claim{{Key: "a", Origin: "o1"}, {Key: "a", Origin: "o3"}, {Key: "b\n\"#", Origin: "o2"}, {Key: "c", Origin: "o4"}},
		port.Retry, port.Duplicate, port.Retry, port.Fresh)
	mustClaim(t, d, "other", "T", []port.Claim{{Key: "a", Origin: "o1"}}, port.Duplicate)
}

func TestOpenDedupeDropsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	d, err := OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "ns", "T", []port.Claim{{Key: "a", Origin: "o1"}}, port.Fresh)
	if err := d.Commit(context.Background(), "T"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`["c","00112233`); err != nil { // a crash mid-append
		t.Fatal(err)
	}
	f.Close()
	d, err = OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "ns", "U", []port.Claim{{Key: "a", Origin: "o1"}, {Key: "a", Origin: "o7"}, {Key: "b", Origin: "o8"}},
		port.Retry, port.Duplicate, port.Fresh)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if data[len(data)-1] != '\n' {
		t.Fatalf("file does not end with a whole line: %q", data)
	}
}

func TestOpenDedupeRejectsCorruptLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	if err := os.WriteFile(path, []byte("[\"ns\",\"a\",\"o1\"]\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDedupe(path, DedupeOptions{}); err == nil {
		t.Fatal("OpenDedupe of a corrupt file: no error")
	}
}

func TestOpenDedupeIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	d, err := OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := OpenDedupe(path, DedupeOptions{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("second OpenDedupe: %v, want ErrInUse", err)
	}
}

// TestUnfinishedAfterCrash: a process that began two files and committed
// one died; the next one is told which is unfinished.
func TestUnfinishedAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	ctx := context.Background()
	d, err := OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, txn := range []string{"s3://raw/a@1", "s3://raw/b@1", "s3://raw/c@1"} {
		if err := d.Begin(ctx, txn, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Commit(ctx, "s3://raw/a@1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Abort(ctx, "s3://raw/c@1"); err != nil {
		t.Fatal(err)
	}
	if got := d.Unfinished(); len(got) != 0 {
		t.Fatalf("Unfinished of a fresh store = %v", got)
	}
	d.file.Close() // die without Close
	d, err = OpenDedupe(path, DedupeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, want := d.Unfinished(), []string{"s3://raw/b@1"}; !slices.Equal(got, want) {
		t.Fatalf("Unfinished = %v, want %v", got, want)
	}
}

// TestDedupeMemoryBoundedByTTL: with a TTL, claims older than it are
// forgotten and the file is compacted, so a long run stays bounded.
func TestDedupeMemoryBoundedByTTL(t *testing.T) {
	ctx := context.Background()
	clock := dedupetest.NewClock()
	path := filepath.Join(t.TempDir(), "dedupe.jsonl")
	d, err := OpenDedupe(path, DedupeOptions{TTL: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const perSecond = 2000
	for s := 0; s < 600; s++ { // ten minutes at 2,000 claims/s
		txn := fmt.Sprintf("batch-%d", s)
		if err := d.Begin(ctx, txn, clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		claims := make([]port.Claim, perSecond)
		for i := range claims {
			claims[i] = port.Claim{Key: fmt.Sprintf("k-%d-%d", s, i), Origin: fmt.Sprintf("t/0/%d", s*perSecond+i)}
		}
		if _, err := d.Claim(ctx, "ns", txn, claims); err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(ctx, txn); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if n := d.Len(); n > 61*perSecond {
		t.Fatalf("Len = %d after 10 minutes with a 1-minute TTL, want at most %d", n, 61*perSecond)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A live claim line is about 80 bytes; the file holds at most the live
	// claims three times over (it is compacted at twice, plus slack).
	if max := int64(3*61*perSecond*90 + 100_000*90); st.Size() > max {
		t.Fatalf("file is %d bytes after 10 minutes with a 1-minute TTL, want at most %d", st.Size(), max)
	}
	// An expired claim is forgotten: its record is fresh again.
	mustClaim(t, d, "ns", "late", []port.Claim{{Key: "k-0-0", Origin: "t/9/9"}, {Key: "k-599-0", Origin: "t/9/8"}},
		port.Fresh, port.Duplicate)
}
