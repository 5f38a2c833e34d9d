package batch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
)

// Opening a raw object happens here, for Clean (a whole file or one
// chunk), Split and replay (which cleans again): rawFormat tells the
// format from the key, openDecompressed gives a text object's bytes
// gunzipped, openRecords gives the records of a file or of one chunk of it,
// and the errors are sorted one way (ErrNotADataset for a key of no known
// format, ErrUnreadable for corrupt bytes, a failed read of the store as
// it is, to be retried).

// rawFormat is the format of a raw object from its key, or ErrNotADataset.
func rawFormat(key string) (record.Format, error) {
	format, _, ok := record.FormatOf(key)
	if !ok {
		return "", fmt.Errorf("%w: key %q: unknown file format (want .parquet, .ndjson, .jsonl, .json, .csv, optionally .gz)", port.ErrNotADataset, key)
	}
	return format, nil
}

// openDecompressed gets a text object and gives its bytes, gunzipped when
// they are gzip (record.Decompress), with the body to close. A failed Get
// comes out as it is; a gzip stream that cannot start is ErrUnreadable,
// its message beginning with doing (what the caller was doing).
func openDecompressed(ctx context.Context, env *Env, drop port.FileDrop, doing string) (io.Reader, bool, io.Closer, error) {
	body, _, err := env.Store.Get(ctx, drop.Bucket, drop.Key)
	if err != nil {
		return nil, false, nil, fmt.Errorf("getting s3://%s/%s: %w", drop.Bucket, drop.Key, err)
	}
	r, gzipped, err := record.Decompress(body)
	if err != nil {
		body.Close()
		return nil, false, nil, unreadable(fmt.Errorf("%s: %w", doing, err))
	}
	return r, gzipped, body, nil
}

// openRecords opens the records of drop (chunk nil) or of one chunk of it,
// with the function that releases what it holds.
func openRecords(ctx context.Context, env *Env, drop port.FileDrop, chunk *Chunk, cols []string) (record.Reader, func(), error) {
	if chunk == nil {
		return openRaw(ctx, env, drop, cols)
	}
	return openChunk(ctx, env, drop, *chunk, cols)
}

// openRaw opens a raw object as a record reader: NDJSON and CSV (gzip or
// not) stream from the object; Parquet is spooled to a temp file first.
// A key of no known format is ErrNotADataset, a corrupt file
// ErrUnreadable; a failed read of the store comes out as it is.
func openRaw(ctx context.Context, env *Env, drop port.FileDrop, cols []string) (record.Reader, func(), error) {
	format, err := rawFormat(drop.Key)
	if err != nil {
		return nil, nil, err
	}
	if format == record.Parquet {
		f, size, err := env.spool(ctx, drop.Bucket, drop.Key)
		if err != nil {
			return nil, nil, err
		}
		closeFn := func() { f.Close(); os.Remove(f.Name()) }
		rd, err := record.OpenParquet(f, size, cols)
		if err != nil {
			closeFn()
			return nil, nil, unreadable(fmt.Errorf("opening parquet %s: %w", drop.Key, err))
		}
		return newFileReader(rd, drop), closeFn, nil
	}
	body, _, err := env.Store.Get(ctx, drop.Bucket, drop.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("getting s3://%s/%s: %w", drop.Bucket, drop.Key, err)
	}
	rd, err := record.Open(format, body, cols)
	if err != nil {
		body.Close()
		return nil, nil, unreadable(fmt.Errorf("opening %s: %w", drop.Key, err))
	}
	return newFileReader(rd, drop), func() { body.Close() }, nil
}

