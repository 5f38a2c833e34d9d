package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/table"
)

// DatasetOf returns the dataset a raw key belongs to: raw/<dataset>/...
func DatasetOf(key string) (*dataset.Spec, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 3 || parts[0] != "raw" || parts[2] == "" {
		return nil, fmt.Errorf("%w: key %q is not under raw/<dataset>/", port.ErrNotADataset, key)
	}
	spec, err := dataset.Lookup(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", port.ErrNotADataset, key, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
	}
	return spec, nil
}

// Clean reads one raw file, cleans every record against its dataset spec,
// claims dedupe keys, and writes staging Parquet (partitioned), a
// quarantine file of rejects, and the manifest. Running it again for the
// same file version produces the same outputs and the same counts.
func Clean(ctx context.Context, env *Env, drop port.FileDrop) (*Manifest, error) {
	return clean(ctx, env, drop, nil)
}

// CleanChunk is Clean over one chunk of a split file (see Split): its own
// staging parts (<file id>-c<index>.parquet), rejects and chunk manifest,
// with the records' positions in the whole file as dedupe origins, so a
// retried chunk claims its keys again as retries. Combine then makes the
// file's manifest from all its chunks.
func CleanChunk(ctx context.Context, env *Env, drop port.FileDrop, chunk Chunk) (*Manifest, error) {
	return clean(ctx, env, drop, &chunk)
}

func clean(ctx context.Context, env *Env, drop port.FileDrop, chunk *Chunk) (*Manifest, error) {
	spec, err := DatasetOf(drop.Key)
	if err != nil {
		return nil, err
	}
	drop, info, err := env.resolve(ctx, drop)
	if err != nil {
		return nil, err
	}
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		FileID:     FileID(drop),
		Dataset:    spec.Name,
		Source:     drop,
		Origin:     Origin(drop),
		IngestedAt: info.Modified.UTC().UnixMicro(),
		Status:     "cleaned",
		StartedAt:  env.now().UnixMicro(),
		Chunk:      chunk,
	}
	if info.Modified.IsZero() {
		m.IngestedAt = env.now().UnixMicro()
	}
	rd, closeFn, err := openRecords(ctx, env, drop, chunk, cl.Columns())
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if err := checkHeader(cl, rd, drop); err != nil {
		return nil, err
	}
	// The file version is the dedupe transaction of its records: claims
	// made here hold their keys until Load commits them, or the file is
	// quarantined and Abort releases them.
	if err := env.Dedupe.Begin(ctx, m.Origin, env.claimDeadline()); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", drop.Key, err)
	}
	c := &cleanRun{env: env, cl: cl, m: m, parts: map[string]*partWriter{}, suffix: chunk.suffix(), prof: newProfiler(cl.Schema())}
	defer c.discard()
	if err := c.run(ctx, rd); err != nil {
		return nil, err
	}
	if err := c.finish(ctx); err != nil {
		return nil, err
	}
	if m.Counts.Received > 0 || chunk != nil { // an empty file gets no profile (a chunk's, even empty, is combined)
		if err := env.saveProfile(ctx, c.prof.profile(spec.Name, m.FileID, drop.Key), chunk); err != nil {
			return nil, err
		}
	}
	m.FinishedAt = env.now().UnixMicro()
	if !m.Counts.Balanced() {
		return nil, fmt.Errorf("cleaning %s%s: counts do not add up: %s", drop.Key, chunk.suffix(), m.Counts)
	}
	if err := env.saveManifest(ctx, m); err != nil {
		return nil, err
	}
	env.log().Info("cleaned", "dataset", spec.Name, "key", drop.Key, "chunk", chunk.suffix(), "counts", m.Counts.String())
	noteEmpty(env, m)
	return m, nil
}

// resolve fills in a drop's version, ETag and size from the object itself
// when the notification did not carry them.
func (e *Env) resolve(ctx context.Context, drop port.FileDrop) (port.FileDrop, port.ObjectInfo, error) {
	info, err := e.Store.Head(ctx, drop.Bucket, drop.Key)
	if err != nil {
		return drop, info, fmt.Errorf("reading raw object s3://%s/%s: %w", drop.Bucket, drop.Key, err)
	}
	if drop.VersionID == "" {
		drop.VersionID = info.VersionID
	}
	if drop.ETag == "" {
		drop.ETag = info.ETag
	}
	if drop.Size == 0 {
		drop.Size = info.Size
	}
	return drop, info, nil
}

type partWriter struct {
	tmp  *tempWriter
	pw   *table.ParquetWriter
	rows int64
}

type cleanRun struct {
	env    *Env
	suffix string // "" for a whole file, -c<index> for a chunk
	cl     *dataset.Cleaner
	m      *Manifest
	parts  map[string]*partWriter
	rej    *tempWriter
	renc   *json.Encoder
	prof   *profiler // the staged rows' data profile (nil: none kept)
	// pending records awaiting a dedupe claim
	rows   []table.Row
	claims []port.Claim
	free   []table.Row
}

