package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/pulse-analytics/pulse/shared/table"
)

const benchRows = 100_000

// benchColumns is the shape of a video-interaction row.
var benchColumns = []string{
	"UserID", "Age", "Gender", "Location", "Income", "Debt", "Owns Property", "Profession",
	"Platform", "Total Time Spent", "Video Category", "Engagement", "Watch Time", "ProductivityLoss", "Satisfaction",
}

func benchValue(i, c int) string {
	switch c {
	case 0:
		return strconv.Itoa(1000 + i)
	case 1:
		return strconv.Itoa(18 + i%50)
	case 2:
		return [...]string{"Male", "Female", "Other"}[i%3]
	case 3:
		return [...]string{"India", "United States", "Brazil", "Pakistan"}[i%4]
	case 4:
		return strconv.Itoa(20000 + i*7%80000)
	case 5, 6:
		return strconv.FormatBool(i%(c+1) == 0)
	case 7:
		return [...]string{"Engineer", "Students", "Waiting staff", "Manager"}[i%4]
	case 8:
		return [...]string{"YouTube", "TikTok", "Instagram", "Facebook"}[i%4]
	case 9, 11:
		return strconv.Itoa(i%300 + c)
	case 10:
		return [...]string{"Gaming", "Pranks", "Vlogs", "Jokes/Memes"}[i%4]
	case 12:
		return [...]string{"9:00 PM", "5:00 AM", "2:00 PM", "11:30 PM"}[i%4]
	default:
		return strconv.FormatFloat(float64(i%1000)/7, 'g', -1, 64)
	}
}

func benchNDJSON() []byte {
	var b bytes.Buffer
	for i := range benchRows {
		b.WriteByte('{')
		for c, name := range benchColumns {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:", name)
			v := benchValue(i, c)
			if c == 1 || c == 4 || c == 9 || c == 11 || c >= 13 || c == 5 || c == 6 {
				b.WriteString(v)
			} else {
				fmt.Fprintf(&b, "%q", v)
			}
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

func benchCSV() []byte {
	var b bytes.Buffer
	for c, name := range benchColumns {
		if c > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	for i := range benchRows {
		for c := range benchColumns {
			if c > 0 {
				b.WriteByte(',')
			}
			v := benchValue(i, c)
			if c == 10 && i%4 == 3 {
				v = `"` + v + `"` // some quoted fields
			}
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func benchParquet(b *testing.B) []byte {
	s := table.Schema{Name: "bench"}
	for c, name := range benchColumns {
		t := table.String
		switch c {
		case 1, 4, 9, 11:
			t = table.Int
		case 5, 6:
			t = table.Bool
		case 13, 14:
			t = table.Float
		}
		s.Columns = append(s.Columns, table.Column{Name: name, Type: t})
	}
	var buf bytes.Buffer
	w, err := table.NewParquetWriter(&buf, s)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]table.Row, 0, 1000)
	for i := range benchRows {
		row := make(table.Row, len(benchColumns))
		for c, col := range s.Columns {
			v := benchValue(i, c)
			switch col.Type {
			case table.Int:
				n, _ := strconv.ParseInt(v, 10, 64)
				row[c] = table.Int64(n)
			case table.Bool:
				row[c] = table.Boolean(v == "true")
			case table.Float:
				f, _ := strconv.ParseFloat(v, 64)
				row[c] = table.Float64(f)
			default:
				row[c] = table.Str(v)
			}
		}
		rows = append(rows, row)
		if len(rows) == cap(rows) {
			if err := w.Write(rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.Write(rows); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func drain(b *testing.B, rd Reader) int {
	var r Raw
	n := 0
	for {
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatalf("record %d: %v", n+1, err)
		}
		n++
	}
}

func BenchmarkReaders(b *testing.B) {
	ndjson, csv := benchNDJSON(), benchCSV()
	pq := benchParquet(b)
	open := map[string]func() (Reader, error){
		"NDJSON":  func() (Reader, error) { return Open(NDJSON, bytes.NewReader(ndjson), benchColumns) },
		"CSV":     func() (Reader, error) { return Open(CSV, bytes.NewReader(csv), benchColumns) },
		"Parquet": func() (Reader, error) { return OpenParquet(bytes.NewReader(pq), int64(len(pq)), benchColumns) },
	}
	for _, name := range []string{"NDJSON", "CSV", "Parquet"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				rd, err := open[name]()
				if err != nil {
					b.Fatal(err)
				}
				if got := drain(b, rd); got != benchRows {
					b.Fatalf("read %d records, want %d", got, benchRows)
				}
				n += benchRows
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDecodeJSONObject measures the per-message hot path alone.
func BenchmarkDecodeJSONObject(b *testing.B) {
	line := bytes.SplitN(benchNDJSON()[:4096], []byte{'\n'}, 2)[0]
	var r Raw
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if err := DecodeJSONObject(line, benchColumns, &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONValidBaseline is the encoding/json.Valid pass alone, the
// cost the hand-written scanner replaces (validation plus extraction).
func BenchmarkJSONValidBaseline(b *testing.B) {
	line := bytes.SplitN(benchNDJSON()[:4096], []byte{'\n'}, 2)[0]
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if !json.Valid(line) {
			b.Fatal("invalid")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
