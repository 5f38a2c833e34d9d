package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The stream's two days (the simulated evening crosses midnight).
var (
	streamDay1 = time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC)
	streamDay2 = streamDay1.AddDate(0, 0, 1)
)

// viaJSON gives rows the types the API's rows have once decoded (numbers
// float64, times RFC 3339 strings), so expectations computed here compare
// with sameRows.
func viaJSON(t *testing.T, rows [][]any) [][]any {
	t.Helper()
	for _, r := range rows {
		for i, v := range r {
			r[i] = jsonValue(v)
		}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out == nil {
		out = [][]any{}
	}
	return out
}

func dayQuery(day time.Time) string {
	d := day.Format(time.DateOnly)
	return "from=" + d + "&to=" + d
}

func onDay(v any, day time.Time) bool {
	t, ok := v.(time.Time)
	return ok && !t.Before(day) && t.Before(day.AddDate(0, 0, 1))
}

// TestSocialPlatformFilter: under each platform, the seed-001 panels
// re-aggregate FACT_SOCIAL_SALES (or the 5-minute metrics) to exactly the
// view's row for that platform, the usage is the facts' for the platform,
// and the platforms' events add up to what the stream handler loaded.
func TestSocialPlatformFilter(t *testing.T) {
	var events float64
	platforms := queryRows(t, "SELECT DISTINCT PLATFORM FROM FACT_SOCIAL_SALES ORDER BY 1")
	if len(platforms) != 5 {
		t.Fatalf("social platforms: %v", platforms)
	}
	for _, r := range platforms {
		p := r[0].(string)
		q := url.Values{"platform": {p}}.Encode()
		d := panel(t, "SOCIAL_TOTAL_USAGE", q)
		usage := scalar(t, "SELECT SUM(USAGE_COUNT) FROM FACT_SOCIAL_SALES WHERE PLATFORM = ?", p)
		if *d.Total != usage || column(t, d, "PLATFORMS") != 1 || d.Source != "re-aggregated from FACT_SOCIAL_SALES" ||
			strings.Join(d.Applied, ",") != "platform" {
			t.Errorf("total usage for %s: %v from %s (applied %v); the facts say %v", p, *d.Total, d.Source, d.Applied, usage)
		}
		events += column(t, d, "EVENTS")
		for _, view := range []string{"SOCIAL_RATES_BY_PLATFORM", "SOCIAL_TOP_CITY_BY_USERS", "SOCIAL_TOP_CITY_BY_SALES", "SOCIAL_VISITORS_LAST_5_MIN"} {
			want := viaJSON(t, queryRows(t, "SELECT * FROM "+view+" WHERE PLATFORM = ?", p))
			got := panel(t, view, q)
			sameRows(t, view+" for "+p, got.Rows, want)
			if len(want) != 1 && view != "SOCIAL_VISITORS_LAST_5_MIN" {
				t.Errorf("%s has %d rows for %s", view, len(want), p)
			}
		}
	}
	if loaded := fx.stream.counts["social_sales"].Loaded; events != float64(loaded) {
		t.Errorf("the platforms' events add up to %v, the stream handler loaded %d", events, loaded)
	}
}

// TestSocialDateFilter: per day of the stream, the top city per platform
// (computed here from the facts, ties to the first city alphabetically)
// and the day's totals; the two days add up to the whole.
func TestSocialDateFilter(t *testing.T) {
	facts := queryRows(t, "SELECT PLATFORM, CITY, USAGE_COUNT, SALES, EVENT_TIME FROM FACT_SOCIAL_SALES")
	var events float64
	for _, day := range []time.Time{streamDay1, streamDay2} {
		users := map[[2]string]float64{}
		n := 0
		for _, r := range facts {
			if onDay(r[4], day) {
				x, _ := number(r[2])
				users[[2]string{r[0].(string), r[1].(string)}] += x
				n++
			}
		}
		top := map[string][]any{}
		for k, v := range users {
			best := top[k[0]]
			if best == nil || v > best[2].(float64) || v == best[2].(float64) && k[1] < best[1].(string) {
				top[k[0]] = []any{k[0], k[1], v}
			}
		}
		d := panel(t, "SOCIAL_TOP_CITY_BY_USERS", dayQuery(day))
		if len(d.Rows) != len(top) || n == 0 {
			t.Errorf("top city on %s: %d rows, want %d", day.Format(time.DateOnly), len(d.Rows), len(top))
		}
		for _, r := range d.Rows {
			w := top[r[0].(string)]
			if w == nil || r[1] != w[1] || r[2] != w[2] {
				t.Errorf("top city by users of %v on %s: %v, want %v", r[0], day.Format(time.DateOnly), r, w)
			}
		}
		tot := panel(t, "SOCIAL_TOTAL_USAGE", dayQuery(day))
		if got := column(t, tot, "EVENTS"); got != float64(n) {
			t.Errorf("events on %s: %v, the facts have %d", day.Format(time.DateOnly), got, n)
		}
		events += column(t, tot, "EVENTS")
	}
	if all := column(t, panel(t, "SOCIAL_TOTAL_USAGE", ""), "EVENTS"); events != all {
		t.Errorf("the two days have %v events, all of it %v", events, all)
	}
}

// TestVisitorsLast5MinDate: with a date range the "last 5 minutes" panel
// is the newest 5-minute window that starts in it (found here from the
// metrics' rows), every platform's row of it with its rank among them.
func TestVisitorsLast5MinDate(t *testing.T) {
	metrics := queryRows(t, "SELECT PLATFORM, VISITORS, WINDOW_START FROM SOCIAL_PLATFORM_METRICS")
	var newest time.Time
	for _, r := range metrics {
		if s := r[2].(time.Time); onDay(s, streamDay1) && s.After(newest) {
			newest = s
		}
	}
	var want [][]any
	for _, r := range metrics {
		if r[2].(time.Time).Equal(newest) {
			want = append(want, []any{r[0], r[1]})
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i][1].(int64) > want[j][1].(int64) })
	for i, w := range want {
		rank := i + 1
		for rank > 1 && want[rank-2][1] == w[1] { // RANK: ties share the first rank
			rank--
		}
		want[i] = append(w, int64(rank))
	}
	d := panel(t, "SOCIAL_VISITORS_LAST_5_MIN", "to="+streamDay1.Format(time.DateOnly))
	if len(d.Rows) != len(want) || len(want) == 0 {
		t.Fatalf("%d rows, want %d (window %v)", len(d.Rows), len(want), newest)
	}
	ws := index(d.Columns, "WINDOW_START")
	for _, r := range d.Rows {
		if r[ws] != newest.Format(time.RFC3339) {
			t.Errorf("row of window %v, want %v", r[ws], newest)
		}
	}
	got := [][]any{}
	for _, r := range d.Rows {
		got = append(got, []any{r[0], r[1], r[2]})
	}
	sameRows(t, "the newest window of "+streamDay1.Format(time.DateOnly), got, viaJSON(t, want))
	if d.Headlines[""].Label != want[0][0] {
		t.Errorf("headline %+v, the most visitors are %v's", d.Headlines[""], want[0])
	}
	// With a platform too: that platform's row, its rank unchanged.
	one := panel(t, "SOCIAL_VISITORS_LAST_5_MIN", "to="+streamDay1.Format(time.DateOnly)+"&platform="+url.QueryEscape(want[len(want)-1][0].(string)))
	if len(one.Rows) != 1 || one.Rows[0][2] != float64(want[len(want)-1][2].(int64)) {
		t.Errorf("one platform of the window: %v, want %v", one.Rows, want[len(want)-1])
	}
}

