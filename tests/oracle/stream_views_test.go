package oracle

// The stream-fed views as the oracle expects them, row by row, from the
// records and windows of stream_expect_test.go and the views' documented
// semantics (dashboards/views doc comments, shared/marts).

import (
	"sort"
	"time"
)

// viewWant is what one view must hold: the columns compared, the first
// nKey of which identify a row, and the rows. Floats are compared exactly
// except in the approx columns, sums and means of fractional values whose
// order of addition the warehouse chooses (and the session means, which
// the tracker takes in whole nanoseconds): those within a relative 1e-9.
type viewWant struct {
	name   string
	cols   []string
	nKey   int
	rows   [][]any
	approx []string
}

func ts(us int64) time.Time { return time.UnixMicro(us).UTC() }

// socialViews: seed 001 over FACT_SOCIAL_SALES (the loaded events) and the
// 5-minute windows.
func (w *streamWant) socialViews() []viewWant {
	type plat struct {
		n, visitors, pv, conv int64
		sales, convRate, rate float64
	}
	byPlatform := map[string]*plat{}
	type city struct {
		n, usage int64
		sales    float64
	}
	byCity := map[[2]string]*city{}
	var total struct {
		usage, visitors, n int64
		sales              float64
		first, last        int64
	}
	platforms, cities := map[string]bool{}, map[string]bool{}
	total.first, total.last = math64max, math64min
	newest := int64(math64min)
	for _, s := range w.social {
		p := byPlatform[s.platform]
		if p == nil {
			p = &plat{}
			byPlatform[s.platform] = p
		}
		p.n++
		p.visitors += s.visitors
		p.pv += s.pageVisitors
		p.conv += s.conversion
		p.sales += s.sales
		p.convRate += float64(s.conversion) / float64(s.visitors) * 100
		p.rate += float64(s.pageVisitors) / float64(s.visitors) * 100
		c := byCity[[2]string{s.platform, s.city}]
		if c == nil {
			c = &city{}
			byCity[[2]string{s.platform, s.city}] = c
		}
		c.n++
		c.usage += s.usage
		c.sales += s.sales
		total.usage += s.usage
		total.visitors += s.visitors
		total.n++
		total.sales += s.sales
		total.first, total.last = min(total.first, s.t), max(total.last, s.t)
		platforms[s.platform], cities[s.city] = true, true
		newest = max(newest, FloorDiv(s.t, 5*minuteUS)*5*minuteUS)
	}

	rates := viewWant{name: "SOCIAL_RATES_BY_PLATFORM", nKey: 1, cols: []string{"PLATFORM", "AVG_CONVERSION_RATE", "AVG_BOUNCE_RATE",
		"EVENTS", "VISITORS", "PAGE_VISITORS", "CONVERSIONS", "SALES", "OVERALL_CONVERSION_RATE", "OVERALL_BOUNCE_RATE"},
		approx: []string{"AVG_CONVERSION_RATE", "AVG_BOUNCE_RATE"}}
	for name, p := range byPlatform {
		rates.rows = append(rates.rows, []any{name, p.convRate / float64(p.n), p.rate / float64(p.n), p.n, p.visitors, p.pv, p.conv,
			p.sales, float64(p.conv) * 100 / float64(p.visitors), float64(p.pv) * 100 / float64(p.visitors)})
	}
	usage := viewWant{name: "SOCIAL_TOTAL_USAGE", cols: []string{"TOTAL_USAGE", "TOTAL_SALES", "TOTAL_VISITORS", "EVENTS",
		"PLATFORMS", "CITIES", "FIRST_EVENT_AT", "LAST_EVENT_AT"},
		rows: [][]any{{total.usage, total.sales, total.visitors, total.n, int64(len(platforms)), int64(len(cities)), ts(total.first), ts(total.last)}}}

	// The newest 5-minute window of any platform, ranked by visitors.
	last5 := viewWant{name: "SOCIAL_VISITORS_LAST_5_MIN", nKey: 1, cols: []string{"PLATFORM", "VISITORS", "VISITOR_RANK", "EVENTS",
		"PAGE_VISITORS", "SALES", "WINDOW_START", "WINDOW_END", "FINAL"}}
	inWindow := map[string]*plat{}
	for _, s := range w.social {
		if s.late || FloorDiv(s.t, 5*minuteUS)*5*minuteUS != newest {
			continue // the metric table counts the events on time for the window
		}
		p := inWindow[s.platform]
		if p == nil {
			p = &plat{}
			inWindow[s.platform] = p
		}
		p.n++
		p.visitors += s.visitors
		p.pv += s.pageVisitors
		p.sales += s.sales
	}
	for name, p := range inWindow {
		rank := int64(1)
		for _, o := range inWindow {
			if o.visitors > p.visitors {
				rank++
			}
		}
		last5.rows = append(last5.rows, []any{name, p.visitors, rank, p.n, p.pv, p.sales, ts(newest), ts(newest + 5*minuteUS), true})
	}

	// Top city per platform; ties go to the city first in alphabetical order.
	byUsers := viewWant{name: "SOCIAL_TOP_CITY_BY_USERS", nKey: 1, cols: []string{"PLATFORM", "CITY", "USERS", "EVENTS"}}
	bySales := viewWant{name: "SOCIAL_TOP_CITY_BY_SALES", nKey: 1, cols: []string{"PLATFORM", "CITY", "SALES", "EVENTS"}}
	for name := range byPlatform {
		var topU, topS [2]string
		for k, c := range byCity {
			if k[0] != name {
				continue
			}
			if u := byCity[topU]; u == nil || c.usage > u.usage || c.usage == u.usage && k[1] < topU[1] {
				topU = k
			}
			if s := byCity[topS]; s == nil || c.sales > s.sales || c.sales == s.sales && k[1] < topS[1] {
				topS = k
			}
		}
		byUsers.rows = append(byUsers.rows, []any{name, topU[1], byCity[topU].usage, byCity[topU].n})
		bySales.rows = append(bySales.rows, []any{name, topS[1], byCity[topS].sales, byCity[topS].n})
	}
	return []viewWant{rates, usage, last5, byUsers, bySales}
}

