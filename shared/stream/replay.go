package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The steps of a replay, as Failpoint names them (crash tests).
const (
	StepReplayMerge   = "replay-merge"   // facts, metrics, late events, manifest, REPLAYED marks
	StepReplaySave    = "replay-save"    // the processor's state, with the replay's marker
	StepReplayRewrite = "replay-rewrite" // the quarantine object, without the records that passed
)

// ReplayFile is what the replay of one quarantine object did. Counts
// follow DESIGN.md 4.2 over the records replayed: Received = Loaded +
// Rejected (still failing) + Duplicate, and Late counts the loaded records
// whose windows had all closed.
type ReplayFile struct {
	QuarantineKey string      `json:"quarantineKey"`
	ManifestID    string      `json:"manifestId,omitempty"` // its PULSE_MANIFESTS row; "" when nothing passed
	Counts        port.Counts `json:"counts"`
	Metrics       int         `json:"metricRows,omitempty"` // metric rows merged
	LateRows      int         `json:"lateRows,omitempty"`   // PULSE_LATE_EVENTS rows: one per record and window missed
	// Pending counts records past the stream's committed position (their
	// batch has not finished): left in quarantine for a later replay.
	Pending int64 `json:"pending,omitempty"`
	// Finished counts records an interrupted replay had already applied:
	// this run only took them out of quarantine.
	Finished int64 `json:"finished,omitempty"`
}

// ReplayResult is what Replay did for one dataset.
type ReplayResult struct {
	Dataset string       `json:"dataset"`
	Files   []ReplayFile `json:"files"`
}

// Total sums the counts of every file.
func (r *ReplayResult) Total() port.Counts {
	var c port.Counts
	for _, f := range r.Files {
		c.Received += f.Counts.Received
		c.Loaded += f.Counts.Loaded
		c.Rejected += f.Counts.Rejected
		c.Duplicate += f.Counts.Duplicate
		c.Late += f.Counts.Late
	}
	return c
}

// QuarantinePrefix is where the stream path keeps a dataset's rejected
// records in the quarantine bucket.
func QuarantinePrefix(dataset string) string { return "stream/" + safeKey(dataset) + "/" }

// Replay re-cleans the quarantined stream records of a dataset with
// today's specs (after a fix such as dataset.AddPlatform) and takes each
// one that now passes through the stream path as an arrival at replay
// time, at its original topic/partition/offset; see "Replay" in the
// package comment. Records that still fail stay in quarantine with their
// current reason; the others leave it and their PULSE_REJECTS rows are
// marked REPLAYED. Replaying again, or after a crash at any step, changes
// nothing more.
func (p *Pipeline) Replay(ctx context.Context, datasetName string) (*ReplayResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.sets[datasetName]
	if !ok {
		return nil, fmt.Errorf("replaying %q: not a stream dataset (stream datasets: %s)", datasetName, strings.Join(p.Datasets(), ", "))
	}
	prefix := QuarantinePrefix(datasetName)
	objs, err := p.env.Store.List(ctx, p.env.Buckets.Quarantine, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing s3://%s/%s: %w", p.env.Buckets.Quarantine, prefix, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	res := &ReplayResult{Dataset: datasetName}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".ndjson") {
			continue
		}
		f, err := p.replayFile(ctx, d, o.Key)
		if err != nil {
			return res, fmt.Errorf("replaying s3://%s/%s: %w", p.env.Buckets.Quarantine, o.Key, err)
		}
		res.Files = append(res.Files, *f)
	}
	return res, nil
}

// quarantined is one line of a quarantine object, and the message it was.
type quarantined struct {
	line []byte
	q    port.QuarantineRecord
	msg  port.Message
}

