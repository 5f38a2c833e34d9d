package batch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// dimDedupeLimit bounds the per-file set used to write each dimension row
// once; past it rows are written through and the warehouse MERGE
// de-duplicates them, so memory stays bounded for any file size.
const dimDedupeLimit = 200_000

// Model turns a file's staging Parquet into star-schema Parquet under the
// curated bucket (curated/<TABLE>/<dataset>/<file id>.parquet), plus the
// file's rejects as PULSE_REJECTS rows. It overwrites its own outputs, so
// a retry is harmless.
func Model(ctx context.Context, env *Env, m *Manifest) (*Manifest, error) {
	spec, err := dataset.Lookup(m.Dataset)
	if err != nil {
		return nil, err
	}
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	stg := cl.Schema()
	outs := make([]*modelOut, 0, len(spec.Star))
	defer func() {
		for _, o := range outs {
			o.tmp.discard()
		}
	}()
	for _, tm := range spec.Star {
		mp, err := star.Compile(tm, stg)
		if err != nil {
			return nil, err
		}
		tmp, err := env.newTemp()
		if err != nil {
			return nil, err
		}
		pw, err := table.NewParquetWriter(tmp, *tm.Table)
		if err != nil {
			tmp.discard()
			return nil, fmt.Errorf("starting curated parquet %s: %w", tm.Table.Name, err)
		}
		o := &modelOut{mp: mp, tmp: tmp, pw: pw, buf: make(table.Row, len(tm.Table.Columns))}
		if !isFact(tm.Table) {
			o.seen = map[string]struct{}{}
			o.keyCol = tm.Table.Index(tm.Table.Key[0])
		}
		outs = append(outs, o)
	}
	types := cl.Types()
	rows := make([]table.Row, 512)
	for i := range rows {
		rows[i] = cl.NewRow()
	}
	for _, key := range m.StagingKeys {
		if err := modelFile(ctx, env, key, stg, types, rows, outs); err != nil {
			return nil, err
		}
	}
	m.Curated = m.Curated[:0]
	for _, o := range outs {
		if err := o.pw.Close(); err != nil {
			return nil, fmt.Errorf("closing curated parquet %s: %w", o.mp.Table.Name, err)
		}
		if o.rows == 0 {
			continue // no empty curated files (an empty file, or every record rejected)
		}
		key := o.mp.Table.Name + "/" + m.Dataset + "/" + m.FileID + ".parquet"
		if err := o.tmp.upload(ctx, env.Store, env.Buckets.Curated, key); err != nil {
			return nil, err
		}
		m.Curated = append(m.Curated, Output{Table: o.mp.Table.Name, Key: key, Rows: o.rows})
	}
	if len(m.rejectKeys()) > 0 {
		out, err := modelRejects(ctx, env, m)
		if err != nil {
			return nil, err
		}
		m.Curated = append(m.Curated, out)
	}
	m.Status = "modelled"
	if err := env.saveManifest(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

func isFact(t *table.Schema) bool { return len(t.Name) > 5 && t.Name[:5] == "FACT_" }

type modelOut struct {
	mp     *star.Mapper
	tmp    *tempWriter
	pw     *table.ParquetWriter
	buf    table.Row
	rows   int64
	seen   map[string]struct{}
	keyCol int
}

func modelFile(ctx context.Context, env *Env, key string, stg table.Schema, types []table.Type, rows []table.Row, outs []*modelOut) error {
	f, size, err := env.spool(ctx, env.Buckets.Staging, key)
	if err != nil {
		return err
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	rd, err := table.OpenParquetRows(f, size, stg)
	if err != nil {
		return fmt.Errorf("opening staging parquet %s: %w", key, err)
	}
	one := make([]table.Row, 1)
	for {
		n, err := rd.Read(rows)
		for _, r := range rows[:n] {
			for _, o := range outs {
				o.mp.Map(r, types, o.buf)
				if o.seen != nil {
					k := o.buf[o.keyCol].S
					if _, dup := o.seen[k]; dup {
						continue
					}
					if len(o.seen) < dimDedupeLimit {
						o.seen[k] = struct{}{}
					}
				}
				one[0] = o.buf
				if err := o.pw.Write(one); err != nil {
					return fmt.Errorf("writing curated %s: %w", o.mp.Table.Name, err)
				}
				o.rows++
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading staging parquet %s: %w", key, err)
		}
		if n == 0 {
			return ctx.Err()
		}
	}
}

// modelRejects converts a file's quarantine records (of every chunk, for a
// split file) into PULSE_REJECTS rows.
func modelRejects(ctx context.Context, env *Env, m *Manifest) (Output, error) {
	tmp, err := env.newTemp()
	if err != nil {
		return Output{}, err
	}
	defer tmp.discard()
	pw, err := table.NewParquetWriter(tmp, *star.Rejects)
	if err != nil {
		return Output{}, fmt.Errorf("starting rejects parquet: %w", err)
	}
	var n int64
	for _, qk := range m.rejectKeys() {
		k, err := appendRejects(ctx, env, qk, m.IngestedAt, pw)
		if err != nil {
			return Output{}, err
		}
		n += k
	}
	if err := pw.Close(); err != nil {
		return Output{}, fmt.Errorf("closing rejects parquet: %w", err)
	}
	key := star.Rejects.Name + "/" + m.Dataset + "/" + m.FileID + ".parquet"
	if err := tmp.upload(ctx, env.Store, env.Buckets.Curated, key); err != nil {
		return Output{}, err
	}
	return Output{Table: star.Rejects.Name, Key: key, Rows: n}, nil
}

func appendRejects(ctx context.Context, env *Env, key string, at int64, pw *table.ParquetWriter) (int64, error) {
	body, _, err := env.Store.Get(ctx, env.Buckets.Quarantine, key)
	if err != nil {
		return 0, fmt.Errorf("reading quarantine s3://%s/%s: %w", env.Buckets.Quarantine, key, err)
	}
	defer body.Close()
	var n int64
	var raw record.Raw
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		q, err := decodeQuarantine(sc.Bytes(), &raw)
		if err != nil {
			return n, fmt.Errorf("decoding quarantine record in %s: %w", key, err)
		}
		if err := pw.Write([]table.Row{port.RejectRow(q, at)}); err != nil {
			return n, fmt.Errorf("writing rejects parquet: %w", err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("reading quarantine %s: %w", key, err)
	}
	return n, nil
}

// quarantineFields are the keys of a quarantine line a PULSE_REJECTS row holds.
var quarantineFields = []string{"dataset", "origin", "source", "pos", "field", "reason", "record"}

// decodeQuarantine reads what RejectRow needs from a quarantine line with
// record's JSON decoder, which skips the parsed values instead of building
// their map (encoding/json made this a tenth of Model's time).
func decodeQuarantine(line []byte, raw *record.Raw) (port.QuarantineRecord, error) {
	if err := record.DecodeJSONObject(line, quarantineFields, raw); err != nil {
		return port.QuarantineRecord{}, err
	}
	v := raw.Values
	pos, err := strconv.ParseInt(v[3].Text, 10, 64)
	if err != nil {
		return port.QuarantineRecord{}, fmt.Errorf("pos %q: %w", v[3].Text, err)
	}
	return port.QuarantineRecord{Dataset: v[0].Text, Origin: v[1].Text, Source: v[2].Text, Pos: pos, Field: v[4].Text, Reason: v[5].Text, Record: v[6].Text}, nil
}