func (c *cleanRun) run(ctx context.Context, rd record.Reader) error {
	var raw record.Raw
	meta := dataset.Meta{Source: c.m.Source.Key, IngestedAt: c.m.IngestedAt}
	batch := c.env.claimBatch()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := rd.Next(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			re, ok := record.AsRecordError(err)
			if !ok {
				return fmt.Errorf("reading %s after record %d: %w", c.m.Source.Key, c.m.Counts.Received, err)
			}
			c.m.Counts.Received++
			if err := c.reject(re.Pos, re.Field, re.Reason, re.Source, nil); err != nil {
				return err
			}
			continue
		}
		c.m.Counts.Received++
		row := c.newRow()
		meta.Row = raw.Pos
		if rj := c.cl.Clean(&raw, meta, row); rj != nil {
			c.free = append(c.free, row)
			if err := c.reject(raw.Pos, rj.Field, rj.Reason, raw.Source, &raw); err != nil {
				return err
			}
			continue
		}
		if c.cl.Spec.Mode == dataset.Snapshot {
			if err := c.stage(row); err != nil {
				return err
			}
			c.free = append(c.free, row)
			continue
		}
		c.rows = append(c.rows, row)
		c.claims = append(c.claims, port.Claim{Key: c.cl.Key(row), Origin: c.m.Origin + "#" + strconv.FormatInt(raw.Pos, 10)})
		if len(c.claims) >= batch {
			if err := c.flushClaims(ctx); err != nil {
				return err
			}
		}
	}
	return c.flushClaims(ctx)
}

// txn is the dedupe transaction of the run: the file version (a replay
// batch names its own).
func (c *cleanRun) txn() string { return c.m.txn() }

func (c *cleanRun) newRow() table.Row {
	if n := len(c.free); n > 0 {
		r := c.free[n-1]
		c.free = c.free[:n-1]
		return r
	}
	return c.cl.NewRow()
}

func (c *cleanRun) flushClaims(ctx context.Context) error {
	if len(c.claims) == 0 {
		return nil
	}
	out, err := c.env.Dedupe.Claim(ctx, c.m.Dataset, c.txn(), c.claims)
	if err != nil {
		return fmt.Errorf("claiming dedupe keys for %s: %w", c.m.Source.Key, err)
	}
	if len(out) != len(c.claims) {
		return fmt.Errorf("claiming dedupe keys for %s: %d outcomes for %d claims", c.m.Source.Key, len(out), len(c.claims))
	}
	for i, o := range out {
		if o == port.Held {
			// Another file or batch still in flight holds this record's
			// key: whether it is a duplicate depends on how that work
			// ends. Fail now; the workflow retries the file later.
			return fmt.Errorf("cleaning %s: the key of record %s is claimed by work still in flight: %w",
				c.m.Source.Key, c.claims[i].Origin[strings.LastIndexByte(c.claims[i].Origin, '#')+1:], port.ErrClaimHeld)
		}
	}
	for i, o := range out {
		if o == port.Duplicate {
			c.m.Counts.Duplicate++
		} else if err := c.stage(c.rows[i]); err != nil {
			return err
		}
		c.free = append(c.free, c.rows[i])
	}
	c.rows, c.claims = c.rows[:0], c.claims[:0]
	return nil
}

func (c *cleanRun) stage(row table.Row) error {
	part := c.cl.Partition(row)
	w, ok := c.parts[part]
	if !ok {
		tmp, err := c.env.newTemp()
		if err != nil {
			return err
		}
		pw, err := table.NewParquetWriter(tmp, c.cl.Schema())
		if err != nil {
			tmp.discard()
			return fmt.Errorf("starting staging parquet for %s: %w", part, err)
		}
		w = &partWriter{tmp: tmp, pw: pw}
		c.parts[part] = w
	}
	if err := w.pw.Write([]table.Row{row}); err != nil {
		return fmt.Errorf("writing staging parquet %s/%s: %w", part, c.m.FileID, err)
	}
	if c.prof != nil {
		c.prof.add(row)
	}
	w.rows++
	c.m.Counts.Loaded++
	return nil
}

func (c *cleanRun) reject(pos int64, fieldName, reason string, src []byte, raw *record.Raw) error {
	c.m.Counts.Rejected++
	if c.rej == nil {
		tmp, err := c.env.newTemp()
		if err != nil {
			return err
		}
		c.rej = tmp
		c.renc = json.NewEncoder(tmp)
	}
	// Masked (dataset.MaskRecord, MaskInput): the raw bucket keeps the original.
	q := port.QuarantineRecord{Dataset: c.m.Dataset, Origin: c.m.Origin, Source: c.m.Source.Key, Pos: pos, Field: fieldName,
		Reason: dataset.MaskEmails(reason), Record: RecordText(c.cl.MaskRecord(src, raw))}
	if raw != nil {
		q.Values = map[string]*string{}
		for i, col := range c.cl.Columns() {
			if i < len(raw.Values) && !raw.Values[i].Null {
				v := c.cl.MaskInput(i, raw.Values[i].Text)
				q.Values[col] = &v
			} else if _, seen := q.Values[col]; !seen {
				q.Values[col] = nil
			}
		}
	}
	if err := c.renc.Encode(q); err != nil {
		return fmt.Errorf("writing quarantine record %d of %s: %w", pos, c.m.Source.Key, err)
	}
	return nil
}

func (c *cleanRun) finish(ctx context.Context) error {
	names := make([]string, 0, len(c.parts))
	for p := range c.parts {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		w := c.parts[p]
		if err := w.pw.Close(); err != nil {
			return fmt.Errorf("closing staging parquet %s: %w", p, err)
		}
		key := c.m.Dataset + "/" + p + "/" + c.m.FileID + c.suffix + ".parquet"
		if err := w.tmp.upload(ctx, c.env.Store, c.env.Buckets.Staging, key); err != nil {
			return err
		}
		delete(c.parts, p)
		c.m.StagingKeys = append(c.m.StagingKeys, key)
	}
	if c.rej != nil {
		key := c.m.Dataset + "/" + c.m.FileID + c.suffix + ".ndjson"
		if err := c.rej.upload(ctx, c.env.Store, c.env.Buckets.Quarantine, key); err != nil {
			return err
		}
		c.rej = nil
		c.m.QuarantineKey = key
	}
	return nil
}

func (c *cleanRun) discard() {
	for _, w := range c.parts {
		w.tmp.discard()
	}
	if c.rej != nil {
		c.rej.discard()
	}
}
