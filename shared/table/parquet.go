package table

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetRowGroupRows bounds a row group, and so the rows a writer buffers.
const parquetRowGroupRows = 64 << 10

// ParquetWriter writes rows of one Schema as a zstd-compressed (fastest
// level, see zstdCodec) Parquet file
// in which every column is optional: String is BYTE_ARRAY (STRING), Int is
// INT64, Float is DOUBLE, Bool is BOOLEAN, Timestamp is INT64
// TIMESTAMP(MICROS, isAdjustedToUTC=true) and Date is INT32 DATE.
//
// Rows are turned into column values as they are written and handed to
// parquet-go's column writers in batches of writeBatch rows (a call per row
// costs a pass over every column, and going through parquet.Row would copy
// every value once more), so a written row's strings must not change
// afterwards; Go strings do not.
type ParquetWriter struct {
	w       *parquet.Writer //nolint:staticcheck // SA1019: moving to parquet.GenericWriter rewrites the hot write path; to be done with its benchmark (tests/bench)
	schema  Schema
	types   []Type
	leaf    []int // for each schema column, its leaf column index in the file
	nulls   []parquet.Value
	cols    [][]parquet.Value // per schema column, the batch's values (writeBatch slots)
	pending int               // rows in cols not yet handed over
	inGroup int               // rows in the current row group
}

// writeBatch is how many rows a ParquetWriter collects before handing
// them to parquet-go.
const writeBatch = 256

// parquetNode maps a column Type to its Parquet node.
func parquetNode(t Type) (parquet.Node, error) {
	switch t {
	case String:
		return parquet.String(), nil
	case Int:
		return parquet.Leaf(parquet.Int64Type), nil
	case Float:
		return parquet.Leaf(parquet.DoubleType), nil
	case Bool:
		return parquet.Leaf(parquet.BooleanType), nil
	case Timestamp:
		return parquet.Timestamp(parquet.Microsecond), nil
	case Date:
		return parquet.Date(), nil
	}
	return nil, fmt.Errorf("no parquet type for column type %s", t)
}

// NewParquetWriter starts a Parquet file of schema s on w. Close finishes it.
func NewParquetWriter(w io.Writer, s Schema) (*ParquetWriter, error) {
	group := parquet.Group{}
	for _, c := range s.Columns {
		if _, dup := group[c.Name]; dup {
			return nil, fmt.Errorf("building parquet schema %s: duplicate column %s", s.Name, c.Name)
		}
		n, err := parquetNode(c.Type)
		if err != nil {
			return nil, fmt.Errorf("building parquet schema %s: column %s: %w", s.Name, c.Name, err)
		}
		group[c.Name] = parquet.Optional(n)
	}
	ps := parquet.NewSchema(s.Name, group)
	pw := &ParquetWriter{schema: s, leaf: make([]int, len(s.Columns)), cols: make([][]parquet.Value, len(s.Columns))}
	for i, c := range s.Columns {
		lc, ok := ps.Lookup(c.Name)
		if !ok {
			return nil, fmt.Errorf("building parquet schema %s: column %s not found", s.Name, c.Name)
		}
		pw.leaf[i] = lc.ColumnIndex
		pw.types = append(pw.types, c.Type)
		pw.nulls = append(pw.nulls, parquet.NullValue().Level(0, 0, lc.ColumnIndex))
		pw.cols[i] = make([]parquet.Value, writeBatch)
	}
	pw.w = parquet.NewWriter(w, ps,
		parquet.Compression(parquetZstd),
		parquet.MaxRowsPerRowGroup(parquetRowGroupRows),
		// Statistics stay in the column chunks (and the column index);
		// repeating them in every page header cost 4% of the write time.
		parquet.DataPageStatistics(false),
		parquet.CreatedBy("pulse", "", ""),
	)
	return pw, nil
}

