package views_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/marts"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// cev is one seed-003 event as the stream path stores it.
type cev struct {
	id, name    string // EVENT_NAME: item_view, added_to_cart, checkout_to_cart, sign_in, sign_out, consumer_registration
	user        int64
	item, cart  string
	payment     string
	at          time.Time
	age         int64 // registrations
	lang, email string
}

// consumerWorld is the simulator's seed-003 events plus hand-made ones
// that reach every rule: an old inactive user, a frequent browser, a
// high-value buyer, a cart checked out twice, an item added after its
// cart's checkout, and an item missing from the catalog.
func consumerWorld(t *testing.T) ([]cev, []sim.Movie) {
	var out []cev
	for i, ev := range simRecords(t, 3000) {
		r := ev.Record
		c := cev{id: fmt.Sprint("e", i), name: ev.Topic}
		switch ev.Topic {
		case events.TopicConsumerRegistration, events.TopicSignIn, events.TopicSignOut, events.TopicItemView,
			events.TopicAddedToCart, events.TopicCheckoutToCart:
		default:
			continue
		}
		c.user = int64(num(r["user_id"]))
		ts, err := time.Parse(time.RFC3339Nano, r["timestamp"].(string))
		if err != nil {
			t.Fatal(err)
		}
		c.at = ts
		c.item, _ = r["item_id"].(string)
		c.cart, _ = r["cart_id"].(string)
		c.payment, _ = r["payment_method"].(string)
		if ev.Topic == events.TopicConsumerRegistration {
			c.age = int64(num(r["age"]))
			c.lang, c.email = r["preferred_language"].(string), r["masked_email"].(string)
		}
		out = append(out, c)
	}
	movies := sim.Movies()
	expensive := movies[0].ItemID // 49.99 and up: two make a high-value buyer
	for _, m := range movies {
		if m.Price > 40 {
			expensive = m.ItemID
		}
	}
	at := func(min int) time.Time { return simStart.Add(time.Duration(min) * time.Minute) }
	reg := func(user int64, when time.Time) cev {
		return cev{id: fmt.Sprint("reg", user), name: events.TopicConsumerRegistration, user: user, at: when, age: 33, lang: "eng", email: "****@gmail.com"}
	}
	out = append(out,
		reg(9000001, at(-60*24*60)),
		cev{id: "old-view", name: events.TopicItemView, user: 9000001, item: movies[1].ItemID, at: at(-40 * 24 * 60)}, // 40 days before: inactive
		reg(9000002, at(0)),
		reg(9000003, at(0)),
		reg(9000004, at(0)), // registered, never active: inactive
		cev{id: "hv-add1", name: events.TopicAddedToCart, user: 9000003, item: expensive, cart: "hv-cart", at: at(1)},
		cev{id: "hv-add2", name: events.TopicAddedToCart, user: 9000003, item: expensive, cart: "hv-cart", at: at(2)},
		cev{id: "hv-add3", name: events.TopicAddedToCart, user: 9000003, item: "B-NOT-IN-CATALOG", cart: "hv-cart", at: at(3)},
		cev{id: "hv-out1", name: events.TopicCheckoutToCart, user: 9000003, cart: "hv-cart", payment: "Card", at: at(4)},
		cev{id: "hv-late", name: events.TopicAddedToCart, user: 9000003, item: movies[2].ItemID, cart: "hv-cart", at: at(5)}, // after checkout
		cev{id: "hv-out2", name: events.TopicCheckoutToCart, user: 9000003, cart: "hv-cart", payment: "Cash", at: at(6)},     // second checkout
	)
	for k := 0; k < marts.FrequentBrowserMinViews; k++ {
		out = append(out, cev{id: fmt.Sprint("fb", k), name: events.TopicItemView, user: 9000002, item: movies[k].ItemID, at: at(k + 1)})
	}
	return out, movies
}

