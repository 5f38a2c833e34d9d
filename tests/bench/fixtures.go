package bench

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Seed is the generator seed of every fixture.
const Seed = 20240203

// Formats are the input formats the batch benchmarks read, in order.
var Formats = []record.Format{record.NDJSON, record.CSV, record.Parquet}

// Fixture is one generated set of the same records in every format.
type Fixture struct {
	Dataset string
	Rows    int
	Paths   map[record.Format]string
	Truth   Truth
}

// Truth is what the generator injected, counted by the generator itself
// (events/batchgen), not by Pulse's cleaning code.
type Truth struct {
	Rows      int `json:"rows"`
	Loaded    int `json:"loaded"`
	Rejected  int `json:"rejected"`
	Duplicate int `json:"duplicate"`
}

func truthOf(t *batchgen.Truth) Truth {
	return Truth{Rows: t.Rows, Loaded: t.Loaded, Rejected: t.Rejected, Duplicate: t.Duplicate}
}

// VideoFixture returns video_interactions files of rows records in dir,
// generating them on first use: batchgen's Time-Wasters-shaped CSV (with
// its dirt: nulls in critical fields, out-of-range ages, negative
// engagement, unknown platforms, duplicates, gender and platform
// variants), and the same records as NDJSON (typed JSON values, null for
// empty) and as zstd Parquet (typed columns, null for empty). A set whose
// truth file exists is reused; files are renamed into place only when
// whole.
func VideoFixture(dir string, rows int, progress io.Writer) (*Fixture, error) {
	base := filepath.Join(dir, fmt.Sprintf("video_interactions-%d", rows))
	fx := &Fixture{Dataset: dataset.VideoInteractions.Name, Rows: rows, Paths: map[record.Format]string{}}
	for _, f := range Formats {
		fx.Paths[f] = base + "." + string(f)
	}
	truthPath := base + ".truth.json"
	if b, err := os.ReadFile(truthPath); err == nil {
		if err := json.Unmarshal(b, &fx.Truth); err != nil {
			return nil, fmt.Errorf("reading %s: %w", truthPath, err)
		}
		whole := true
		for _, p := range fx.Paths {
			if _, err := os.Stat(p); err != nil {
				whole = false
			}
		}
		if whole {
			return fx, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making fixture folder: %w", err)
	}
	fmt.Fprintf(progress, "generating %d video_interactions rows into %s.{csv,ndjson,parquet} (once)\n", rows, base)
	var truth *batchgen.Truth
	err := writeAtomic(fx.Paths[record.CSV], func(w io.Writer) error {
		var err error
		truth, err = batchgen.VideoCSV(w, genOptions(rows))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("generating video CSV: %w", err)
	}
	fx.Truth = truthOf(truth)
	types, err := inputTypes(dataset.VideoInteractions)
	if err != nil {
		return nil, err
	}
	if err := convert(fx.Paths[record.CSV], fx.Paths[record.NDJSON], types, newNDJSONSink); err != nil {
		return nil, err
	}
	if err := convert(fx.Paths[record.CSV], fx.Paths[record.Parquet], types, newParquetSink); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(fx.Truth, "", "  ")
	if err := writeAtomic(truthPath, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return nil, err
	}
	return fx, nil
}

// LiveNDJSON returns a live_streaming NDJSON file (batchgen's, with its
// dirt) of at least minBytes in dir, generating it on first use.
func LiveNDJSON(dir string, minBytes int64, progress io.Writer) (string, Truth, error) {
	base := filepath.Join(dir, fmt.Sprintf("live_streaming-%dMiB", minBytes>>20))
	path, truthPath := base+".ndjson", base+".truth.json"
	var truth Truth
	if b, err := os.ReadFile(truthPath); err == nil {
		if fi, serr := os.Stat(path); serr == nil && fi.Size() >= minBytes && json.Unmarshal(b, &truth) == nil {
			return path, truth, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", truth, fmt.Errorf("making fixture folder: %w", err)
	}
	// Size a sample to find how many rows make minBytes.
	var cw countWriter
	const sample = 20_000
	if _, err := batchgen.Live(&cw, genOptions(sample)); err != nil {
		return "", truth, fmt.Errorf("sizing live_streaming rows: %w", err)
	}
	rows := int(float64(minBytes)/float64(cw.n)*sample*1.01) + 1
	fmt.Fprintf(progress, "generating %s: %d live_streaming rows, at least %d MiB (once)\n", path, rows, minBytes>>20)
	var t *batchgen.Truth
	err := writeAtomic(path, func(w io.Writer) error {
		var err error
		t, err = batchgen.Live(w, genOptions(rows))
		return err
	})
	if err != nil {
		return "", truth, fmt.Errorf("generating %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() < minBytes {
		return "", truth, fmt.Errorf("generated %s is smaller than %d bytes", path, minBytes)
	}
	truth = truthOf(t)
	b, _ := json.MarshalIndent(truth, "", "  ")
	if err := writeAtomic(truthPath, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return "", truth, err
	}
	return path, truth, nil
}

// genOptions are batchgen's options for rows rows, with the defaults
// batchgen.Generate would fill in.
func genOptions(rows int) batchgen.Options {
	return batchgen.Options{Seed: Seed, Rows: rows, Users: rows/10 + 50, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// writeAtomic writes path through fill into a temporary file renamed into
// place when whole.
func writeAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// inputTypes maps each input column a spec reads to its field's type.
func inputTypes(s *dataset.Spec) (map[string]table.Type, error) {
	types := map[string]table.Type{}
	for _, f := range s.Fields {
		from := f.From
		if len(from) == 0 {
			from = []string{f.Name}
		}
		for _, c := range from {
			types[c] = f.Type
		}
	}
	return types, nil
}

// sink writes converted records.
type sink interface {
	write(vals []string) error
	close() error
}

// convert rewrites a CSV file as another format, typing each column as the
// dataset spec types it (a column the spec does not know stays a string).
func convert(src, dst string, types map[string]table.Type, newSink func(w io.Writer, header []string, types []table.Type) (sink, error)) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("converting %s: %w", src, err)
	}
	defer in.Close()
	cr := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("converting %s: reading header: %w", src, err)
	}
	header = append([]string(nil), header...)
	colTypes := make([]table.Type, len(header))
	for i, h := range header {
		t, ok := types[h]
		if !ok {
			t = table.String
		}
		colTypes[i] = t
	}
	return writeAtomic(dst, func(w io.Writer) error {
		s, err := newSink(w, header, colTypes)
		if err != nil {
			return err
		}
		for line := 2; ; line++ {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("reading %s line %d: %w", src, line, err)
			}
			if err := s.write(rec); err != nil {
				return fmt.Errorf("converting %s line %d: %w", src, line, err)
			}
		}
		return s.close()
	})
}

type ndjsonSink struct {
	w      io.Writer
	header []string
	types  []table.Type
	buf    []byte
}

func newNDJSONSink(w io.Writer, header []string, types []table.Type) (sink, error) {
	return &ndjsonSink{w: w, header: header, types: types}, nil
}

// write emits one JSON object: empty values are null, numbers and booleans
// that parse are JSON literals, anything else a string.
func (s *ndjsonSink) write(vals []string) error {
	b := append(s.buf[:0], '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, s.header[i])
		b = append(b, ':')
		switch {
		case v == "":
			b = append(b, "null"...)
		case (s.types[i] == table.Int || s.types[i] == table.Float) && json.Valid([]byte(v)) && isNumber(v):
			b = append(b, v...)
		case s.types[i] == table.Bool && (v == "TRUE" || v == "FALSE" || v == "true" || v == "false"):
			b = strconv.AppendBool(b, v == "TRUE" || v == "true")
		default:
			jb, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b = append(b, jb...)
		}
	}
	b = append(b, '}', '\n')
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

func isNumber(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return err == nil
}

func (s *ndjsonSink) close() error { return nil }

type parquetSink struct {
	pw    *table.ParquetWriter
	types []table.Type
	rows  []table.Row
}

func newParquetSink(w io.Writer, header []string, types []table.Type) (sink, error) {
	sch := table.Schema{Name: "video_interactions"}
	for i, h := range header {
		sch.Columns = append(sch.Columns, table.Column{Name: h, Type: types[i]})
	}
	pw, err := table.NewParquetWriter(w, sch)
	if err != nil {
		return nil, err
	}
	return &parquetSink{pw: pw, types: types}, nil
}

// write buffers one typed row: empty values are NULL; a value that does
// not parse as its column's type is an error (batchgen writes none).
func (s *parquetSink) write(vals []string) error {
	row := make(table.Row, len(vals))
	for i, v := range vals {
		if v == "" {
			row[i] = table.Null()
			continue
		}
		var err error
		switch s.types[i] {
		case table.Int:
			row[i].I, err = strconv.ParseInt(v, 10, 64)
		case table.Float:
			row[i].F, err = strconv.ParseFloat(v, 64)
		case table.Bool:
			var ok bool
			if row[i].B, ok = dataset.ParseBool(v); !ok {
				err = fmt.Errorf("not a boolean")
			}
		case table.String:
			row[i].S = v
		default:
			err = fmt.Errorf("no conversion to %s", s.types[i])
		}
		if err != nil {
			return fmt.Errorf("column %d value %q: %w", i, v, err)
		}
	}
	s.rows = append(s.rows, row)
	if len(s.rows) == 4096 {
		return s.flush()
	}
	return nil
}

func (s *parquetSink) flush() error {
	err := s.pw.Write(s.rows)
	s.rows = s.rows[:0]
	return err
}

func (s *parquetSink) close() error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.pw.Close()
}

// Source describes the fixture's file of format f for the SQL yardstick.
func (fx *Fixture) Source(f record.Format) (Source, error) {
	in, err := os.Open(fx.Paths[record.CSV])
	if err != nil {
		return Source{}, fmt.Errorf("reading fixture header: %w", err)
	}
	defer in.Close()
	header, err := csv.NewReader(bufio.NewReader(in)).Read()
	if err != nil {
		return Source{}, fmt.Errorf("reading fixture header: %w", err)
	}
	spec, err := dataset.Lookup(fx.Dataset)
	if err != nil {
		return Source{}, err
	}
	types, err := inputTypes(spec)
	if err != nil {
		return Source{}, err
	}
	return Source{Format: f, Path: fx.Paths[f], Columns: header, Types: types}, nil
}
