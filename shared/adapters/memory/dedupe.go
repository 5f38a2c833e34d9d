package memory

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.Dedupe = (*Dedupe)(nil)

// ErrClosed is returned by Claim after Close.
var ErrClosed = errors.New("dedupe store closed")

// ErrInUse is returned by OpenDedupe when another process has the file open.
var ErrInUse = errors.New("dedupe file is in use by another process")

// DedupeOptions configure a Dedupe.
type DedupeOptions struct {
	// TTL is how long a claim (and a transaction) is kept after its last
	// write, as DynamoDB's TTL attribute does; 0 keeps them forever.
	TTL time.Duration
	// TTLFor, when set, gives the TTL of a claim by its origin and of a
	// transaction by its id (e.g. long for files, short for stream
	// positions, so a long-running local stack stays within bounded memory).
	TTLFor func(origin string) time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// keyHash names a claimed key (namespace and key) in 16 bytes, and
// originHash an origin in 8: a store holding millions of claims keeps
// 40-odd bytes per claim rather than the strings.
type (
	keyHash    [16]byte
	originHash uint64
)

func hashKey(namespace, key string) keyHash {
	h := md5.New()
	h.Write([]byte(namespace))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var k keyHash
	h.Sum(k[:0])
	return k
}

func hashOrigin(origin string) originHash {
	h := fnv.New64a()
	h.Write([]byte(origin))
	return originHash(h.Sum64())
}

type claimEntry struct {
	origin  originHash
	txn     *txnEntry
	expires int64 // unix nanoseconds; 0 = never
}

type txnEntry struct {
	id       string
	seq      uint64 // its number in the file
	state    port.TxnState
	deadline int64 // unix nanoseconds
	expires  int64
	logged   bool // written to the file since it was last compacted
}

// expiry is one queue of claims in the order they expire (claims written
// with the same TTL expire in the order they were written).
type expiry struct {
	keys []keyHash
	at   []int64
}

// Dedupe is an in-process port.Dedupe. Built by OpenDedupe, it also
// appends every change to a file and reloads that file on open, so a local
// command-line run remembers claims and transactions across invocations;
// transactions an earlier process left pending are listed by Unfinished.
// Claims expire by TTL as DynamoDB's items do, and the file is compacted
// when most of its lines are dead, so memory and disk stay bounded by the
// claims made within one TTL.
type Dedupe struct {
	mu      sync.Mutex
	opts    DedupeOptions
	claims  map[keyHash]claimEntry
	txns    map[string]*txnEntry
	queues  map[time.Duration]*expiry
	nextSeq uint64

	file       *os.File // nil when not persistent
	path       string
	size       int64 // length of the file's complete lines
	lines      int64 // lines in the file
	unfinished []string
	closed     bool
	txnSweep   int64 // when transactions were last swept
}

// NewDedupe returns an empty, non-persistent Dedupe that keeps claims forever.
func NewDedupe() *Dedupe { return NewDedupeWith(DedupeOptions{}) }

// NewDedupeWith returns an empty, non-persistent Dedupe.
func NewDedupeWith(o DedupeOptions) *Dedupe {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Dedupe{opts: o, claims: map[keyHash]claimEntry{}, txns: map[string]*txnEntry{}, queues: map[time.Duration]*expiry{}}
}

// logLine is one line of the file: a claim
//
//	["c", key hash (hex), origin hash (hex), txn number, expires (unix ns)]
//
// or a transaction
//
//	["t", txn number, txn id, state, deadline (unix ns), expires (unix ns)]
//
// Files written before transactions existed hold [namespace, key, origin]
// lines: claims whose transaction is unknown, which count as committed.
type logLine []json.RawMessage

// OpenDedupe opens (creating if needed) the claims file at path, takes an
// exclusive lock on it, and loads what it holds. A torn last line (a crash
// mid-append) is cut off; any other malformed line is an error.
func OpenDedupe(path string, o DedupeOptions) (*Dedupe, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening dedupe file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking dedupe file %s: %w (%v)", path, ErrInUse, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
	}
	d := NewDedupeWith(o)
	d.file, d.path = f, path
	good, err := d.load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncating torn tail of dedupe file %s: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seeking dedupe file %s: %w", path, err)
	}
	d.size = good
	for id, t := range d.txns {
		if t.state == port.TxnPending {
			d.unfinished = append(d.unfinished, id)
		}
	}
	sort.Strings(d.unfinished)
	if d.lines > 2*int64(len(d.claims)+len(d.txns))+1000 {
		if err := d.compact(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return d, nil
}

// Unfinished lists the transactions an earlier process left pending (its
// work died before committing or aborting): the caller resumes or aborts
// them. Empty for a store made by NewDedupe.
func (d *Dedupe) Unfinished() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.unfinished...)
}

