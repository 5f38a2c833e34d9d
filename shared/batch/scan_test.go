package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/record"
)

// readAll reads every record of src, as "pos|values|source" or
// "pos|error field reason|source" lines.
func readAll(t *testing.T, format record.Format, src io.Reader, cols []string, before, shift int64) []string {
	t.Helper()
	rd, err := record.Open(format, src, cols)
	if err != nil {
		t.Fatalf("opening: %v", err)
	}
	rd = &offsetReader{Reader: rd, before: before, shift: shift}
	var out []string
	var raw record.Raw
	for {
		err := rd.Next(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if re, ok := record.AsRecordError(err); ok {
			if re.ByReference() {
				out = append(out, fmt.Sprintf("%d|error %s %s|@%d+%d", re.Pos, re.Field, re.Reason, re.Offset, re.Length))
				continue
			}
			out = append(out, fmt.Sprintf("%d|error %s %s|%q", re.Pos, re.Field, re.Reason, re.Source))
			continue
		}
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		out = append(out, fmt.Sprintf("%d|%v|%q", raw.Pos, raw.Values, raw.Source))
	}
}

// readChunks cuts data with splitStream and reads every chunk on its own,
// as openChunk does (CSV chunks after the first get the header first).
func readChunks(t *testing.T, format record.Format, data []byte, cols []string, chunkBytes int64) ([]string, []Chunk) {
	t.Helper()
	chunks, err := splitStream(bytes.NewReader(data), format, false, chunkBytes)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	next := int64(-1)
	for i, ch := range chunks {
		if ch.Index != i || ch.Of != len(chunks) {
			t.Fatalf("chunk %d is numbered %d of %d", i, ch.Index, ch.Of)
		}
		if next >= 0 && ch.Start != next {
			t.Fatalf("chunk %d starts at %d, the one before ended at %d", i, ch.Start, next)
		}
		next = ch.End
		var src io.Reader = bytes.NewReader(data[ch.Start:ch.End])
		shift := ch.Start
		if ch.Header > 0 && ch.Start >= ch.Header {
			src = io.MultiReader(bytes.NewReader(data[:ch.Header]), src)
			shift -= ch.Header
		}
		out = append(out, readAll(t, format, src, cols, ch.Before, shift)...)
	}
	if next != int64(len(data)) {
		t.Fatalf("the last chunk ends at %d of %d bytes", next, len(data))
	}
	return out, chunks
}

func TestSplitStreamKeepsRecords(t *testing.T) {
	csvCols := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name   string
		format record.Format
		data   string
		cols   []string
	}{
		{"csv plain", record.CSV, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n", csvCols},
		{"csv quoted newlines", record.CSV, "a,b,c\n\"x\ny\",2,3\n\"p,\"\"q\"\"\n\n\",5,6\n7,\"8\r\n9\",9\n", csvCols},
		{"csv crlf and blank lines", record.CSV, "a,b,c\r\n\r\n1,2,3\r\n\n4,\"5\",6\r\n\r\n", csvCols},
		{"csv bom and blank lines before the header", record.CSV, "\xef\xbb\xbf\n\na,b,c\n1,2,3\n4,5,6\n", csvCols},
		{"csv quoted header", record.CSV, "\"a\",\"b\nb\",c\n1,2,3\n4,5,6\n", csvCols},
		{"csv malformed quotes", record.CSV, "a,b,c\n1,\"2\"x,3\n4,5\"\"6,7\n\"8\"\r9,1,2\n10,11,12\n\"open\n", csvCols},
		{"csv wrong widths", record.CSV, "a,b,c\n1,2\n3,4,5,6\n7,8,9\n", csvCols},
		{"csv no final newline", record.CSV, "a,b,c\n1,2,3\n4,5,6", csvCols},
		{"csv header only", record.CSV, "a,b,c\n", csvCols},
		{"csv header without newline", record.CSV, "a,b,c", csvCols},
		{"csv empty", record.CSV, "", csvCols},
		{"csv unterminated quote closed by a later one", record.CSV, "a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n10,11,12\n13,\"14\",15\n16,17,18\n", csvCols},
		{"csv unterminated quote never closed", record.CSV, "a,b,c\r\n1,\"2,3\r\n4,5,6\r\n\r\n7,8,9", csvCols},
		{"csv multi-line record of the wrong width", record.CSV, "a,b,c\n1,\"2\n3\",4,5\n6,7,8\n1,\"x\ny\",z\n", csvCols},
		{"csv blank lines between and after", record.CSV, "a,b,c\n\n\n1,2,3\n\r\n\n4,5,6\n\n\n", csvCols},
		{"csv invalid utf-8", record.CSV, "a,b,c\n1,\xff,3\n\xfe\"x,y\n4,5,6\n", csvCols},
		{"ndjson invalid utf-8", record.NDJSON, "{\"a\":\"\xff\"}\n{\"\xff\":1}\n{\"a\":2}\n", []string{"a"}},
		{"ndjson", record.NDJSON, "{\"a\":1}\n\n{\"a\":\"x\\ny\"}\r\nnot json\n{\"a\":3}", []string{"a"}},
		{"ndjson trailing blank", record.NDJSON, "{\"a\":1}\n{\"a\":2}\n\n", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := readAll(t, tc.format, strings.NewReader(tc.data), tc.cols, 0, 0)
			for _, size := range []int64{1, 5, 13, 1 << 20} {
				got, chunks := readChunks(t, tc.format, []byte(tc.data), tc.cols, size)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("chunk size %d (%d chunks %+v):\n got  %q\n want %q", size, len(chunks), chunks, got, want)
				}
			}
		})
	}
}

