package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/pulse-analytics/pulse/shared/dataset"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
)

// DefaultChunkBytes is the target size of one part of a split file: decoded
// bytes for CSV and NDJSON, compressed column-chunk bytes for Parquet.
const DefaultChunkBytes = 64 << 20

// Chunk is one part of a large raw file, cleaned on its own by CleanChunk
// (the batch workflow's Distributed Map runs one per item). CSV and NDJSON
// files are cut between records (line ranges that respect quoted
// newlines), Parquet files between row groups. Positions, and so dedupe
// origins and reject IDs, stay those of the whole file: a chunk's records
// are numbered from Before+1.
type Chunk struct {
	Index int `json:"index"` // 0-based
	Of    int `json:"of"`    // how many chunks the file has
	// Start and End delimit the chunk's bytes [Start, End): in the decoded
	// stream for CSV and NDJSON (after gunzip when Gzip), the span of its
	// row groups' column chunks for Parquet.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Header (CSV) is where the header record ends: bytes [0, Header) are
	// read before the chunk's own.
	Header int64 `json:"header,omitempty"`
	// Groups [FirstGroup, LastGroup) are the chunk's Parquet row groups;
	// Footer is where the file's footer starts.
	FirstGroup int   `json:"firstGroup,omitempty"`
	LastGroup  int   `json:"lastGroup,omitempty"`
	Footer     int64 `json:"footer,omitempty"`
	// Before is how many records (data rows, lines, Parquet rows) precede
	// the chunk in the file.
	Before int64 `json:"before"`
	// Gzip: the object is gzip-compressed, so Start and End are offsets in
	// its decompressed stream and the chunk reads the object from the start.
	Gzip bool `json:"gzip,omitempty"`
}

// suffix names the chunk's own outputs (staging parts, rejects, manifest).
func (c *Chunk) suffix() string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("-c%05d", c.Index)
}

// SplitResult is how Split cut a file: the file (its version, ETag and
// size resolved) and its chunks in order.
type SplitResult struct {
	File   port.FileDrop `json:"file"`
	Chunks []Chunk       `json:"chunks"`
}

// Split cuts a raw file into chunks of about chunkBytes (DefaultChunkBytes
// when <= 0) for CleanChunk. CSV and NDJSON files are read once, as a
// stream, to find record boundaries; a Parquet file's footer alone gives
// its row groups. Memory stays bounded whatever the file's size.
func Split(ctx context.Context, env *Env, drop port.FileDrop, chunkBytes int64) (*SplitResult, error) {
	if chunkBytes <= 0 {
		chunkBytes = DefaultChunkBytes
	}
	if _, err := DatasetOf(drop.Key); err != nil {
		return nil, err
	}
	drop, _, err := env.resolve(ctx, drop)
	if err != nil {
		return nil, err
	}
	format, err := rawFormat(drop.Key)
	if err != nil {
		return nil, err
	}
	var chunks []Chunk
	if format == record.Parquet {
		chunks, err = splitParquet(ctx, env, drop, chunkBytes)
	} else {
		chunks, err = splitText(ctx, env, drop, format, chunkBytes)
	}
	if err != nil {
		return nil, err
	}
	env.log().Info("split", "key", drop.Key, "size", drop.Size, "chunks", len(chunks))
	return &SplitResult{File: drop, Chunks: chunks}, nil
}

func splitText(ctx context.Context, env *Env, drop port.FileDrop, format record.Format, chunkBytes int64) ([]Chunk, error) {
	r, gzipped, body, err := openDecompressed(ctx, env, drop, fmt.Sprintf("splitting s3://%s/%s", drop.Bucket, drop.Key))
	if err != nil {
		return nil, err
	}
	defer body.Close()
	chunks, err := splitStream(r, format, gzipped, chunkBytes)
	if err != nil {
		return nil, unreadable(fmt.Errorf("splitting s3://%s/%s: %w", drop.Bucket, drop.Key, err))
	}
	return chunks, nil
}

func splitParquet(ctx context.Context, env *Env, drop port.FileDrop, chunkBytes int64) ([]Chunk, error) {
	groups, footer, err := record.ParquetLayout(env.readerAt(ctx, drop.Bucket, drop.Key), drop.Size)
	if err != nil {
		return nil, unreadable(fmt.Errorf("splitting s3://%s/%s: %w", drop.Bucket, drop.Key, err))
	}
	var chunks []Chunk
	cur := Chunk{Footer: footer, Start: -1}
	var before int64
	flush := func(last int) {
		cur.LastGroup = last
		chunks = append(chunks, cur)
		cur = Chunk{Footer: footer, Start: -1, FirstGroup: last, Before: before}
	}
	for g, rg := range groups {
		if cur.Start < 0 || rg.Offset < cur.Start {
			cur.Start = rg.Offset
		}
		cur.End = max(cur.End, rg.Offset+rg.Length)
		before += rg.Rows
		if cur.End-cur.Start >= chunkBytes {
			flush(g + 1)
		}
	}
	if cur.Start >= 0 || len(chunks) == 0 {
		if cur.Start < 0 {
			cur.Start, cur.End = 4, 4 // no row groups: an empty file
		}
		flush(len(groups))
	}
	for i := range chunks {
		chunks[i].Index, chunks[i].Of = i, len(chunks)
	}
	return chunks, nil
}

