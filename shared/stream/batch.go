package stream

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// unknownProc keeps the ledger of topics no dataset is named after.
const unknownProc = "unknown-topics"

// Event times Pulse accepts (the window engine's range).
var (
	minEventTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxEventTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
)

// maxFuture is how far ahead of processing time an event time may be: a
// producer with a wrong clock must not push every watermark ahead.
const maxFuture = 24 * time.Hour

// topicState is one topic's part of a batch.
type topicState struct {
	name string
	recs []*rec
	res  *TopicResult
}

type batch struct {
	p      *Pipeline
	now    time.Time
	recs   []*rec
	topics []*topicState
	slots  []*procSlot
	out    *outputs
	res    *Result

	ownerID string
	replay  bool // ProcessFailed: no invocation of the mapping (see owner)
	// txn is the batch's dedupe transaction ("" until it claims a key):
	// its claims commit once the batch's state is saved.
	txn string

	// The snowpipe load mode (nil otherwise): what each processor
	// produced, the fact rows appended by offset, and each partition's
	// high-water mark when the batch started (records above it are in
	// offset order).
	outs  map[string]*outputs
	facts []*factPart
	highs map[string]int64
}

func newBatch(p *Pipeline, msgs []port.Message) *batch {
	b := &batch{p: p, now: p.now(), res: &Result{Topics: map[string]*TopicResult{}}}
	b.out = newOutputs(b.now)
	if p.snowpipe() {
		b.outs, b.highs = map[string]*outputs{}, map[string]int64{}
	}
	byTopic := map[string]*topicState{}
	b.recs = make([]*rec, len(msgs))
	for i := range msgs {
		r := &rec{msg: &msgs[i], ds: p.sets[msgs[i].Topic]}
		b.recs[i] = r
		ts := byTopic[r.msg.Topic]
		if ts == nil {
			ts = &topicState{name: r.msg.Topic, res: &TopicResult{}}
			byTopic[r.msg.Topic] = ts
			b.topics = append(b.topics, ts)
			b.res.Topics[r.msg.Topic] = ts.res
		}
		ts.recs = append(ts.recs, r)
	}
	sort.Slice(b.topics, func(i, j int) bool { return b.topics[i].name < b.topics[j].name })
	return b
}

func (r *rec) procName() string {
	if r.ds == nil {
		return unknownProc
	}
	return r.ds.proc
}

