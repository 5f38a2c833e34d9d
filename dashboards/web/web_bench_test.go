package web

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkAPI measures one API request over HTTP against the fixture's
// DuckDB warehouse (2 days, 8 files, ~1,400 interactions): what one panel
// costs on each refresh of the page.
func BenchmarkAPI(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"panels", "/api/panels"},
		{"panel-view", "/api/panels/ENGAGEMENT_BY_AGE_GROUP"},
		{"panel-filtered", "/api/panels/ENGAGEMENT_BY_AGE_GROUP?platform=X&from=2024-02-03&to=2024-02-04"},
		{"health", "/api/health"},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				res, err := http.Get(fx.srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", c.path, res.StatusCode)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/request")
		})
	}
}
