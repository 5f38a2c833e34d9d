package record

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeJSONObject(t *testing.T) {
	cols := []string{"id", "Name", "age", "tags", "ok", "missing", "nil", "obj"}
	tests := []struct {
		name string
		in   string
		want []Value
	}{
		{
			name: "all kinds",
			in:   `{"id":"u1","name":"Ann","age":31.5e0,"tags":[1, "a" ,{"b" : null}],"ok":true,"nil":null,"obj":{}}`,
			want: []Value{{Text: "u1"}, {Text: "Ann"}, {Text: "31.5e0"}, {Text: `[1,"a",{"b":null}]`}, {Text: "true"}, {Null: true}, {Null: true}, {Text: "{}"}},
		},
		{
			name: "escapes and surrogates",
			in:   `{"id":"a\"b\\c\/\n\u00e9\ud83d\ude00","Name":"\ud800x"}`,
			want: []Value{{Text: "a\"b\\c/\né😀"}, {Text: "\uFFFDx"}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}},
		},
		{
			name: "exact match beats case-insensitive in any order",
			in:   `{"name":"fold","Name":"exact","NAME":"fold2"}`,
			want: []Value{{Null: true}, {Text: "exact"}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}},
		},
		{
			name: "duplicate keys last wins",
			in:   ` {"id":"1","id":"2","ID":"3"} `,
			want: []Value{{Text: "2"}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}},
		},
		{
			name: "strings keep spaces inside nested values",
			in:   `{"obj":{"a b": " x "}, "age":-0}`,
			want: []Value{{Null: true}, {Null: true}, {Text: "-0"}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Text: `{"a b":" x "}`}},
		},
		{
			name: "escaped key",
			in:   `{"\u0069d":"x"}`,
			want: []Value{{Text: "x"}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}, {Null: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Raw
			if err := DecodeJSONObject([]byte(tt.in), cols, &r); err != nil {
				t.Fatalf("DecodeJSONObject: %v", err)
			}
			if len(r.Values) != len(tt.want) {
				t.Fatalf("got %d values, want %d", len(r.Values), len(tt.want))
			}
			for i := range tt.want {
				if r.Values[i] != tt.want[i] {
					t.Errorf("column %s: got %+v, want %+v", cols[i], r.Values[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodeJSONObjectErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"array", `[1,2]`, "not a JSON object"},
		{"number", ` 12 `, "not a JSON object"},
		{"trailing comma", `{"a":1,}`, "invalid JSON: "},
		{"truncated", `{"a":`, "invalid JSON: "},
		{"two values", `{} {}`, "invalid JSON: "},
		{"bad number", `{"a":01}`, "invalid JSON: "},
		{"control char", "{\"a\":\"\x01\"}", "invalid JSON: "},
		{"empty", ``, "invalid JSON: "},
		{"invalid utf-8 in a string", "{\"a\":\"a\xffb\"}", "not valid UTF-8"},
		{"invalid utf-8 and a syntax error", "{\"a\":\"a\xffb\",}", "invalid JSON: "},
		{"too deep", `{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, "invalid JSON: nesting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Raw
			err := DecodeJSONObject([]byte(tt.in), []string{"a"}, &r)
			re, ok := AsRecordError(err)
			if !ok {
				t.Fatalf("got %v, want a *RecordError", err)
			}
			if !strings.HasPrefix(re.Reason, tt.reason) {
				t.Errorf("reason %q, want prefix %q", re.Reason, tt.reason)
			}
		})
	}
}

// TestJSONTestSuite feeds every JSONTestSuite parsing case whole to
// DecodeJSONObject: y_ must be accepted (an object, or "not a JSON object"),
// n_ must be "invalid JSON", i_ must only not panic (policy: package doc).
func TestJSONTestSuite(t *testing.T) {
	dir := filepath.Join(corpora(t), "json-test-suite", "test_parsing")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var y, n, i int
	for _, e := range entries {
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) {
			var r Raw
			err := DecodeJSONObject(b, []string{"a", "A", ""}, &r)
			re, isRE := AsRecordError(err)
			if err != nil && !isRE {
				t.Fatalf("got %T %v, want nil or *RecordError", err, err)
			}
			switch name[0] {
			case 'y':
				y++
				if err != nil && re.Reason != "not a JSON object" {
					t.Errorf("valid JSON rejected: %v", err)
				}
				trimmed := strings.TrimLeft(string(b), " \t\r\n")
				isObj := strings.HasPrefix(trimmed, "{")
				if isObj != (err == nil) {
					t.Errorf("object=%v but err=%v", isObj, err)
				}
			case 'n':
				n++
				if err == nil || !strings.HasPrefix(re.Reason, "invalid JSON: ") {
					t.Errorf("invalid JSON accepted: err=%v", err)
				}
			case 'i':
				i++
			}
		})
	}
	if y < 90 || n < 180 || i < 30 {
		t.Errorf("too few cases: y=%d n=%d i=%d", y, n, i)
	}
}

// TestJSONTestSuiteThroughNDJSON runs one-line suite cases through the
// NDJSON reader.
func TestJSONTestSuiteThroughNDJSON(t *testing.T) {
	dir := filepath.Join(corpora(t), "json-test-suite", "test_parsing")
	tests := []struct {
		file   string
		reason string // "" for success
	}{
		{"y_object_basic.json", ""},
		{"y_object_duplicated_key.json", ""},
		{"y_array_empty.json", "not a JSON object"},
		{"n_object_trailing_comma.json", "invalid JSON: "},
		{"n_structure_unclosed_object.json", "invalid JSON: "},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			in := "{\"a\":\"first\"}\n" + strings.TrimRight(string(b), "\n") + "\n{\"a\":\"last\"}\n"
			rd, err := Open(NDJSON, strings.NewReader(in), []string{"a"})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var r Raw
			if err := rd.Next(&r); err != nil || r.Values[0].Text != "first" {
				t.Fatalf("first: %v %+v", err, r.Values)
			}
			err = rd.Next(&r)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("line 2: %v", err)
				}
			} else {
				re, ok := AsRecordError(err)
				if !ok || !strings.HasPrefix(re.Reason, tt.reason) || re.Pos != 2 {
					t.Fatalf("line 2: got %v, want RecordError at 2 with %q", err, tt.reason)
				}
			}
			if err := rd.Next(&r); err != nil || r.Values[0].Text != "last" || r.Pos != 3 {
				t.Fatalf("last: %v %+v pos %d", err, r.Values, r.Pos)
			}
			if err := rd.Next(&r); !errors.Is(err, io.EOF) {
				t.Fatalf("want EOF, got %v", err)
			}
		})
	}
}
