package pipeline

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
)

// sentinel is an error value that names an outcome and wraps a broader one.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) Unwrap() error { return s.parent }

// ErrUnreadable marks a file whose bytes do not read as its format: a
// damaged or truncated gzip stream, a corrupt Parquet file, a CSV header
// that does not parse (record.ErrCorrupt underneath). It wraps
// ErrNotADataset: the same bytes fail the same way every time, so the
// workflow quarantines the file whole and does not retry. A failed read
// of the object store is never ErrUnreadable: it comes out as the store
// returned it, to be retried.
var ErrUnreadable error = &sentinel{"unreadable file", ErrNotADataset}

// ErrWrongDataset marks a file whose header (CSV header, Parquet schema)
// has none of its dataset's critical columns: a file dropped under the
// wrong dataset. It wraps ErrNotADataset (permanent, quarantined whole).
var ErrWrongDataset error = &sentinel{"not a file of its dataset", ErrNotADataset}

// unreadable marks err as ErrUnreadable when the input was corrupt, and
// leaves any other error (the store's) as it is.
func unreadable(err error) error {
	if err == nil || errors.Is(err, ErrUnreadable) || !errors.Is(err, record.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreadable, err)
}

// fileReader is a raw file's record reader as Clean sees it: a corrupt
// file's error is ErrUnreadable, and a record too long to keep (see
// record.RecordError.ByReference) says in its reason where its bytes are
// in the raw object, which stays in the raw bucket.
type fileReader struct {
	rd       record.Reader
	origin   string // s3://bucket/key@version
	gzipped  bool
	finished bool
}

func newFileReader(rd record.Reader, drop FileDrop) *fileReader {
	_, gz, _ := record.FormatOf(drop.Key)
	return &fileReader{rd: rd, origin: Origin(drop), gzipped: gz}
}

func (f *fileReader) Next(r *record.Raw) error {
	err := f.rd.Next(r)
	if err == nil || err == io.EOF {
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
func checkHeader(cl *dataset.Cleaner, rd record.Reader, drop FileDrop) error {
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
	return fmt.Errorf("%w: s3://%s/%s: its header has none of %s's critical columns (missing %s)", ErrWrongDataset, drop.Bucket, drop.Key, cl.Spec.Name, strings.Join(missing, ", "))
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
