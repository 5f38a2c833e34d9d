// Package costfigures measures the per-event, per-batch and per-file
// resource figures of shared/cost's model (cost.Figures) by running the
// real stream and batch code over in-process stores wrapped in counters,
// and checks that the figures committed in shared/cost are the ones
// measured: a change that moves a figure fails here until shared/cost is
// updated with it. Run with -v to see every measured figure.
package costfigures

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
	"github.com/pulse-analytics/pulse/shared/window"
)

// objects counts the ObjectStore calls (one S3 request each: the S3
// adapter sends a body under its multipart threshold in one PUT).
type objects struct {
	port.ObjectStore
	mu                       sync.Mutex
	puts, gets, heads, lists int
	deletes                  int
	putBytes                 map[string]int64 // by bucket
	putsBy                   map[string]int   // by bucket
}

func newObjects(inner port.ObjectStore) *objects {
	return &objects{ObjectStore: inner, putBytes: map[string]int64{}, putsBy: map[string]int{}}
}

func (o *objects) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return port.ObjectInfo{}, err
	}
	o.mu.Lock()
	o.puts++
	o.putsBy[bucket]++
	o.putBytes[bucket] += int64(len(b))
	o.mu.Unlock()
	return o.ObjectStore.Put(ctx, bucket, key, bytes.NewReader(b), int64(len(b)))
}

func (o *objects) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	o.mu.Lock()
	o.gets++
	o.mu.Unlock()
	return o.ObjectStore.Get(ctx, bucket, key)
}

func (o *objects) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	o.mu.Lock()
	o.heads++
	o.mu.Unlock()
	return o.ObjectStore.Head(ctx, bucket, key)
}

func (o *objects) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	o.mu.Lock()
	o.lists++
	o.mu.Unlock()
	return o.ObjectStore.List(ctx, bucket, prefix)
}

func (o *objects) Delete(ctx context.Context, bucket, key string) error {
	o.mu.Lock()
	o.deletes++
	o.mu.Unlock()
	return o.ObjectStore.Delete(ctx, bucket, key)
}

// dedupe counts the Dedupe calls as shared/adapters/dynamo.Dedupe turns
// them into requests: Begin, Commit and Abort one UpdateItem each, State one
// GetItem, and Claim one conditional PutItem per distinct key of the call
// (held keys of unfinished transactions cost more; none occur here).
type dedupe struct {
	port.Dedupe
	mu                     sync.Mutex
	begins, commits, abort int
	states                 int
	claimCalls             int
	distinctKeys           int
	itemBytes              int64 // of the claim items, as DynamoDB sizes them (see itemSize)
}

func (d *dedupe) Begin(ctx context.Context, txn string, deadline time.Time) error {
	d.mu.Lock()
	d.begins++
	d.mu.Unlock()
	return d.Dedupe.Begin(ctx, txn, deadline)
}

func (d *dedupe) Commit(ctx context.Context, txn string) error {
	d.mu.Lock()
	d.commits++
	d.mu.Unlock()
	return d.Dedupe.Commit(ctx, txn)
}

func (d *dedupe) Abort(ctx context.Context, txn string) error {
	d.mu.Lock()
	d.abort++
	d.mu.Unlock()
	return d.Dedupe.Abort(ctx, txn)
}

func (d *dedupe) State(ctx context.Context, txn string) (port.TxnState, error) {
	d.mu.Lock()
	d.states++
	d.mu.Unlock()
	return d.Dedupe.State(ctx, txn)
}

func (d *dedupe) Claim(ctx context.Context, namespace, txn string, claims []port.Claim) ([]port.Outcome, error) {
	seen := map[string]bool{}
	var n int
	var size int64
	for _, c := range claims {
		if seen[c.Key] {
			continue
		}
		seen[c.Key] = true
		n++
		size += itemSize(namespace, c, txn)
	}
	d.mu.Lock()
	d.claimCalls++
	d.distinctKeys += n
	d.itemBytes += size
	d.mu.Unlock()
	return d.Dedupe.Claim(ctx, namespace, txn, claims)
}

// itemSize is the size DynamoDB bills for storing one claim item as
// shared/adapters/dynamo writes it (attributes pk, origin, txn, claimed_at,
// expires_at): the UTF-8 lengths of attribute names and string values, a
// number as about one byte per two digits plus one, and 100 bytes of
// per-item overhead.
func itemSize(namespace string, c port.Claim, txn string) int64 {
	num := func(digits int) int64 { return int64((digits+1)/2 + 1) }
	const epochDigits = 10
	return int64(len("pk")+len(namespace)+1+len(c.Key)) +
		int64(len("origin")+len(c.Origin)) +
		int64(len("txn")+len(txn)) +
		int64(len("claimed_at")) + num(epochDigits) +
		int64(len("expires_at")) + num(epochDigits) +
		100
}

// states counts window.Store calls, leases apart, and the gzip size of
// the states (the DynamoDB window store keeps them gzip-compressed).
type states struct {
	window.Store
	mu                       sync.Mutex
	loads, saves             int
	leaseLoads, leaseSaves   int
	loadBytes, saveBytes     int64 // gzip
	loadUnits, saveUnits     int64 // RCUs (4 KB, strongly consistent) and WCUs (1 KB) of the state items
	maxSaveBytes             int64
	leaseLoadUnits, leaseWCU int64
}

