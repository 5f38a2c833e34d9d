package record

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSVSpectrum reads every csv-spectrum case with all its header's
// columns and compares each field's Text with the case's JSON oracle.
func TestCSVSpectrum(t *testing.T) {
	dir := filepath.Join(corpora(t), "csv-spectrum")
	files, err := filepath.Glob(filepath.Join(dir, "csvs", "*.csv"))
	if err != nil || len(files) != 11 {
		t.Fatalf("want 11 csv-spectrum cases, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".csv")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			oracle, err := os.ReadFile(filepath.Join(dir, "json", name+".json"))
			if err != nil {
				t.Fatalf("reading oracle: %v", err)
			}
			var want []map[string]string
			if err := json.Unmarshal(oracle, &want); err != nil {
				t.Fatalf("decoding oracle: %v", err)
			}
			// The header is the file's first CSV record.
			first, err := Open(CSV, strings.NewReader(string(data)), nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			header := first.(*csvReader).headerNames()
			rd, err := Open(CSV, strings.NewReader(string(data)), header)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var got []map[string]string
			for {
				var r Raw
				err := rd.Next(&r)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				if r.Pos != int64(len(got)+1) {
					t.Errorf("Pos %d, want %d", r.Pos, len(got)+1)
				}
				m := map[string]string{}
				for i, c := range header {
					m[c] = r.Values[i].Text
				}
				got = append(got, m)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d rows, want %d: %v", len(got), len(want), got)
			}
			for i := range want {
				for k, v := range want[i] {
					if got[i][k] != v {
						t.Errorf("row %d %s: got %q, want %q", i+1, k, got[i][k], v)
					}
				}
				if len(got[i]) != len(want[i]) {
					t.Errorf("row %d: got %d columns, want %d", i+1, len(got[i]), len(want[i]))
				}
			}
		})
	}
}

func TestCSVReader(t *testing.T) {
	type row struct {
		pos    int64
		vals   []Value
		source string
		reason string // for a RecordError
	}
	tests := []struct {
		name string
		in   string
		cols []string
		want []row
	}{
		{
			name: "header by name, case and spaces, BOM, missing column",
			in:   "\ufeffID , name,Age\r\n1,Ann,30\r\n2,,\r\n",
			cols: []string{"age", "id", "nope"},
			want: []row{
				{pos: 1, vals: []Value{{Text: "30"}, {Text: "1"}, {Null: true}}, source: "1,Ann,30"},
				{pos: 2, vals: []Value{{Null: true}, {Text: "2"}, {Null: true}}, source: "2,,"},
			},
		},
		{
			name: "quoted newline and quotes keep original source",
			in:   "a,b\n\"x\r\ny\",\"he said \"\"hi\"\"\"\n3,4",
			cols: []string{"a", "b"},
			want: []row{
				{pos: 1, vals: []Value{{Text: "x\r\ny"}, {Text: `he said "hi"`}}, source: "\"x\r\ny\",\"he said \"\"hi\"\"\""},
				{pos: 2, vals: []Value{{Text: "3"}, {Text: "4"}}, source: "3,4"},
			},
		},
		{
			name: "wrong field count and quote error go on",
			in:   "a,b,c\n1,2,3\n1,2\n1,2,3,4,5\nx,\"bad\"q,z\n7,8,9\n",
			cols: []string{"c"},
			want: []row{
				{pos: 1, vals: []Value{{Text: "3"}}, source: "1,2,3"},
				{pos: 2, reason: "has 2 fields, header has 3", source: "1,2"},
				{pos: 3, reason: "has 5 fields, header has 3", source: "1,2,3,4,5"},
				{pos: 4, reason: "malformed CSV: ", source: "x,\"bad\"q,z"},
				{pos: 5, vals: []Value{{Text: "9"}}, source: "7,8,9"},
			},
		},
		{
			name: "header only",
			in:   "a,b\n",
			cols: []string{"a"},
		},
		{
			name: "empty file",
			in:   "",
			cols: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := Open(CSV, strings.NewReader(tt.in), tt.cols)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			for _, w := range tt.want {
				var r Raw
				err := rd.Next(&r)
				if w.reason != "" {
					re, ok := AsRecordError(err)
					if !ok || !strings.HasPrefix(re.Reason, w.reason) || re.Pos != w.pos || string(re.Source) != w.source {
						t.Fatalf("got %v (%+v), want RecordError %d %q source %q", err, re, w.pos, w.reason, w.source)
					}
					continue
				}
				if err != nil {
					t.Fatalf("row %d: %v", w.pos, err)
				}
				if r.Pos != w.pos || string(r.Source) != w.source {
					t.Errorf("got pos %d source %q, want %d %q", r.Pos, r.Source, w.pos, w.source)
				}
				for i := range w.vals {
					if r.Values[i] != w.vals[i] {
						t.Errorf("row %d col %s: got %+v, want %+v", w.pos, tt.cols[i], r.Values[i], w.vals[i])
					}
				}
			}
			var r Raw
			if err := rd.Next(&r); !errors.Is(err, io.EOF) {
				t.Fatalf("want EOF, got %v", err)
			}
		})
	}
}