func (b *batch) run(ctx context.Context) (res *Result, err error) {
	defer func() {
		for _, s := range b.slots {
			if err != nil {
				s.valid = false // the failed run may have changed it: reload next time
			}
			b.p.release(ctx, s, err != nil)
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{StepLoadState, b.loadStates},
		{StepArchive, b.archive},
		{StepClean, b.clean},
		{StepDedupe, b.dedupe},
		{StepApply, b.apply},
		{StepQuarantine, b.quarantine},
		{StepMerge, b.merge},
		{StepSave, b.save},
	}
	for _, st := range steps {
		if err := st.fn(ctx); err != nil {
			return nil, err
		}
		if err := b.p.failpoint(st.name); err != nil {
			return nil, err
		}
	}
	b.account()
	if b.p.env.Loaded != nil {
		var ts []int64
		for _, r := range b.recs {
			if r.status == statusLoaded {
				ts = append(ts, r.msg.Timestamp)
			}
		}
		b.p.env.Loaded(ts)
	}
	return b.res, nil
}

// loadStates loads the state of every processor the batch touches and
// marks the records its ledger already accounted (a redelivery).
func (b *batch) loadStates(ctx context.Context) error {
	if b.outs != nil {
		if err := b.p.ensureStaging(ctx); err != nil {
			return err
		}
	}
	var names []string
	from := map[string]map[string]int64{} // processor -> where the batch starts in its partitions
	for _, r := range b.recs {
		name := r.procName()
		f := from[name]
		if f == nil {
			f = map[string]int64{}
			from[name] = f
			names = append(names, name)
		}
		k := ledgerKey(r.msg.Topic, r.msg.Partition)
		if o, ok := f[k]; !ok || r.msg.Offset < o {
			f[k] = r.msg.Offset
		}
	}
	for _, name := range names {
		slot := b.p.procs[name]
		f := from[name]
		if b.replay {
			f = nil
		}
		if err := b.p.acquire(ctx, slot, b.owner(), f, b.now); err != nil {
			return err
		}
		b.slots = append(b.slots, slot)
		if err := b.p.loadState(ctx, slot); err != nil {
			return err
		}
	}
	sort.Slice(b.slots, func(i, j int) bool { return b.slots[i].proc.name() < b.slots[j].proc.name() })
	for _, r := range b.recs {
		slot := b.p.procs[r.procName()]
		k := ledgerKey(r.msg.Topic, r.msg.Partition)
		if slot.ledger.accounted(k, r.msg.Offset) {
			r.status = statusAccounted
		}
		if b.highs != nil {
			if hw, ok := slot.ledger.high[k]; ok {
				b.highs[k] = hw
			}
		}
	}
	return nil
}

// owner names the batch for leases by the first offset of each partition
// it holds. The event-source mapping never runs two invocations of one
// partition at once and redelivers unfinished work from the partition's
// committed offset, so any redelivery of the same work names the same
// owner, whatever its size (a restart, another batch size), and takes
// over at once a lease its crashed run left.
func (b *batch) owner() string {
	if b.ownerID == "" {
		first := map[string]int64{}
		for _, r := range b.recs {
			k := ledgerKey(r.msg.Topic, r.msg.Partition)
			if f, ok := first[k]; !ok || r.msg.Offset < f {
				first[k] = r.msg.Offset
			}
		}
		keys := make([]string, 0, len(first))
		for k := range first {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h := md5.New()
		for _, k := range keys {
			fmt.Fprintf(h, "%s@%d;", k, first[k])
		}
		b.ownerID = "batch-" + hex.EncodeToString(h.Sum(nil))[:16]
		if b.replay {
			b.ownerID = "failed-" + b.ownerID
		}
	}
	return b.ownerID
}

// batchTxn names the dedupe transaction of a batch by every position it
// holds: the same messages, in any order, give the same name, so a retry
// of the batch reopens its transaction and its claims are retries. Unlike
// the lease owner it changes with the batch's size: a smaller redelivery
// commits its own claims only, never those its crashed run made for
// records the redelivery does not hold (they move to the transaction of
// the batch that does, as retries by the same origin).
func batchTxn(msgs []*port.Message) string {
	less := func(i, j int) bool { return positionLess(msgs[i], msgs[j]) }
	if !sort.SliceIsSorted(msgs, less) { // the mapping's order already is
		msgs = append([]*port.Message(nil), msgs...)
		sort.SliceStable(msgs, func(i, j int) bool { return positionLess(msgs[i], msgs[j]) })
	}
	h := md5.New()
	var buf []byte
	for _, m := range msgs {
		buf = append(buf[:0], m.Topic...)
		buf = append(buf, '/')
		buf = strconv.AppendInt(buf, int64(m.Partition), 10)
		buf = append(buf, '/')
		buf = strconv.AppendInt(buf, m.Offset, 10)
		buf = append(buf, ';')
		h.Write(buf)
	}
	return "batch-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func positionLess(a, b *port.Message) bool {
	if a.Topic != b.Topic {
		return a.Topic < b.Topic
	}
	if a.Partition != b.Partition {
		return a.Partition < b.Partition
	}
	return a.Offset < b.Offset
}

// txnID is the batch's dedupe transaction (batchTxn).
func (b *batch) txnID() string {
	msgs := make([]*port.Message, len(b.recs))
	for i, r := range b.recs {
		msgs[i] = r.msg
	}
	return batchTxn(msgs)
}

// archived is one line of a raw archive file.
type archived struct {
	Offset    int64             `json:"offset"`
	Timestamp int64             `json:"timestamp"`
	Key       string            `json:"key,omitempty"`       // base64
	Value     string            `json:"value,omitempty"`     // the value, when it is UTF-8 text
	ValueB64  string            `json:"value_b64,omitempty"` // the value otherwise (Avro)
	Headers   map[string]string `json:"headers,omitempty"`   // base64 values
	Err       string            `json:"error,omitempty"`
}

// archive writes the fresh records of each partition, whole, to the raw
// bucket under stream/<topic>/partition=<p>/<first>-<last>.ndjson: the
// same batch always gets the same key, so a retry overwrites it.
func (b *batch) archive(ctx context.Context) error {
	type part struct {
		topic       string
		partition   int32
		first, last int64
		buf         bytes.Buffer
	}
	var parts []*part
	index := map[string]*part{}
	for _, r := range b.recs {
		if r.status != statusFresh {
			continue
		}
		k := ledgerKey(r.msg.Topic, r.msg.Partition)
		pt := index[k]
		if pt == nil {
			pt = &part{topic: r.msg.Topic, partition: r.msg.Partition, first: r.msg.Offset}
			index[k] = pt
			parts = append(parts, pt)
		}
		pt.first, pt.last = min(pt.first, r.msg.Offset), max(pt.last, r.msg.Offset)
		a := archived{Offset: r.msg.Offset, Timestamp: r.msg.Timestamp, Err: r.msg.ErrText()}
		if r.msg.Key != nil {
			a.Key = base64.StdEncoding.EncodeToString(r.msg.Key)
		}
		if t := valueText(r.msg.Value); !strings.HasPrefix(t, "base64:") {
			a.Value = t
		} else {
			a.ValueB64 = t[len("base64:"):]
		}
		for name, v := range r.msg.Headers {
			if a.Headers == nil {
				a.Headers = map[string]string{}
			}
			a.Headers[name] = base64.StdEncoding.EncodeToString(v)
		}
		line, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", r.origin(), err)
		}
		pt.buf.Write(line)
		pt.buf.WriteByte('\n')
	}
	for _, pt := range parts {
		key := fmt.Sprintf("stream/%s/partition=%d/%020d-%020d.ndjson", safeKey(pt.topic), pt.partition, pt.first, pt.last)
		if _, err := b.p.env.Store.Put(ctx, b.p.env.Buckets.Raw, key, bytes.NewReader(pt.buf.Bytes()), int64(pt.buf.Len())); err != nil {
			return fmt.Errorf("archiving raw records to s3://%s/%s: %w", b.p.env.Buckets.Raw, key, err)
		}
	}
	return nil
}

// safeKey keeps a topic name usable in an object key.
func safeKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

func (r *rec) reject(field, reason string) {
	r.status, r.rejField, r.rejReason = statusRejected, field, dataset.MaskEmails(reason)
}

// clean decodes and cleans every fresh record with its dataset's spec.
func (b *batch) clean(ctx context.Context) error {
	var raw record.Raw
	future := b.now.Add(maxFuture).UnixMicro()
	for _, r := range b.recs {
		if r.status != statusFresh {
			continue
		}
		if r.msg.Err != nil {
			r.reject(r.msg.Err.Field, r.msg.Err.Reason)
			continue
		}
		if r.ds == nil {
			r.reject("topic", fmt.Sprintf("no dataset named %q (stream datasets: %s)", r.msg.Topic, strings.Join(b.p.Datasets(), ", ")))
			continue
		}
		raw.Pos, raw.Source = r.msg.Offset, r.msg.Value
		if err := b.p.env.Decoder.Decode(ctx, r.msg, r.ds.cl.Columns(), &raw); err != nil {
			var re *record.RecordError
			if errors.As(err, &re) {
				r.reject(re.Field, re.Reason)
				continue
			}
			return fmt.Errorf("decoding %s: %w", r.origin(), err)
		}
		if v := bytes.TrimLeft(r.msg.Value, " \t\r\n"); (len(v) == 0 || v[0] != '{') &&
			(r.ds.cl.HasPersonal() || bytes.IndexByte(v, '@') >= 0) {
			r.vals = append([]record.Value(nil), raw.Values...) // Avro with something to mask: its masked text needs the values
		}
		ingested := r.msg.Timestamp * 1000
		if ingested <= 0 {
			ingested = b.now.UnixMicro()
		}
		row := r.ds.cl.NewRow()
		meta := dataset.Meta{Source: "kafka://" + r.msg.Topic + "/" + itoa(int64(r.msg.Partition)), Row: r.msg.Offset, IngestedAt: ingested}
		if rj := r.ds.cl.Clean(&raw, meta, row); rj != nil {
			r.reject(rj.Field, rj.Reason)
			continue
		}
		r.row = row
		if t, ok := r.ds.cl.EventTime(row); ok {
			if t < minEventTime || t >= maxEventTime {
				r.reject(r.ds.spec.EventTime, "event time "+fromMicros(t).Format(time.RFC3339)+" outside the years 1900-2199")
				continue
			}
			if t > future {
				r.reject(r.ds.spec.EventTime, "event time "+fromMicros(t).Format(time.RFC3339)+" is more than "+maxFuture.String()+" ahead of processing time")
				continue
			}
			r.t = t
		}
	}
	return nil
}

// dedupe claims the dedupe key of every clean event record at its origin
// (topic/partition/offset): a key another origin holds is a duplicate; the
// same origin again (a retry) proceeds. Snapshot datasets (tables) are not
// deduplicated: the latest row wins.
func (b *batch) dedupe(ctx context.Context) error {
	type pending struct {
		claims []port.Claim
		recs   []*rec
	}
	var names []string
	by := map[string]*pending{}
	for _, r := range b.recs {
		if r.status != statusFresh || r.ds.spec.Mode != dataset.Events {
			continue
		}
		name := r.ds.spec.Name
		pd := by[name]
		if pd == nil {
			pd = &pending{}
			by[name] = pd
			names = append(names, name)
		}
		pd.claims = append(pd.claims, port.Claim{Key: r.ds.cl.Key(r.row), Origin: r.origin()})
		pd.recs = append(pd.recs, r)
	}
	sort.Strings(names)
	if len(names) > 0 && b.txn == "" {
		b.txn = b.txnID()
		if err := b.p.env.Dedupe.Begin(ctx, b.txn, b.now.Add(b.p.env.Config.claimTimeout())); err != nil {
			return fmt.Errorf("beginning the batch's dedupe claims: %w", err)
		}
	}
	for _, name := range names {
		pd := by[name]
		outs, err := b.p.env.Dedupe.Claim(ctx, name, b.txn, pd.claims)
		if err != nil {
			return fmt.Errorf("claiming %d dedupe keys of %s: %w", len(pd.claims), name, err)
		}
		if len(outs) != len(pd.claims) {
			return fmt.Errorf("claiming dedupe keys of %s: %d outcomes for %d claims", name, len(outs), len(pd.claims))
		}
		for i, o := range outs {
			switch o {
			case port.Duplicate:
				pd.recs[i].status = statusDuplicate
			case port.Held:
				// Another batch or file still in flight holds the key:
				// whether this is a duplicate depends on how that ends.
				return fmt.Errorf("dedupe key of %s is claimed by work still in flight: %w", pd.recs[i].origin(), port.ErrClaimHeld)
			}
		}
	}
	return nil
}

// apply hands each processor the fresh, clean, unique records of its
// datasets and accounts in its ledger the offsets of every record of the
// batch it was not given before (see ledger).
func (b *batch) apply(ctx context.Context) error {
	if err := b.applyProcessors(ctx); err != nil {
		return err
	}
	type covered struct {
		slot        *procSlot
		key         string
		first, last int64
	}
	var parts []*covered
	index := map[*procSlot]map[string]*covered{}
	for _, r := range b.recs {
		if r.status == statusAccounted {
			continue
		}
		if r.status == statusFresh {
			r.status = statusLoaded
		}
		slot := b.p.procs[r.procName()]
		k := ledgerKey(r.msg.Topic, r.msg.Partition)
		if index[slot] == nil {
			index[slot] = map[string]*covered{}
		}
		c := index[slot][k]
		if c == nil {
			c = &covered{slot: slot, key: k, first: r.msg.Offset, last: r.msg.Offset}
			index[slot][k] = c
			parts = append(parts, c)
		}
		c.first, c.last = min(c.first, r.msg.Offset), max(c.last, r.msg.Offset)
	}
	for _, c := range parts {
		c.slot.ledger.account(c.key, c.first, c.last)
	}
	return nil
}

// applyProcessors hands each processor of the batch the fresh records of
// its datasets (they mark the late ones).
func (b *batch) applyProcessors(ctx context.Context) error {
	lk := &lookups{wh: b.p.env.Warehouse, from: b.p.source, users: map[string]userInfo{}, prices: map[string]float64{}}
	for _, r := range b.recs {
		if r.status != statusFresh {
			continue
		}
		switch r.ds.spec.Name {
		case dataset.Users.Name:
			lk.users[r.str("user_id")] = userInfo{age: r.cell("age").I, country: r.str("country")}
		case dataset.MoviesCatalog.Name:
			lk.prices[r.str("item_id")] = r.cell("price_usd").F
		}
	}
	for _, slot := range b.slots {
		var recs []*rec
		for _, r := range b.recs {
			if r.status == statusFresh && r.procName() == slot.proc.name() {
				recs = append(recs, r)
			}
		}
		if len(recs) > 0 {
			if err := slot.proc.apply(ctx, b.now, recs, b.outFor(slot.proc.name()), lk); err != nil {
				return fmt.Errorf("applying %d records to %s: %w", len(recs), slot.proc.name(), err)
			}
		}
	}
	return nil
}

// batchID names a topic's part of this batch from the partitions and
// offsets of its fresh records: deterministic, so a retried batch
// overwrites its own manifest and quarantine file.
func (ts *topicState) batchID() string {
	type span struct{ first, last int64 }
	parts := map[int32]*span{}
	for _, r := range ts.recs {
		if r.status == statusAccounted {
			continue
		}
		s := parts[r.msg.Partition]
		if s == nil {
			parts[r.msg.Partition] = &span{r.msg.Offset, r.msg.Offset}
			continue
		}
		s.first, s.last = min(s.first, r.msg.Offset), max(s.last, r.msg.Offset)
	}
	if len(parts) == 0 {
		return ""
	}
	ps := make([]int32, 0, len(parts))
	for p := range parts {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	var desc strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&desc, "%d:%d-%d;", p, parts[p].first, parts[p].last)
	}
	return "kafka-" + safeKey(ts.name) + "-" + star.MD5Hex([]byte(ts.name + "|" + desc.String()))[:16]
}

