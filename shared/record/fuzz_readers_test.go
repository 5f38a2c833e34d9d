package record

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLimit is the record limit the fuzzers read with, so lines over it
// are common.
const fuzzLimit = 64

// FuzzNDJSONReader: every physical line is accounted once (a blank one
// skipped, any other one record or one reject at its line number), a
// record or reject keeps exactly its line's bytes, and one over the limit
// is located at exactly its byte range.
func FuzzNDJSONReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpora(f), "json-test-suite", "test_parsing", "*.json"))
	var all []string
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 512 {
			f.Add(b)
			all = append(all, strings.ReplaceAll(string(b), "\n", " "))
		}
	}
	f.Add([]byte(strings.Join(all[:min(40, len(all))], "\n")))
	f.Add([]byte("{\"a\":1}\r\n\n  \n{\"a\":\"\xff\"}\n" + strings.Repeat("x", 100) + "\r\n{\"a\":2}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := newNDJSONReader(bufio.NewReaderSize(bytes.NewReader(b), 16), []string{"a", "b"})
		rd.limit = fuzzLimit
		// The expected outcome of each line, by line number.
		type line struct {
			off     int64
			content []byte // CR of a CRLF dropped
			tooLong bool
		}
		var lines []line
		var off int64
		for i, part := range bytes.Split(b, []byte("\n")) {
			last := i == bytes.Count(b, []byte("\n"))
			if last && len(part) == 0 {
				break
			}
			l := line{off: off, content: bytes.TrimSuffix(part, []byte("\r")), tooLong: len(part) > fuzzLimit}
			lines = append(lines, l)
			off += int64(len(part)) + 1
		}
		next := 0 // index of the next line not yet accounted
		for range len(lines) + 2 {
			var r Raw
			err := rd.Next(&r)
			if errors.Is(err, io.EOF) {
				break
			}
			pos, src := r.Pos, r.Source
			re, isRE := AsRecordError(err)
			if err != nil && !isRE {
				t.Fatalf("not a RecordError: %v", err)
			}
			if isRE {
				pos, src = re.Pos, re.Source
			}
			if pos < 1 || int(pos) > len(lines) {
				t.Fatalf("pos %d of %d lines", pos, len(lines))
			}
			for ; next < int(pos)-1; next++ {
				if l := lines[next]; l.tooLong || !isBlank(l.content) {
					t.Fatalf("line %d (%q) was skipped", next+1, l.content)
				}
			}
			l := lines[pos-1]
			next = int(pos)
			switch {
			case l.tooLong:
				if !isRE || !re.ByReference() || re.Offset != l.off || re.Length != int64(len(l.content)) {
					t.Fatalf("line %d over the limit: got %v %+v, want a reject at [%d, +%d)", pos, err, re, l.off, len(l.content))
				}
			case !bytes.Equal(src, l.content):
				t.Fatalf("line %d kept as %q, want %q", pos, src, l.content)
			}
		}
		for ; next < len(lines); next++ {
			if l := lines[next]; l.tooLong || !isBlank(l.content) {
				t.Fatalf("line %d (%q) never read", next+1, l.content)
			}
		}
		var r Raw
		if err := rd.Next(&r); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last line: %v", err)
		}
	})
}

// FuzzCSVRecords: the records and rejects of a CSV tile its input: between
// two of them only line breaks (blank lines), each keeps exactly its bytes
// (or, over the limit, its exact byte range), positions count up by one,
// and the reader ends.
func FuzzCSVRecords(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpora(f), "csv-spectrum", "csvs", "*.csv"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a,b\n1,\"x\r\ny\"\n\"bad\"q,2\n1,2,3\n3,\"open\n4,5\n\n\r\n" + strings.Repeat("z", 70) + "\n6,\xff\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := newCSVReaderLimit(bytes.NewReader(b), []string{"a", "b"}, fuzzLimit)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("header error not ErrCorrupt: %v", err)
			}
			return
		}
		cursor := c.fr.end // past the header (0 for an empty input)
		gap := func(to int64) {
			if to < cursor || to > int64(len(b)) {
				t.Fatalf("record at %d, cursor at %d of %d", to, cursor, len(b))
			}
			if g := b[cursor:to]; len(bytes.Trim(g, "\r\n")) != 0 {
				t.Fatalf("bytes %q between records belong to none", g)
			}
		}
		var last int64
		for range len(b) + 2 {
			var r Raw
			err := c.Next(&r)
			if errors.Is(err, io.EOF) {
				gap(int64(len(b)))
				return
			}
			pos, src := r.Pos, r.Source
			re, isRE := AsRecordError(err)
			if err != nil && !isRE {
				t.Fatalf("not a RecordError: %v", err)
			}
			if isRE {
				pos, src = re.Pos, re.Source
			}
			if pos != last+1 {
				t.Fatalf("pos %d after %d", pos, last)
			}
			last = pos
			if isRE && re.ByReference() {
				gap(re.Offset)
				if re.Length <= fuzzLimit-1 {
					t.Fatalf("a %d-byte record kept by reference", re.Length)
				}
				cursor = re.Offset + re.Length
				continue
			}
			i := bytes.Index(b[cursor:], src)
			if i < 0 {
				t.Fatalf("record %d %q is not in the input after byte %d", pos, src, cursor)
			}
			// The first place it fits after blank lines.
			for i >= 0 && len(bytes.Trim(b[cursor:cursor+int64(i)], "\r\n")) != 0 {
				j := bytes.Index(b[cursor+int64(i)+1:], src)
				if j < 0 {
					i = -1
					break
				}
				i += j + 1
			}
			if i < 0 {
				t.Fatalf("record %d %q does not follow the one before", pos, src)
			}
			gap(cursor + int64(i))
			cursor += int64(i) + int64(len(src))
		}
		t.Fatalf("reader did not end")
	})
}