// Write appends rows, each in schema column order.
func (pw *ParquetWriter) Write(rows []Row) error {
	for _, row := range rows {
		if len(row) != len(pw.schema.Columns) {
			return fmt.Errorf("writing parquet %s: row has %d cells, schema has %d columns", pw.schema.Name, len(row), len(pw.schema.Columns))
		}
		for i := range row {
			pw.cols[i][pw.pending] = pw.value(i, &row[i])
		}
		pw.pending++
		if pw.pending == writeBatch {
			if err := pw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// value is cell c of column i as a Parquet value.
func (pw *ParquetWriter) value(i int, c *Cell) parquet.Value {
	if c.Null {
		return pw.nulls[i]
	}
	var v parquet.Value
	switch pw.types[i] {
	case String:
		v = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(c.S), len(c.S)))
	case Int, Timestamp:
		v = parquet.Int64Value(c.I)
	case Float:
		v = parquet.DoubleValue(c.F)
	case Bool:
		v = parquet.BooleanValue(c.B)
	case Date:
		v = parquet.Int32Value(int32(c.I))
	}
	return v.Level(0, 1, pw.leaf[i])
}

// flush hands the collected rows to the column writers, and ends the row
// group once it holds parquetRowGroupRows rows.
func (pw *ParquetWriter) flush() error {
	if pw.pending == 0 {
		return nil
	}
	cws := pw.w.ColumnWriters()
	for i, vals := range pw.cols {
		vals = vals[:pw.pending]
		if _, err := cws[pw.leaf[i]].WriteRowValues(vals); err != nil {
			return fmt.Errorf("writing parquet %s column %s: %w", pw.schema.Name, pw.schema.Columns[i].Name, err)
		}
		clear(vals) // drop the string references
	}
	pw.inGroup += pw.pending
	pw.pending = 0
	if pw.inGroup >= parquetRowGroupRows {
		pw.inGroup = 0
		if err := pw.w.Flush(); err != nil {
			return fmt.Errorf("writing parquet %s row group: %w", pw.schema.Name, err)
		}
	}
	return nil
}

// Close flushes the last row group and writes the footer. It does not
// close the underlying writer.
func (pw *ParquetWriter) Close() error {
	if err := pw.flush(); err != nil {
		return err
	}
	if err := pw.w.Close(); err != nil {
		return fmt.Errorf("closing parquet %s: %w", pw.schema.Name, err)
	}
	return nil
}

// ParquetRowReader reads a Parquet file's rows as rows of a Schema, one row
// group after another in small batches. Columns are matched by name
// (exactly, then case-insensitively); a column the file lacks reads as Null.
type ParquetRowReader struct {
	file      *parquet.File
	schema    Schema
	leaf      []int // for each schema column, the file's leaf column, or -1
	conv      []cellConverter
	rowGroups []parquet.RowGroup
	rg        int
	rows      parquet.Rows
	buf       []parquet.Row
	n, i      int
	colPos    []int
	flat      bool // every column of the file is a top-level, non-repeated leaf
	pos       int64
	broken    error
}

// cellConverter knows how a file column's values become one Type's cells.
type cellConverter struct {
	unit time.Duration // a timestamp column's unit in the file
}

// OpenParquetRows opens the Parquet file r (size bytes) for reading as
// rows of s.
func OpenParquetRows(r io.ReaderAt, size int64, s Schema) (pr *ParquetRowReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			pr, err = nil, fmt.Errorf("opening parquet %s: corrupt file (parquet-go panic: %v)", s.Name, p)
		}
	}()
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("opening parquet %s: %w", s.Name, err)
	}
	pr = &ParquetRowReader{
		file:      f,
		schema:    s,
		leaf:      make([]int, len(s.Columns)),
		conv:      make([]cellConverter, len(s.Columns)),
		rowGroups: f.RowGroups(),
		colPos:    make([]int, len(f.Schema().Columns())),
	}
	top := f.Root().Columns()
	pr.flat = len(top) == len(pr.colPos)
	for _, fc := range top {
		if !fc.Leaf() || fc.Repeated() {
			pr.flat = false
		}
	}
	for i, c := range s.Columns {
		pr.leaf[i] = -1
		var match *parquet.Column
		for _, fc := range top {
			if fc.Name() == c.Name {
				match = fc
				break
			}
			if match == nil && strings.EqualFold(fc.Name(), c.Name) {
				match = fc
			}
		}
		if match == nil {
			continue
		}
		if !match.Leaf() || match.Repeated() {
			return nil, fmt.Errorf("opening parquet %s: column %s is nested or repeated, want %s", s.Name, c.Name, c.Type)
		}
		pr.leaf[i] = match.Index()
		pr.conv[i] = newCellConverter(match.Type())
	}
	return pr, nil
}

func newCellConverter(t parquet.Type) cellConverter {
	c := cellConverter{unit: time.Microsecond}
	if lt := t.LogicalType(); lt != nil {
		if ts, ok := lt.Value.(*format.TimestampType); ok && ts.Unit.Value != nil {
			c.unit = ts.Unit.Value.Duration()
		}
	} else if ct := t.ConvertedType(); ct != nil && *ct == deprecated.TimestampMillis {
		c.unit = time.Millisecond
	}
	return c
}

// NumRows is the number of rows the file holds.
func (pr *ParquetRowReader) NumRows() int64 { return pr.file.NumRows() }

