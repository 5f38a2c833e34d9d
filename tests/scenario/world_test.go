package scenario

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
)

var ctx = context.Background()

// The file every batch cell delivers: live_streaming NDJSON, gzipped, under
// one key, in the versions an operator meets.
const (
	dataset = "live_streaming"
	name    = "live.ndjson.gz"
)

// versions are the contents the cells upload under the key.
type versions struct {
	v1      []byte // batchgen's dirty file: rejects, duplicates, a malformed line
	trunc   []byte // v1 cut short (a truncated upload): the gzip stream ends early
	fixed   []byte // the operator's corrected file: the malformed line repaired, 10 records removed, 5 added
	lines   int    // records in v1
	fixedN  int    // records in fixed
	fixedAt int    // the line index of the repaired record
}

var files = sync.OnceValues(func() (*versions, error) {
	var raw bytes.Buffer
	if _, err := batchgen.Live(&raw, batchgen.Options{Seed: 11, Rows: 300, Users: 60, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)}); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(raw.String(), "\n"), "\n")
	v := &versions{v1: gz(raw.Bytes()), lines: len(lines)}
	v.trunc = v.v1[:len(v.v1)*2/3]
	// The correction: the malformed line (batchgen writes one, cut short)
	// becomes a whole record, the last ten records are withdrawn, and five
	// new ones are added.
	fixed := slices.Clone(lines[:len(lines)-10])
	for i, l := range fixed {
		if !json.Valid([]byte(l)) {
			fixed[i] = `{"UserID": "u00001", "EventID": 9001, "Platform": "YouTube", "EventType": "start", "DeviceType": "Mobile", "StreamDuration": 12.5, "LiveEngagement": 40, "ViewerCount": 3, "AddictionLevel": 2, "WatchTime": "9:00 PM", "Age": 30, "Gender": "F", "Location": "Brazil", "Timestamp": "2024-02-03T05:00:00Z"}`
			v.fixedAt = i
		}
	}
	for i := range 5 {
		fixed = append(fixed, fmt.Sprintf(`{"UserID": "u%05d", "EventID": %d, "Platform": "Twitch", "EventType": "start", "DeviceType": "Desktop", "StreamDuration": 30, "LiveEngagement": 10, "ViewerCount": 7, "AddictionLevel": 1, "WatchTime": "8:00 AM", "Age": 25, "Gender": "M", "Location": "India", "Timestamp": "2024-02-03T06:0%d:00Z"}`, 70+i, 9100+i, i))
	}
	v.fixed, v.fixedN = gz([]byte(strings.Join(fixed, "\n")+"\n")), len(fixed)
	return v, nil
})

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	_, _ = w.Write(b) // into a bytes.Buffer: cannot fail
	_ = w.Close()
	return out.Bytes()
}

// faults are the failures a world injects. Each crash fires once.
type faults struct {
	mu              sync.Mutex
	crashAfter      string // a workflow step: the process dies right after it ran
	crashAt         string // a point inside Load (batch.FailLoad*)
	rawReadFailures int    // this many reads of raw objects break off midway...
	breakAfter      int    // ...after this many bytes
	loadDown        bool   // the warehouse refuses loads
}

func (f *faults) after(step string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashAfter != "" && step == f.crashAfter {
		f.crashAfter = ""
		return fmt.Errorf("process killed after %s: %w", step, stack.ErrCrash)
	}
	return nil
}

func (f *faults) point(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashAt != "" && p == f.crashAt {
		f.crashAt = ""
		return fmt.Errorf("process killed at %s: %w", p, stack.ErrCrash)
	}
	return nil
}

func (f *faults) takeRawFailure() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rawReadFailures > 0 {
		f.rawReadFailures--
		return true
	}
	return false
}

func (f *faults) down() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loadDown
}

// flakyStore breaks reads of raw objects off midway, as a connection
// reset mid-download does.
type flakyStore struct {
	port.ObjectStore
	f *faults
}