// source describes a topic's part of the batch for PULSE_MANIFESTS.SOURCE.
func (ts *topicState) source() string {
	first, last := map[int32]int64{}, map[int32]int64{}
	var ps []int32
	for _, r := range ts.recs {
		if r.status == statusAccounted {
			continue
		}
		p := r.msg.Partition
		if _, ok := first[p]; !ok {
			first[p], last[p] = r.msg.Offset, r.msg.Offset
			ps = append(ps, p)
		}
		first[p], last[p] = min(first[p], r.msg.Offset), max(last[p], r.msg.Offset)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%d@%d-%d", p, first[p], last[p]))
	}
	return "kafka://" + ts.name + "/" + strings.Join(parts, ",")
}

// quarantineRecord is a rejected record as kept in the quarantine bucket.
func (b *batch) quarantineRecord(r *rec) port.QuarantineRecord {
	name := r.msg.Topic
	if r.ds != nil {
		name = r.ds.spec.Name
	}
	return port.QuarantineRecord{
		Dataset: name, Origin: r.msg.Topic + "/" + itoa(int64(r.msg.Partition)), Source: "kafka://" + r.origin(),
		Pos: r.msg.Offset, Field: r.rejField, Reason: r.rejReason, Record: r.text(),
	}
}

// quarantine keeps every rejected record whole, with its reason, in the
// quarantine bucket under stream/<dataset>/<batch id>.ndjson.
func (b *batch) quarantine(ctx context.Context) error {
	for _, ts := range b.topics {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, r := range ts.recs {
			if r.status != statusRejected {
				continue
			}
			if err := enc.Encode(b.quarantineRecord(r)); err != nil {
				return fmt.Errorf("encoding quarantine record %s: %w", r.origin(), err)
			}
		}
		if buf.Len() == 0 {
			continue
		}
		key := "stream/" + safeKey(ts.name) + "/" + ts.batchID() + ".ndjson"
		if _, err := b.p.env.Store.Put(ctx, b.p.env.Buckets.Quarantine, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			return fmt.Errorf("quarantining %s rejects to s3://%s/%s: %w", ts.name, b.p.env.Buckets.Quarantine, key, err)
		}
	}
	return nil
}

