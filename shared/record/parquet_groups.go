package record

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// ParquetRowGroup is where one row group's column chunks lie in a Parquet file.
type ParquetRowGroup struct {
	Rows   int64 // rows in the group
	Offset int64 // first byte of its first column chunk
	Length int64 // bytes from Offset to the end of its last column chunk
}

// ParquetLayout reads only the footer of the Parquet file r (size bytes):
// its row groups and the offset where the footer (its length and the
// closing magic included) starts. A large file is split along these row
// groups, each part reading only its own byte span and the footer. A
// footer that does not decode is ErrCorrupt; an error of r itself is
// returned as it is.
func ParquetLayout(r io.ReaderAt, size int64) (groups []ParquetRowGroup, footer int64, err error) {
	src := &sourceReaderAt{r: r, size: size}
	defer func() {
		if p := recover(); p != nil {
			groups, footer, err = nil, 0, src.classify(fmt.Errorf("reading parquet footer: corrupt file (parquet-go panic: %v)", p))
		}
	}()
	if size < 12 {
		return nil, 0, fmt.Errorf("%w: reading parquet footer: %d bytes is too short for a parquet file", ErrCorrupt, size)
	}
	var tail [8]byte
	if _, err := src.ReadAt(tail[:], size-8); err != nil {
		return nil, 0, src.classify(fmt.Errorf("reading parquet footer length: %w", err))
	}
	footer = size - 8 - int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer < 4 {
		return nil, 0, fmt.Errorf("%w: reading parquet footer: footer length %d does not fit a %d-byte file", ErrCorrupt, size-8-footer, size)
	}
	f, err := parquet.OpenFile(src, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, 0, src.classify(fmt.Errorf("reading parquet footer: %w", err))
	}
	for g, rg := range f.Metadata().RowGroups {
		lo, hi := int64(-1), int64(0)
		for _, cc := range rg.Columns {
			md := cc.MetaData
			start := md.DataPageOffset
			if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
				start = md.DictionaryPageOffset
			}
			if lo < 0 || start < lo {
				lo = start
			}
			hi = max(hi, start+md.TotalCompressedSize)
		}
		if lo < 4 || hi > footer || hi < lo {
			return nil, 0, fmt.Errorf("%w: reading parquet footer: row group %d spans bytes [%d, %d) outside the data section [4, %d)", ErrCorrupt, g, lo, hi, footer)
		}
		groups = append(groups, ParquetRowGroup{Rows: rg.NumRows, Offset: lo, Length: hi - lo})
	}
	return groups, footer, nil
}

// OpenParquetRowGroups is OpenParquet over the row groups [first, last)
// only. Positions stay those of the whole file: the first row of group
// first is numbered one more than the rows of the groups before it.
func OpenParquetRowGroups(r io.ReaderAt, size int64, columns []string, first, last int) (Reader, error) {
	rd, err := OpenParquet(r, size, columns)
	if err != nil {
		return nil, err
	}
	p := rd.(*parquetReader)
	if first < 0 || last > len(p.rowGroups) || first > last {
		return nil, fmt.Errorf("opening parquet row groups [%d, %d): the file has %d row groups", first, last, len(p.rowGroups))
	}
	for _, rg := range p.rowGroups[:first] {
		p.pos += rg.NumRows()
	}
	p.rowGroups = p.rowGroups[:last]
	p.rg = first
	return p, nil
}