const (
	math64max = int64(^uint64(0) >> 1)
	math64min = -math64max - 1
)

// pageviewViews: seed 004.
func (w *streamWant) pageviewViews() []viewWant {
	windows := viewWant{name: "PAGEVIEWS_BY_SOURCE_WINDOW", nKey: 3, cols: []string{"WINDOW_TYPE", "PAGE_SOURCE", "WINDOW_START",
		"WINDOW_END", "PAGEVIEWS", "USERS", "FINAL"}}
	for k, g := range w.pvWindows {
		windows.rows = append(windows.rows, []any{k.Assigner, k.Key, ts(k.Start), ts(k.End), g.N, int64(len(g.Distinct)), true})
	}
	// Users who viewed pages, joined with the cleaned users table as it
	// ends up (an inner join: users without a clean row are left out).
	views := map[string]int64{}
	for _, p := range w.pageviews {
		views[p.user]++
	}
	type country struct{ users, ages, views int64 }
	byCountry := map[string]*country{}
	for user, n := range views {
		u, ok := w.users[user]
		if !ok {
			continue
		}
		c := byCountry[u.country]
		if c == nil {
			c = &country{}
			byCountry[u.country] = c
		}
		c.users++
		c.ages += u.age
		c.views += n
	}
	countries := viewWant{name: "PAGEVIEW_USERS_BY_COUNTRY", nKey: 1, cols: []string{"COUNTRY", "USERS", "AVG_AGE", "PAGEVIEWS"}}
	for name, c := range byCountry {
		countries.rows = append(countries.rows, []any{name, c.users, float64(c.ages) / float64(c.users), c.views})
	}
	return []viewWant{windows, countries}
}