// openChunk opens a record reader over one chunk of drop, numbering its
// records from chunk.Before+1 and locating them by their offsets in the
// whole file. Errors are sorted as openRaw's.
func openChunk(ctx context.Context, env *Env, drop port.FileDrop, ch Chunk, cols []string) (record.Reader, func(), error) {
	format, err := rawFormat(drop.Key)
	if err != nil {
		return nil, nil, err
	}
	if ch.Start < 0 || ch.End < ch.Start {
		return nil, nil, fmt.Errorf("chunk %d of %s: invalid byte range [%d, %d)", ch.Index, drop.Key, ch.Start, ch.End)
	}
	if format == record.Parquet {
		return openParquetChunk(ctx, env, drop, ch, cols)
	}
	var src io.Reader
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var header []byte
	if ch.Gzip {
		r, _, body, err := openDecompressed(ctx, env, drop, fmt.Sprintf("opening chunk %d of %s", ch.Index, drop.Key))
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, body)
		if ch.Header > 0 && ch.Start >= ch.Header {
			header = make([]byte, ch.Header)
			if _, err := io.ReadFull(r, header); err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("reading the CSV header of %s: %w", drop.Key, err)
			}
			if _, err := io.CopyN(io.Discard, r, ch.Start-ch.Header); err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("skipping to chunk %d of %s: %w", ch.Index, drop.Key, err)
			}
		} else if _, err := io.CopyN(io.Discard, r, ch.Start); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("skipping to chunk %d of %s: %w", ch.Index, drop.Key, err)
		}
		src = io.LimitReader(r, ch.End-ch.Start)
	} else {
		if ch.Header > 0 && ch.Start >= ch.Header {
			h, err := env.getRange(ctx, drop.Bucket, drop.Key, 0, ch.Header)
			if err != nil {
				return nil, nil, err
			}
			header, err = io.ReadAll(h)
			h.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("reading the CSV header of %s: %w", drop.Key, err)
			}
		}
		body, err := env.getRange(ctx, drop.Bucket, drop.Key, ch.Start, ch.End-ch.Start)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, body)
		src = body
	}
	if header != nil {
		src = io.MultiReader(bytes.NewReader(header), src)
	}
	rd, err := record.Open(format, src, cols)
	if err != nil {
		closeAll()
		return nil, nil, unreadable(fmt.Errorf("opening chunk %d of %s: %w", ch.Index, drop.Key, err))
	}
	// The reader's offsets count the header read before the chunk.
	shift := ch.Start - int64(len(header))
	return newFileReader(&offsetReader{Reader: rd, before: ch.Before, shift: shift}, drop), closeAll, nil
}

// openParquetChunk copies the chunk's row groups, the file's footer and its
// leading magic into a sparse temporary file of the object's size, and
// reads just those row groups from it.
func openParquetChunk(ctx context.Context, env *Env, drop port.FileDrop, ch Chunk, cols []string) (record.Reader, func(), error) {
	if ch.Footer < ch.End || ch.Footer > drop.Size {
		return nil, nil, fmt.Errorf("chunk %d of %s: footer offset %d outside [%d, %d]", ch.Index, drop.Key, ch.Footer, ch.End, drop.Size)
	}
	f, err := os.CreateTemp(env.TempDir, "pulse-chunk-*")
	if err != nil {
		return nil, nil, fmt.Errorf("creating chunk file: %w", err)
	}
	closeFn := func() { f.Close(); os.Remove(f.Name()) }
	for _, span := range [][2]int64{{0, 4}, {ch.Start, ch.End}, {ch.Footer, drop.Size}} {
		if span[1] <= span[0] {
			continue
		}
		body, err := env.getRange(ctx, drop.Bucket, drop.Key, span[0], span[1]-span[0])
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		_, err = io.Copy(io.NewOffsetWriter(f, span[0]), body)
		body.Close()
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("copying bytes [%d, %d) of %s: %w", span[0], span[1], drop.Key, err)
		}
	}
	if err := f.Truncate(drop.Size); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("sizing chunk file for %s: %w", drop.Key, err)
	}
	rd, err := record.OpenParquetRowGroups(f, drop.Size, cols, ch.FirstGroup, ch.LastGroup)
	if err != nil {
		closeFn()
		return nil, nil, unreadable(fmt.Errorf("opening parquet chunk %d of %s: %w", ch.Index, drop.Key, err))
	}
	return newFileReader(rd, drop), closeFn, nil
}

// offsetReader numbers a chunk's records as positions in the whole file,
// and moves the byte offsets of records kept by reference to the file's.
type offsetReader struct {
	record.Reader
	before int64
	shift  int64
}

func (o *offsetReader) Next(r *record.Raw) error {
	err := o.Reader.Next(r)
	if err == nil {
		r.Pos += o.before
	} else if re, ok := record.AsRecordError(err); ok {
		re.Pos += o.before
		if re.ByReference() {
			re.Offset += o.shift
		}
	}
	return err
}

