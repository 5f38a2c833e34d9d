package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// parquetBatch is how many rows are decoded at a time; with row groups read
// one after another it bounds the reader's memory.
const parquetBatch = 128

// maxColumnChunk bounds a column chunk's uncompressed size: a larger one is
// refused rather than risk unbounded memory (a single value or page could
// be that large).
const maxColumnChunk = 512 << 20

// OpenParquet returns a reader of the Parquet file r (size bytes). Wanted
// columns are matched to the file's top-level columns by name, exactly
// first, then case-insensitively. Leaf values are converted to text (see
// leafText); nested and repeated columns become compact JSON. Each record's
// Source is the row as a JSON object of all top-level columns.
//
// A corrupt file gives an error, never a panic: panics inside parquet-go
// are recovered and reported with the row group and row reached.
func OpenParquet(r io.ReaderAt, size int64, columns []string) (rd Reader, err error) {
	src := &sourceReaderAt{r: r, size: size}
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, src.classify(fmt.Errorf("opening parquet file: corrupt file (parquet-go panic: %v)", p))
		}
	}()
	f, err := parquet.OpenFile(src, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, src.classify(fmt.Errorf("opening parquet file: %w", err))
	}
	if err := checkChunks(f); err != nil {
		return nil, src.classify(fmt.Errorf("opening parquet file: %w", err))
	}
	p := &parquetReader{file: f, store: src, rowGroups: f.RowGroups(), numLeaves: len(f.Schema().Columns())}
	for _, c := range f.Root().Columns() {
		fld := parquetField{name: c.Name(), key: append(appendJSONString(nil, c.Name(), false), ':')}
		if c.Leaf() && !c.Repeated() {
			fld.leaf = c.Index()
			fld.required = c.Required()
			fld.conv = newLeafConverter(c.Type())
		} else {
			fld.leaf = -1
			p.nested = true
		}
		p.fields = append(p.fields, fld)
	}
	p.want = make([]int, len(columns))
	defer func() {
		for _, j := range p.want {
			if j >= 0 {
				p.fields[j].wanted = true
			}
		}
	}()
	for i, name := range columns {
		p.want[i] = -1
		for j, fld := range p.fields {
			if fld.name == name {
				p.want[i] = j
				break
			}
			if p.want[i] < 0 && strings.EqualFold(fld.name, name) {
				p.want[i] = j
			}
		}
	}
	p.texts = make([]Value, len(p.fields))
	p.colPos = make([]int, p.numLeaves)
	return p, nil
}

// checkChunks names the first column chunk whose compression codec
// parquet-go cannot decode, or that is too large to read.
func checkChunks(f *parquet.File) error {
	for _, se := range f.Metadata().Schema {
		if !se.NumChildren.Valid && se.Type.Valid && (se.Type.V < format.Boolean || se.Type.V > format.FixedLenByteArray) {
			return fmt.Errorf("column %s has an invalid physical type %d: corrupt schema", se.Name, se.Type.V)
		}
	}
	required := map[string]bool{}
	for _, c := range f.Root().Columns() {
		if c.Leaf() && c.Required() {
			required[c.Name()] = true
		}
	}
	for g, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			if n := cc.MetaData.TotalUncompressedSize; n > maxColumnChunk {
				return fmt.Errorf("column %s (row group %d) is %d bytes uncompressed, over the %d-byte limit that keeps memory bounded", strings.Join(cc.MetaData.PathInSchema, "."), g, n, maxColumnChunk)
			}
			if path := cc.MetaData.PathInSchema; len(path) == 1 && required[path[0]] && cc.MetaData.Statistics.NullCount > 0 {
				return fmt.Errorf("required column %s (row group %d) counts %d nulls: corrupt file", path[0], g, cc.MetaData.Statistics.NullCount)
			}
			codec := cc.MetaData.Codec
			if parquet.LookupCompressionCodec(codec).String() == "UNSUPPORTED" {
				return fmt.Errorf("unsupported compression codec %s in column %s (row group %d)", codecName(codec), strings.Join(cc.MetaData.PathInSchema, "."), g)
			}
		}
	}
	return nil
}

