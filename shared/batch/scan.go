package batch

import (
	"bytes"
	"fmt"
	"io"

	"github.com/pulse-analytics/pulse/shared/record"
)

// splitStream cuts the decoded stream r into chunks of about chunkBytes,
// each ending where a record ends, the way shared/record's readers see
// them, so that every chunk can be read on its own:
//
//   - NDJSON: every '\n' ends a line, and a line is a position (blank
//     lines count, as in record's NDJSON reader).
//   - CSV: record.CSVBoundaries, the very framing record's CSV reader
//     uses (quoted newlines, blank lines, a stray quote ending with its
//     line, the record limit). The first record is the header: the first
//     chunk starts after it, and every chunk is read with it first.
func splitStream(r io.Reader, format record.Format, gzipped bool, chunkBytes int64) ([]Chunk, error) {
	var chunks []Chunk
	var start, before, records, header int64
	headerDone := false
	cut := func(end int64) bool {
		if format == record.CSV && !headerDone {
			headerDone, header, start = true, end, end // the first chunk begins after the header
			return true
		}
		records++
		if end-start >= chunkBytes {
			chunks = append(chunks, Chunk{Start: start, End: end, Before: before, Gzip: gzipped})
			start, before = end, records
		}
		return true
	}
	// counted counts the bytes read, for the end of the stream.
	counted := &countingReader{r: r}
	var err error
	if format == record.CSV {
		err = record.CSVBoundaries(counted, cut)
	} else {
		err = scanLines(counted, cut)
	}
	if err != nil {
		return nil, fmt.Errorf("scanning for record boundaries at byte %d: %w", counted.n, err)
	}
	size := counted.n
	if format == record.CSV && (!headerDone || header == size && len(chunks) == 0) {
		// No header, or a header and nothing after it: one chunk, the whole file.
		chunks = []Chunk{{Start: 0, End: size, Gzip: gzipped}}
		header = 0
	} else if size > start || len(chunks) == 0 {
		chunks = append(chunks, Chunk{Start: start, End: size, Before: before, Gzip: gzipped})
	}
	for i := range chunks {
		chunks[i].Index, chunks[i].Of = i, len(chunks)
		chunks[i].Header = header
	}
	return chunks, nil
}

// scanLines calls fn with the offset past each '\n' of r.
func scanLines(r io.Reader, fn func(end int64) bool) error {
	buf := make([]byte, 256<<10)
	var off int64
	for {
		n, err := r.Read(buf)
		p := buf[:n]
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				off += int64(len(p))
				break
			}
			off += int64(i + 1)
			p = p[i+1:]
			if !fn(off) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
