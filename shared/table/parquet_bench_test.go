package table

import (
	"strconv"
	"testing"
)

// benchSchema is shaped like a wide staging table: strings of a few
// distinct values, floats, integers, booleans and a timestamp.
func benchSchema() (Schema, []Row) {
	s := Schema{Name: "bench"}
	kinds := []Type{String, String, Int, String, Float, Bool, String, Float, Int, Float, String, Float, Timestamp}
	for i := range 36 {
		s.Columns = append(s.Columns, Column{Name: "c" + strconv.Itoa(i), Type: kinds[i%len(kinds)]})
	}
	words := []string{"Instagram", "YouTube", "TikTok", "Facebook", "u00042", "Mobile Data", "Wi-Fi", "21:00"}
	rows := make([]Row, 4096)
	for r := range rows {
		row := make(Row, len(s.Columns))
		for i, c := range s.Columns {
			switch c.Type {
			case String:
				row[i] = Str(words[(r*7+i)%len(words)])
			case Int, Timestamp:
				row[i] = Int64(int64(r*31 + i))
			case Float:
				row[i] = Float64(float64(r%1000) / 7)
			case Bool:
				row[i] = Boolean(r%3 == 0)
			}
			if (r+i)%17 == 0 {
				row[i] = Null()
			}
		}
		rows[r] = row
	}
	return s, rows
}

// BenchmarkParquetWrite writes rows one at a time, as the pipeline does.
func BenchmarkParquetWrite(b *testing.B) {
	s, rows := benchSchema()
	b.ReportAllocs()
	n := 0
	size := 0
	for b.Loop() {
		cw := &countW{}
		pw, err := NewParquetWriter(cw, s)
		if err != nil {
			b.Fatal(err)
		}
		for range 25 {
			for i := range rows {
				if err := pw.Write(rows[i : i+1]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := pw.Close(); err != nil {
			b.Fatal(err)
		}
		n += 25 * len(rows)
		size = cw.n
	}
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

type countW struct{ n int }

func (c *countW) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
