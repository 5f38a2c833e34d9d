package views_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The stream views (seeds 001, 003, 004) are checked here over rows that
// stand in for what the stream path writes: simulator records (events/sim)
// mapped plainly onto the contract tables of shared/star/streams.go. Each
// expected number is computed below from the simulator records in Go,
// without SQL.

var simStart = time.Date(2024, 2, 3, 17, 0, 0, 0, time.UTC)

// simRecords returns n clean simulator events, 2 per second.
func simRecords(t *testing.T, n int) []sim.Event {
	t.Helper()
	g := sim.NewGenerator(sim.Config{Seed: 11, Rate: 2, MaxEvents: n, Start: simStart})
	var out []sim.Event
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, ev)
	}
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	return out
}

// row builds a row of s from named cells; unnamed columns are NULL.
func row(t *testing.T, s *table.Schema, cells map[string]table.Cell) table.Row {
	t.Helper()
	r := make(table.Row, len(s.Columns))
	for i := range r {
		r[i] = table.Null()
	}
	for name, c := range cells {
		i := s.Index(name)
		if i < 0 {
			t.Fatalf("%s has no column %s", s.Name, name)
		}
		r[i] = c
	}
	return r
}

func num(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("not a number: %T", v))
}

func openStream(t *testing.T) *duckdb.Warehouse {
	t.Helper()
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Setup(ctx, wh); err != nil {
		t.Fatal(err)
	}
	return wh
}

