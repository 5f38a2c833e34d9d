package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxLineSize is the longest NDJSON line accepted; longer ones are a
// *RecordError and are skipped without being held in memory.
const maxLineSize = 16 << 20

type ndjsonReader struct {
	r       *bufio.Reader
	columns []string
	line    int64
	buf     []byte
	done    bool
}

func newNDJSONReader(r *bufio.Reader, columns []string) *ndjsonReader {
	return &ndjsonReader{r: r, columns: columns}
}

// Next reads the next non-blank line as a JSON object.
func (n *ndjsonReader) Next(dst *Raw) error {
	for {
		if n.done {
			return io.EOF
		}
		line, tooLong, err := n.readLine()
		if err == io.EOF {
			n.done = true
			if len(line) == 0 && !tooLong {
				return io.EOF
			}
		} else if err != nil {
			return fmt.Errorf("reading NDJSON line %d: %w", n.line+1, err)
		}
		n.line++
		if tooLong {
			return &RecordError{Pos: n.line, Reason: "line longer than " + strconv.Itoa(maxLineSize) + " bytes"}
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

// readLine returns the next line without its '\n'. A line over maxLineSize
// is consumed and dropped (tooLong). err is io.EOF for the last line.
func (n *ndjsonReader) readLine() (line []byte, tooLong bool, err error) {
	frag, err := n.r.ReadSlice('\n')
	if err == nil {
		return frag[:len(frag)-1], false, nil
	}
	if err != bufio.ErrBufferFull {
		return frag, false, err
	}
	n.buf = append(n.buf[:0], frag...)
	for {
		frag, err = n.r.ReadSlice('\n')
		if !tooLong {
			n.buf = append(n.buf, frag...)
			if len(n.buf) > maxLineSize+1 {
				tooLong = true
				n.buf = n.buf[:0]
			}
		}
		switch err {
		case nil:
			if tooLong {
				return nil, true, nil
			}
			return n.buf[:len(n.buf)-1], false, nil
		case bufio.ErrBufferFull:
			continue
		default:
			if tooLong {
				return nil, true, err
			}
			return n.buf, false, err
		}
	}
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
