package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
)

// QuarantineFile records a whole file that could not be processed (unknown
// dataset or format, unreadable Parquet, a step that kept failing): a
// reason.json under _files/<file id>/ in the quarantine bucket names the
// raw object (bucket, key, version) and why, and the file's manifest row
// says "quarantined". The file itself is not copied: it may hold personal
// data, which only the raw bucket keeps (versioned, so the version named
// stays readable). The reason is masked (dataset.MaskEmails).
//
// Unless the file's load had already landed (a data test failed after
// it), quarantining gives up the file's work: its dedupe claims are
// released, so a later delivery of its records (the file uploaded again,
// corrected or not) is not taken for duplicates; its record-level rejects
// move under _files/<file id>/ too, out of `pulse replay`'s way (a replay
// of the file itself takes them again); and its staging and curated
// outputs are removed, so no layer keeps records of work that never landed.
func QuarantineFile(ctx context.Context, env *Env, drop port.FileDrop, reason string) error {
	reason = dataset.MaskEmails(reason)
	if drop.VersionID == "" && drop.ETag == "" {
		if info, err := env.Store.Head(ctx, drop.Bucket, drop.Key); err == nil {
			drop.VersionID, drop.ETag = info.VersionID, info.ETag
		}
	}
	fileID := FileID(drop)
	why, _ := json.Marshal(map[string]any{"source": drop, "reason": reason, "at": env.now()})
	if _, err := env.Store.Put(ctx, env.Buckets.Quarantine, "_files/"+fileID+"/reason.json", bytes.NewReader(why), int64(len(why))); err != nil {
		return fmt.Errorf("writing quarantine reason for %s: %w", drop.Key, err)
	}
	return giveUp(ctx, env, drop, "quarantined", reason)
}

// AbandonFile gives up a file version's unfinished work without keeping
// the file (its object is gone or was replaced): as QuarantineFile does,
// its claims are released and its outputs removed; its manifest says
// "abandoned".
func AbandonFile(ctx context.Context, env *Env, drop port.FileDrop, reason string) error {
	return giveUp(ctx, env, drop, "abandoned", reason)
}

// giveUp releases a file version's dedupe claims (unless its load had
// landed), removes its outputs and records its manifest with status what.
func giveUp(ctx context.Context, env *Env, drop port.FileDrop, what, reason string) error {
	fileID := FileID(drop)
	ds := "unknown"
	if spec, err := DatasetOf(drop.Key); err == nil {
		ds = spec.Name
	}
	m := &Manifest{FileID: fileID, Dataset: ds, Source: drop, Origin: Origin(drop), StartedAt: env.now().UnixMicro()}
	loaded := false
	switch err := env.Dedupe.Abort(ctx, Origin(drop)); {
	case errors.Is(err, port.ErrTxnCommitted):
		loaded = true
	case err != nil:
		return fmt.Errorf("quarantining %s: releasing its dedupe claims: %w", drop.Key, err)
	}
	if ds != "unknown" {
		prev, err := env.fileOutputs(ctx, ds, fileID)
		if err != nil {
			return fmt.Errorf("quarantining %s: %w", drop.Key, err)
		}
		if prev.manifest != nil {
			m = prev.manifest
		}
		if !loaded {
			if err := prev.discard(ctx, env, fileID); err != nil {
				return fmt.Errorf("quarantining %s: %w", drop.Key, err)
			}
			m.Counts, m.StagingKeys, m.Curated, m.QuarantineKey, m.ChunkRejectKeys = port.Counts{}, nil, nil, "", nil
		}
	}
	m.Status = what + ": " + reason
	if loaded {
		m.Status = what + " after load: " + reason
	}
	m.FinishedAt = env.now().UnixMicro()
	if ds != "unknown" {
		if err := env.saveManifest(ctx, m); err != nil {
			return err
		}
	}
	if env.Warehouse != nil {
		if err := env.Warehouse.Migrate(ctx, Schemas()); err != nil {
			return fmt.Errorf("migrating warehouse: %w", err)
		}
		if err := recordManifest(ctx, env, m); err != nil {
			return err
		}
	}
	env.log().Warn("file "+what, "key", drop.Key, "reason", reason, "claims released", !loaded)
	return nil
}

// outputs are what a file version's steps left: its manifest (nil if Clean
// never finished), its chunks' manifests, and what they name.
type outputs struct {
	manifest *Manifest
	chunks   []*Manifest
}

