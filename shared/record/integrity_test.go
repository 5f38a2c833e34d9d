package record

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// got is one Next result, as a comparable line.
func nextLine(rd Reader) (string, bool) {
	var r Raw
	err := rd.Next(&r)
	if errors.Is(err, io.EOF) {
		return "", false
	}
	if re, ok := AsRecordError(err); ok {
		if re.Source == nil && re.Length > 0 {
			return fmt.Sprintf("%d reject %q %q @%d+%d", re.Pos, re.Field, re.Reason, re.Offset, re.Length), true
		}
		return fmt.Sprintf("%d reject %q %q %q", re.Pos, re.Field, re.Reason, re.Source), true
	}
	if err != nil {
		return "error " + err.Error(), false
	}
	return fmt.Sprintf("%d %v %q", r.Pos, r.Values, r.Source), true
}

func readLines(t *testing.T, format Format, in string, cols []string) []string {
	t.Helper()
	rd, err := Open(format, strings.NewReader(in), cols)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var out []string
	for {
		l, ok := nextLine(rd)
		if l != "" {
			out = append(out, l)
		}
		if !ok {
			return out
		}
	}
}

func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestInvalidUTF8IsRejected: a field holding bytes that are not UTF-8 is a
// record error naming the field, its bytes kept whole; the record after it
// reads on.
func TestInvalidUTF8IsRejected(t *testing.T) {
	t.Run("csv", func(t *testing.T) {
		in := "id,name\n1,ok\n2,a\xffb\n\xfe9,x\n3,c\n"
		checkLines(t, readLines(t, CSV, in, []string{"id", "name"}), []string{
			`1 [{1 false} {ok false}] "1,ok"`,
			`2 reject "name" "not valid UTF-8" "2,a\xffb"`,
			`3 reject "id" "not valid UTF-8" "\xfe9,x"`,
			`4 [{3 false} {c false}] "3,c"`,
		})
	})
	t.Run("ndjson", func(t *testing.T) {
		in := "{\"id\":\"1\"}\n{\"id\":\"a\xffb\"}\n{\"i\xffd\":\"x\"}\n{\"id\":\"2\",\"tags\":[\"\xc3\"]}\n{\"id\":\"3\"}\n"
		checkLines(t, readLines(t, NDJSON, in, []string{"id"}), []string{
			`1 [{1 false}] "{\"id\":\"1\"}"`,
			`2 reject "id" "not valid UTF-8" "{\"id\":\"a\xffb\"}"`,
			`3 reject "i\\xffd" "not valid UTF-8" "{\"i\xffd\":\"x\"}"`,
			`4 reject "tags" "not valid UTF-8" "{\"id\":\"2\",\"tags\":[\"\xc3\"]}"`,
			`5 [{3 false}] "{\"id\":\"3\"}"`,
		})
	})
	t.Run("parquet", func(t *testing.T) {
		type row struct {
			ID   string `parquet:"id"`
			Name string `parquet:"name"`
		}
		var buf bytes.Buffer
		if err := parquet.Write(&buf, []row{{"1", "ok"}, {"2", "a\xffb"}, {"3", "c"}}); err != nil {
			t.Fatal(err)
		}
		rd, err := OpenParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), []string{"id", "name"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			l, ok := nextLine(rd)
			if l != "" {
				got = append(got, l)
			}
			if !ok {
				break
			}
		}
		checkLines(t, got, []string{
			`1 [{1 false} {ok false}] "{\"id\":\"1\",\"name\":\"ok\"}"`,
			`2 reject "name" "not valid UTF-8" "{\"id\":\"2\",\"name\":\"a\xffb\"}"`,
			`3 [{3 false} {c false}] "{\"id\":\"3\",\"name\":\"c\"}"`,
		})
	})
}

