package snowpipe

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pulse-analytics/pulse/shared/table"
)

func TestAppendJSONStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"ünïcödé 日本語 🎬", "bad utf8 \xff\xfe here", "line sep \u2028 para \u2029", "<html>&amp;</html>",
	} {
		got := appendJSONString(nil, s)
		if !json.Valid(got) {
			t.Errorf("%q: %s is not valid JSON", s, got)
			continue
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		// the same text encoding/json gives (invalid bytes become U+FFFD)
		ref, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Errorf("%q encoded as %s, decoded %q, want %q", s, got, back, want)
		}
	}
}

func TestAppendRowJSONWritesEveryType(t *testing.T) {
	s := table.Schema{Name: "T", Columns: []table.Column{
		{Name: "S", Type: table.String}, {Name: "I", Type: table.Int}, {Name: "F", Type: table.Float},
		{Name: "B", Type: table.Bool}, {Name: "TS", Type: table.Timestamp}, {Name: "D", Type: table.Date},
		{Name: "N", Type: table.String},
	}}
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	row := table.Row{table.Str(`a"b`), table.Int64(-42), table.Float64(49.99), table.Boolean(true),
		table.Int64(ts.UnixMicro()), table.Int64(19782), table.Null()} // day 19782 = 2024-02-29
	got, err := appendRowJSON(nil, &s, row)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"S":"a\"b","I":-42,"F":49.99,"B":true,"TS":"2024-02-29 23:59:58.123456","D":"2024-02-29","N":null}` + "\n"
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		row[2] = table.Float64(f)
		if _, err := appendRowJSON(nil, &s, row); err == nil || !strings.Contains(err.Error(), "column F") {
			t.Errorf("%v: err %v, want one naming column F", f, err)
		}
	}
}

func TestCompressorsRoundTrip(t *testing.T) {
	raw := bytes.Repeat([]byte(`{"EVENT_ID":"e-1","SOURCE":"kafka"}`+"\n"), 500)
	for _, kind := range []Compression{Zstd, Gzip, None} {
		c, err := compressorFor(kind)
		if err != nil {
			t.Fatal(err)
		}
		body, err := c.compress(nil, raw)
		if err != nil {
			t.Fatal(err)
		}
		var back []byte
		switch kind {
		case Zstd:
			d, _ := zstd.NewReader(nil)
			back, err = d.DecodeAll(body, nil)
		case Gzip:
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
				var buf bytes.Buffer
				_, err = buf.ReadFrom(zr)
				back = buf.Bytes()
			}
		case None:
			back = body
		}
		if err != nil || !bytes.Equal(back, raw) {
			t.Errorf("%s: round trip failed (%v)", kind, err)
		}
		if kind != None && len(body) > len(raw)/10 {
			t.Errorf("%s: %d bytes for %d of repetitive NDJSON", kind, len(body), len(raw))
		}
	}
}
