package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// csvReader streams RFC 4180 records as csvFramer cuts them (see there for
// the rules: quoted newlines, blank lines, a stray quote that costs one
// record, the 16 MiB record limit). A record's Source is its exact
// original bytes, line ending excluded; a quoted CRLF stays CRLF.
//
// A record is rejected (a *RecordError, the reader goes on) when it is
// malformed, when its field count differs from the header's, when a
// wanted column's field is not valid UTF-8 (naming the column), and when
// its line is over the limit (located by Offset and Length, not held).
type csvReader struct {
	f       *csvFramer
	fr      csvFrame
	columns []string
	index   []int // for each wanted column, its field in the record, or -1
	width   int   // header field count
	header  []string
	row     int64
}

func newCSVReader(br *bufio.Reader, columns []string) (*csvReader, error) {
	return newCSVReaderLimit(br, columns, maxRecordSize)
}

func newCSVReaderLimit(r io.Reader, columns []string, limit int) (*csvReader, error) {
	c := &csvReader{f: newCSVFramer(r, limit), columns: columns, index: make([]int, len(columns))}
	for i := range c.index {
		c.index[i] = -1
	}
	err := c.f.next(&c.fr)
	if errors.Is(err, io.EOF) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CSV header: %w", err)
	}
	if c.fr.src == nil {
		return nil, fmt.Errorf("%w: reading CSV header: %s", ErrCorrupt, c.fr.reason)
	}
	if c.fr.reason != "" {
		return nil, fmt.Errorf("%w: reading CSV header: %s", ErrCorrupt, c.fr.reason)
	}
	rec := string(c.fr.src)
	c.width = len(c.fr.fields)
	c.f.width = c.width
	c.header = make([]string, c.width)
	for j, fl := range c.fr.fields {
		c.header[j] = strings.TrimSpace(fieldText(rec, fl))
	}
	for i, want := range columns {
		for j, h := range c.header {
			if strings.EqualFold(h, strings.TrimSpace(want)) {
				c.index[i] = j
				break
			}
		}
	}
	return c, nil
}

func fieldText(rec string, fl csvField) string {
	s := rec[fl.a:fl.b]
	if fl.esc {
		return strings.ReplaceAll(s, `""`, `"`)
	}
	return s
}

// fieldName names field j of a record for a reason: its header name.
func (c *csvReader) fieldName(j int) string {
	if j >= 0 && j < len(c.header) && c.header[j] != "" {
		return c.header[j]
	}
	return "column " + strconv.Itoa(j+1)
}

// Next reads the next CSV record.
func (c *csvReader) Next(dst *Raw) error {
	if c.header == nil {
		return io.EOF
	}
	fr := &c.fr
	err := c.f.next(fr)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("reading CSV record %d: %w", c.row+1, err)
	}
	c.row++
	if fr.src == nil {
		return &RecordError{Pos: c.row, Reason: fr.reason, Offset: fr.start, Length: fr.length}
	}
	if fr.reason != "" {
		re := &RecordError{Pos: c.row, Reason: fr.reason, Source: bytes.Clone(fr.src)}
		if fr.field >= 0 {
			re.Field = c.fieldName(fr.field)
		}
		return re
	}
	if len(fr.fields) != c.width {
		return &RecordError{Pos: c.row, Reason: "has " + strconv.Itoa(len(fr.fields)) + " fields, header has " + strconv.Itoa(c.width), Source: bytes.Clone(fr.src)}
	}
	valid := utf8.Valid(fr.src)
	rec := string(fr.src)
	if cap(dst.Values) >= len(c.columns) {
		dst.Values = dst.Values[:len(c.columns)]
	} else {
		dst.Values = make([]Value, len(c.columns))
	}
	for i, j := range c.index {
		if j < 0 {
			dst.Values[i] = Value{Null: true}
			continue
		}
		text := fieldText(rec, fr.fields[j])
		if !valid && !utf8.ValidString(text) {
			return &RecordError{Pos: c.row, Field: c.fieldName(j), Reason: "not valid UTF-8", Source: bytes.Clone(fr.src)}
		}
		if text == "" {
			dst.Values[i] = Value{Null: true}
			continue
		}
		dst.Values[i] = Value{Text: text}
	}
	dst.Pos = c.row
	dst.Source = fr.src
	return nil
}

// headerNames returns the header's field names, trimmed (for tests).
func (c *csvReader) headerNames() []string { return c.header }

// Present implements Header.
func (c *csvReader) Present() ([]bool, bool) {
	if c.header == nil {
		return nil, false
	}
	p := make([]bool, len(c.index))
	for i, j := range c.index {
		p[i] = j >= 0
	}
	return p, true
}