// account fills each topic's counts from the records' dispositions:
// received = loaded + rejected + duplicate, and late counts the loaded
// records that missed every window they could count in.
func (b *batch) account() {
	for _, ts := range b.topics {
		c := &ts.res.Counts
		*c = port.Counts{}
		ts.res.Redelivered = 0
		for _, r := range ts.recs {
			switch r.status {
			case statusAccounted:
				ts.res.Redelivered++
				continue
			case statusLoaded:
				c.Loaded++
				if r.late {
					c.Late++
				}
			case statusRejected:
				c.Rejected++
			case statusDuplicate:
				c.Duplicate++
			}
			c.Received++
		}
		ts.res.BatchID = ts.batchID()
	}
}

// merge loads the batch into the warehouse: fact and dimension rows of the
// loaded records (late ones included), what the processors produced,
// PULSE_REJECTS rows and one PULSE_MANIFESTS row per topic (LATE: of the
// loaded). Every table is merged by its key, so a retry changes nothing.
func (b *batch) merge(ctx context.Context) error {
	b.account()
	at := b.now.UnixMicro()
	for _, r := range b.recs {
		switch r.status {
		case statusLoaded:
			b.addFacts(r)
		case statusRejected:
			b.outFor(r.procName()).add(star.Rejects, port.RejectRow(b.quarantineRecord(r), at))
		}
	}
	for _, ts := range b.topics {
		if ts.res.BatchID == "" {
			continue // nothing new in this topic: its manifest is already there
		}
		c := ts.res.Counts
		name := ts.name
		b.outFor(ts.recs[0].procName()).add(star.Manifests, table.Row{
			{S: ts.res.BatchID}, {S: name}, {S: ts.source()}, {I: c.Received}, {I: c.Loaded}, {I: c.Rejected},
			{I: c.Duplicate}, {I: c.Late}, {S: "loaded"}, {I: at}, {I: at},
		})
	}
	orphans, err := b.orphans(ctx)
	if err != nil {
		return err
	}
	if err := b.load(ctx); err != nil {
		return err
	}
	for _, o := range orphans { // their records are quarantined and staged again under this batch's keys
		for _, obj := range []struct{ bucket, key string }{{b.p.env.Buckets.Quarantine, o.quarantine}, {b.p.env.Buckets.Staging, o.staging}} {
			if err := b.p.env.Store.Delete(ctx, obj.bucket, obj.key); err != nil && !errors.Is(err, port.ErrNotFound) {
				b.p.log().Warn("stream: removing an object of a superseded batch", "bucket", obj.bucket, "key", obj.key, "err", err)
			}
		}
	}
	return b.stage(ctx)
}