func merge(t *testing.T, wh *duckdb.Warehouse, s *table.Schema, rows []table.Row) {
	t.Helper()
	if len(rows) == 0 {
		return
	}
	if _, err := wh.Merge(context.Background(), *s, rows); err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, wh *duckdb.Warehouse, q string) [][]any {
	t.Helper()
	_, rows, err := wh.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// --- seed 001 -----------------------------------------------------------

type socialAgg struct {
	events                            int
	usage, visitors, pageVisitors, cv int64
	sales, convRate, bounceRate       float64
}

func TestSocialViews(t *testing.T) {
	wh := openStream(t)
	var facts []table.Row
	byPlatform := map[string]*socialAgg{}
	usersByCity := map[[2]string]int64{}
	salesByCity := map[[2]string]float64{}
	var total socialAgg
	type win struct {
		platform string
		start    int64
	}
	windows := map[win]*socialAgg{}
	var newest int64
	for i, ev := range simRecords(t, 3000) {
		if ev.Topic != events.TopicSocialSales {
			continue
		}
		r := ev.Record
		city, platform := r["Kota"].(string), r["Sosial_Media"].(string)
		visitors, pv, conv := int64(num(r["Visitors"])), int64(num(r["PageVisitors"])), int64(num(r["Conversion"]))
		usage, sales, secs := int64(num(r["Usage_Count"])), num(r["Sales"]), int64(num(r["Ts"]))
		cr, br := float64(conv)/float64(visitors)*100, float64(pv)/float64(visitors)*100
		facts = append(facts, row(t, star.FactSocialSales, map[string]table.Cell{
			"SALE_ID": table.Str(fmt.Sprint("s", i)), "RECORD_ID": table.Str(r["ID"].(string)), "CITY": table.Str(city),
			"PLATFORM": table.Str(platform), "USAGE_COUNT": table.Int64(usage), "SALES": table.Float64(sales),
			"VISITORS": table.Int64(visitors), "PAGE_VISITORS": table.Int64(pv), "CONVERSION": table.Int64(conv),
			"CONVERSION_RATE": table.Float64(cr), "BOUNCE_RATE": table.Float64(br), "EVENT_TIME": table.Int64(secs * 1e6),
		}))
		for _, a := range []*socialAgg{agg(byPlatform, platform), &total} {
			a.events++
			a.usage += usage
			a.visitors += visitors
			a.pageVisitors += pv
			a.cv += conv
			a.sales += sales
			a.convRate += cr
			a.bounceRate += br
		}
		usersByCity[[2]string{platform, city}] += usage
		salesByCity[[2]string{platform, city}] += sales
		w := win{platform, secs / 300 * 300}
		if windows[w] == nil {
			windows[w] = &socialAgg{}
		}
		windows[w].events++
		windows[w].visitors += visitors
		newest = max(newest, w.start)
	}
	if len(byPlatform) != 5 || total.events < 300 {
		t.Fatalf("too few social events: %d over %d platforms", total.events, len(byPlatform))
	}
	merge(t, wh, star.FactSocialSales, facts)
	// The 5-minute windows, as the stream path writes them (the newest one still open).
	var metrics []table.Row
	for w, a := range windows {
		metrics = append(metrics, row(t, star.SocialPlatformMetrics, map[string]table.Cell{
			"METRIC_ID": table.Str(fmt.Sprint(w.platform, w.start)), "PLATFORM": table.Str(w.platform),
			"WINDOW_START": table.Int64(w.start * 1e6), "WINDOW_END": table.Int64((w.start + 300) * 1e6),
			"EVENTS": table.Int64(int64(a.events)), "VISITORS": table.Int64(a.visitors), "FINAL": table.Boolean(w.start != newest),
		}))
	}
	merge(t, wh, star.SocialPlatformMetrics, metrics)

	rows := query(t, wh, "SELECT PLATFORM, AVG_CONVERSION_RATE, AVG_BOUNCE_RATE, EVENTS, VISITORS, SALES FROM SOCIAL_RATES_BY_PLATFORM ORDER BY PLATFORM")
	if len(rows) != len(byPlatform) {
		t.Fatalf("SOCIAL_RATES_BY_PLATFORM has %d rows, want %d", len(rows), len(byPlatform))
	}
	for _, r := range rows {
		a := byPlatform[r[0].(string)]
		n := float64(a.events)
		if !near(r[1].(float64), a.convRate/n) || !near(r[2].(float64), a.bounceRate/n) || r[3] != int64(a.events) ||
			r[4] != a.visitors || !near(r[5].(float64), a.sales) {
			t.Errorf("SOCIAL_RATES_BY_PLATFORM %v, want conv %g bounce %g events %d visitors %d sales %g",
				r, a.convRate/n, a.bounceRate/n, a.events, a.visitors, a.sales)
		}
	}
	rows = query(t, wh, "SELECT TOTAL_USAGE, TOTAL_SALES, TOTAL_VISITORS, EVENTS, PLATFORMS FROM SOCIAL_TOTAL_USAGE")
	if len(rows) != 1 || rows[0][0] != total.usage || !near(rows[0][1].(float64), total.sales) || rows[0][2] != total.visitors ||
		rows[0][3] != int64(total.events) || rows[0][4] != int64(5) {
		t.Errorf("SOCIAL_TOTAL_USAGE %v, want usage %d sales %g visitors %d events %d", rows, total.usage, total.sales, total.visitors, total.events)
	}
	// The newest window, ranked by visitors.
	type pv struct {
		p string
		v int64
	}
	var last []pv
	for w, a := range windows {
		if w.start == newest {
			last = append(last, pv{w.platform, a.visitors})
		}
	}
	sort.Slice(last, func(i, j int) bool { return last[i].v > last[j].v || last[i].v == last[j].v && last[i].p < last[j].p })
	rows = query(t, wh, "SELECT PLATFORM, VISITORS, VISITOR_RANK, FINAL, epoch(WINDOW_START) FROM SOCIAL_VISITORS_LAST_5_MIN ORDER BY VISITOR_RANK, PLATFORM")
	if len(rows) != len(last) {
		t.Fatalf("SOCIAL_VISITORS_LAST_5_MIN %v, want %v", rows, last)
	}
	for i, r := range rows {
		if r[0] != last[i].p || r[1] != last[i].v || r[3] != false || int64(num(r[4])) != newest {
			t.Errorf("SOCIAL_VISITORS_LAST_5_MIN row %d = %v, want %v in window %d", i, r, last[i], newest)
		}
	}
	if rows[0][2] != int64(1) {
		t.Errorf("top platform rank %v", rows[0][2])
	}
	for _, c := range []struct {
		view string
		by   func(k [2]string) float64
	}{
		{"SOCIAL_TOP_CITY_BY_USERS", func(k [2]string) float64 { return float64(usersByCity[k]) }},
		{"SOCIAL_TOP_CITY_BY_SALES", func(k [2]string) float64 { return salesByCity[k] }},
	} {
		want := map[string]string{}
		best := map[string]float64{}
		for k := range usersByCity {
			v := c.by(k)
			if b, ok := best[k[0]]; !ok || v > b || v == b && k[1] < want[k[0]] {
				best[k[0]], want[k[0]] = v, k[1]
			}
		}
		rows = query(t, wh, "SELECT * FROM "+c.view+" ORDER BY PLATFORM")
		if len(rows) != len(want) {
			t.Fatalf("%s has %d rows, want %d", c.view, len(rows), len(want))
		}
		for _, r := range rows {
			if r[1] != want[r[0].(string)] || !near(num(r[2]), best[r[0].(string)]) {
				t.Errorf("%s %v, want city %s with %g", c.view, r, want[r[0].(string)], best[r[0].(string)])
			}
		}
	}
}

func agg(m map[string]*socialAgg, k string) *socialAgg {
	if m[k] == nil {
		m[k] = &socialAgg{}
	}
	return m[k]
}

// --- seed 004 -----------------------------------------------------------

func TestPageviewViews(t *testing.T) {
	wh := openStream(t)
	latest := map[int64]map[string]any{} // users table: the latest row per user
	views_ := map[int64]int64{}
	var pvRows []table.Row
	for i, ev := range simRecords(t, 3000) {
		r := ev.Record
		switch ev.Topic {
		case events.TopicUsers:
			latest[int64(num(r["user_id"]))] = r
		case events.TopicPageviews:
			uid := int64(num(r["user_id"]))
			views_[uid]++
			pvRows = append(pvRows, row(t, star.Pageviews, map[string]table.Cell{
				"PAGEVIEW_ID": table.Str(fmt.Sprint("p", i)), "SESSION_ID": table.Str(r["session_id"].(string)),
				"USER_ID": table.Str(fmt.Sprint(uid)), "PAGE_SOURCE": table.Str(r["source"].(string)),
				"EVENT_TIME": table.Int64(int64(num(r["event_timestamp"])) * 1000),
			}))
		}
	}
	merge(t, wh, star.Pageviews, pvRows)
	var users []table.Row
	type cagg struct {
		users, views int64
		ages         float64
	}
	want := map[string]*cagg{}
	for uid, r := range latest {
		if r["age"] == nil || r["gender"] == nil || r["country"] == nil {
			continue // not a cleaned user
		}
		users = append(users, row(t, star.CleanedUsers, map[string]table.Cell{
			"USER_ID": table.Str(fmt.Sprint(uid)), "AGE": table.Int64(int64(num(r["age"]))), "GENDER": table.Str(r["gender"].(string)),
			"COUNTRY": table.Str(r["country"].(string)), "SUBSCRIPTION": table.Str(r["subscription"].(string)),
		}))
		if n := views_[uid]; n > 0 {
			c := want[r["country"].(string)]
			if c == nil {
				c = &cagg{}
				want[r["country"].(string)] = c
			}
			c.users++
			c.views += n
			c.ages += num(r["age"])
		}
	}
	merge(t, wh, star.CleanedUsers, users)
	rows := query(t, wh, "SELECT COUNTRY, USERS, AVG_AGE, PAGEVIEWS FROM PAGEVIEW_USERS_BY_COUNTRY ORDER BY COUNTRY")
	if len(rows) != len(want) || len(want) < 5 {
		t.Fatalf("PAGEVIEW_USERS_BY_COUNTRY has %d rows, want %d (at least 5)", len(rows), len(want))
	}
	for _, r := range rows {
		c := want[r[0].(string)]
		if r[1] != c.users || !near(r[2].(float64), c.ages/float64(c.users)) || r[3] != c.views {
			t.Errorf("PAGEVIEW_USERS_BY_COUNTRY %v, want users %d avg age %g views %d", r, c.users, c.ages/float64(c.users), c.views)
		}
	}
	// PAGEVIEWS_BY_SOURCE_WINDOW passes the window metrics through.
	merge(t, wh, star.PageviewWindowMetrics, []table.Row{
		row(t, star.PageviewWindowMetrics, map[string]table.Cell{"METRIC_ID": table.Str("a"), "WINDOW_TYPE": table.Str("tumbling"),
			"PAGE_SOURCE": table.Str("Inbox"), "WINDOW_START": table.Int64(simStart.UnixMicro()), "WINDOW_END": table.Int64(simStart.Add(time.Minute).UnixMicro()),
			"PAGEVIEWS": table.Int64(7), "USERS": table.Int64(5), "FINAL": table.Boolean(true)}),
	})
	rows = query(t, wh, "SELECT WINDOW_TYPE, PAGE_SOURCE, PAGEVIEWS, USERS, FINAL FROM PAGEVIEWS_BY_SOURCE_WINDOW")
	if len(rows) != 1 || fmt.Sprint(rows[0]) != "[tumbling Inbox 7 5 true]" {
		t.Errorf("PAGEVIEWS_BY_SOURCE_WINDOW %v", rows)
	}
}