// consumerViews: seed 003, the metric views and the marts.
func (w *streamWant) consumerViews() []viewWant {
	regs := viewWant{name: "USER_REGISTRATIONS", nKey: 2, cols: []string{"WINDOW_TYPE", "WINDOW_START", "WINDOW_END",
		"REGISTRATION_COUNT", "FINAL"}}
	for k, g := range w.regWindows {
		regs.rows = append(regs.rows, []any{k.Assigner, ts(k.Start), ts(k.End), int64(len(g.Distinct)), true})
	}
	sessions := viewWant{name: "SESSION_ACTIVITY", nKey: 1, cols: []string{"METRIC_TIME", "ACTIVE_SESSIONS_COUNT",
		"AVERAGE_SESSION_DURATION", "AVG_ACTIVE_AGE_SECONDS", "COMPLETED_SESSIONS", "TIMED_OUT_SESSIONS"},
		approx: []string{"AVERAGE_SESSION_DURATION", "AVG_ACTIVE_AGE_SECONDS"}}
	for _, m := range w.sessionRows {
		avgDuration, avgActive := 0.0, 0.0
		if m.Completed > 0 {
			avgDuration = float64(m.DurationSum) / float64(m.Completed) / 1e6
		}
		if m.Active > 0 {
			avgActive = float64(m.AgeSum) / float64(m.Active) / 1e6
		}
		sessions.rows = append(sessions.rows, []any{ts(m.At), m.Active, avgDuration, avgActive, m.Completed, m.TimedOut})
	}
	sales := viewWant{name: "MOVIE_SALES", nKey: 3, cols: []string{"MOVIE_ID", "WINDOW_TYPE", "WINDOW_START", "TITLE", "GENRE",
		"WINDOW_END", "TOTAL_SALES", "PURCHASES", "FINAL"}, approx: []string{"TOTAL_SALES"}}
	for k, g := range w.salesWindows {
		var title, genre any
		if m, ok := w.movies[k.Key]; ok {
			title, genre = m.title, m.genre
		}
		sales.rows = append(sales.rows, []any{k.Key, k.Assigner, ts(k.Start), title, genre, ts(k.End), g.Sum, g.N, true})
	}

	// MART_USER_ACTIVITY: per user and UTC day.
	type act struct {
		viewed, added, checkouts, purchased, signIns int64
		amount                                       float64
	}
	type ud struct {
		user int64
		day  int64
	}
	activity := map[ud]*act{}
	get := func(user, t int64) *act {
		k := ud{user, FloorDiv(t, dayUS)}
		if activity[k] == nil {
			activity[k] = &act{}
		}
		return activity[k]
	}
	last := map[int64]int64{} // user -> newest activity
	reference := int64(math64min)
	active := func(user, t int64) {
		if l, ok := last[user]; !ok || t > l {
			last[user] = t
		}
		reference = max(reference, t)
	}
	for _, v := range w.views {
		get(v.user, v.t).viewed++
		active(v.user, v.t)
	}
	for _, a := range w.adds {
		get(a.user, a.t).added++
		active(a.user, a.t)
	}
	for _, c := range w.checkouts {
		get(c.user, c.t).checkouts++
		active(c.user, c.t)
	}
	for _, p := range w.purchases() {
		a := get(p.checkout.user, p.checkout.t)
		a.purchased++
		a.amount += p.price // 0 without a catalog price
	}
	for _, s := range w.signs {
		if !s.out {
			get(s.user, s.t).signIns++
		}
		active(s.user, s.t)
	}
	userActivity := viewWant{name: "MART_USER_ACTIVITY", nKey: 2, cols: []string{"USER_ID", "DAY", "ITEMS_VIEWED",
		"ITEMS_ADDED_TO_CART", "CHECKOUTS", "ITEMS_PURCHASED", "PURCHASE_AMOUNT", "SIGN_INS"},
		approx: []string{"PURCHASE_AMOUNT"}}
	totals := map[int64]*act{}
	for k, a := range activity {
		userActivity.rows = append(userActivity.rows, []any{k.user, ts(k.day * dayUS), a.viewed, a.added, a.checkouts, a.purchased,
			a.amount, a.signIns})
		t := totals[k.user]
		if t == nil {
			t = &act{}
			totals[k.user] = t
		}
		t.viewed += a.viewed
		t.added += a.added
		t.checkouts += a.checkouts
		t.purchased += a.purchased
		t.amount += a.amount
	}

	// MART_MOVIE_STATS: per catalog movie.
	type stat struct {
		views, adds, purchases int64
		viewers                map[int64]bool
		sales                  float64
	}
	stats := map[string]*stat{}
	for id := range w.movies {
		stats[id] = &stat{viewers: map[int64]bool{}}
	}
	for _, v := range w.views {
		if s := stats[v.item]; s != nil {
			s.views++
			s.viewers[v.user] = true
		}
	}
	for _, a := range w.adds {
		if s := stats[a.item]; s != nil {
			s.adds++
		}
	}
	for _, p := range w.purchases() {
		if s := stats[p.item]; s != nil {
			s.purchases++
			s.sales += p.price
		}
	}
	movieStats := viewWant{name: "MART_MOVIE_STATS", nKey: 1, cols: []string{"ITEM_ID", "TITLE", "GENRE", "PRICE", "VIEWS",
		"VIEWERS", "ADDS_TO_CART", "PURCHASES", "TOTAL_SALES", "AVG_PRICE", "PURCHASES_PER_VIEW"},
		approx: []string{"TOTAL_SALES", "AVG_PRICE"}}
	for id, s := range stats {
		m := w.movies[id]
		var avg, perView any
		if s.purchases > 0 {
			avg = s.sales / float64(s.purchases)
		}
		if s.views > 0 {
			perView = float64(s.purchases) / float64(s.views)
		}
		movieStats.rows = append(movieStats.rows, []any{id, m.title, m.genre, m.price, s.views, int64(len(s.viewers)), s.adds,
			s.purchases, s.sales, avg, perView})
	}

	// MART_USER_SEGMENTS: every registered user, first rule that holds.
	segments := viewWant{name: "MART_USER_SEGMENTS", nKey: 1, cols: []string{"USER_ID", "AGE", "PREFERRED_LANGUAGE",
		"REGISTERED_AT", "ITEMS_VIEWED", "ITEMS_ADDED_TO_CART", "CHECKOUTS", "ITEMS_PURCHASED", "TOTAL_SPENT", "LAST_ACTIVE_AT",
		"ACTIVITY_REFERENCE_AT", "SEGMENT"}, approx: []string{"TOTAL_SPENT"}}
	for _, r := range w.regs {
		t := totals[r.user]
		if t == nil {
			t = &act{}
		}
		var lastAt any
		l, ok := last[r.user]
		if ok {
			lastAt = ts(l)
		}
		segment := "regular"
		switch {
		case !ok || l < reference-inactiveDays*dayUS:
			segment = "inactive"
		case t.amount >= highValueMinSpend:
			segment = "high_value"
		case t.viewed >= frequentBrowserMinViews:
			segment = "frequent_browser"
		}
		w.reach["segment "+segment]++
		segments.rows = append(segments.rows, []any{r.user, r.age, r.lang, ts(r.t), t.viewed, t.added, t.checkouts, t.purchased,
			t.amount, lastAt, ts(reference), segment})
	}
	return []viewWant{regs, sessions, sales, userActivity, movieStats, segments}
}

// The seed 003 segmentation thresholds, as shared/marts states them.
const (
	inactiveDays            = 30
	highValueMinSpend       = 50.0
	frequentBrowserMinViews = 10
)

// allViews lists every stream-fed view with its expected rows, sorted.
func (w *streamWant) allViews() []viewWant {
	var out []viewWant
	for _, group := range [][]viewWant{w.socialViews(), w.pageviewViews(), w.consumerViews()} {
		out = append(out, group...)
	}
	for _, v := range out {
		sort.Slice(v.rows, func(i, j int) bool { return rowKey(v.rows[i], v.nKey) < rowKey(v.rows[j], v.nKey) })
	}
	return out
}