// load reads the claims file and returns the length of its complete lines.
func (d *Dedupe) load(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var good int64
	bySeq := map[uint64]*txnEntry{}
	now := d.now()
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // an unterminated tail is a torn write: dropped
		}
		if err != nil {
			return 0, fmt.Errorf("reading dedupe file %s: %w", d.path, err)
		}
		if err := d.apply(bytes.TrimSpace(line), bySeq, now); err != nil {
			return 0, fmt.Errorf("dedupe file %s line %d: %w", d.path, lineNo, err)
		}
		good += int64(len(line))
		d.lines++
	}
	if q := d.queues[restored]; q != nil {
		sort.Sort(q)
	}
	// Drop what expired while the store was closed.
	for k, e := range d.claims {
		if e.expires != 0 && e.expires <= now {
			delete(d.claims, k)
		}
	}
	for id, t := range d.txns {
		if t.expires != 0 && t.expires <= now {
			delete(d.txns, id)
		}
	}
	return good, nil
}

func (d *Dedupe) apply(line []byte, bySeq map[uint64]*txnEntry, now int64) error {
	var l logLine
	if err := json.Unmarshal(line, &l); err != nil {
		return err
	}
	var kind string
	if len(l) > 0 {
		if err := json.Unmarshal(l[0], &kind); err != nil {
			return err
		}
	}
	switch {
	case kind == "c" && len(l) == 5:
		var kh, oh string
		var seq uint64
		var expires int64
		if err := unmarshalAll(l[1:], &kh, &oh, &seq, &expires); err != nil {
			return err
		}
		k, err := hex.DecodeString(kh)
		if err != nil || len(k) != 16 {
			return fmt.Errorf("bad key hash %q", kh)
		}
		o, err := hex.DecodeString(oh)
		if err != nil || len(o) != 8 {
			return fmt.Errorf("bad origin hash %q", oh)
		}
		e := claimEntry{origin: originHash(binary.BigEndian.Uint64(o)), expires: expires}
		if seq != 0 {
			e.txn = bySeq[seq]
			if e.txn == nil {
				return fmt.Errorf("claim of unknown transaction %d", seq)
			}
		}
		d.putClaim(keyHash(k), e, restored)
	case kind == "t" && len(l) == 6:
		var seq uint64
		var id string
		var state int
		var deadline, expires int64
		if err := unmarshalAll(l[1:], &seq, &id, &state, &deadline, &expires); err != nil {
			return err
		}
		t := bySeq[seq]
		if t == nil {
			t = &txnEntry{id: id, seq: seq}
			bySeq[seq] = t
			d.nextSeq = max(d.nextSeq, seq)
		}
		t.state, t.deadline, t.expires = port.TxnState(state), deadline, expires
		d.txns[id] = t
	case len(l) == 3: // a claim written before transactions existed
		var ns, key, origin string
		if err := unmarshalAll(l, &ns, &key, &origin); err != nil {
			return err
		}
		d.putClaim(hashKey(ns, key), claimEntry{origin: hashOrigin(origin)}, restored)
	default:
		return fmt.Errorf("unknown line %s", line)
	}
	return nil
}