// stagingKey names a topic's staged records of the batch: under
// stream/<dataset>/ingest_date=<YYYY-MM-DD>/ingest_hour=<HH>/<file id>.parquet,
// the ingestion time being the Kafka timestamp of the topic's first record
// in the batch. An attempt that redoes these records starts at the same
// first record (the partition's committed offset), so a superseded
// attempt's object is found under the same folder with its own id.
func (ts *topicState) stagingKey(id string) string {
	var first *rec
	for _, r := range ts.recs {
		if r.status != statusAccounted && (first == nil || positionLess(r.msg, first.msg)) {
			first = r
		}
	}
	name := safeKey(ts.name)
	if first != nil && first.ds != nil {
		name = first.ds.spec.Name
	}
	at := time.Unix(0, 0).UTC()
	if first != nil && first.msg.Timestamp > 0 {
		at = time.UnixMilli(first.msg.Timestamp).UTC()
	}
	return fmt.Sprintf("stream/%s/ingest_date=%s/ingest_hour=%02d/%s.parquet", name, at.Format(time.DateOnly), at.Hour(), id)
}

// stage writes each topic's loaded records, cleaned and masked as Clean
// leaves them, to the staging bucket (the silver layer holds the stream's
// records as it holds the files', seed 000): one Parquet object per topic
// and batch, written once the batch's load has landed, so a batch that
// never landed stages nothing, and one that landed without its state is
// superseded, object included (orphans). A retry of the same batch writes
// the same key.
func (b *batch) stage(ctx context.Context) error {
	for _, ts := range b.topics {
		if ts.res.BatchID == "" {
			continue
		}
		var rows []table.Row
		var ds *datasetInfo
		for _, r := range ts.recs {
			if r.status == statusLoaded && r.row != nil {
				rows, ds = append(rows, r.row), r.ds
			}
		}
		if len(rows) == 0 {
			continue
		}
		key := ts.stagingKey(ts.res.BatchID)
		var buf bytes.Buffer
		w, err := table.NewParquetWriter(&buf, ds.cl.Schema())
		if err == nil {
			err = w.Write(rows)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			return fmt.Errorf("staging %s: %w", key, err)
		}
		if _, err := b.p.env.Store.Put(ctx, b.p.env.Buckets.Staging, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			return fmt.Errorf("staging %s's records to s3://%s/%s: %w", ts.name, b.p.env.Buckets.Staging, key, err)
		}
	}
	return nil
}