// TestCSVUnterminatedQuote: a quote that never closes into a well-formed
// record ends with its line; every physical record after it is read and
// counted on its own.
func TestCSVUnterminatedQuote(t *testing.T) {
	cols := []string{"id", "name", "note"}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "closed by a later quote",
			in:   "id,name,note\n1,a,x\n2,\"b,y\n3,c,z\n4,d,w\n5,\"e\",v\n6,f,u\n7,g,t\n",
			want: []string{
				`1 [{1 false} {a false} {x false}] "1,a,x"`,
				`2 reject "name" "unterminated quote: the lines after it do not complete a well-formed record" "2,\"b,y"`,
				`3 [{3 false} {c false} {z false}] "3,c,z"`,
				`4 [{4 false} {d false} {w false}] "4,d,w"`,
				`5 [{5 false} {e false} {v false}] "5,\"e\",v"`,
				`6 [{6 false} {f false} {u false}] "6,f,u"`,
				`7 [{7 false} {g false} {t false}] "7,g,t"`,
			},
		},
		{
			name: "never closed",
			in:   "id,name,note\r\n1,\"a,x\r\n2,b,y\r\n3,c,z",
			want: []string{
				`1 reject "name" "unterminated quote: the lines after it do not complete a well-formed record" "1,\"a,x"`,
				`2 [{2 false} {b false} {y false}] "2,b,y"`,
				`3 [{3 false} {c false} {z false}] "3,c,z"`,
			},
		},
		{
			name: "closed into a record of the wrong width",
			in:   "id,name,note\n1,\"a,x\n2,b,y\"\n3,c,z\n",
			want: []string{
				`1 reject "name" "unterminated quote: the lines after it do not complete a well-formed record" "1,\"a,x"`,
				`2 reject "" "malformed CSV: bare \" in non-quoted-field" "2,b,y\""`,
				`3 [{3 false} {c false} {z false}] "3,c,z"`,
			},
		},
		{
			name: "quoted newlines in well-formed records still read",
			in:   "id,name,note\n1,\"a\nb\",\"x\r\n\"\"y\"\"\"\n2,b,c\n",
			want: []string{
				"1 [{1 false} {a\nb false} {x\r\n\"y\" false}] \"1,\\\"a\\nb\\\",\\\"x\\r\\n\\\"\\\"y\\\"\\\"\\\"\"",
				`2 [{2 false} {b false} {c false}] "2,b,c"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLines(t, readLines(t, CSV, tt.in, cols), tt.want)
		})
	}
}

// TestLongRecordKeptByReference: a record over the limit is rejected with
// a reason naming the limit and where its bytes are in the input; the
// records around it read on.
func TestLongRecordKeptByReference(t *testing.T) {
	long := strings.Repeat("x", maxLineSize+1)
	t.Run("ndjson", func(t *testing.T) {
		in := "{\"id\":\"a\"}\n{\"id\":\"" + long + "\"}\r\n{\"id\":\"b\"}\n"
		checkLines(t, readLines(t, NDJSON, in, []string{"id"}), []string{
			`1 [{a false}] "{\"id\":\"a\"}"`,
			fmt.Sprintf(`2 reject "" "line longer than the 16777216-byte limit" @11+%d`, len(long)+9),
			`3 [{b false}] "{\"id\":\"b\"}"`,
		})
	})
	t.Run("csv", func(t *testing.T) {
		in := "id\na\n" + long + "\nb\n"
		checkLines(t, readLines(t, CSV, in, []string{"id"}), []string{
			`1 [{a false}] "a"`,
			fmt.Sprintf(`2 reject "" "line longer than the 16777216-byte limit" @5+%d`, len(long)),
			`3 [{b false}] "b"`,
		})
	})
}

// failingReader returns its bytes, then err.
type failingReader struct {
	b   []byte
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, f.err
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func drainErr(rd Reader) error {
	for {
		var r Raw
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if _, ok := AsRecordError(err); err != nil && !ok {
			return err
		}
	}
}

// TestCorruptInputIsErrCorrupt: a gzip stream cut short or damaged, and a
// corrupt Parquet file, fail with ErrCorrupt; an error of the underlying
// reader is returned as it is, never as ErrCorrupt.
func TestCorruptInputIsErrCorrupt(t *testing.T) {
	body := strings.Repeat("{\"id\":\"abcdefgh\"}\n", 5000)
	z := gz(t, body)
	network := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name    string
		in      io.Reader
		corrupt bool
		is      error
	}{
		{"truncated gzip", bytes.NewReader(z[:len(z)/2]), true, nil},
		{"gzip without its trailer", bytes.NewReader(z[:len(z)-4]), true, nil},
		{"damaged gzip", bytes.NewReader(append(append([]byte{}, z[:20]...), bytes.Repeat([]byte{0xff}, len(z)-20)...)), true, nil},
		{"bad gzip header", bytes.NewReader([]byte{0x1f, 0x8b, 0, 0, 0}), true, nil},
		{"read error inside gzip", &failingReader{b: z[:len(z)/2], err: network}, false, network},
		{"read error cutting gzip short", &failingReader{b: z[:len(z)/2], err: io.ErrUnexpectedEOF}, false, io.ErrUnexpectedEOF},
		{"read error in plain input", &failingReader{b: []byte(body[:1000]), err: network}, false, network},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			rd, oerr := Open(NDJSON, tc.in, []string{"id"})
			if oerr != nil {
				err = oerr
			} else {
				err = drainErr(rd)
			}
			if err == nil {
				t.Fatal("read without error")
			}
			if errors.Is(err, ErrCorrupt) != tc.corrupt {
				t.Errorf("errors.Is(%v, ErrCorrupt) = %v, want %v", err, !tc.corrupt, tc.corrupt)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
	t.Run("corrupt parquet", func(t *testing.T) {
		b := []byte("PAR1 this is not parquet at all PAR1")
		_, err := OpenParquet(bytes.NewReader(b), int64(len(b)), []string{"a"})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("got %v, want ErrCorrupt", err)
		}
	})
}

// TestHeaderColumns: CSV and Parquet readers tell which wanted columns
// their input has; an input with no header tells nothing.
func TestHeaderColumns(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"Id,other\n1,2\n", "[true false] true"},
		{"", "[] false"},
	} {
		rd, err := Open(CSV, strings.NewReader(tc.in), []string{"id", "name"})
		if err != nil {
			t.Fatal(err)
		}
		h, ok := rd.(Header)
		if !ok {
			t.Fatalf("the CSV reader is not a Header")
		}
		present, known := h.Present()
		if got := fmt.Sprint(present, " ", known); got != tc.want {
			t.Errorf("%q: Present() = %v %v, want %s", tc.in, present, known, tc.want)
		}
	}
}