func unmarshalAll(raw []json.RawMessage, vs ...any) error {
	for i, v := range vs {
		if err := json.Unmarshal(raw[i], v); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dedupe) now() int64 { return d.opts.Now().UnixNano() }

func (d *Dedupe) ttlFor(origin string) time.Duration {
	if d.opts.TTLFor != nil {
		return d.opts.TTLFor(origin)
	}
	return d.opts.TTL
}

// putClaim stores e under k and queues its expiry. ttl is the TTL it was
// written with, or restored for a claim read back from the file (its queue
// is swept by a scan).
func (d *Dedupe) putClaim(k keyHash, e claimEntry, ttl time.Duration) {
	d.claims[k] = e
	if e.expires == 0 {
		return
	}
	q := d.queues[ttl]
	if q == nil {
		q = &expiry{}
		d.queues[ttl] = q
	}
	q.keys = append(q.keys, k)
	q.at = append(q.at, e.expires)
}

// restored is the queue of claims read back from the file, sorted by
// expiry once loaded.
const restored time.Duration = -1

func (q *expiry) Len() int           { return len(q.at) }
func (q *expiry) Less(i, j int) bool { return q.at[i] < q.at[j] }
func (q *expiry) Swap(i, j int) {
	q.at[i], q.at[j] = q.at[j], q.at[i]
	q.keys[i], q.keys[j] = q.keys[j], q.keys[i]
}

// sweep deletes the claims and transactions that expired.
func (d *Dedupe) sweep(now int64) {
	for _, q := range d.queues {
		n := 0
		for n < len(q.at) && q.at[n] <= now {
			if e, ok := d.claims[q.keys[n]]; ok && e.expires == q.at[n] {
				delete(d.claims, q.keys[n])
			}
			n++
		}
		if n > 0 {
			q.keys, q.at = q.keys[n:], q.at[n:]
			if cap(q.at) > 4096 && len(q.at) < cap(q.at)/4 { // give the front back
				q.keys, q.at = append([]keyHash(nil), q.keys...), append([]int64(nil), q.at...)
			}
		}
	}
	if now-d.txnSweep < int64(time.Minute) && now >= d.txnSweep {
		return
	}
	d.txnSweep = now
	for id, t := range d.txns {
		if t.expires != 0 && t.expires <= now {
			delete(d.txns, id)
		}
	}
}

func (d *Dedupe) expiresAt(origin string, now int64) int64 {
	ttl := d.ttlFor(origin)
	if ttl <= 0 {
		return 0
	}
	return now + int64(ttl)
}

// txn returns the entry of id, creating an unknown one if needed.
func (d *Dedupe) txn(id string) *txnEntry {
	t := d.txns[id]
	if t == nil {
		d.nextSeq++
		t = &txnEntry{id: id, seq: d.nextSeq, state: port.TxnUnknown}
		d.txns[id] = t
	}
	return t
}

// effective is a holder's state as claims see it: an unknown transaction
// counts as committed (claims made before transactions existed), and a
// pending one past its deadline as abandoned (aborted).
func effective(t *txnEntry, now int64) port.TxnState {
	switch {
	case t == nil || t.state == port.TxnUnknown:
		return port.TxnCommitted
	case t.state == port.TxnPending && t.deadline <= now:
		return port.TxnAborted
	}
	return t.state
}

// Begin implements port.Dedupe.
func (d *Dedupe) Begin(ctx context.Context, txn string, deadline time.Time) error {
	return d.update(ctx, "beginning", txn, func(t *txnEntry, now int64) error {
		if t.state == port.TxnCommitted {
			return nil
		}
		t.state, t.deadline = port.TxnPending, deadline.UnixNano()
		t.expires = d.expiresAt(txn, max(now, t.deadline))
		return nil
	})
}

// Commit implements port.Dedupe.
func (d *Dedupe) Commit(ctx context.Context, txn string) error {
	return d.update(ctx, "committing", txn, func(t *txnEntry, now int64) error {
		switch {
		case t.state == port.TxnCommitted:
			return nil
		case t.state == port.TxnAborted:
			return fmt.Errorf("committing dedupe transaction %s: %w", txn, port.ErrTxnAborted)
		}
		t.state = port.TxnCommitted
		t.expires = d.expiresAt(txn, max(now, t.deadline))
		return nil
	})
}

// Abort implements port.Dedupe.
func (d *Dedupe) Abort(ctx context.Context, txn string) error {
	return d.update(ctx, "aborting", txn, func(t *txnEntry, now int64) error {
		switch t.state {
		case port.TxnCommitted:
			return fmt.Errorf("aborting dedupe transaction %s: %w", txn, port.ErrTxnCommitted)
		case port.TxnAborted:
			return nil
		}
		t.state = port.TxnAborted
		t.expires = d.expiresAt(txn, max(now, t.deadline))
		return nil
	})
}

// State implements port.Dedupe.
func (d *Dedupe) State(ctx context.Context, txn string) (port.TxnState, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep(d.now())
	if t := d.txns[txn]; t != nil {
		return t.state, nil
	}
	return port.TxnUnknown, nil
}

func (d *Dedupe) update(ctx context.Context, doing, txn string, fn func(t *txnEntry, now int64) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s dedupe transaction %s: %w", doing, txn, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("%s dedupe transaction %s: %w", doing, txn, ErrClosed)
	}
	now := d.now()
	d.sweep(now)
	t := d.txn(txn)
	before := *t
	if err := fn(t, now); err != nil {
		return err
	}
	if *t == before {
		return nil
	}
	var buf bytes.Buffer
	d.logTxn(&buf, t)
	if err := d.append(buf.Bytes(), 1); err != nil {
		*t = before
		return fmt.Errorf("%s dedupe transaction %s: %w", doing, txn, err)
	}
	return nil
}