// orphans finds the manifests of an earlier attempt at this batch's
// records whose warehouse load landed but whose state was never saved:
// its process stopped or failed between the two. The mapping redelivers
// such a batch from the partition's committed offset, where that attempt
// started too, but maybe in other boundaries, so under another FILE_ID:
// its manifest would count the records again. The load that redoes them
// deletes it (the window state never held those records, so they are
// folded again; the facts, metrics and rejects they wrote are keyed, and
// are written again the same). Only a batch that takes over a processor
// whose last batch did not finish looks: one query per topic then, none in
// steady state. It returns the orphans' quarantine and staging objects,
// removed once the load has landed.
func (b *batch) orphans(ctx context.Context) ([]orphan, error) {
	var found []orphan
	for _, ts := range b.topics {
		unfinished := b.p.procs[ts.recs[0].procName()].unfinished
		if ts.res.BatchID == "" || len(unfinished) == 0 {
			continue
		}
		first := map[int32]int64{}
		for _, r := range ts.recs {
			if r.status == statusAccounted {
				continue
			}
			if o, ok := first[r.msg.Partition]; !ok || r.msg.Offset < o {
				first[r.msg.Partition] = r.msg.Offset
			}
		}
		for p := range first { // only partitions where a batch did not finish
			if _, ok := unfinished[ledgerKey(ts.name, p)]; !ok {
				delete(first, p)
			}
		}
		if len(first) == 0 {
			continue
		}
		prefix := "kafka://" + ts.name + "/"
		var conds []string
		var args []any
		for p, o := range first {
			span := fmt.Sprintf("%d@%d-", p, o)
			conds = append(conds, "SOURCE = ? OR SOURCE LIKE ? OR SOURCE LIKE ?")
			args = append(args, prefix+span, prefix+span+"%", prefix+"%,"+span+"%")
		}
		_, rows, err := b.p.env.Warehouse.Query(ctx, "SELECT FILE_ID, SOURCE FROM "+b.p.source(star.Manifests.Name)+
			" WHERE FILE_ID LIKE 'kafka-%' AND ("+strings.Join(conds, " OR ")+")", args...)
		if err != nil {
			return nil, fmt.Errorf("looking for the manifests of an unfinished batch of %s: %w", ts.name, err)
		}
		for _, row := range rows {
			id, _ := row[0].(string)
			src, _ := row[1].(string)
			if id == ts.res.BatchID || !startsAt(src, prefix, first) {
				continue
			}
			b.outFor(ts.recs[0].procName()).del(star.Manifests, id)
			found = append(found, orphan{quarantine: "stream/" + safeKey(ts.name) + "/" + id + ".ndjson", staging: ts.stagingKey(id)})
			b.p.log().Info("stream: a batch that did not finish had loaded these records: its manifest is replaced", "manifest", id, "source", src, "by", ts.res.BatchID)
		}
	}
	return found, nil
}

