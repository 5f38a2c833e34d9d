package web

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkAPI measures one API request over HTTP against the fixture's
// DuckDB warehouse (2 days of batch files, ~7,000 simulated stream events,
// gold, data tests): what one panel costs on each refresh of the page.
func BenchmarkAPI(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"panels", "/api/panels"},
		{"panel-view", "/api/panels/ENGAGEMENT_BY_AGE_GROUP"},
		{"panel-filtered", "/api/panels/ENGAGEMENT_BY_AGE_GROUP?platform=X&from=2024-02-03&to=2024-02-04"},
		{"social-filtered", "/api/panels/SOCIAL_TOP_CITY_BY_USERS?platform=X&from=2024-02-06&to=2024-02-06"},
		{"mart-rollup", "/api/panels/MART_USER_SEGMENTS?age_group=25-34"},
		{"stream-window", "/api/panels/PAGEVIEWS_BY_SOURCE_WINDOW"},
		{"health", "/api/health"},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				res, err := http.Get(fx.srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, res.Body); err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", c.path, res.StatusCode)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/request")
		})
	}
}