func (d *Dedupe) logTxn(buf *bytes.Buffer, t *txnEntry) {
	if d.file == nil {
		return
	}
	line, _ := json.Marshal([]any{"t", t.seq, t.id, int(t.state), t.deadline, t.expires})
	buf.Write(line)
	buf.WriteByte('\n')
	t.logged = true
}

func (d *Dedupe) logClaim(buf *bytes.Buffer, k keyHash, e claimEntry) {
	if d.file == nil {
		return
	}
	var o [8]byte
	binary.BigEndian.PutUint64(o[:], uint64(e.origin))
	var seq uint64
	if e.txn != nil {
		if !e.txn.logged {
			d.logTxn(buf, e.txn)
		}
		seq = e.txn.seq
	}
	line, _ := json.Marshal([]any{"c", hex.EncodeToString(k[:]), hex.EncodeToString(o[:]), seq, e.expires})
	buf.Write(line)
	buf.WriteByte('\n')
}

// memo is what one Claim call learned of a key.
type memo struct {
	holder originHash
	held   bool
}

// change is a claim written by a Claim call, applied once the file write succeeded.
type change struct {
	k   keyHash
	e   claimEntry
	ttl time.Duration
}

// Claim implements port.Dedupe. Changes are appended to the file (when
// persistent) before the call returns; if that write fails, none of the
// call's changes is kept.
func (d *Dedupe) Claim(ctx context.Context, namespace, txn string, claims []port.Claim) ([]port.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, err)
	}
	out := make([]port.Outcome, len(claims))
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, ErrClosed)
	}
	now := d.now()
	d.sweep(now)
	cur := d.txn(txn)
	var (
		buf     bytes.Buffer
		changes []change
		aborted []*txnEntry // holders past their deadline, aborted by this call
		lines   int64
	)
	seen := make(map[keyHash]memo, len(claims))
	write := func(k keyHash, origin string) {
		ttl := d.ttlFor(origin)
		e := claimEntry{origin: hashOrigin(origin), txn: cur, expires: d.expiresAt(origin, now)}
		changes = append(changes, change{k, e, ttl})
		d.logClaim(&buf, k, e)
		lines++
	}
	for i, cl := range claims {
		k := hashKey(namespace, cl.Key)
		oh := hashOrigin(cl.Origin)
		if m, ok := seen[k]; ok {
			switch {
			case m.held:
				out[i] = port.Held
			case m.holder == oh:
				out[i] = port.Retry
			default:
				out[i] = port.Duplicate
			}
			continue
		}
		e, ok := d.claims[k]
		if ok && e.expires != 0 && e.expires <= now {
			ok = false
		}
		switch {
		case !ok:
			write(k, cl.Origin)
			out[i], seen[k] = port.Fresh, memo{holder: oh}
		case e.origin == oh:
			if e.txn != cur && effective(e.txn, now) != port.TxnCommitted {
				write(k, cl.Origin) // the claim moves to the txn that retries it
			}
			out[i], seen[k] = port.Retry, memo{holder: oh}
		case e.txn == cur:
			out[i], seen[k] = port.Duplicate, memo{holder: e.origin}
		default:
			switch effective(e.txn, now) {
			case port.TxnCommitted:
				out[i], seen[k] = port.Duplicate, memo{holder: e.origin}
			case port.TxnAborted:
				if e.txn.state == port.TxnPending { // abandoned: abort it for good
					aborted = append(aborted, e.txn)
					e.txn.state = port.TxnAborted
					d.logTxn(&buf, e.txn)
					lines++
				}
				write(k, cl.Origin)
				out[i], seen[k] = port.Fresh, memo{holder: oh}
			default:
				out[i], seen[k] = port.Held, memo{held: true}
			}
		}
	}
	if err := d.append(buf.Bytes(), lines); err != nil {
		for _, t := range aborted {
			t.state = port.TxnPending
		}
		return nil, fmt.Errorf("recording %d dedupe claims of %s: %w", len(changes), namespace, err)
	}
	for _, c := range changes {
		d.putClaim(c.k, c.e, c.ttl)
	}
	if d.file != nil && d.lines > 2*int64(len(d.claims)+len(d.txns))+100_000 {
		if err := d.compact(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// append writes complete lines to the file (when persistent), cutting off
// a partial write so the file stays whole.
func (d *Dedupe) append(b []byte, lines int64) error {
	if d.file == nil || len(b) == 0 {
		return nil
	}
	if _, err := d.file.Write(b); err != nil {
		if terr := d.file.Truncate(d.size); terr == nil {
			_, _ = d.file.Seek(d.size, io.SeekStart)
		}
		return fmt.Errorf("appending to %s: %w", d.path, err)
	}
	d.size += int64(len(b))
	d.lines += lines
	return nil
}

// compact rewrites the file with the live transactions and claims only.
func (d *Dedupe) compact() error {
	tmp := d.path + ".compact"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("compacting dedupe file %s: %w", d.path, err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	var lines int64
	var buf bytes.Buffer
	for _, t := range d.txns {
		t.logged = false
	}
	for _, t := range d.txns {
		buf.Reset()
		d.logTxn(&buf, t)
		w.Write(buf.Bytes())
		lines++
	}
	for k, e := range d.claims {
		buf.Reset()
		d.logClaim(&buf, k, e) // logs a txn that expired from the map but is still held
		w.Write(buf.Bytes())
		lines += int64(bytes.Count(buf.Bytes(), []byte{'\n'}))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compacting dedupe file %s: %w", d.path, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, d.path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("compacting dedupe file %s: %w", d.path, err)
	}
	// The lock moves to the new file; the old one is gone.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("locking compacted dedupe file %s: %w", d.path, err)
	}
	d.file.Close()
	d.file, d.size, d.lines = f, size, lines
	return nil
}

// Claims returns every live claim as hex(hash of namespace and key) ->
// hex(hash of the origin holding it), for tests that compare dedupe stores.
func (d *Dedupe) Claims() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	out := make(map[string]string, len(d.claims))
	for k, e := range d.claims {
		if e.expires != 0 && e.expires <= now {
			continue
		}
		var o [8]byte
		binary.BigEndian.PutUint64(o[:], uint64(e.origin))
		out[hex.EncodeToString(k[:])] = hex.EncodeToString(o[:])
	}
	return out
}

// Len returns the number of claimed keys across all namespaces.
func (d *Dedupe) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.claims)
}

// Close syncs and closes the claims file, if any. Claim fails afterwards.
func (d *Dedupe) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.file == nil {
		return nil
	}
	if err := d.file.Sync(); err != nil {
		d.file.Close()
		return fmt.Errorf("syncing dedupe file %s: %w", d.path, err)
	}
	if err := d.file.Close(); err != nil {
		return fmt.Errorf("closing dedupe file %s: %w", d.path, err)
	}
	return nil
}