// orphan is what a superseded attempt left in the buckets.
type orphan struct{ quarantine, staging string }

// startsAt tells whether a manifest source (kafka://topic/p@first-last,...)
// starts, in some partition, where this batch does (first).
func startsAt(src, prefix string, first map[int32]int64) bool {
	rest, ok := strings.CutPrefix(src, prefix)
	if !ok {
		return false
	}
	for _, span := range strings.Split(rest, ",") {
		ps, offs, ok := strings.Cut(span, "@")
		if !ok {
			continue
		}
		from, _, _ := strings.Cut(offs, "-")
		p, err1 := strconv.ParseInt(ps, 10, 32)
		o, err2 := strconv.ParseInt(from, 10, 64)
		if err1 == nil && err2 == nil {
			if f, ok := first[int32(p)]; ok && f == o {
				return true
			}
		}
	}
	return false
}

// addFacts adds the fact and dimension rows of a loaded record.
func (b *batch) addFacts(r *rec) {
	types := r.ds.cl.Types()
	for _, mp := range r.ds.mappers {
		row := make(table.Row, len(mp.Table.Columns))
		mp.Map(r.row, types, row)
		for col, c := range r.patch {
			if j := mp.Table.Index(col); j >= 0 {
				row[j] = c
			}
		}
		if b.appendable(r, mp.Table) {
			b.appendFact(r, mp.Table, row)
			continue
		}
		b.outFor(r.procName()).add(mp.Table, row)
	}
}