func codecName(c format.CompressionCodec) string {
	if c == format.Lz4 {
		return "LZ4 (hadoop framing, deprecated)"
	}
	return c.String()
}

type parquetField struct {
	name     string
	key      []byte // the field's `"name":` in a record's JSON Source
	leaf     int    // the leaf column index of a flat top-level column, or -1
	required bool
	conv     leafConverter
	memo     textMemo // the texts of repeated values, made once
	wanted   bool     // a wanted column: its text must be valid UTF-8
}

// sourceReaderAt remembers the first error of r other than io.EOF, so an
// error of the storage under a file is told from a corrupt file.
type sourceReaderAt struct {
	r    io.ReaderAt
	size int64
	err  error
}

func (s *sourceReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		// An offset a corrupt footer made up: the file is at fault.
		return 0, fmt.Errorf("read at offset %d of a %d-byte file", off, s.size)
	}
	n, err := s.r.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// classify returns the storage's error if there was one, else err as
// ErrCorrupt: the file's bytes do not decode.
func (s *sourceReaderAt) classify(err error) error {
	if s.err != nil {
		return fmt.Errorf("reading parquet file: %w", s.err)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

type parquetReader struct {
	file      *parquet.File
	store     *sourceReaderAt
	rowGroups []parquet.RowGroup
	fields    []parquetField
	want      []int // for each wanted column, its field, or -1
	nested    bool
	numLeaves int

	rg     int // next row group to open
	rows   parquet.Rows
	buf    []parquet.Row
	n, i   int
	pos    int64
	inRG   int64 // rows read from the current row group
	broken error

	texts  []Value // per field, for the current row
	colPos []int   // per leaf column, the index of its first value in the row
	src    []byte
	tree   map[string]any
}

// Next reads the next row.
func (p *parquetReader) Next(dst *Raw) (err error) {
	if p.broken != nil {
		return p.broken
	}
	defer func() {
		if r := recover(); r != nil {
			p.close()
			p.broken = p.store.classify(fmt.Errorf("reading parquet row group %d near row %d: corrupt file (parquet-go panic: %v)", p.rg-1, p.pos+1, r))
			err = p.broken
		}
	}()
	for p.i >= p.n {
		if err := p.fill(); err != nil {
			if !errors.Is(err, io.EOF) {
				p.broken = p.store.classify(err)
				return p.broken
			}
			return err
		}
	}
	row := p.buf[p.i]
	p.i++
	p.pos++
	bad, err := p.convert(row, false)
	if err != nil {
		p.broken = p.store.classify(fmt.Errorf("reading parquet row %d: %w", p.pos, err))
		return p.broken
	}
	if bad >= 0 {
		_, _ = p.convert(row, true) // the Source with the bytes as they are (the same row converted without error above)
		return &RecordError{Pos: p.pos, Field: p.fields[bad].name, Reason: "not valid UTF-8", Source: bytes.Clone(p.src)}
	}
	if cap(dst.Values) >= len(p.want) {
		dst.Values = dst.Values[:len(p.want)]
	} else {
		dst.Values = make([]Value, len(p.want))
	}
	for i, j := range p.want {
		if j < 0 {
			dst.Values[i] = Value{Null: true}
		} else {
			dst.Values[i] = p.texts[j]
		}
	}
	dst.Pos = p.pos
	dst.Source = p.src
	return nil
}

// fill decodes the next batch of rows, moving on to the next row group at
// the end of one.
func (p *parquetReader) fill() error {
	for {
		if p.rows == nil {
			if p.rg >= len(p.rowGroups) {
				return io.EOF
			}
			p.rows = p.rowGroups[p.rg].Rows()
			p.rg++
			p.inRG = 0
			if p.buf == nil {
				p.buf = make([]parquet.Row, parquetBatch)
			}
		}
		for k := range p.buf {
			p.buf[k] = p.buf[k][:0]
		}
		n, err := p.rows.ReadRows(p.buf)
		p.n, p.i = n, 0
		p.inRG += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			p.close()
			return fmt.Errorf("reading parquet row group %d near row %d: %w", p.rg-1, p.pos+1, err)
		}
		if errors.Is(err, io.EOF) {
			if cerr := p.rows.Close(); cerr != nil {
				p.rows = nil
				return fmt.Errorf("closing parquet row group %d: %w", p.rg-1, cerr)
			}
			p.rows = nil
			if want := p.rowGroups[p.rg-1].NumRows(); p.inRG != want {
				return fmt.Errorf("reading parquet row group %d: %d rows decoded, metadata says %d: corrupt file", p.rg-1, p.inRG, want)
			}
		}
		if n > 0 {
			return nil
		}
		if err == nil {
			// No rows and no end: guard against a reader that makes no progress.
			p.close()
			return fmt.Errorf("reading parquet row group %d near row %d: no progress", p.rg-1, p.pos+1)
		}
	}
}

func (p *parquetReader) close() {
	if p.rows != nil {
		_ = p.rows.Close()
		p.rows = nil
	}
}

// convert turns row into p.texts and p.src. bad is the first wanted field
// whose text is not valid UTF-8, or -1.
// Texts that are not valid UTF-8 show as U+FFFD in p.src, as they are
// when keep (for the Source of a rejected row).
func (p *parquetReader) convert(row parquet.Row, keep bool) (bad int, err error) {
	bad = -1
	// In a flat file a row is one value per column, in column order.
	flat := !p.nested && len(row) == p.numLeaves
	if !flat {
		for k := range p.colPos {
			p.colPos[k] = -1
		}
		for k, v := range row {
			c := v.Column()
			if c >= 0 && c < len(p.colPos) && p.colPos[c] < 0 {
				p.colPos[c] = k
			}
		}
	}
	if p.nested {
		clear(p.tree)
		if p.tree == nil {
			p.tree = map[string]any{}
		}
		if err := p.file.Schema().Reconstruct(&p.tree, row); err != nil {
			return -1, fmt.Errorf("assembling nested columns: %w", err)
		}
	}
	src := append(p.src[:0], '{')
	for j := range p.fields {
		fld := &p.fields[j]
		if j > 0 {
			src = append(src, ',')
		}
		src = append(src, fld.key...)
		if fld.leaf >= 0 {
			k := fld.leaf
			if !flat {
				k = p.colPos[fld.leaf]
			}
			if k < 0 {
				p.texts[j] = Value{Null: true}
				src = append(src, "null"...)
				continue
			}
			if fld.required && row[k].IsNull() {
				return -1, fmt.Errorf("required column %s holds a null: corrupt file", fld.name)
			}
			var raw bool
			p.texts[j], raw = fld.memo.text(fld.conv, row[k])
			if fld.wanted && bad < 0 && !utf8.ValidString(p.texts[j].Text) {
				bad = j
			}
			src = appendJSONValue(src, p.texts[j], raw, keep)
			continue
		}
		sub, ok := p.tree[fld.name]
		if !ok || sub == nil {
			p.texts[j] = Value{Null: true}
			src = append(src, "null"...)
			continue
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(sub); err != nil {
			return -1, fmt.Errorf("encoding column %s as JSON: %w", fld.name, err)
		}
		text := strings.TrimSuffix(b.String(), "\n")
		p.texts[j] = Value{Text: text}
		src = append(src, text...)
	}
	p.src = append(src, '}')
	return bad, nil
}

// appendJSONValue writes v as JSON: raw text for numbers and booleans,
// a string otherwise.
func appendJSONValue(dst []byte, v Value, raw, keep bool) []byte {
	switch {
	case v.Null:
		return append(dst, "null"...)
	case raw:
		return append(dst, v.Text...)
	}
	return appendJSONString(dst, v.Text, keep)
}

// appendJSONString appends s as a JSON string. Bytes that are not valid
// UTF-8 become \ufffd, or are copied as they are when keep (the text is
// then not JSON: it is only the Source of a rejected record).
func appendJSONString(dst []byte, s string, keep bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r != utf8.RuneError || n > 1:
				dst = append(dst, s[i:i+n]...)
			case keep:
				dst = append(dst, c)
			default:
				dst = append(dst, "\\ufffd"...)
			}
			i += n - 1
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// Present implements Header: the file's schema names its columns.
func (p *parquetReader) Present() ([]bool, bool) {
	present := make([]bool, len(p.want))
	for i, j := range p.want {
		present[i] = j >= 0
	}
	return present, true
}
