package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLineSize is the longest NDJSON line accepted; a longer one is a
// *RecordError located by its byte range (Offset, Length), skipped without
// being held in memory.
const maxLineSize = maxRecordSize

// ndjsonReader reads one JSON object per line ('\n'; a CR before it is
// dropped). Every line is a position, blank ones included (they are
// skipped); each non-blank line is one record or one *RecordError.
type ndjsonReader struct {
	r       *bufio.Reader
	columns []string
	line    int64
	off     int64 // input bytes consumed
	buf     []byte
	done    bool
	limit   int
	lastCR  bool // the last line dropped as too long ended with CR LF
}

func newNDJSONReader(r *bufio.Reader, columns []string) *ndjsonReader {
	return &ndjsonReader{r: r, columns: columns, limit: maxLineSize}
}

// Next reads the next non-blank line as a JSON object.
func (n *ndjsonReader) Next(dst *Raw) error {
	for {
		if n.done {
			return io.EOF
		}
		start := n.off
		line, size, tooLong, err := n.readLine()
		n.off += size
		if errors.Is(err, io.EOF) {
			n.done = true
			if len(line) == 0 && !tooLong {
				return io.EOF
			}
		} else if err != nil {
			return fmt.Errorf("reading NDJSON line %d: %w", n.line+1, err)
		}
		n.line++
		if tooLong {
			length := size
			if !errors.Is(err, io.EOF) {
				length-- // the '\n'
			}
			if n.lastCR {
				length-- // the CR of a CRLF
			}
			return &RecordError{Pos: n.line, Reason: reasonTooLong(n.limit), Offset: start, Length: length}
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if isBlank(line) {
			continue
		}
		dst.Pos = n.line
		dst.Source = line
		if err := DecodeJSONObject(line, n.columns, dst); err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				re.Pos = n.line
				re.Source = bytes.Clone(line)
			}
			return err
		}
		return nil
	}
}

// readLine returns the next line without its '\n', and how many input
// bytes it took ('\n' included). A line whose content is over the limit
// is consumed without being held (tooLong; lastCR tells whether a CR
// ended it). err is io.EOF for the last line.
func (n *ndjsonReader) readLine() (line []byte, size int64, tooLong bool, err error) {
	frag, err := n.r.ReadSlice('\n')
	size = int64(len(frag))
	if err == nil {
		return frag[:len(frag)-1], size, false, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return frag, size, false, err
	}
	n.buf = append(n.buf[:0], frag...)
	var prev, last byte // the last two bytes seen
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(frag) > 1 {
			prev = frag[len(frag)-2]
		} else if len(frag) == 1 {
			prev = last
		}
		if len(frag) > 0 {
			last = frag[len(frag)-1]
		}
		frag, err = n.r.ReadSlice('\n')
		size += int64(len(frag))
		if len(n.buf) <= n.limit+1 {
			n.buf = append(n.buf, frag...)
		}
	}
	if len(frag) > 1 {
		prev = frag[len(frag)-2]
	} else if len(frag) == 1 {
		prev = last
	}
	if len(frag) > 0 {
		last = frag[len(frag)-1]
	}
	content := size
	if err == nil {
		content-- // the '\n'
		n.lastCR = prev == '\r'
	} else {
		n.lastCR = last == '\r'
	}
	if content > int64(n.limit) {
		n.buf = n.buf[:0]
		return nil, size, true, err
	}
	if err == nil {
		return n.buf[:len(n.buf)-1], size, false, nil
	}
	return n.buf, size, false, err
}

func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', '\f', '\v':
		default:
			return false
		}
	}
	return true
}