// save stores every processor's state, naming the batch's dedupe
// transaction in it, then commits the transaction: the saved state is the
// batch's commit point, so if the commit is lost (a crash right after the
// save, and a redelivery the ledger then skips) the next load of the
// state commits it (see loadState).
func (b *batch) save(ctx context.Context) error {
	for _, slot := range b.slots {
		slot.setCommit(b.txn)
		if err := b.p.saveState(ctx, slot); err != nil {
			return err
		}
	}
	return b.p.commitClaims(ctx, nil, b.txn)
}

// metricTables are the tables whose rows count as metric rows in Result.
var metricTables = map[*table.Schema]bool{
	star.UserRegistrationMetrics: true, star.SessionMetrics: true, star.MovieSalesMetrics: true,
	star.SocialPlatformMetrics: true, star.SocialCityMetrics: true, star.PageviewWindowMetrics: true,
	star.PageviewCountryMetrics: true,
}

// mergeOutputs loads what out holds in one warehouse transaction: it
// deletes superseded rows, then merges every table's rows in the model's
// order (dimensions before facts), the late events among them. All of it
// lands or none (a warehouse that fails mid-load leaves no part of the
// batch behind, whatever recovery follows).
func (p *Pipeline) mergeOutputs(ctx context.Context, out *outputs, res *Result) error {
	if len(out.late) > 0 {
		ids := make([]string, 0, len(out.late))
		for id := range out.late {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			out.rows[star.LateEvents] = append(out.rows[star.LateEvents], out.late[id])
		}
		res.Late += len(ids)
		out.late = map[string]table.Row{}
	}
	var deletes []string
	for _, t := range dataset.Tables() {
		ids := out.deletes[t]
		if len(ids) == 0 {
			continue
		}
		sort.Strings(ids)
		deletes = append(deletes, "DELETE FROM "+t.Name+" WHERE "+t.Key[0]+" IN ('"+strings.Join(ids, "', '")+"')")
	}
	staged, metrics := 0, 0
	for _, t := range dataset.Tables() {
		n := len(out.rows[t])
		staged += n
		if metricTables[t] {
			metrics += n
		}
	}
	if staged == 0 && len(deletes) == 0 {
		return nil
	}
	ld, err := p.env.Warehouse.BeginLoad(ctx)
	if err != nil {
		return fmt.Errorf("loading the batch into the warehouse: %w", err)
	}
	defer ld.Close()
	for _, q := range deletes {
		ld.Exec(q)
	}
	for _, t := range dataset.Tables() {
		rows := out.rows[t]
		if len(rows) == 0 {
			continue
		}
		if err := ld.Stage(ctx, *t, rows); err != nil {
			return fmt.Errorf("staging %d rows for %s: %w", len(rows), t.Name, err)
		}
	}
	if _, err := ld.Commit(ctx); err != nil {
		return fmt.Errorf("loading the batch into the warehouse (%d rows, %d deletes): %w", staged, len(deletes), err)
	}
	res.Metrics += metrics
	return nil
}