var errReset = errors.New("read tcp 127.0.0.1:9000: connection reset by peer (injected)")

func (s *flakyStore) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	body, info, err := s.ObjectStore.Get(ctx, bucket, key)
	if err == nil && bucket == stack.Buckets.Raw && s.f.takeRawFailure() {
		return &breakingBody{ReadCloser: body, left: s.f.breakAfter}, info, nil
	}
	return body, info, err
}

type breakingBody struct {
	io.ReadCloser
	left int
}

func (b *breakingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errReset
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}

// downWarehouse refuses loads while the faults say the warehouse is down.
type downWarehouse struct {
	port.Warehouse
	f *faults
}

func (w *downWarehouse) BeginLoad(ctx context.Context) (port.Loader, error) {
	if w.f.down() {
		return nil, errors.New("dial tcp: warehouse unavailable (injected)")
	}
	return w.Warehouse.BeginLoad(ctx)
}

// world is one local stack on one data folder, restarted as a person would.
type world struct {
	t  *testing.T
	di string
	st *stack.Stack
	f  *faults
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, di: t.TempDir(), f: &faults{}}
	w.start()
	t.Cleanup(func() {
		if w.st != nil {
			w.st.Close()
		}
	})
	return w
}

func (w *world) start() {
	w.t.Helper()
	st, err := stack.Start(ctx, stack.Options{Dir: w.di, Retries: 2, Backoff: time.Millisecond,
		FailpointAfter: w.f.after, Failpoint: w.f.point})
	if err != nil {
		w.t.Fatal(err)
	}
	st.Env.Store = &flakyStore{ObjectStore: st.Env.Store, f: w.f}
	// Claims in batches of 50: a Clean that fails midway has claimed keys
	// (as one of 20,000 records failing after 11,000 has, at 1,000 a batch).
	st.Env.ClaimBatch = 50
	st.Env.Warehouse = &downWarehouse{Warehouse: st.Env.Warehouse, f: w.f}
	w.st = st
}

// restart stops the stack and starts it again on its data folder, as after
// `pulse demo` or `pulse drop` was killed and run again.
func (w *world) restart() {
	w.t.Helper()
	if err := w.st.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.st = nil
	w.start()
}

func (w *world) drop(body []byte) stack.Run {
	w.t.Helper()
	run, err := w.st.Drop(ctx, dataset, name, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		w.t.Fatal(err)
	}
	return run
}

// redeliver sends the notification of run's upload again (S3 delivers at
// least once).
func (w *world) redeliver(run stack.Run) {
	w.t.Helper()
	if _, err := w.st.Trigger.Handle(ctx, awsevents.NewS3Event(run.Drop, s3local.Region)); err != nil {
		w.t.Fatal(err)
	}
}

// skipped columns hold the processing time or a version's name, which no
// two runs share; everything else is compared.
var skipped = map[string]bool{
	"INGESTION_TIMESTAMP": true, "UPDATED_AT": true, "COMPUTED_AT": true, "STARTED_AT": true,
	"FINISHED_AT": true, "RUN_AT": true, "REJECTED_AT": true, "FILE_ID": true,
}

// snapshot is what a world's warehouse and quarantine hold, in the form
// two runs can be compared in.
type snapshot struct {
	tables      map[string][]string // table -> sorted rows
	given       []string            // manifests of work given up (quarantined, abandoned)
	quarantined []string            // record-level rejects awaiting replay, by reject id
}

