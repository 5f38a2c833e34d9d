package record

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// maxRecordSize bounds the bytes of one record: an NDJSON line, a CSV line,
// a CSV record whose quoted fields span lines. A longer physical line is a
// *RecordError located by its byte range, never held in memory.
const maxRecordSize = 16 << 20

// Reasons of CSV record errors.
const (
	reasonBareQuote    = `malformed CSV: bare " in non-quoted-field`
	reasonQuote        = `malformed CSV: extraneous or missing " in quoted-field`
	reasonUnterminated = "unterminated quote: the lines after it do not complete a well-formed record"
)

func reasonTooLong(limit int) string {
	return "line longer than the " + strconv.Itoa(limit) + "-byte limit"
}

// csvFramer cuts a CSV byte stream into records: the one definition of
// where a CSV record starts and ends, shared by the CSV reader and by
// CSVBoundaries (which the pipeline uses to split large files), so the two
// always agree. The rules, RFC 4180 with encoding/csv's reading of it:
//
//   - A UTF-8 byte order mark at the start of the stream is skipped.
//   - A record ends at a line feed outside quotes; CRLF and LF both end a
//     line; an empty line (LF or CRLF alone) between records is no record.
//     A CR just before the end of the input is dropped.
//   - A field is quoted only when its first byte is '"'; inside quotes, ","
//     and line breaks are data and "" is one quote. A closing quote must be
//     followed by ',' or the end of the line.
//   - A record with a quote error on one line (a bare quote in an unquoted
//     field, a closing quote followed by other bytes, a quote still open at
//     the end of the input) is malformed and ends with its line.
//   - A record whose quoted field spans lines is accepted only if it closes
//     into a well-formed record with the header's number of fields within
//     the limit (16 MiB). Otherwise its quote is unterminated: the record
//     is its first physical line alone (rejected, naming the field whose
//     quote opened there), and reading resumes at the next line. So a stray
//     quote costs one record, never the records after it.
//   - A physical line longer than the limit is one record, rejected and
//     located by its byte range; it is skipped without being held.
type csvFramer struct {
	r      io.Reader
	buf    []byte
	lo, hi int   // buf[lo:hi] is input not yet consumed
	base   int64 // stream offset of buf[0]
	rerr   error // the error that ended the input (io.EOF at its end)
	limit  int
	width  int  // the header's field count, once known (0 before)
	bomed  bool // the byte order mark check is done
	skip   int  // bytes of the last frame still to consume
	fields []csvField
}

// csvField is one field of a framed record, relative to its start.
type csvField struct {
	a, b int  // the field's bytes [a, b), quotes excluded
	esc  bool // a quoted field holding "" pairs
}

// csvFrame is one record as framed.
type csvFrame struct {
	start  int64  // stream offset of the record's first byte
	end    int64  // stream offset past the record and its line ending
	src    []byte // the record's bytes, line ending excluded; nil when too long
	length int64  // len(src), also when src is nil
	reason string // why the record is malformed, "" when it parsed
	field  int    // for an unterminated quote, the field it opened in; else -1
	fields []csvField
}

var (
	stopUnquoted = [256]bool{',': true, '\n': true, '"': true}
	stopQuoted   = [256]bool{'"': true, '\n': true}
)

func newCSVFramer(r io.Reader, limit int) *csvFramer {
	return &csvFramer{r: r, buf: make([]byte, readBufferSize), limit: limit}
}

