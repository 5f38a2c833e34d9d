package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeJSONObject checks the scanner agrees with encoding/json on what
// is valid JSON, and never panics. Run: go test -fuzz FuzzDecodeJSONObject.
func FuzzDecodeJSONObject(f *testing.F) {
	dir := filepath.Join(corpora(f), "json-test-suite", "test_parsing")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"UserID":"1","age":3,"x":{"a":[1,2]}}`))
	cols := []string{"UserID", "age", "x", "A"}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Raw
		err := DecodeJSONObject(b, cols, &r)
		if err == nil && len(r.Values) != len(cols) {
			t.Fatalf("got %d values", len(r.Values))
		}
		re, isRE := AsRecordError(err)
		if err != nil && !isRE {
			t.Fatalf("not a RecordError: %v", err)
		}
		if err != nil && strings.Contains(re.Reason, "nesting deeper") {
			return
		}
		valid := json.Valid(b)
		invalid := err != nil && strings.HasPrefix(re.Reason, "invalid JSON: ")
		if valid == invalid {
			t.Fatalf("encoding/json valid=%v, DecodeJSONObject err=%v", valid, err)
		}
		if err == nil {
			// Every nested value is itself valid compact JSON.
			for _, v := range r.Values {
				if !v.Null && (strings.HasPrefix(v.Text, "{") || strings.HasPrefix(v.Text, "[")) && !json.Valid([]byte(v.Text)) {
					t.Fatalf("nested value is not JSON: %q", v.Text)
				}
			}
		}
	})
}

// FuzzCSVReader checks the CSV reader never panics, always ends, keeps
// positions increasing and gives each record's bytes from the input.
func FuzzCSVReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpora(f), "csv-spectrum", "csvs", "*.csv"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a,b\n1,\"x\r\ny\"\n\"bad\"q,2\n1,2,3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := Open(CSV, bytes.NewReader(b), []string{"a", "b"})
		if err != nil {
			return // a bad header ends the file
		}
		var last int64
		for range len(b) + 2 {
			var r Raw
			err := rd.Next(&r)
			if errors.Is(err, io.EOF) {
				return
			}
			pos := r.Pos
			src := r.Source
			if err != nil {
				re, ok := AsRecordError(err)
				if !ok {
					t.Fatalf("not a RecordError: %v", err)
				}
				pos, src = re.Pos, re.Source
			}
			if pos != last+1 {
				t.Fatalf("pos %d after %d", pos, last)
			}
			last = pos
			if !bytes.Contains(b, src) {
				t.Fatalf("source %q is not in the input", src)
			}
		}
		t.Fatalf("reader did not end")
	})
}