func isLease(name string) bool { return strings.Contains(name, "lease") }

func gzipSize(b []byte) int64 {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return int64(buf.Len())
}

func units(size, unit int64) int64 { return max(1, (size+unit-1)/unit) }

func (s *states) Load(ctx context.Context, name string) ([]byte, int64, error) {
	st, v, err := s.Store.Load(ctx, name)
	size := gzipSize(st) + 100
	s.mu.Lock()
	if isLease(name) {
		s.leaseLoads++
		s.leaseLoadUnits += units(size, 4096)
	} else {
		s.loads++
		s.loadBytes += size
		s.loadUnits += units(size, 4096)
	}
	s.mu.Unlock()
	return st, v, err
}

func (s *states) Save(ctx context.Context, name string, state []byte, expect int64) error {
	size := gzipSize(state) + 100
	s.mu.Lock()
	if isLease(name) {
		s.leaseSaves++
		s.leaseWCU += units(size, 1024)
	} else {
		s.saves++
		s.saveBytes += size
		s.saveUnits += units(size, 1024)
		s.maxSaveBytes = max(s.maxSaveBytes, size)
	}
	s.mu.Unlock()
	return s.Store.Save(ctx, name, state, expect)
}

// warehouse counts loads and what they stage; it keeps nothing.
type warehouse struct {
	mu            sync.Mutex
	loads         int
	tablesStaged  int // distinct tables per load, summed
	stageCalls    int // Stage calls with rows (one PUT + COPY each in the Snowflake adapter)
	execs         int
	merges        int // Merge calls outside loads
	queries       int
	rows          map[string]int64 // by table
	valueBytes    map[string]int64 // by table: the values as text (what Snowpipe Streaming bills)
	loadsByTables []int
}

func newWarehouse() *warehouse {
	return &warehouse{rows: map[string]int64{}, valueBytes: map[string]int64{}}
}

func (w *warehouse) Migrate(context.Context, []table.Schema) error { return nil }

func (w *warehouse) Merge(_ context.Context, t table.Schema, rows []table.Row) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.merges++
	w.count(t, rows)
	return len(rows), nil
}

func (w *warehouse) Exec(context.Context, string) error { return nil }

func (w *warehouse) Query(context.Context, string, ...any) ([]string, [][]any, error) {
	w.mu.Lock()
	w.queries++
	w.mu.Unlock()
	return nil, nil, nil
}

func (w *warehouse) Close() error { return nil }

func (w *warehouse) BeginLoad(context.Context) (port.Loader, error) {
	w.mu.Lock()
	w.loads++
	w.mu.Unlock()
	return &loader{w: w, tables: map[string]bool{}}, nil
}

func (w *warehouse) count(t table.Schema, rows []table.Row) {
	w.rows[t.Name] += int64(len(rows))
	for _, r := range rows {
		for i, c := range r {
			if i < len(t.Columns) {
				w.valueBytes[t.Name] += cellBytes(t.Columns[i].Type, c)
			}
		}
	}
}

// cellBytes is the length of a value as text (NDJSON values, without keys).
func cellBytes(typ table.Type, c table.Cell) int64 {
	if c.Null {
		return 0
	}
	switch typ {
	case table.String:
		return int64(len(c.S))
	case table.Int:
		return int64(len(strconv.FormatInt(c.I, 10)))
	case table.Float:
		return int64(len(strconv.FormatFloat(c.F, 'g', -1, 64)))
	case table.Bool:
		return int64(len(strconv.FormatBool(c.B)))
	case table.Timestamp:
		return int64(len("2024-02-03T10:00:00.000Z"))
	case table.Date:
		return int64(len("2024-02-03"))
	}
	return 0
}

type loader struct {
	w      *warehouse
	tables map[string]bool
}

func (l *loader) Stage(_ context.Context, t table.Schema, rows []table.Row) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	if !l.tables[t.Name] {
		l.tables[t.Name] = true
		l.w.tablesStaged++
	}
	if len(rows) > 0 {
		l.w.stageCalls++
	}
	l.w.count(t, rows)
	return nil
}

func (l *loader) Exec(string) {
	l.w.mu.Lock()
	l.w.execs++
	l.w.mu.Unlock()
}

func (l *loader) Commit(context.Context) (map[string]int, error) {
	l.w.mu.Lock()
	l.w.loadsByTables = append(l.w.loadsByTables, len(l.tables))
	l.w.mu.Unlock()
	return map[string]int{}, nil
}

func (l *loader) Close() error { return nil }

// appender is a port.Appender that counts calls and keeps each
// channel's token (rows are dropped: the counting warehouse holds none).
type appender struct {
	mu      sync.Mutex
	opens   int
	appends int
	tokens  map[string]int64
}

func newAppender() *appender { return &appender{tokens: map[string]int64{}} }

func (a *appender) Open(_ context.Context, t table.Schema, channel string) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opens++
	if tok, ok := a.tokens[t.Name+"/"+channel]; ok {
		return tok, nil
	}
	return -1, nil
}

func (a *appender) Append(_ context.Context, t table.Schema, channel string, _ []port.AppendRow, end int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appends++
	a.tokens[t.Name+"/"+channel] = end
	return nil
}
