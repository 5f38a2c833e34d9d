package record

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// csvReader streams RFC 4180 records. The bytes csv.Reader consumes are
// tee'd into a window buffer; csv.Reader.InputOffset marks where each record
// ends, so a record's Source is its exact original bytes (line ending
// trimmed), not a re-encoding.
type csvReader struct {
	cr      *csv.Reader
	tee     *teeWindow
	columns []string
	index   []int // for each wanted column, its field in the record, or -1
	width   int   // header field count
	header  []string
	row     int64
	prevOff int64
}

// teeWindow keeps the bytes read from r after offset base.
type teeWindow struct {
	r    io.Reader
	buf  []byte
	base int64
}

func (t *teeWindow) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// slice returns the bytes in [from, to) of the input. Bytes before from
// are no longer needed; they are dropped once they make up most of buf, so
// the window stays about one record plus csv.Reader's read-ahead.
func (t *teeWindow) slice(from, to int64) []byte {
	if drop := from - t.base; drop > 32<<10 && drop > int64(len(t.buf))/2 {
		drop = min(drop, int64(len(t.buf)))
		n := copy(t.buf, t.buf[drop:])
		t.buf = t.buf[:n]
		t.base += drop
	}
	lo := min(max(from-t.base, 0), int64(len(t.buf)))
	hi := min(max(to-t.base, lo), int64(len(t.buf)))
	return t.buf[lo:hi]
}

func newCSVReader(br *bufio.Reader, columns []string) (*csvReader, error) {
	// A UTF-8 byte order mark is not part of the first header field.
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("skipping CSV byte order mark: %w", err)
		}
	}
	tee := &teeWindow{r: br}
	cr := csv.NewReader(tee)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	c := &csvReader{cr: cr, tee: tee, columns: columns, index: make([]int, len(columns))}
	for i := range c.index {
		c.index[i] = -1
	}
	header, err := cr.Read()
	if err == io.EOF {
		c.prevOff = cr.InputOffset()
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CSV header: %w", err)
	}
	c.width = len(header)
	for _, h := range header {
		c.header = append(c.header, strings.TrimSpace(h))
	}
	for i, want := range columns {
		for j, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(want)) {
				c.index[i] = j
				break
			}
		}
	}
	c.prevOff = cr.InputOffset()
	tee.slice(c.prevOff, c.prevOff)
	return c, nil
}

// Next reads the next CSV record.
func (c *csvReader) Next(dst *Raw) error {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return io.EOF
	}
	off := c.cr.InputOffset()
	src := trimLineEnd(c.tee.slice(c.prevOff, off))
	c.prevOff = off
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return fmt.Errorf("reading CSV record %d: %w", c.row+1, err)
	}
	c.row++
	if err != nil {
		return &RecordError{Pos: c.row, Reason: "malformed CSV: " + pe.Err.Error(), Source: bytes.Clone(src)}
	}
	if len(rec) != c.width {
		return &RecordError{Pos: c.row, Reason: "has " + strconv.Itoa(len(rec)) + " fields, header has " + strconv.Itoa(c.width), Source: bytes.Clone(src)}
	}
	if bytes.Contains(src, []byte("\r\n")) && hasNewline(rec) {
		// encoding/csv turns a quoted CRLF into LF; RFC 4180 keeps it.
		rec = splitQuotedCSV(src, rec[:0])
	}
	if cap(dst.Values) >= len(c.columns) {
		dst.Values = dst.Values[:len(c.columns)]
	} else {
		dst.Values = make([]Value, len(c.columns))
	}
	for i, j := range c.index {
		if j < 0 || rec[j] == "" {
			dst.Values[i] = Value{Null: true}
			continue
		}
		dst.Values[i] = Value{Text: rec[j]}
	}
	dst.Pos = c.row
	dst.Source = src
	return nil
}

func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// headerNames returns the header's field names, trimmed (for tests).
func (c *csvReader) headerNames() []string { return c.header }

func hasNewline(rec []string) bool {
	for _, f := range rec {
		if strings.IndexByte(f, '\n') >= 0 {
			return true
		}
	}
	return false
}

// splitQuotedCSV splits one record that encoding/csv already parsed without
// error, keeping quoted line breaks byte for byte.
func splitQuotedCSV(src []byte, dst []string) []string {
	var field []byte
	for i := 0; ; {
		field = field[:0]
		if i < len(src) && src[i] == '"' {
			i++
			for i < len(src) {
				if src[i] == '"' {
					if i+1 < len(src) && src[i+1] == '"' {
						field = append(field, '"')
						i += 2
						continue
					}
					i++
					break
				}
				field = append(field, src[i])
				i++
			}
		}
		for i < len(src) && src[i] != ',' {
			field = append(field, src[i])
			i++
		}
		dst = append(dst, string(field))
		if i >= len(src) {
			return dst
		}
		i++ // ','
	}
}
