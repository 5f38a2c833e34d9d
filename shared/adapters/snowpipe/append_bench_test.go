package snowpipe_test

import (
	"context"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// BenchmarkAppend is Channel.Append end to end against the local server:
// 1,000 FACT_SOCIAL_SALES rows per call (one request, one status poll that
// commits them). The time includes the local server's decompression and
// JSON checks, on the same two cores; BenchmarkEncode is the client's
// part alone. raw-B/row is what Snowflake bills, wire-B/row what crosses
// the network.
func BenchmarkAppend(b *testing.B) {
	template := snowpipe.SocialSalesRows(1000)
	for _, comp := range []snowpipe.Compression{snowpipe.Zstd, snowpipe.Gzip, snowpipe.None} {
		b.Run(string(comp), func(b *testing.B) {
			f := newFixture(b, func(o *snowpipetest.Options) {
				o.Tables = []table.Schema{*star.FactSocialSales}
				o.CountOnly = true
			})
			ch, err := f.client(b, func(c *snowpipe.Config) { c.Compression = comp; c.CommitPoll = time.Microsecond }).
				OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: *star.FactSocialSales, Name: "social_sales-0"})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			rows := make([]snowpipe.Row, len(template))
			var wire, raw int64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				base := int64(i * len(rows))
				for k, r := range template {
					rows[k] = snowpipe.Row{Offset: base + r.Offset, Cells: r.Cells}
				}
				res, err := ch.Append(ctx, rows, base+int64(len(rows))-1)
				if err != nil {
					b.Fatal(err)
				}
				wire += res.WireBytes
				raw += res.RawBytes
			}
			n := float64(b.N) * float64(len(rows))
			b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(raw)/n, "raw-B/row")
			b.ReportMetric(float64(wire)/n, "wire-B/row")
			if got := f.srv.Count(star.FactSocialSales.Name); got != b.N*len(rows) {
				b.Fatalf("%d rows in the table after %d batches of %d", got, b.N, len(rows))
			}
		})
	}
}
