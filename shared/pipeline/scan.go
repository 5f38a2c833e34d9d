package pipeline

import (
	"bytes"
	"fmt"
	"io"

	"github.com/pulse-analytics/pulse/shared/record"
)

// boundaryScanner walks the decoded bytes of a CSV or NDJSON file once and
// notes where records end, the way shared/record's readers will see them,
// so that a file can be cut between records and every part read on its own.
//
// NDJSON: every '\n' ends a line, and a line is a position (blank lines
// count, as in record's NDJSON reader).
//
// CSV: records follow encoding/csv (what record's CSV reader uses): a field
// is quoted only when its first byte is '"'; inside quotes newlines and ""
// are data; a closing quote must be followed by ',' or the end of the line,
// else the record is malformed and ends with its physical line, as does a
// record with a bare quote in an unquoted field; a line that is empty (LF or
// CRLF) outside quotes is not a record (and no cut is made after one: the
// reader counts it into the next record's source bytes). The first record is the header; a
// UTF-8 byte order mark before it is skipped.
type boundaryScanner struct {
	csv     bool
	off     int64 // bytes consumed
	records int64 // records (CSV, the header included) or lines (NDJSON) ended so far
	state   csvState
	atStart bool // no byte seen yet (for the byte order mark)
	bom     int  // byte order mark bytes matched so far
	// header is the offset just after the CSV header record (0 until it ends).
	header int64
}

type csvState uint8

const (
	csvLineStart   csvState = iota // between records, at the start of a physical line
	csvLineStartCR                 // between records, after a '\r' that began the line
	csvFieldStart                  // inside a record, at the start of a field
	csvUnquoted                    // inside an unquoted field
	csvQuoted                      // inside a quoted field
	csvQuote                       // after a '"' inside a quoted field
	csvQuoteCR                     // after '"' then '\r'
	csvBadLine                     // malformed record: skipping to the end of its line
)

func newBoundaryScanner(format record.Format) *boundaryScanner {
	return &boundaryScanner{csv: format == record.CSV, atStart: true}
}

// between reports whether the scanner stands between two records, so that
// the bytes so far and the bytes after can be read separately.
func (s *boundaryScanner) between() bool {
	if s.csv {
		return s.state == csvLineStart && s.header > 0
	}
	return true
}

// scan consumes p and calls cut whenever it stands between records, with
// the offset there. It stops early when cut returns false.
func (s *boundaryScanner) scan(p []byte, cut func(off int64) bool) {
	if !s.csv {
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				s.off += int64(len(p))
				return
			}
			s.off += int64(i + 1)
			s.records++
			p = p[i+1:]
			if !cut(s.off) {
				return
			}
		}
		return
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		s.off++
		if s.atStart {
			if s.bom < 3 && b == "\xef\xbb\xbf"[s.bom] {
				s.bom++
				if s.bom == 3 {
					s.atStart = false
				}
				continue
			}
			s.atStart = false
		}
		if s.step(b) && !cut(s.off) {
			return
		}
	}
}

// step advances the CSV state by one byte; it reports whether a record
// (or a blank line) ended with it, leaving the scanner between records.
func (s *boundaryScanner) step(b byte) bool {
	switch s.state {
	case csvLineStart:
		switch b {
		case '\n':
			// A blank line is no record. No cut here either: the reader
			// counts it into the next record's source bytes.
			return false
		case '\r':
			s.state = csvLineStartCR
			return false
		}
		s.state = csvFieldStart
		return s.field(b)
	case csvLineStartCR:
		if b == '\n' {
			s.state = csvLineStart
			return false
		}
		s.state = csvUnquoted // the '\r' began an unquoted field
		return s.unquoted(b)
	case csvFieldStart:
		return s.field(b)
	case csvUnquoted:
		return s.unquoted(b)
	case csvQuoted:
		if b == '"' {
			s.state = csvQuote
		}
		return false
	case csvQuote:
		switch b {
		case '"':
			s.state = csvQuoted
		case ',':
			s.state = csvFieldStart
		case '\n':
			return s.endRecord()
		case '\r':
			s.state = csvQuoteCR
		default:
			s.state = csvBadLine
		}
		return false
	case csvQuoteCR:
		if b == '\n' {
			return s.endRecord()
		}
		s.state = csvBadLine
		return false
	case csvBadLine:
		if b == '\n' {
			return s.endRecord()
		}
		return false
	}
	return false
}

func (s *boundaryScanner) field(b byte) bool {
	switch b {
	case '"':
		s.state = csvQuoted
		return false
	case ',':
		s.state = csvFieldStart
		return false
	case '\n':
		return s.endRecord()
	}
	s.state = csvUnquoted
	return false
}

func (s *boundaryScanner) unquoted(b byte) bool {
	switch b {
	case ',':
		s.state = csvFieldStart
	case '\n':
		return s.endRecord()
	case '"':
		s.state = csvBadLine // bare quote: encoding/csv drops the rest of the line
	}
	return false
}

func (s *boundaryScanner) endRecord() bool {
	s.state = csvLineStart
	s.records++
	if s.header == 0 {
		s.header = s.off
	}
	return true
}

// dataRecords is how many records (CSV data rows, NDJSON lines) ended so far.
func (s *boundaryScanner) dataRecords() int64 {
	if s.csv && s.records > 0 {
		return s.records - 1
	}
	return s.records
}

// splitStream cuts the decoded stream r into chunks of about chunkBytes,
// each ending between records.
func splitStream(r io.Reader, format record.Format, gzipped bool, chunkBytes int64) ([]Chunk, error) {
	s := newBoundaryScanner(format)
	var chunks []Chunk
	start, before := int64(0), int64(0)
	buf := make([]byte, 256<<10)
	cut := func(off int64) bool {
		if s.csv && start == 0 && s.header > 0 && off == s.header {
			start = off // the first chunk begins after the header
			return true
		}
		if off-start >= chunkBytes && s.between() {
			chunks = append(chunks, Chunk{Start: start, End: off, Before: before, Gzip: gzipped})
			start, before = off, s.dataRecords()
		}
		return true
	}
	for {
		n, err := r.Read(buf)
		s.scan(buf[:n], cut)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scanning for record boundaries at byte %d: %w", s.off, err)
		}
	}
	if s.csv && s.header == 0 {
		// A header without a line end, or no header at all: one chunk, the whole file.
		chunks = []Chunk{{Start: 0, End: s.off, Gzip: gzipped}}
	} else if s.off > start || len(chunks) == 0 {
		chunks = append(chunks, Chunk{Start: start, End: s.off, Before: before, Gzip: gzipped})
	}
	for i := range chunks {
		chunks[i].Index, chunks[i].Of = i, len(chunks)
		if s.csv {
			chunks[i].Header = s.header
		}
	}
	return chunks, nil
}