// FuzzGzipInput: a gzipped input reads exactly as its content does; cut
// short, it reads the same records until it fails with ErrCorrupt; with a
// damaged byte it reads the same or fails with ErrCorrupt (never another
// error, never a panic).
func FuzzGzipInput(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpora(f), "csv-spectrum", "csvs", "*.csv"))
	for i, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint16(i*7), byte(i), i%2 == 0)
		}
	}
	f.Add([]byte("{\"a\":1}\n{\"b\":\"\xff\"}\nnot json\n{\"a\":\"x\"}\n"), uint16(10), byte(0), false)
	f.Fuzz(func(t *testing.T, content []byte, cut uint16, flip byte, csv bool) {
		format := NDJSON
		if csv {
			format = CSV
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(content); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		want, wantErr := readTrace(format, content)
		got, gotErr := readTrace(format, z.Bytes())
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("gzipped input reads\n%s (%v)\nplain reads\n%s (%v)", got, gotErr, want, wantErr)
		}
		// Cut short: the records before the cut, then ErrCorrupt.
		cutShort := z.Bytes()[:2+int(cut)%(len(z.Bytes())-1)]
		got, gotErr = readTrace(format, cutShort)
		if len(cutShort) < z.Len() && !errors.Is(gotErr, ErrCorrupt) {
			t.Fatalf("gzip cut at %d of %d bytes: %v, want ErrCorrupt", len(cutShort), z.Len(), gotErr)
		}
		if !strings.HasPrefix(want, got) {
			t.Fatalf("gzip cut short read records the content does not have:\n%s\nwant a prefix of\n%s", got, want)
		}
		// Damaged: deflate may hand out wrong bytes before the trailer's
		// checksum catches them, but the read ends in ErrCorrupt unless
		// the byte did not matter.
		damaged := append([]byte{}, z.Bytes()...)
		if flip == 0 {
			flip = 1
		}
		damaged[2+int(cut)%(len(damaged)-2)] ^= flip // not the magic bytes: without them it is no gzip
		got, gotErr = readTrace(format, damaged)
		if gotErr == nil && got != want {
			t.Fatalf("damaged gzip read without error, differently:\n%s\nwant\n%s", got, want)
		}
		if gotErr != nil && !errors.Is(gotErr, ErrCorrupt) {
			t.Fatalf("damaged gzip: %v, want ErrCorrupt", gotErr)
		}
	})
}

// readTrace reads every record of b, as text, until the end or the first
// error that is not a RecordError.
func readTrace(format Format, b []byte) (string, error) {
	rd, err := Open(format, bytes.NewReader(b), []string{"a", "b"})
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for {
		var r Raw
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			return out.String(), nil
		}
		if re, ok := AsRecordError(err); ok {
			fmt.Fprintf(&out, "%d reject %s %s %q @%d+%d\n", re.Pos, re.Field, re.Reason, re.Source, re.Offset, re.Length)
			continue
		}
		if err != nil {
			return out.String(), err
		}
		fmt.Fprintf(&out, "%d %v %q\n", r.Pos, r.Values, r.Source)
	}
}

// FuzzParquetReader: any bytes read as Parquet give records, rejects that
// name their field and keep their row, or an ErrCorrupt error, never a
// panic; positions count up by one; a file read to its end yields as many
// rows as its footer declares.
func FuzzParquetReader(f *testing.F) {
	for _, dir := range []string{"data", "bad_data"} {
		files, _ := filepath.Glob(filepath.Join(corpora(f), "parquet-testing", dir, "*.parquet"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 8<<10 {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := OpenParquet(bytes.NewReader(b), int64(len(b)), []string{"a", "id", "int_col", "string_col", "x"})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
			return
		}
		p := rd.(*parquetReader)
		var declared int64
		for _, rg := range p.rowGroups {
			declared += rg.NumRows()
		}
		var last int64
		for range declared + 2 {
			var r Raw
			err := rd.Next(&r)
			if errors.Is(err, io.EOF) {
				if last != declared {
					t.Fatalf("read %d rows, the footer declares %d", last, declared)
				}
				return
			}
			pos := r.Pos
			if re, ok := AsRecordError(err); ok {
				if re.Field == "" || re.Source == nil {
					t.Fatalf("reject %+v names no field or keeps no row", re)
				}
				pos = re.Pos
			} else if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("read: %v, want ErrCorrupt", err)
				}
				return
			}
			if pos != last+1 {
				t.Fatalf("pos %d after %d", pos, last)
			}
			last = pos
		}
		t.Fatalf("more rows than the %d declared", declared)
	})
}