// TestSplitStreamRandomCSV: CSV made of random fields full of quotes,
// commas, CR and LF reads the same whole and cut at every possible record
// boundary.
func TestSplitStreamRandomCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	alphabet := []string{"a", "b", ",", "\"", "\"\"", "\n", "\r\n", "\r", " ", "x\"y"}
	cols := []string{"h1", "h2", "h3"}
	for round := 0; round < 300; round++ {
		var b strings.Builder
		b.WriteString("h1,h2,h3\n")
		for row := 0; row < 1+r.IntN(8); row++ {
			for f := 0; f < 1+r.IntN(4); f++ {
				if f > 0 {
					b.WriteByte(',')
				}
				quoted := r.IntN(2) == 0
				if quoted {
					b.WriteByte('"')
				}
				for k := 0; k < r.IntN(5); k++ {
					b.WriteString(alphabet[r.IntN(len(alphabet))])
				}
				if quoted && r.IntN(8) > 0 {
					b.WriteByte('"')
				}
			}
			b.WriteString([]string{"\n", "\r\n", "\n\n"}[r.IntN(3)])
		}
		data := b.String()
		want := readAll(t, record.CSV, strings.NewReader(data), cols, 0, 0)
		got, _ := readChunks(t, record.CSV, []byte(data), cols, 1)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("round %d: %q\n got  %q\n want %q", round, data, got, want)
		}
	}
}

// TestSplitStreamLongLines: lines over the record limit are cut around
// like any other record, and each chunk's reader locates them at the same
// byte range of the file as a whole-file reader does.
func TestSplitStreamLongLines(t *testing.T) {
	long := strings.Repeat("y", 16<<20+5)
	for _, tc := range []struct {
		name   string
		format record.Format
		data   string
		cols   []string
	}{
		{"csv", record.CSV, "a,b\n1,2\n" + long + "\r\n3,4\n\"" + long + "\n5,6\n", []string{"a", "b"}},
		{"ndjson", record.NDJSON, "{\"a\":1}\n" + long + "\n{\"a\":2}\n" + long, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := readAll(t, tc.format, strings.NewReader(tc.data), tc.cols, 0, 0)
			if n := strings.Count(strings.Join(want, "\n"), "line longer than the 16777216-byte limit"); n != 2 {
				t.Fatalf("%d records over the limit, want 2: %q", n, want)
			}
			for _, size := range []int64{1, 100, 1 << 30} {
				got, chunks := readChunks(t, tc.format, []byte(tc.data), tc.cols, size)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("chunk size %d (%d chunks):\n got  %q\n want %q", size, len(chunks), got, want)
				}
			}
		})
	}
}

func TestSplitStreamSizes(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "%d,\"row\n%d\"\n", i, i)
	}
	data := []byte(b.String())
	chunks, err := splitStream(bytes.NewReader(data), record.CSV, false, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Each chunk closes at the first record end at or past 1000 bytes from its start.
	var before int64
	for i, ch := range chunks {
		if ch.Before != before {
			t.Errorf("chunk %d: before %d, want %d", i, ch.Before, before)
		}
		n := bytes.Count(data[ch.Start:ch.End], []byte("\"\n"))
		if i < len(chunks)-1 && (ch.End-ch.Start < 1000 || ch.End-ch.Start > 1000+16) {
			t.Errorf("chunk %d has %d bytes", i, ch.End-ch.Start)
		}
		before += int64(n)
	}
	if before != 1000 {
		t.Errorf("chunks hold %d records, want 1000", before)
	}
	if chunks[0].Start != 4 || chunks[0].Header != 4 {
		t.Errorf("first chunk %+v: want start and header at 4", chunks[0])
	}
}
