package record

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// readBufferSize is the read-ahead of the streaming readers.
const readBufferSize = 64 << 10

// Open returns a streaming reader of NDJSON or CSV records from r, yielding
// one Value per wanted column. Gzip input is recognised by its magic bytes
// (1f 8b) and decompressed on the fly, whatever the key's extension says
// (see Decompress for how its errors are told apart). Parquet needs random
// access: use OpenParquet.
func Open(format Format, r io.Reader, columns []string) (Reader, error) {
	src, _, err := Decompress(r)
	if err != nil {
		return nil, fmt.Errorf("opening %s input: %w", format, err)
	}
	switch format {
	case NDJSON:
		return newNDJSONReader(src, columns), nil
	case CSV:
		return newCSVReader(src, columns)
	case Parquet:
		return nil, fmt.Errorf("opening parquet input: needs random access, use OpenParquet")
	}
	return nil, fmt.Errorf("opening input: unknown format %q", format)
}

// Decompress returns r's content, gunzipped when it starts with the gzip
// magic bytes (1f 8b). Errors are told apart: when the gzip stream is
// damaged or ends early (io.ErrUnexpectedEOF, a bad checksum or header)
// while r itself read cleanly to its end, the error wraps ErrCorrupt; an
// error of r itself (a network read) comes out as it is, never as
// ErrCorrupt, so a caller can retry it.
func Decompress(r io.Reader) (rd *bufio.Reader, gzipped bool, err error) {
	src := &sourceReader{r: r}
	br := bufio.NewReaderSize(src, readBufferSize)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("reading first bytes: %w", err)
	}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, false, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, true, classifyGzip(src, fmt.Errorf("reading gzip header: %w", err))
	}
	return bufio.NewReaderSize(&gunzipReader{zr: zr, src: src}, readBufferSize), true, nil
}

// sourceReader remembers the first error of r other than io.EOF.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// gunzipReader sorts the errors of a gzip stream (see Decompress).
type gunzipReader struct {
	zr  *gzip.Reader
	src *sourceReader
	err error
}

func (g *gunzipReader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		g.err = classifyGzip(g.src, fmt.Errorf("decompressing gzip input: %w", err))
		err = g.err
	}
	return n, err
}

func classifyGzip(src *sourceReader, err error) error {
	if src.err != nil {
		return fmt.Errorf("reading gzip input: %w", src.err)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}