func loadConsumer(t *testing.T, evs []cev, movies []sim.Movie) *duckdb.Warehouse {
	wh := openStream(t)
	var items, carts, consumer, users, catalog []table.Row
	for _, e := range evs {
		common := map[string]table.Cell{"EVENT_ID": table.Str(e.id), "USER_ID": table.Int64(e.user), "EVENT_TIME": table.Int64(e.at.UnixMicro())}
		switch e.name {
		case events.TopicItemView:
			common["ITEM_ID"] = table.Str(e.item)
			items = append(items, row(t, star.ItemViewEvents, common))
		case events.TopicAddedToCart, events.TopicCheckoutToCart:
			common["EVENT_NAME"], common["CART_ID"] = table.Str(e.name), table.Str(e.cart)
			if e.name == events.TopicAddedToCart {
				common["ITEM_ID"] = table.Str(e.item)
			} else {
				common["PAYMENT_METHOD"] = table.Str(e.payment)
			}
			carts = append(carts, row(t, star.CartEvents, common))
		default:
			common["EVENT_NAME"] = table.Str(e.name)
			consumer = append(consumer, row(t, star.ConsumerEvents, common))
			if e.name == events.TopicConsumerRegistration {
				users = append(users, row(t, star.ConsumerUsers, map[string]table.Cell{"USER_ID": table.Int64(e.user), "AGE": table.Int64(e.age),
					"MASKED_EMAIL": table.Str(e.email), "PREFERRED_LANGUAGE": table.Str(e.lang), "REGISTERED_AT": table.Int64(e.at.UnixMicro())}))
			}
		}
	}
	for _, m := range movies {
		catalog = append(catalog, row(t, star.Movies, map[string]table.Cell{"ITEM_ID": table.Str(m.ItemID), "TITLE": table.Str(m.Title),
			"GENRE": table.Str(m.Genre), "PRICE": table.Float64(m.Price)}))
	}
	merge(t, wh, star.ItemViewEvents, items)
	merge(t, wh, star.CartEvents, carts)
	merge(t, wh, star.ConsumerEvents, consumer)
	merge(t, wh, star.ConsumerUsers, users)
	merge(t, wh, star.Movies, catalog)
	return wh
}

type purchase struct {
	user  int64
	item  string
	price float64
	day   string
}

