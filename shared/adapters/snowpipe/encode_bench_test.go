package snowpipe

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// SocialSalesRows is socialSalesRows for the external benchmarks.
var SocialSalesRows = socialSalesRows

// socialSalesRows returns n FACT_SOCIAL_SALES rows as the stream path
// makes them (MD5 keys, a city, a platform, counts, rates, timestamps).
func socialSalesRows(n int) []Row {
	cities := []string{"Jakarta", "Surabaya", "Bandung", "Medan", "Semarang"}
	platforms := []string{"Instagram", "TikTok", "Facebook", "Twitter", "YouTube"}
	t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	rows := make([]Row, n)
	for i := range rows {
		p := platforms[i%len(platforms)]
		visitors := int64(100 + i%900)
		conv := int64(i % 37)
		rows[i] = Row{Offset: int64(i), Cells: table.Row{
			table.Str(md(fmt.Sprint("social_sales|", i))), table.Str(fmt.Sprint(i)), table.Str(cities[i%len(cities)]),
			table.Str(md(p)), table.Str(p), table.Int64(int64(i % 50)), table.Float64(float64(i%1000) * 1.25),
			table.Int64(visitors), table.Int64(visitors / 3), table.Int64(conv),
			table.Float64(float64(conv) / float64(visitors) * 100), table.Float64(float64(visitors/3) / float64(visitors) * 100),
			table.Int64(t0.Add(time.Duration(i) * time.Second).UnixMicro()), table.Int64(t0.Add(time.Hour).UnixMicro()), table.Str("kafka"),
		}}
	}
	return rows
}

// BenchmarkEncode is the client's own cost per row on the stream's hot
// path: NDJSON encoding and compression of a 1,000-row batch of
// FACT_SOCIAL_SALES, without the network. raw-B/row is what Snowflake
// bills (uncompressed bytes), wire-B/row what crosses the network.
func BenchmarkEncode(b *testing.B) {
	rows := socialSalesRows(1000)
	for _, kind := range []Compression{Zstd, Gzip, None} {
		b.Run(string(kind), func(b *testing.B) {
			comp, err := compressorFor(kind)
			if err != nil {
				b.Fatal(err)
			}
			ch := &Channel{c: &Client{cfg: Config{MaxRequestBytes: maxRowsPayload}}, spec: ChannelSpec{Table: *star.FactSocialSales}, comp: comp}
			var raw, wire int64
			var body []byte
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				chunks, err := ch.encode(rows, 999)
				if err != nil {
					b.Fatal(err)
				}
				for _, ck := range chunks {
					if body, err = comp.compress(body, ck.raw); err != nil {
						b.Fatal(err)
					}
					raw += int64(len(ck.raw))
					wire += int64(len(body))
				}
			}
			n := float64(b.N) * float64(len(rows))
			b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(raw)/n, "raw-B/row")
			b.ReportMetric(float64(wire)/n, "wire-B/row")
		})
	}
}
