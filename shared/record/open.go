package record

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
)

// readBufferSize is the read-ahead of the streaming readers.
const readBufferSize = 64 << 10

// Open returns a streaming reader of NDJSON or CSV records from r, yielding
// one Value per wanted column. Gzip input is recognised by its magic bytes
// (1f 8b) and decompressed on the fly, whatever the key's extension says.
// Parquet needs random access: use OpenParquet.
func Open(format Format, r io.Reader, columns []string) (Reader, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	src, err := maybeGunzip(br)
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

// maybeGunzip returns a reader of br's content, decompressed if it starts
// with the gzip magic bytes.
func maybeGunzip(br *bufio.Reader) (*bufio.Reader, error) {
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading first bytes: %w", err)
	}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("reading gzip header: %w", err)
	}
	return bufio.NewReaderSize(zr, readBufferSize), nil
}