// getRange reads [offset, offset+length) of an object.
func (e *Env) getRange(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, error) {
	if rg, ok := e.Store.(port.RangeGetter); ok {
		body, err := rg.GetRange(ctx, bucket, key, offset, length)
		if err != nil {
			return nil, fmt.Errorf("getting bytes [%d, %d) of s3://%s/%s: %w", offset, offset+length, bucket, key, err)
		}
		return body, nil
	}
	body, _, err := e.Store.Get(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("getting s3://%s/%s: %w", bucket, key, err)
	}
	if _, err := io.CopyN(io.Discard, body, offset); err != nil {
		body.Close()
		return nil, fmt.Errorf("skipping to byte %d of s3://%s/%s: %w", offset, bucket, key, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, length), body}, nil
}

// readerAtFunc is an io.ReaderAt made of a function.
type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

// readerAt reads an object at offsets, one range request per call (for a
// Parquet footer: a few small reads).
func (e *Env) readerAt(ctx context.Context, bucket, key string) io.ReaderAt {
	return readerAtFunc(func(p []byte, off int64) (int, error) {
		body, err := e.getRange(ctx, bucket, key, off, int64(len(p)))
		if err != nil {
			return 0, err
		}
		defer body.Close()
		n, err := io.ReadFull(body, p)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return n, err
	})
}

// Combine makes a split file's manifest from the manifests of its chunks
// (written by CleanChunk): counts summed, staging parts and reject files
// united, so Model and Load see one file. A chunk without a manifest (its
// clean has not finished) is an error naming it. Running it again gives
// the same manifest.
func Combine(ctx context.Context, env *Env, drop port.FileDrop, chunks int) (*Manifest, error) {
	spec, err := DatasetOf(drop.Key)
	if err != nil {
		return nil, err
	}
	if chunks < 1 {
		return nil, fmt.Errorf("combining %s: %d chunks", drop.Key, chunks)
	}
	fileID := FileID(drop)
	m := &Manifest{FileID: fileID, Dataset: spec.Name, Source: drop, Origin: Origin(drop), Status: "cleaned", Chunks: chunks}
	for i := 0; i < chunks; i++ {
		cm, err := env.loadManifest(ctx, chunkManifestKey(spec.Name, fileID, i))
		if err != nil {
			return nil, fmt.Errorf("combining %s: chunk %d of %d: %w", drop.Key, i, chunks, err)
		}
		if cm.Chunk == nil || cm.Chunk.Index != i || cm.Chunk.Of != chunks {
			return nil, fmt.Errorf("combining %s: manifest of chunk %d is not chunk %d of %d", drop.Key, i, i, chunks)
		}
		if i == 0 || cm.StartedAt < m.StartedAt {
			m.StartedAt = cm.StartedAt
		}
		if i == 0 {
			m.IngestedAt = cm.IngestedAt
		}
		m.Counts.Received += cm.Counts.Received
		m.Counts.Loaded += cm.Counts.Loaded
		m.Counts.Rejected += cm.Counts.Rejected
		m.Counts.Duplicate += cm.Counts.Duplicate
		m.Counts.Late += cm.Counts.Late
		m.StagingKeys = append(m.StagingKeys, cm.StagingKeys...)
		if cm.QuarantineKey != "" {
			m.ChunkRejectKeys = append(m.ChunkRejectKeys, cm.QuarantineKey)
		}
		m.FinishedAt = max(m.FinishedAt, cm.FinishedAt)
	}
	if !m.Counts.Balanced() {
		return nil, fmt.Errorf("combining %s: counts do not add up: %s", drop.Key, m.Counts)
	}
	// Partition by partition, and in file order within one (the chunk
	// suffixes sort in order): Model then reads the rows in the order a
	// whole-file clean stages them, so the same dimension rows win.
	sort.Strings(m.StagingKeys)
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	if m.Counts.Received > 0 {
		if err := env.combineProfiles(ctx, cl.Schema(), spec.Name, fileID, drop.Key, chunks); err != nil {
			return nil, fmt.Errorf("combining %s: %w", drop.Key, err)
		}
	}
	if err := env.saveManifest(ctx, m); err != nil {
		return nil, err
	}
	env.log().Info("combined", "dataset", spec.Name, "key", drop.Key, "chunks", chunks, "counts", m.Counts.String())
	noteEmpty(env, m)
	return m, nil
}
