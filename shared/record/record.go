// Package record reads raw input records from files and messages: NDJSON, CSV
// (RFC 4180, quoted newlines), Parquet, and gzip-compressed NDJSON/CSV.
//
// Readers stream: a file is never held whole in memory, nor a record over
// 16 MiB (see csvFramer for the CSV rules). A reader is built for
// a list of wanted column names; each record comes back as one Value per
// wanted column, in that order (a column the record lacks is Null). The
// record's original bytes are kept so a rejected record can be quarantined
// whole.
//
// A record that cannot be parsed is reported as a *RecordError and the
// reader can go on to the next record; any other error ends the read, and
// wraps ErrCorrupt when the input itself is corrupt (retrying cannot help)
// while an error of the reader underneath is passed on as it is.
//
// JSON policy for what RFC 8259 leaves to the implementation (JSONTestSuite
// i_ cases): numbers of any size or exponent are accepted and kept as their
// literal text (the cleaner decides what fits); lone or inverted \u
// surrogate escapes are replaced by U+FFFD (nested object/array text is
// kept byte for byte); bytes that are not valid UTF-8 in any string, key or
// value, reject the record ("not valid UTF-8", naming the top-level key
// they are under, or the key itself) once it is otherwise valid JSON; a
// byte order mark,
// UTF-16 input and nesting deeper than 1000 levels are rejected as invalid
// JSON. Duplicate keys: the last one wins; an exact key match wins over a
// case-insensitive one.
package record

import (
	"errors"
	"fmt"
)

// Value is one raw field in its text form. JSON strings are unescaped,
// JSON numbers and booleans keep their literal text, nested objects and
// arrays are their compact JSON text. Null marks a null or absent value.
type Value struct {
	Text string
	Null bool
}

// Raw is one input record before cleaning.
type Raw struct {
	Pos    int64   // 1-based record number in its source (data row for CSV, line for NDJSON, row for Parquet)
	Values []Value // one per wanted column, in the reader's column order
	Source []byte  // the record's original bytes (a JSON object for Parquet rows); valid until the next call to Next
}

// Reader yields raw records one at a time.
type Reader interface {
	// Next fills r with the next record. It returns io.EOF after the last
	// record, a *RecordError for a record it could not parse (call Next
	// again for the one after), or another error that ends the read.
	Next(r *Raw) error
}

// RecordError is one record the reader could not parse.
type RecordError struct {
	Pos    int64
	Field  string // the field at fault, or "" for the whole record
	Reason string
	Source []byte // the record's original bytes, kept for quarantine
	// Offset and Length locate a record too long to hold (Source is then
	// nil): it is bytes [Offset, Offset+Length) of the reader's input
	// (decompressed when gzipped), its line ending excluded.
	Offset, Length int64
}

// ByReference reports whether the record's bytes are not kept in Source
// but located by Offset and Length.
func (e *RecordError) ByReference() bool { return e.Source == nil && e.Length > 0 }

// ErrCorrupt marks input that cannot be read as its format at all: a gzip
// stream that is damaged or cut short (while the bytes under it were read
// to their end without error), a Parquet file that does not decode, a CSV
// header that does not parse or is over the record limit. The same bytes
// fail the same way every time, so retrying is useless. An error of the
// reader underneath (a network read) is never wrapped as ErrCorrupt.
var ErrCorrupt = errors.New("corrupt input")

// Header is implemented by readers whose input names its columns before
// its records (a CSV header, a Parquet schema).
type Header interface {
	// Present reports, for each wanted column, whether the input has it.
	// known is false when the input has no header at all (an empty CSV).
	Present() (present []bool, known bool)
}

func (e *RecordError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("record %d: %s", e.Pos, e.Reason)
	}
	return fmt.Sprintf("record %d: field %s: %s", e.Pos, e.Field, e.Reason)
}

// AsRecordError reports whether err is (or wraps) a *RecordError.
func AsRecordError(err error) (*RecordError, bool) {
	var re *RecordError
	ok := errors.As(err, &re)
	return re, ok
}

// Format is a file format Pulse reads.
type Format string

const (
	NDJSON  Format = "ndjson"
	CSV     Format = "csv"
	Parquet Format = "parquet"
)