// Read fills dst with up to len(dst) rows, reusing each row's cells where
// it can. It returns io.EOF, with n == 0, after the last row.
func (pr *ParquetRowReader) Read(dst []Row) (n int, err error) {
	if pr.broken != nil {
		return 0, pr.broken
	}
	defer func() {
		if r := recover(); r != nil {
			pr.closeRows()
			pr.broken = fmt.Errorf("reading parquet %s row group %d near row %d: corrupt file (parquet-go panic: %v)", pr.schema.Name, pr.rg-1, pr.pos+1, r)
			n, err = 0, pr.broken
		}
	}()
	for n < len(dst) {
		if pr.i >= pr.n {
			if err := pr.fill(); err != nil {
				if !errors.Is(err, io.EOF) {
					pr.broken = err
					return 0, err
				}
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
		}
		row := pr.buf[pr.i]
		pr.i++
		pr.pos++
		out := dst[n]
		if cap(out) >= len(pr.schema.Columns) {
			out = out[:len(pr.schema.Columns)]
		} else {
			out = make(Row, len(pr.schema.Columns))
		}
		if err := pr.convert(row, out); err != nil {
			pr.broken = fmt.Errorf("reading parquet %s row %d: %w", pr.schema.Name, pr.pos, err)
			return 0, pr.broken
		}
		dst[n] = out
		n++
	}
	return n, nil
}

func (pr *ParquetRowReader) fill() error {
	for {
		if pr.rows == nil {
			if pr.rg >= len(pr.rowGroups) {
				return io.EOF
			}
			pr.rows = pr.rowGroups[pr.rg].Rows()
			pr.rg++
			if pr.buf == nil {
				pr.buf = make([]parquet.Row, 256)
			}
		}
		for k := range pr.buf {
			pr.buf[k] = pr.buf[k][:0]
		}
		n, err := pr.rows.ReadRows(pr.buf)
		pr.n, pr.i = n, 0
		if err != nil && !errors.Is(err, io.EOF) {
			pr.closeRows()
			return fmt.Errorf("reading parquet %s row group %d near row %d: %w", pr.schema.Name, pr.rg-1, pr.pos+1, err)
		}
		if errors.Is(err, io.EOF) {
			cerr := pr.rows.Close()
			pr.rows = nil
			if cerr != nil {
				return fmt.Errorf("closing parquet %s row group %d: %w", pr.schema.Name, pr.rg-1, cerr)
			}
		}
		if n > 0 {
			return nil
		}
		if err == nil {
			pr.closeRows()
			return fmt.Errorf("reading parquet %s row group %d: no progress", pr.schema.Name, pr.rg-1)
		}
	}
}

func (pr *ParquetRowReader) closeRows() {
	if pr.rows != nil {
		_ = pr.rows.Close()
		pr.rows = nil
	}
}

// convert fills out from one file row.
func (pr *ParquetRowReader) convert(row parquet.Row, out Row) error {
	// In a flat file a row is one value per column, in column order.
	flat := pr.flat && len(row) == len(pr.colPos)
	if !flat {
		for k := range pr.colPos {
			pr.colPos[k] = -1
		}
		for k, v := range row {
			if c := v.Column(); c >= 0 && c < len(pr.colPos) && pr.colPos[c] < 0 {
				pr.colPos[c] = k
			}
		}
	}
	for i, col := range pr.schema.Columns {
		l := pr.leaf[i]
		k := l
		if !flat && l >= 0 {
			k = pr.colPos[l]
		}
		if k < 0 || row[k].IsNull() {
			out[i] = Cell{Null: true}
			continue
		}
		v := row[k]
		var c Cell
		switch col.Type {
		case String:
			b := v.ByteArray()
			if len(out[i].S) == len(b) && out[i].S == string(b) {
				c.S = out[i].S // same text as the reused cell: no allocation
			} else {
				c.S = string(b)
			}
		case Int, Date:
			x, ok := intValue(v)
			if !ok {
				return fmt.Errorf("column %s: %s value for %s", col.Name, v.Kind(), col.Type)
			}
			c.I = x
		case Timestamp:
			x, ok := intValue(v)
			if !ok {
				return fmt.Errorf("column %s: %s value for %s", col.Name, v.Kind(), col.Type)
			}
			switch pr.conv[i].unit {
			case time.Millisecond:
				x *= 1000
			case time.Nanosecond:
				x /= 1000
			}
			c.I = x
		case Float:
			switch v.Kind() {
			case parquet.Double:
				c.F = v.Double()
			case parquet.Float:
				c.F = float64(v.Float())
			default:
				x, ok := intValue(v)
				if !ok {
					return fmt.Errorf("column %s: %s value for %s", col.Name, v.Kind(), col.Type)
				}
				c.F = float64(x)
			}
		case Bool:
			if v.Kind() != parquet.Boolean {
				return fmt.Errorf("column %s: %s value for %s", col.Name, v.Kind(), col.Type)
			}
			c.B = v.Boolean()
		}
		out[i] = c
	}
	return nil
}

func intValue(v parquet.Value) (int64, bool) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int64:
		return v.Int64(), true
	}
	return 0, false
}