// unreadable marks err as ErrUnreadable when the input was corrupt, and
// leaves any other error (the store's) as it is.
func unreadable(err error) error {
	if err == nil || errors.Is(err, port.ErrUnreadable) || !errors.Is(err, record.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", port.ErrUnreadable, err)
}

// fileReader is a raw file's record reader as Clean sees it: a corrupt
// file's error is ErrUnreadable, and a record too long to keep (see
// record.RecordError.ByReference) says in its reason where its bytes are
// in the raw object, which stays in the raw bucket.
type fileReader struct {
	rd      record.Reader
	origin  string // s3://bucket/key@version
	gzipped bool
}

func newFileReader(rd record.Reader, drop port.FileDrop) *fileReader {
	_, gz, _ := record.FormatOf(drop.Key)
	return &fileReader{rd: rd, origin: Origin(drop), gzipped: gz}
}

func (f *fileReader) Next(r *record.Raw) error {
	err := f.rd.Next(r)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	if re, ok := record.AsRecordError(err); ok {
		if re.ByReference() {
			where := ""
			if f.gzipped {
				where = " after gunzip"
			}
			re.Reason += fmt.Sprintf("; kept by reference: bytes [%d, %d) of %s%s", re.Offset, re.Offset+re.Length, f.origin, where)
		}
		return err
	}
	return unreadable(err)
}

// Present implements record.Header when the reader underneath does.
func (f *fileReader) Present() ([]bool, bool) {
	if h, ok := f.rd.(record.Header); ok {
		return h.Present()
	}
	return nil, false
}

// Present implements record.Header when the reader underneath does.
func (o *offsetReader) Present() ([]bool, bool) {
	if h, ok := o.Reader.(record.Header); ok {
		return h.Present()
	}
	return nil, false
}

// checkHeader refuses, as ErrWrongDataset, a file whose header has none of
// its dataset's critical columns (trying each field's input names). A
// reader without a header (NDJSON), an empty CSV and a dataset without
// critical fields pass.
func checkHeader(cl *dataset.Cleaner, rd record.Reader, drop port.FileDrop) error {
	h, ok := rd.(record.Header)
	if !ok {
		return nil
	}
	present, known := h.Present()
	if !known {
		return nil
	}
	var missing []string
	at := 0
	for _, f := range cl.Spec.Fields {
		from := f.From
		if len(from) == 0 {
			from = []string{f.Name}
		}
		if f.Critical {
			for k := range from {
				if at+k < len(present) && present[at+k] {
					return nil
				}
			}
			missing = append(missing, strings.Join(from, " or "))
		}
		at += len(from)
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: s3://%s/%s: its header has none of %s's critical columns (missing %s)", port.ErrWrongDataset, drop.Bucket, drop.Key, cl.Spec.Name, strings.Join(missing, ", "))
}

// noteEmpty reports a file (or chunk) that held no record at all.
func noteEmpty(env *Env, m *Manifest) {
	if m.Counts.Received != 0 || m.Chunk != nil && m.Chunk.Of > 1 {
		return
	}
	env.log().Warn("empty file: no records", "dataset", m.Dataset, "key", m.Source.Key, "size", m.Source.Size, "counts", m.Counts.String())
}

// recordTextPrefix marks a kept record whose bytes are not UTF-8 text.
const recordTextPrefix = "base64:"

// RecordText is a rejected record's bytes as the quarantine and
// PULSE_REJECTS.RECORD keep them: as they are when they are valid UTF-8;
// else (or when the text itself starts with "base64:") "base64:" and their
// standard base64, as the stream path keeps a binary message. JSON and the
// warehouse hold only UTF-8 text; RecordBytes gives the bytes back.
func RecordText(b []byte) string {
	if utf8.Valid(b) && !bytes.HasPrefix(b, []byte(recordTextPrefix)) {
		return string(b)
	}
	return recordTextPrefix + base64.StdEncoding.EncodeToString(b)
}

// RecordBytes is the inverse of RecordText.
func RecordBytes(s string) []byte {
	if b64, ok := strings.CutPrefix(s, recordTextPrefix); ok {
		if b, err := base64.StdEncoding.DecodeString(b64); err == nil {
			return b
		}
	}
	return []byte(s)
}