func (p *Pipeline) replayFile(ctx context.Context, d *datasetInfo, key string) (_ *ReplayFile, err error) {
	now := p.now()
	out := &ReplayFile{QuarantineKey: key}
	lines, sum, err := p.readQuarantine(ctx, key)
	if err != nil {
		return nil, err
	}
	slot := p.procs[d.proc]
	if err := p.acquire(ctx, slot, "replay-"+sum[:16], nil, now); err != nil {
		return nil, err
	}
	defer func() { p.release(ctx, slot, err != nil) }()
	defer func() {
		if err != nil {
			slot.valid = false // reload before the next use
		}
	}()
	if err := p.loadState(ctx, slot); err != nil {
		return nil, err
	}
	// The snowpipe mode: what is staged is merged first, so the replay's
	// MERGE and its REPLAYED marks land over the rows they replace, and no
	// older staged version of them is merged over them later (the lease
	// keeps the processor's channels still meanwhile).
	if err := p.MergeStaged(ctx); err != nil {
		return nil, err
	}

	// An earlier replay saved this object's effect and stopped before
	// rewriting it: only finish that.
	if mark, ok := slot.replays[key]; ok {
		gone := map[string]bool{}
		for _, o := range mark.Done {
			gone[o] = true
		}
		for _, l := range lines {
			if gone[origin(&l.msg)] {
				out.Finished++
			}
		}
		if err := p.rewriteQuarantine(ctx, key, lines, gone, mark.Still); err != nil {
			return nil, err
		}
		delete(slot.replays, key)
		if err := p.saveState(ctx, slot); err != nil {
			return nil, err
		}
		return out, nil
	}

	b := &batch{p: p, now: now, out: newOutputs(now), res: &Result{Topics: map[string]*TopicResult{}}, slots: []*procSlot{slot}}
	var committed []*quarantined
	for i := range lines {
		m := &lines[i].msg
		// Only what the stream committed: a record the ledger has not
		// accounted belongs to a batch that has not finished (whose retry
		// will account it) or that failed until the on-failure destination
		// (whose replay, `pulse replay --failed`, will).
		if !slot.ledger.accounted(ledgerKey(m.Topic, m.Partition), m.Offset) {
			out.Pending++
			continue
		}
		committed = append(committed, &lines[i])
	}
	stale, err := p.staleRejects(ctx, d.spec.Name, committed)
	if err != nil {
		return nil, err
	}
	for _, l := range committed {
		if stale[origin(&l.msg)] {
			out.Finished++
			continue
		}
		b.recs = append(b.recs, &rec{msg: &l.msg, ds: d})
	}
	if len(b.recs) == 0 {
		if len(stale) > 0 {
			if err := p.rewriteQuarantine(ctx, key, lines, stale, nil); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, step := range []func(context.Context) error{b.clean, b.dedupe, b.applyProcessors} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	passed := map[string]bool{}
	reasons := map[string][2]string{}
	var replayed []string
	c := &out.Counts
	for _, r := range b.recs {
		c.Received++
		switch r.status {
		case statusRejected:
			c.Rejected++
			reasons[r.origin()] = [2]string{r.rejField, r.rejReason}
			continue
		case statusDuplicate:
			c.Duplicate++
		default:
			r.status = statusLoaded
			c.Loaded++
			if r.late {
				c.Late++ // loaded all the same; its missed windows are in PULSE_LATE_EVENTS
			}
			b.addFacts(r)
		}
		passed[r.origin()] = true
		replayed = append(replayed, port.RejectID(b.quarantineRecord(r)))
	}
	if len(passed) == 0 {
		if len(stale) > 0 {
			if err := p.rewriteQuarantine(ctx, key, lines, stale, reasons); err != nil {
				return nil, err
			}
		}
		return out, nil // nothing passes yet: nothing else to write
	}

	at := now.UnixMicro()
	out.ManifestID = "replay-kafka-" + safeKey(d.spec.Name) + "-" + sum[:16]
	b.out.add(star.Manifests, table.Row{
		{S: out.ManifestID}, {S: d.spec.Name}, {S: "s3://" + p.env.Buckets.Quarantine + "/" + key}, {I: c.Received}, {I: c.Loaded},
		{I: c.Rejected}, {I: c.Duplicate}, {I: c.Late}, {S: "replayed"}, {I: at}, {I: at},
	})
	res := &Result{}
	if err := p.mergeOutputs(ctx, b.out, res); err != nil {
		return nil, err
	}
	out.Metrics, out.LateRows = res.Metrics, res.Late
	if err := port.MarkReplayed(ctx, p.env.Warehouse, replayed); err != nil {
		return nil, err
	}
	if err := p.failpoint(StepReplayMerge); err != nil {
		return nil, err
	}

	// The state, with a marker naming what this replay applied, then the
	// quarantine object without it, then the state without the marker: a
	// crash in between is finished by the next replay, never applied twice.
	origins := make([]string, 0, len(passed))
	for o := range passed {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	slot.replays[key] = replayMark{Done: origins, Still: reasons}
	slot.setCommit(b.txn)
	if err := p.saveState(ctx, slot); err != nil {
		return nil, err
	}
	if err := p.commitClaims(ctx, nil, b.txn); err != nil {
		return nil, err
	}
	if err := p.failpoint(StepReplaySave); err != nil {
		return nil, err
	}
	gone := passed
	for o := range stale {
		gone[o] = true
	}
	if err := p.rewriteQuarantine(ctx, key, lines, gone, reasons); err != nil {
		return nil, err
	}
	if err := p.failpoint(StepReplayRewrite); err != nil {
		return nil, err
	}
	delete(slot.replays, key)
	if err := p.saveState(ctx, slot); err != nil {
		return nil, err
	}
	p.log().Debug("stream replay", "quarantine", key, "counts", c.String(), "late rows", out.LateRows)
	return out, nil
}

// staleRejects finds, among quarantined records the stream has accounted,
// those that are no reject to replay any more: every PULSE_REJECTS row of
// their position is marked REPLAYED (another copy of the record, in
// another quarantine object, was replayed), or there is none (the run
// that accounted the record did not reject it: the quarantine object was
// left by an attempt of a batch that failed, and the batch's replay
// loaded the record). Both copies exist when an attempt wrote its
// quarantine object and a later run of the same records, composed
// differently (a redelivery of another size, the replay of a failed
// batch), wrote its own; the merge that accounts a batch lands its
// PULSE_REJECTS rows with it. They leave quarantine without being applied
// again.
func (p *Pipeline) staleRejects(ctx context.Context, datasetName string, lines []*quarantined) (map[string]bool, error) {
	stale := map[string]bool{}
	for start := 0; start < len(lines); start += 500 {
		part := lines[start:min(start+500, len(lines))]
		sources := make([]string, len(part))
		for i, l := range part {
			sources[i] = strings.ReplaceAll(l.q.Source, "'", "''")
		}
		q := "SELECT DISTINCT SOURCE FROM " + p.source(star.Rejects.Name) + " WHERE DATASET = '" + strings.ReplaceAll(datasetName, "'", "''") +
			"' AND SOURCE IN ('" + strings.Join(sources, "', '") + "') AND (REPLAYED IS NULL OR NOT REPLAYED)"
		_, rows, err := p.env.Warehouse.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading the rejects of quarantined records: %w", err)
		}
		open := map[string]bool{}
		for _, r := range rows {
			open[fmt.Sprint(r[0])] = true
		}
		for _, l := range part {
			if !open[l.q.Source] {
				stale[origin(&l.msg)] = true
			}
		}
	}
	return stale, nil
}

// readQuarantine reads a stream quarantine object: its records and the
// messages they were, and a digest of its content (it names the replay's
// manifest and lease, so a retry of the same replay gets the same ones).
func (p *Pipeline) readQuarantine(ctx context.Context, key string) ([]quarantined, string, error) {
	body, _, err := p.env.Store.Get(ctx, p.env.Buckets.Quarantine, key)
	if err != nil {
		return nil, "", fmt.Errorf("reading quarantine: %w", err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, "", fmt.Errorf("reading quarantine: %w", err)
	}
	var out []quarantined
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		l := quarantined{line: append([]byte(nil), sc.Bytes()...)}
		if err := json.Unmarshal(l.line, &l.q); err != nil {
			return nil, "", fmt.Errorf("line %d: %w", n, err)
		}
		if l.msg, err = messageOf(l.q); err != nil {
			return nil, "", fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, "", fmt.Errorf("reading quarantine: %w", err)
	}
	return out, star.MD5Hex(append([]byte(key+"\n"), data...)), nil
}

// messageOf rebuilds the Kafka message a stream quarantine record keeps:
// ORIGIN is "topic/partition", the position its offset, the record the
// value as text (valueText). The Kafka timestamp is not kept: a replayed
// record is ingested at replay time.
func messageOf(q port.QuarantineRecord) (port.Message, error) {
	i := strings.LastIndexByte(q.Origin, '/')
	if i <= 0 || !strings.HasPrefix(q.Source, "kafka://") {
		return port.Message{}, fmt.Errorf("origin %q, source %q: not a stream record (want topic/partition and kafka://...)", q.Origin, q.Source)
	}
	part, err := strconv.ParseInt(q.Origin[i+1:], 10, 32)
	if err != nil {
		return port.Message{}, fmt.Errorf("origin %q: partition: %w", q.Origin, err)
	}
	m := port.Message{Topic: q.Origin[:i], Partition: int32(part), Offset: q.Pos, Value: []byte(q.Record)}
	if b64, ok := strings.CutPrefix(q.Record, "base64:"); ok {
		if v, err := base64.StdEncoding.DecodeString(b64); err == nil {
			m.Value = v
		}
	}
	return m, nil
}

func origin(m *port.Message) string {
	return m.Topic + "/" + itoa(int64(m.Partition)) + "/" + itoa(m.Offset)
}

// rewriteQuarantine replaces the quarantine object with its lines minus
// the records in gone, the still-rejected ones with their current reason;
// an empty object is deleted.
func (p *Pipeline) rewriteQuarantine(ctx context.Context, key string, lines []quarantined, gone map[string]bool, reasons map[string][2]string) error {
	var buf bytes.Buffer
	for _, l := range lines {
		o := origin(&l.msg)
		if gone[o] {
			continue
		}
		line := l.line
		if why, ok := reasons[o]; ok && (why[0] != l.q.Field || why[1] != l.q.Reason) {
			q := l.q
			q.Field, q.Reason = why[0], why[1]
			b, err := json.Marshal(q)
			if err != nil {
				return fmt.Errorf("encoding quarantine record %s: %w", o, err)
			}
			line = b
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	bucket := p.env.Buckets.Quarantine
	if buf.Len() == 0 {
		if err := p.env.Store.Delete(ctx, bucket, key); err != nil {
			return fmt.Errorf("removing the replayed quarantine s3://%s/%s: %w", bucket, key, err)
		}
		return nil
	}
	if _, err := p.env.Store.Put(ctx, bucket, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		return fmt.Errorf("rewriting quarantine s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
