package record

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestNDJSONReader(t *testing.T) {
	type row struct {
		pos    int64
		id     Value
		source string
		reason string // for a RecordError
	}
	tests := []struct {
		name string
		in   string
		gzip bool
		want []row
	}{
		{
			name: "blank lines skipped, positions are line numbers",
			in:   "\n{\"id\":\"a\"}\n   \n\t\n{\"id\":2}\n\n",
			want: []row{{pos: 2, id: Value{Text: "a"}, source: `{"id":"a"}`}, {pos: 5, id: Value{Text: "2"}, source: `{"id":2}`}},
		},
		{
			name: "CRLF line endings and no final newline",
			in:   "{\"id\":\"a\"}\r\n\r\n{\"id\":\"b\"}",
			want: []row{{pos: 1, id: Value{Text: "a"}, source: `{"id":"a"}`}, {pos: 3, id: Value{Text: "b"}, source: `{"id":"b"}`}},
		},
		{
			name: "malformed line in the middle",
			in:   "{\"id\":1}\n{\"id\":2\n[3]\n{\"ID\":4}\n",
			want: []row{
				{pos: 1, id: Value{Text: "1"}, source: `{"id":1}`},
				{pos: 2, reason: "invalid JSON: ", source: `{"id":2`},
				{pos: 3, reason: "not a JSON object", source: `[3]`},
				{pos: 4, id: Value{Text: "4"}, source: `{"ID":4}`},
			},
		},
		{
			name: "gzip",
			in:   "{\"id\":\"z\"}\n{\"other\":1}\n",
			gzip: true,
			want: []row{{pos: 1, id: Value{Text: "z"}, source: `{"id":"z"}`}, {pos: 2, id: Value{Null: true}, source: `{"other":1}`}},
		},
		{
			name: "line over 16 MiB",
			in:   "{\"id\":\"" + strings.Repeat("x", maxLineSize) + "\"}\n{\"id\":\"after\"}",
			want: []row{{pos: 1, reason: "line longer than"}, {pos: 2, id: Value{Text: "after"}, source: `{"id":"after"}`}},
		},
		{
			name: "long line under the limit",
			in:   "{\"id\":\"" + strings.Repeat("y", 200<<10) + "\"}\n",
			want: []row{{pos: 1, id: Value{Text: strings.Repeat("y", 200<<10)}, source: "{\"id\":\"" + strings.Repeat("y", 200<<10) + "\"}"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in io.Reader = strings.NewReader(tt.in)
			if tt.gzip {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				if _, err := zw.Write([]byte(tt.in)); err != nil {
					t.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					t.Fatal(err)
				}
				in = &buf
			}
			rd, err := Open(NDJSON, in, []string{"id"})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			for _, w := range tt.want {
				var r Raw
				err := rd.Next(&r)
				if w.reason != "" {
					re, ok := AsRecordError(err)
					if !ok || !strings.HasPrefix(re.Reason, w.reason) || re.Pos != w.pos || string(re.Source) != w.source {
						t.Fatalf("got %v, want RecordError at %d %q", err, w.pos, w.reason)
					}
					continue
				}
				if err != nil {
					t.Fatalf("line %d: %v", w.pos, err)
				}
				if r.Pos != w.pos || r.Values[0] != w.id || string(r.Source) != w.source {
					t.Errorf("got pos %d %+v, want %d %+v", r.Pos, r.Values[0], w.pos, w.id)
				}
			}
			var r Raw
			if err := rd.Next(&r); !errors.Is(err, io.EOF) {
				t.Fatalf("want EOF, got %v", err)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		key  string
		f    Format
		gz   bool
		isOK bool
	}{
		{"a/b.ndjson", NDJSON, false, true},
		{"x.JSONL.gz", NDJSON, true, true},
		{"x.json", NDJSON, false, true},
		{"raw/2024/v.csv.gz", CSV, true, true},
		{"v.parquet", Parquet, false, true},
		{"v.parquet.gz", Parquet, true, true},
		{"v.txt", "", false, false},
		{"v.gz", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			f, gz, ok := FormatOf(tt.key)
			if f != tt.f || gz != tt.gz || ok != tt.isOK {
				t.Errorf("FormatOf(%q) = %q %v %v, want %q %v %v", tt.key, f, gz, ok, tt.f, tt.gz, tt.isOK)
			}
		})
	}
}