// more reads more input into buf; it reports false when none came (f.rerr
// then says why).
func (f *csvFramer) more() bool {
	if f.rerr != nil {
		return false
	}
	if f.lo > 0 && (f.hi == len(f.buf) || f.lo >= len(f.buf)/2) {
		copy(f.buf, f.buf[f.lo:f.hi])
		f.base += int64(f.lo)
		f.hi -= f.lo
		f.lo = 0
	}
	if f.hi == len(f.buf) {
		nb := make([]byte, 2*len(f.buf))
		copy(nb, f.buf[:f.hi])
		f.buf = nb
	}
	for range 100 {
		n, err := f.r.Read(f.buf[f.hi:])
		f.hi += n
		if err != nil {
			f.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	f.rerr = io.ErrNoProgress
	return false
}

// failed returns the read error that ended the input, nil at its clean end.
func (f *csvFramer) failed() error {
	if errors.Is(f.rerr, io.EOF) {
		return nil
	}
	return f.rerr
}

// at returns the byte i bytes after f.lo.
func (f *csvFramer) at(i int) (byte, bool) {
	for f.hi-f.lo <= i {
		if !f.more() {
			return 0, false
		}
	}
	return f.buf[f.lo+i], true
}

// find returns the first j >= i (relative to f.lo) whose byte is in stop.
// ok is false when the input ended first (j is then its end) or when no
// such byte lies within the limit (j is then limit+1).
func (f *csvFramer) find(i int, stop *[256]bool) (j int, ok bool) {
	for {
		n := f.hi - f.lo
		lim := min(n, f.limit+1)
		b := f.buf[f.lo : f.lo+lim]
		for k := i; k < lim; k++ {
			if stop[b[k]] {
				return k, true
			}
		}
		if lim > f.limit {
			return lim, false
		}
		i = max(i, lim)
		if !f.more() {
			return n, false
		}
	}
}

// next frames the next record. It returns io.EOF at the end of the input,
// or the read error that ended it.
func (f *csvFramer) next(fr *csvFrame) error {
	f.lo += f.skip
	f.skip = 0
	if !f.bomed {
		f.bomed = true
		for f.hi-f.lo < 3 && f.more() {
		}
		if f.hi-f.lo >= 3 && bytes.Equal(f.buf[f.lo:f.lo+3], []byte{0xef, 0xbb, 0xbf}) {
			f.lo += 3
		}
	}
	for {
		c, ok := f.at(0)
		if !ok {
			if err := f.failed(); err != nil {
				return err
			}
			return io.EOF
		}
		if c == '\n' {
			f.lo++
			continue
		}
		if c == '\r' {
			c2, ok := f.at(1)
			if !ok && f.failed() == nil {
				f.lo++ // a CR at the very end is dropped
				continue
			}
			if ok && c2 == '\n' {
				f.lo += 2
				continue
			}
		}
		break
	}
	return f.record(fr)
}

// record frames the record starting at f.lo (not a blank line).
func (f *csvFramer) record(fr *csvFrame) error {
	fr.start = f.base + int64(f.lo)
	fr.reason, fr.field = "", -1
	f.fields = f.fields[:0]
	firstEOL, openField := -1, -1 // after the first line break inside quotes, and its field
	i := 0
	bad := ""
	srcEnd, end := 0, 0
fields:
	for {
		c, ok := f.at(i)
		if !ok {
			if err := f.failed(); err != nil {
				return err
			}
			f.fields = append(f.fields, csvField{a: i, b: i}) // after a final ','
			srcEnd, end = i, i
			break
		}
		if c != '"' {
			j, ok := f.find(i, &stopUnquoted)
			if j > f.limit {
				return f.overLimit(fr, firstEOL, openField)
			}
			if !ok {
				if err := f.failed(); err != nil {
					return err
				}
				b := j
				if b > i && f.buf[f.lo+b-1] == '\r' {
					b--
				}
				f.fields = append(f.fields, csvField{a: i, b: b})
				srcEnd, end = b, j
				break
			}
			switch f.buf[f.lo+j] {
			case ',':
				f.fields = append(f.fields, csvField{a: i, b: j})
				i = j + 1
				continue
			case '\n':
				b := j
				if b > i && f.buf[f.lo+b-1] == '\r' {
					b--
				}
				f.fields = append(f.fields, csvField{a: i, b: b})
				srcEnd, end = b, j+1
				break fields
			}
			bad, i = reasonBareQuote, j
			break
		}
		a := i + 1
		i = a
		esc := false
		for {
			j, ok := f.find(i, &stopQuoted)
			if j > f.limit {
				return f.overLimit(fr, firstEOL, openField)
			}
			if !ok {
				if err := f.failed(); err != nil {
					return err
				}
				bad, i = reasonQuote, j
				break fields
			}
			if f.buf[f.lo+j] == '\n' {
				if firstEOL < 0 {
					firstEOL, openField = j+1, len(f.fields)
				}
				i = j + 1
				continue
			}
			c2, ok := f.at(j + 1)
			switch {
			case !ok:
				if err := f.failed(); err != nil {
					return err
				}
				f.fields = append(f.fields, csvField{a: a, b: j, esc: esc})
				srcEnd, end = j+1, j+1
				break fields
			case c2 == '"':
				esc = true
				i = j + 2
				continue
			case c2 == ',':
				f.fields = append(f.fields, csvField{a: a, b: j, esc: esc})
				i = j + 2
				continue fields
			case c2 == '\n':
				f.fields = append(f.fields, csvField{a: a, b: j, esc: esc})
				srcEnd, end = j+1, j+2
				break fields
			case c2 == '\r':
				c3, ok := f.at(j + 2)
				if !ok && f.failed() == nil || ok && c3 == '\n' {
					f.fields = append(f.fields, csvField{a: a, b: j, esc: esc})
					srcEnd, end = j+1, j+2
					if ok {
						end = j + 3
					}
					break fields
				}
				if !ok {
					return f.failed()
				}
			}
			bad, i = reasonQuote, j+1
			break fields
		}
	}
	if end > f.limit+1 || srcEnd > f.limit {
		return f.overLimit(fr, firstEOL, openField)
	}
	if firstEOL >= 0 && (bad != "" || f.width > 0 && len(f.fields) != f.width) {
		return f.unterminated(fr, firstEOL, openField)
	}
	if bad != "" {
		// The record ends with the line its error is on.
		j, ok := f.find(i, &stopNewline)
		if j > f.limit {
			return f.overLimit(fr, -1, -1)
		}
		srcEnd, end = j, j
		if ok {
			end = j + 1
		} else if err := f.failed(); err != nil {
			return err
		}
		if srcEnd > 0 && f.buf[f.lo+srcEnd-1] == '\r' {
			srcEnd--
		}
		fr.reason = bad
	}
	fr.src = f.buf[f.lo : f.lo+srcEnd]
	fr.length = int64(srcEnd)
	fr.end = fr.start + int64(end)
	fr.fields = f.fields
	f.skip = end
	return nil
}

var stopNewline = [256]bool{'\n': true}

// unterminated makes the record its first physical line alone.
func (f *csvFramer) unterminated(fr *csvFrame, firstEOL, openField int) error {
	srcEnd := firstEOL - 1
	if srcEnd > 0 && f.buf[f.lo+srcEnd-1] == '\r' {
		srcEnd--
	}
	fr.src = f.buf[f.lo : f.lo+srcEnd]
	fr.length = int64(srcEnd)
	fr.end = fr.start + int64(firstEOL)
	fr.reason, fr.field = reasonUnterminated, openField
	fr.fields = nil
	f.skip = firstEOL
	return nil
}

// overLimit handles a record that passed the limit: a quoted field that
// crossed a line ends the record with its first line; otherwise the
// physical line itself is too long and is skipped, not held.
func (f *csvFramer) overLimit(fr *csvFrame, firstEOL, openField int) error {
	if firstEOL >= 0 {
		return f.unterminated(fr, firstEOL, openField)
	}
	var n int64
	var last byte
	for {
		b := f.buf[f.lo:f.hi]
		if k := bytes.IndexByte(b, '\n'); k >= 0 {
			n += int64(k)
			if k > 0 {
				last = b[k-1]
			}
			f.lo += k + 1
			if last == '\r' {
				n--
			}
			break
		}
		n += int64(len(b))
		if len(b) > 0 {
			last = b[len(b)-1]
		}
		f.lo = f.hi
		if !f.more() {
			if err := f.failed(); err != nil {
				return err
			}
			if last == '\r' {
				n--
			}
			break
		}
	}
	fr.src, fr.fields = nil, nil
	fr.length = n
	fr.end = f.base + int64(f.lo)
	fr.reason = reasonTooLong(f.limit)
	return nil
}

// CSVBoundaries reads the CSV stream r (decompressed) and calls fn with
// the offset just past each record, the header first, where the CSV reader
// ends them (blank lines between records belong to no record). It stops
// when fn returns false, and returns the read error that ended r, if any.
func CSVBoundaries(r io.Reader, fn func(end int64) bool) error {
	f := newCSVFramer(r, maxRecordSize)
	var fr csvFrame
	for n := 0; ; n++ {
		err := f.next(&fr)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 && fr.reason == "" && fr.src != nil {
			f.width = len(fr.fields)
		}
		if !fn(fr.end) {
			return nil
		}
	}
}