func TestMarts(t *testing.T) {
	evs, movies := consumerWorld(t)
	wh := loadConsumer(t, evs, movies)
	price := map[string]float64{}
	for _, m := range movies {
		price[m.ItemID] = m.Price
	}
	// Purchases: each cart's first checkout buys the cart's adds at or before it.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	first := map[string]cev{}
	for _, e := range evs {
		if e.name == events.TopicCheckoutToCart {
			if f, ok := first[e.cart]; !ok || e.at.Before(f.at) || e.at.Equal(f.at) && e.id < f.id {
				first[e.cart] = e
			}
		}
	}
	var purchases []purchase
	for _, e := range evs {
		if c, ok := first[e.cart]; ok && e.name == events.TopicAddedToCart && !e.at.After(c.at) {
			purchases = append(purchases, purchase{c.user, e.item, price[e.item], c.at.Format("2006-01-02")})
		}
	}
	if len(purchases) < 10 {
		t.Fatalf("only %d purchases: the test data proves little", len(purchases))
	}
	if got := query(t, wh, "SELECT COUNT(*), SUM(COALESCE(PRICE, 0)) FROM MART_PURCHASES")[0]; got[0] != int64(len(purchases)) {
		t.Errorf("MART_PURCHASES has %v rows, want %d", got[0], len(purchases))
	}

	// MART_USER_ACTIVITY, per user and day.
	type key struct {
		user int64
		day  string
	}
	type act struct {
		viewed, added, checkouts, purchased, signIns int64
		amount                                       float64
	}
	activity := map[key]*act{}
	get := func(u int64, t time.Time) *act {
		k := key{u, t.Format("2006-01-02")}
		if activity[k] == nil {
			activity[k] = &act{}
		}
		return activity[k]
	}
	for _, e := range evs {
		switch e.name {
		case events.TopicItemView:
			get(e.user, e.at).viewed++
		case events.TopicAddedToCart:
			get(e.user, e.at).added++
		case events.TopicSignIn:
			get(e.user, e.at).signIns++
		}
	}
	for _, c := range first {
		get(c.user, c.at).checkouts++
	}
	for _, p := range purchases {
		a := get(p.user, mustDay(t, p.day))
		a.purchased++
		a.amount += p.price
	}
	rows := query(t, wh, `SELECT USER_ID, strftime(DAY, '%Y-%m-%d'), ITEMS_VIEWED, ITEMS_ADDED_TO_CART, CHECKOUTS, ITEMS_PURCHASED,
		PURCHASE_AMOUNT, SIGN_INS FROM MART_USER_ACTIVITY`)
	if len(rows) != len(activity) {
		t.Errorf("MART_USER_ACTIVITY has %d rows, want %d", len(rows), len(activity))
	}
	for _, r := range rows {
		a := activity[key{r[0].(int64), r[1].(string)}]
		if a == nil || r[2] != a.viewed || r[3] != a.added || r[4] != a.checkouts || r[5] != a.purchased ||
			!near(r[6].(float64), a.amount) || r[7] != a.signIns {
			t.Errorf("MART_USER_ACTIVITY %v, want %+v", r, a)
		}
	}

	// MART_MOVIE_STATS, per catalog movie.
	type mstat struct {
		views, adds, purchases int64
		viewers                map[int64]bool
		sales                  float64
	}
	stats := map[string]*mstat{}
	for _, m := range movies {
		stats[m.ItemID] = &mstat{viewers: map[int64]bool{}}
	}
	for _, e := range evs {
		s := stats[e.item]
		if s == nil {
			continue
		}
		switch e.name {
		case events.TopicItemView:
			s.views++
			s.viewers[e.user] = true
		case events.TopicAddedToCart:
			s.adds++
		}
	}
	for _, p := range purchases {
		if s := stats[p.item]; s != nil {
			s.purchases++
			s.sales += p.price
		}
	}
	rows = query(t, wh, "SELECT ITEM_ID, VIEWS, VIEWERS, ADDS_TO_CART, PURCHASES, TOTAL_SALES, AVG_PRICE FROM MART_MOVIE_STATS")
	if len(rows) != len(movies) {
		t.Errorf("MART_MOVIE_STATS has %d rows, want %d", len(rows), len(movies))
	}
	for _, r := range rows {
		s := stats[r[0].(string)]
		var avg any
		if s.purchases > 0 {
			avg = s.sales / float64(s.purchases)
		}
		if r[1] != s.views || r[2] != int64(len(s.viewers)) || r[3] != s.adds || r[4] != s.purchases || !near(r[5].(float64), s.sales) ||
			(avg == nil) != (r[6] == nil) || avg != nil && !near(r[6].(float64), avg.(float64)) {
			t.Errorf("MART_MOVIE_STATS %v, want views %d viewers %d adds %d purchases %d sales %g avg %v",
				r, s.views, len(s.viewers), s.adds, s.purchases, s.sales, avg)
		}
	}

	// MART_USER_SEGMENTS, per registered user.
	var reference time.Time
	last := map[int64]time.Time{}
	for _, e := range evs {
		switch e.name {
		case events.TopicItemView, events.TopicAddedToCart, events.TopicCheckoutToCart, events.TopicSignIn, events.TopicSignOut:
			if e.at.After(last[e.user]) {
				last[e.user] = e.at
			}
			if e.at.After(reference) {
				reference = e.at
			}
		}
	}
	spent, viewed := map[int64]float64{}, map[int64]int64{}
	for _, p := range purchases {
		spent[p.user] += p.price
	}
	for _, e := range evs {
		if e.name == events.TopicItemView {
			viewed[e.user]++
		}
	}
	want := map[int64]string{}
	for _, e := range evs {
		if e.name != events.TopicConsumerRegistration {
			continue
		}
		u := e.user
		l, ok := last[u]
		switch {
		case !ok || l.Before(reference.AddDate(0, 0, -marts.InactiveDays)):
			want[u] = "inactive"
		case spent[u] >= marts.HighValueMinSpend:
			want[u] = "high_value"
		case viewed[u] >= marts.FrequentBrowserMinViews:
			want[u] = "frequent_browser"
		default:
			want[u] = "regular"
		}
	}
	rows = query(t, wh, "SELECT USER_ID, SEGMENT, TOTAL_SPENT, ITEMS_VIEWED FROM MART_USER_SEGMENTS")
	if len(rows) != len(want) {
		t.Errorf("MART_USER_SEGMENTS has %d rows, want %d", len(rows), len(want))
	}
	seen := map[string]int{}
	for _, r := range rows {
		u := r[0].(int64)
		seen[r[1].(string)]++
		if r[1] != want[u] || !near(r[2].(float64), spent[u]) || r[3] != viewed[u] {
			t.Errorf("MART_USER_SEGMENTS %v, want %s spent %g viewed %d", r, want[u], spent[u], viewed[u])
		}
	}
	for _, s := range marts.Segments {
		if seen[s] == 0 {
			t.Errorf("no user in segment %s: the test data does not reach that rule (%v)", s, seen)
		}
	}
	for u, s := range map[int64]string{9000001: "inactive", 9000002: "frequent_browser", 9000003: "high_value", 9000004: "inactive"} {
		if want[u] != s {
			t.Errorf("hand-made user %d is %s, meant to be %s", u, want[u], s)
		}
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestConsumerMetricViews: the seed-003 metric views pass the stream
// path's metric tables through (MOVIE_SALES adds the catalog title).
func TestConsumerMetricViews(t *testing.T) {
	wh := openStream(t)
	w0, w1 := simStart.UnixMicro(), simStart.Add(time.Hour).UnixMicro()
	merge(t, wh, star.UserRegistrationMetrics, []table.Row{row(t, star.UserRegistrationMetrics, map[string]table.Cell{
		"METRIC_ID": table.Str("r1"), "WINDOW_TYPE": table.Str("sliding"), "WINDOW_START": table.Int64(w0), "WINDOW_END": table.Int64(w1),
		"REGISTRATION_COUNT": table.Int64(42), "FINAL": table.Boolean(true)})})
	merge(t, wh, star.SessionMetrics, []table.Row{row(t, star.SessionMetrics, map[string]table.Cell{
		"METRIC_TIME": table.Int64(w0), "ACTIVE_SESSIONS_COUNT": table.Int64(3), "AVERAGE_SESSION_DURATION": table.Float64(61.5)})})
	m := sim.Movies()[3]
	merge(t, wh, star.Movies, []table.Row{row(t, star.Movies, map[string]table.Cell{"ITEM_ID": table.Str(m.ItemID), "TITLE": table.Str(m.Title), "PRICE": table.Float64(m.Price)})})
	merge(t, wh, star.MovieSalesMetrics, []table.Row{
		row(t, star.MovieSalesMetrics, map[string]table.Cell{"METRIC_ID": table.Str("m1"), "MOVIE_ID": table.Str(m.ItemID),
			"WINDOW_TYPE": table.Str("daily"), "TOTAL_SALES": table.Float64(2 * m.Price), "PURCHASES": table.Int64(2)}),
		row(t, star.MovieSalesMetrics, map[string]table.Cell{"METRIC_ID": table.Str("m2"), "MOVIE_ID": table.Str("B-UNKNOWN"),
			"WINDOW_TYPE": table.Str("daily"), "TOTAL_SALES": table.Float64(1), "PURCHASES": table.Int64(1)}),
	})
	for q, want := range map[string]string{
		"SELECT WINDOW_TYPE, REGISTRATION_COUNT, FINAL FROM USER_REGISTRATIONS":        "[[sliding 42 true]]",
		"SELECT ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION FROM SESSION_ACTIVITY": "[[3 61.5]]",
		"SELECT MOVIE_ID, TITLE, PURCHASES FROM MOVIE_SALES ORDER BY MOVIE_ID":         fmt.Sprintf("[[B-UNKNOWN <nil> 1] [%s %s 2]]", m.ItemID, m.Title),
	} {
		if got := fmt.Sprint(query(t, wh, q)); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
}