// TestAgeGroupFilters: page views by country and user segments under an
// age group equal what is computed here from the users' ages with
// shared/dataset.AgeGroup (not the SQL buckets), and the groups add up.
func TestAgeGroupFilters(t *testing.T) {
	type agg struct{ users, ages, views float64 }
	byGroup := map[string]map[string]*agg{} // group -> country
	for _, r := range queryRows(t, `SELECT u.COUNTRY, u.AGE, COUNT(*) FROM PAGEVIEWS p JOIN CLEANED_USERS u ON u.USER_ID = p.USER_ID
	  GROUP BY p.USER_ID, u.COUNTRY, u.AGE`) {
		g := dataset.AgeGroup(table.Int64(r[1].(int64)))
		if byGroup[g] == nil {
			byGroup[g] = map[string]*agg{}
		}
		a := byGroup[g][r[0].(string)]
		if a == nil {
			a = &agg{}
			byGroup[g][r[0].(string)] = a
		}
		a.users++
		a.ages += float64(r[1].(int64))
		a.views += float64(r[2].(int64))
	}
	if len(byGroup) < 4 {
		t.Fatalf("page views from %d age groups: the test would prove little", len(byGroup))
	}
	var users float64
	for g, countries := range byGroup {
		var want [][]any
		for c, a := range countries {
			want = append(want, []any{c, a.users, a.ages / a.users, a.views})
		}
		d := panel(t, "PAGEVIEW_USERS_BY_COUNTRY", url.Values{"age_group": {g}}.Encode())
		sameRows(t, "page-view users aged "+g, d.Rows, want)
		users += *d.Total
	}
	if all := panel(t, "PAGEVIEW_USERS_BY_COUNTRY", ""); users != *all.Total {
		t.Errorf("the age groups have %v users, all of them %v", users, *all.Total)
	}

	segments := map[string]map[string]float64{} // group -> segment -> users
	for _, r := range queryRows(t, "SELECT AGE, SEGMENT FROM MART_USER_SEGMENTS") {
		c := table.Cell{Null: true}
		if a, ok := r[0].(int64); ok {
			c = table.Int64(a)
		}
		g := dataset.AgeGroup(c)
		if segments[g] == nil {
			segments[g] = map[string]float64{}
		}
		segments[g][r[1].(string)]++
	}
	for g, want := range segments {
		d := panel(t, "MART_USER_SEGMENTS", url.Values{"age_group": {g}}.Encode())
		got := map[string]float64{}
		for _, r := range d.Rows {
			got[r[0].(string)] = r[1].(float64)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || d.Source != "MART_USER_SEGMENTS, filtered" {
			t.Errorf("segments of users aged %s: %v from %s, want %v", g, got, d.Source, want)
		}
	}
}

// TestStreamDateFilters: a day narrows each stream, mart and gold panel to
// that day's rows: the windowed and per-day views to their rows of the day
// (filtered here), the rolled-up and re-aggregated marts to sums computed
// here from their rows.
func TestStreamDateFilters(t *testing.T) {
	for _, c := range []struct {
		view, column string
		day          time.Time
	}{
		{"USER_REGISTRATIONS", "WINDOW_START", streamDay2},
		{"SESSION_ACTIVITY", "METRIC_TIME", streamDay1},
		{"MOVIE_SALES", "WINDOW_START", streamDay2},
		{"PAGEVIEWS_BY_SOURCE_WINDOW", "WINDOW_START", streamDay2},
		{"GOLD_DAU_MAU", "DAY", day2},
		{"GOLD_SESSION_STATS", "DAY", day2},
	} {
		names, rows, err := fx.st.Warehouse.Query(t.Context(), "SELECT * FROM "+c.view)
		if err != nil {
			t.Fatal(err)
		}
		i := -1
		for j, n := range names {
			if strings.EqualFold(n, c.column) {
				i = j
			}
		}
		var want [][]any
		for _, r := range rows {
			if onDay(r[i], c.day) {
				want = append(want, r)
			}
		}
		d := panel(t, c.view, dayQuery(c.day))
		if len(want) == 0 || len(want) == len(rows) || d.Source != c.view+", filtered" {
			t.Errorf("%s on %s: %d of %d rows, from %s", c.view, c.day.Format(time.DateOnly), len(want), len(rows), d.Source)
		}
		sameRows(t, c.view+" on "+c.day.Format(time.DateOnly), d.Rows, viaJSON(t, want))
	}

	// MART_USER_ACTIVITY, rolled up per day.
	var active, viewed, amount float64
	for _, r := range queryRows(t, "SELECT DAY, ITEMS_VIEWED, PURCHASE_AMOUNT FROM MART_USER_ACTIVITY") {
		if onDay(r[0], streamDay2) {
			active++
			x, _ := number(r[1])
			y, _ := number(r[2])
			viewed, amount = viewed+x, amount+y
		}
	}
	d := panel(t, "MART_USER_ACTIVITY", dayQuery(streamDay2))
	if len(d.Rows) != 1 || column(t, d, "ACTIVE_USERS") != active || column(t, d, "ITEMS_VIEWED") != viewed || !near(column(t, d, "PURCHASE_AMOUNT"), amount) || active == 0 {
		t.Errorf("MART_USER_ACTIVITY on %s: %v; want %v users, %v views, $%v", streamDay2.Format(time.DateOnly), d.Rows, active, viewed, amount)
	}

	// MART_MOVIE_STATS over one day's views and purchases.
	views, purchases, sales := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, r := range queryRows(t, "SELECT ITEM_ID, EVENT_TIME FROM ITEM_VIEW_EVENTS") {
		if onDay(r[1], streamDay2) {
			views[r[0].(string)]++
		}
	}
	for _, r := range queryRows(t, "SELECT ITEM_ID, CHECKOUT_TIME, PRICE FROM MART_PURCHASES") {
		if onDay(r[1], streamDay2) {
			purchases[r[0].(string)]++
			x, _ := number(r[2])
			sales[r[0].(string)] += x
		}
	}
	d = panel(t, "MART_MOVIE_STATS", dayQuery(streamDay2))
	id, v, p, s := index(d.Columns, "ITEM_ID"), index(d.Columns, "VIEWS"), index(d.Columns, "PURCHASES"), index(d.Columns, "TOTAL_SALES")
	if len(d.Rows) != 50 || d.Source != "re-aggregated from ITEM_VIEW_EVENTS, CART_EVENTS and MART_PURCHASES" {
		t.Errorf("MART_MOVIE_STATS on a day: %d movies from %s", len(d.Rows), d.Source)
	}
	for _, r := range d.Rows {
		item := r[id].(string)
		if r[v] != views[item] || r[p] != purchases[item] || !near(r[s].(float64), sales[item]) {
			t.Errorf("movie %s on %s: views %v purchases %v sales %v; want %v %v %v", item, streamDay2.Format(time.DateOnly),
				r[v], r[p], r[s], views[item], purchases[item], sales[item])
		}
	}

	// MART_USER_SEGMENTS: the users registered that day, by segment.
	segs := map[string]float64{}
	for _, r := range queryRows(t, "SELECT SEGMENT, REGISTERED_AT FROM MART_USER_SEGMENTS") {
		if onDay(r[1], streamDay1) {
			segs[r[0].(string)]++
		}
	}
	got := map[string]float64{}
	for _, r := range panel(t, "MART_USER_SEGMENTS", dayQuery(streamDay1)).Rows {
		got[r[0].(string)] = r[1].(float64)
	}
	if fmt.Sprint(got) != fmt.Sprint(segs) || len(segs) == 0 {
		t.Errorf("segments of the users registered on %s: %v, want %v", streamDay1.Format(time.DateOnly), got, segs)
	}
}
