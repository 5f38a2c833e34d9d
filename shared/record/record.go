// Package record reads raw input records from files and messages: NDJSON, CSV
// (RFC 4180, quoted newlines), Parquet, and gzip-compressed NDJSON/CSV.
//
// Readers stream: a file is never held whole in memory. A reader is built for
// a list of wanted column names; each record comes back as one Value per
// wanted column, in that order (a column the record lacks is Null). The
// record's original bytes are kept so a rejected record can be quarantined
// whole.
//
// A record that cannot be parsed is reported as a *RecordError and the
// reader can go on to the next record; any other error ends the read.
//
// JSON policy for what RFC 8259 leaves to the implementation (JSONTestSuite
// i_ cases): numbers of any size or exponent are accepted and kept as their
// literal text (the cleaner decides what fits); in string values invalid
// UTF-8 bytes and lone or inverted \u surrogates are replaced by U+FFFD
// (nested object/array text is kept byte for byte); a byte order mark,
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