func (e *Env) fileOutputs(ctx context.Context, dataset, fileID string) (*outputs, error) {
	o := &outputs{}
	m, err := e.LoadManifest(ctx, dataset, fileID)
	switch {
	case errors.Is(err, port.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		o.manifest = m
	}
	objs, err := e.Store.List(ctx, e.Buckets.Staging, "_manifests/"+dataset+"/"+fileID+"/")
	if err != nil {
		return nil, fmt.Errorf("listing chunk manifests of %s: %w", fileID, err)
	}
	for _, obj := range objs {
		cm, err := e.loadManifest(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		o.chunks = append(o.chunks, cm)
	}
	return o, nil
}

// discard removes a file version's staging and curated outputs and moves
// its record-level rejects under the quarantine's _files/<file id>/.
func (o *outputs) discard(ctx context.Context, env *Env, fileID string) error {
	var staging, curated, rejects []string
	for _, m := range append([]*Manifest{o.manifest}, o.chunks...) {
		if m == nil {
			continue
		}
		staging = append(staging, m.StagingKeys...)
		for _, c := range m.Curated {
			curated = append(curated, c.Key)
		}
		rejects = append(rejects, m.rejectKeys()...)
	}
	for _, k := range rejects {
		if err := moveObject(ctx, env.Store, env.Buckets.Quarantine, k, "_files/"+fileID+"/rejects/"+path.Base(k)); err != nil {
			return err
		}
	}
	for _, k := range staging {
		if err := env.Store.Delete(ctx, env.Buckets.Staging, k); err != nil && !errors.Is(err, port.ErrNotFound) {
			return fmt.Errorf("removing staging %s: %w", k, err)
		}
	}
	for _, k := range curated {
		if err := env.Store.Delete(ctx, env.Buckets.Curated, k); err != nil && !errors.Is(err, port.ErrNotFound) {
			return fmt.Errorf("removing curated %s: %w", k, err)
		}
	}
	// The data profiles of what was staged.
	if o.manifest != nil || len(o.chunks) > 0 {
		m := o.manifest
		if m == nil {
			m = o.chunks[0]
		}
		profiles, err := env.Store.List(ctx, env.Buckets.Staging, "_profiles/"+m.Dataset+"/"+fileID)
		if err != nil {
			return fmt.Errorf("listing the profiles of %s: %w", fileID, err)
		}
		for _, p := range profiles {
			if err := env.Store.Delete(ctx, env.Buckets.Staging, p.Key); err != nil && !errors.Is(err, port.ErrNotFound) {
				return fmt.Errorf("removing profile %s: %w", p.Key, err)
			}
		}
	}
	return nil
}

// moveObject copies bucket/src to bucket/dst and deletes src; a missing
// src (moved by an earlier attempt) is fine.
func moveObject(ctx context.Context, store port.ObjectStore, bucket, src, dst string) error {
	body, info, err := store.Get(ctx, bucket, src)
	if errors.Is(err, port.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("moving s3://%s/%s: %w", bucket, src, err)
	}
	defer body.Close()
	if _, err := store.Put(ctx, bucket, dst, body, info.Size); err != nil {
		return fmt.Errorf("moving s3://%s/%s to %s: %w", bucket, src, dst, err)
	}
	if err := store.Delete(ctx, bucket, src); err != nil && !errors.Is(err, port.ErrNotFound) {
		return fmt.Errorf("moving s3://%s/%s: removing it: %w", bucket, src, err)
	}
	return nil
}

// ReplayResult is what one replay of a quarantine file did.
type ReplayResult struct {
	QuarantineKey string
	Manifest      *Manifest // the replay batch, loaded like a file
	StillRejected int64
}

// Replay re-cleans the quarantined records of a dataset with today's specs
// (after a fix) and loads the ones that now pass. Each record keeps its
// original origin (file version + row) as its dedupe origin, so a replay
// never creates a duplicate and replaying twice is harmless. Records that
// still fail stay in quarantine; the ones that passed are marked REPLAYED.
func Replay(ctx context.Context, env *Env, datasetName string) ([]ReplayResult, error) {
	spec, err := dataset.Lookup(datasetName)
	if err != nil {
		return nil, err
	}
	objs, err := env.Store.List(ctx, env.Buckets.Quarantine, spec.Name+"/")
	if err != nil {
		return nil, fmt.Errorf("listing quarantine for %s: %w", spec.Name, err)
	}
	var out []ReplayResult
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".ndjson") {
			continue
		}
		r, err := replayFile(ctx, env, spec, o)
		if err != nil {
			return out, err
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

func replayFile(ctx context.Context, env *Env, spec *dataset.Spec, obj port.ObjectInfo) (*ReplayResult, error) {
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	body, _, err := env.Store.Get(ctx, env.Buckets.Quarantine, obj.Key)
	if err != nil {
		return nil, fmt.Errorf("reading quarantine %s: %w", obj.Key, err)
	}
	defer body.Close()
	drop := port.FileDrop{Bucket: env.Buckets.Quarantine, Key: obj.Key, ETag: obj.ETag, VersionID: obj.VersionID}
	m := &Manifest{
		FileID: "replay-" + FileID(drop), Dataset: spec.Name, Source: drop, Origin: "replay",
		Txn:        "replay:" + Origin(drop),
		IngestedAt: env.now().UnixMicro(), Status: "cleaned", StartedAt: env.now().UnixMicro(),
	}
	if err := env.Dedupe.Begin(ctx, m.Txn, env.claimDeadline()); err != nil {
		return nil, fmt.Errorf("replaying %s: %w", obj.Key, err)
	}
	c := &cleanRun{env: env, cl: cl, m: m, parts: map[string]*partWriter{}}
	defer c.discard()
	var still [][]byte
	var passed []string
	cols := cl.Columns()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	var raw record.Raw
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var q port.QuarantineRecord
		if err := json.Unmarshal(line, &q); err != nil {
			return nil, fmt.Errorf("decoding quarantine record in %s: %w", obj.Key, err)
		}
		orig := q // as recorded, before a new reason is written
		m.Counts.Received++
		if !rawFromQuarantine(q, cols, &raw) {
			m.Counts.Rejected++
			still = append(still, line)
			continue
		}
		row := c.newRow()
		if rj := cl.Clean(&raw, dataset.Meta{Source: q.Source, Row: q.Pos, IngestedAt: m.IngestedAt}, row); rj != nil {
			m.Counts.Rejected++
			q.Field, q.Reason = rj.Field, rj.Reason
			b, _ := json.Marshal(q)
			still = append(still, b)
			continue
		}
		passed = append(passed, port.RejectID(orig))
		if spec.Mode == dataset.Snapshot {
			if err := c.stage(row); err != nil {
				return nil, err
			}
			continue
		}
		c.rows = append(c.rows, row)
		c.claims = append(c.claims, port.Claim{Key: cl.Key(row), Origin: fmt.Sprintf("%s#%d", q.Origin, q.Pos)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading quarantine %s: %w", obj.Key, err)
	}
	if len(passed) == 0 {
		return &ReplayResult{QuarantineKey: obj.Key, StillRejected: m.Counts.Rejected}, nil
	}
	if err := c.flushClaims(ctx); err != nil {
		return nil, err
	}
	if err := c.finish(ctx); err != nil {
		return nil, err
	}
	m.FinishedAt = env.now().UnixMicro()
	if err := env.saveManifest(ctx, m); err != nil {
		return nil, err
	}
	if m, err = Model(ctx, env, m); err != nil {
		return nil, err
	}
	if env.Warehouse != nil {
		if m, err = Load(ctx, env, m); err != nil {
			return nil, err
		}
		if err := markReplayed(ctx, env, passed); err != nil {
			return nil, err
		}
	}
	// Only now shrink the quarantine file to the records that still fail:
	// a crash before this point replays the same records again, harmlessly.
	if len(still) == 0 {
		if err := env.Store.Delete(ctx, env.Buckets.Quarantine, obj.Key); err != nil {
			return nil, fmt.Errorf("removing replayed quarantine %s: %w", obj.Key, err)
		}
	} else {
		b := append(bytes.Join(still, []byte("\n")), '\n')
		if _, err := env.Store.Put(ctx, env.Buckets.Quarantine, obj.Key, bytes.NewReader(b), int64(len(b))); err != nil {
			return nil, fmt.Errorf("rewriting quarantine %s: %w", obj.Key, err)
		}
	}
	env.log().Info("replayed", "quarantine", obj.Key, "counts", m.Counts.String())
	return &ReplayResult{QuarantineKey: obj.Key, Manifest: m, StillRejected: m.Counts.Rejected}, nil
}

// rawFromQuarantine rebuilds a raw record from a quarantine record: from
// its parsed values, or by parsing its original bytes as a JSON object.
func rawFromQuarantine(q port.QuarantineRecord, cols []string, raw *record.Raw) bool {
	raw.Pos = q.Pos
	raw.Source = RecordBytes(q.Record)
	if q.Values != nil {
		raw.Values = raw.Values[:0]
		for _, c := range cols {
			if v, ok := q.Values[c]; ok && v != nil {
				raw.Values = append(raw.Values, record.Value{Text: *v})
			} else {
				raw.Values = append(raw.Values, record.Value{Null: true})
			}
		}
		return true
	}
	return record.DecodeJSONObject(RecordBytes(q.Record), cols, raw) == nil
}

func markReplayed(ctx context.Context, env *Env, ids []string) error {
	return port.MarkReplayed(ctx, env.Warehouse, ids)
}