func (w *world) snapshot() snapshot {
	w.t.Helper()
	s := snapshot{tables: map[string][]string{}}
	for _, t := range batch.Schemas() {
		if t.Name == star.DataTests.Name {
			continue // results of data tests, by file version
		}
		cols, rows, err := w.st.Warehouse.Query(ctx, "SELECT * FROM "+t.Name)
		if err != nil {
			w.t.Fatalf("%s: %v", t.Name, err)
		}
		for _, r := range rows {
			var parts []string
			status := ""
			for i, c := range cols {
				if c == "STATUS" {
					status = fmt.Sprint(r[i])
				}
				if !skipped[c] {
					parts = append(parts, fmt.Sprintf("%s=%v", c, r[i]))
				}
			}
			line := strings.Join(parts, " ")
			if t.Name == star.Manifests.Name && (strings.HasPrefix(status, "quarantined") || strings.HasPrefix(status, "abandoned")) {
				s.given = append(s.given, line)
				continue
			}
			s.tables[t.Name] = append(s.tables[t.Name], line)
		}
		sort.Strings(s.tables[t.Name])
	}
	sort.Strings(s.given)
	objs, err := w.st.Env.Store.List(ctx, stack.Buckets.Quarantine, dataset+"/")
	if err != nil {
		w.t.Fatal(err)
	}
	for _, o := range objs {
		body, _, err := w.st.Env.Store.Get(ctx, stack.Buckets.Quarantine, o.Key)
		if err != nil {
			w.t.Fatal(err)
		}
		sc := bufio.NewScanner(body)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var q port.QuarantineRecord
			if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
				w.t.Fatal(err)
			}
			s.quarantined = append(s.quarantined, port.RejectID(q))
		}
		body.Close()
	}
	sort.Strings(s.quarantined)
	return s
}

// same fails the test unless got holds exactly what want holds.
func same(t *testing.T, got, want snapshot) {
	t.Helper()
	names := map[string]bool{}
	for n := range got.tables {
		names[n] = true
	}
	for n := range want.tables {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		g, w := got.tables[n], want.tables[n]
		if slices.Equal(g, w) {
			continue
		}
		t.Errorf("%s: %d rows, one clean run has %d", n, len(g), len(w))
		extra, missing := diff(g, w)
		for i, r := range extra {
			if i == 3 {
				t.Errorf("  ... %d more extra", len(extra)-3)
				break
			}
			t.Errorf("  extra:   %.300s", r)
		}
		for i, r := range missing {
			if i == 3 {
				t.Errorf("  ... %d more missing", len(missing)-3)
				break
			}
			t.Errorf("  missing: %.300s", r)
		}
	}
	if !slices.Equal(got.quarantined, want.quarantined) {
		extra, missing := diff(got.quarantined, want.quarantined)
		t.Errorf("record rejects awaiting replay: %d, one clean run has %d (%d extra, %d missing)", len(got.quarantined), len(want.quarantined), len(extra), len(missing))
	}
}

// diff returns the rows of a not in b and of b not in a (multisets).
func diff(a, b []string) (extra, missing []string) {
	count := map[string]int{}
	for _, r := range b {
		count[r]++
	}
	for _, r := range a {
		if count[r] > 0 {
			count[r]--
			continue
		}
		extra = append(extra, r)
	}
	for _, r := range b {
		if count[r] > 0 {
			count[r]--
			missing = append(missing, r)
		}
	}
	return extra, missing
}

// cleanRuns caches the snapshot of one clean run over each final input.
var cleanRuns sync.Map // key -> *cleanRun

type cleanRun struct {
	once sync.Once
	s    snapshot
}

// clean is one clean run over the final input: the versions uploaded in
// order on a fresh data folder, nothing failing.
func clean(t *testing.T, input ...[]byte) snapshot {
	t.Helper()
	var key strings.Builder
	for _, b := range input {
		fmt.Fprintf(&key, "%x;", b[len(b)-16:])
	}
	v, _ := cleanRuns.LoadOrStore(key.String(), &cleanRun{})
	c := v.(*cleanRun)
	c.once.Do(func() {
		w := newWorld(t)
		for _, b := range input {
			if run := w.drop(b); run.Err != nil {
				t.Fatalf("clean run: %v", run.Err)
			}
		}
		c.s = w.snapshot()
	})
	return c.s
}
