package stream_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// at is a seed 003 timestamp on 2024-02-dd (a Saturday on the 3rd; weeks
// run from Monday, so the 12th starts the week after next).
func at(day, hour, minute int) string {
	return time.Date(2024, 2, day, hour, minute, 0, 0, time.UTC).Format(time.RFC3339)
}

func registration(offset int64, user int, ts string) port.Message {
	return msg("consumer_registration", offset, fmt.Sprintf(`{"timestamp": %q, "event_name": "consumer_registration", "user_id": %d, "age": 30, "masked_email": "****@gmail.com", "preferred_language": "eng"}`, ts, user))
}

func sign(topic string, offset int64, user int, ts string) port.Message {
	return msg(topic, offset, fmt.Sprintf(`{"timestamp": %q, "event_name": %q, "user_id": %d}`, ts, topic, user))
}

func addToCart(offset int64, cart, item, ts string) port.Message {
	return msg("added_to_cart", offset, fmt.Sprintf(`{"timestamp": %q, "event_name": "added_to_cart", "item_id": %q, "user_id": 1, "cart_id": %q}`, ts, item, cart))
}

func checkout(offset int64, cart, ts string) port.Message {
	return msg("checkout_to_cart", offset, fmt.Sprintf(`{"timestamp": %q, "event_name": "checkout_to_cart", "user_id": 1, "cart_id": %q, "payment_method": "Card"}`, ts, cart))
}

func pageview(offset int64, hour, minute int) port.Message {
	ms := time.Date(2024, 2, 3, hour, minute, 0, 0, time.UTC).UnixMilli()
	return msg("pageviews", offset, fmt.Sprintf(`{"session_id": "s1", "user_id": 77, "source": "Homepage", "event_timestamp": %d}`, ms))
}

// Carts (UUIDs, as the spec wants them).
const (
	cartA  = "00000000-0000-4000-8000-00000000000a"
	cartA2 = "00000000-0000-4000-8000-0000000000a2"
	cartB  = "00000000-0000-4000-8000-00000000000b"
	cartE  = "00000000-0000-4000-8000-00000000000e"
	cartF  = "00000000-0000-4000-8000-00000000000f"
)

// TestLateRecordsAreLoaded: a record that arrives after its windows closed
// is loaded into its fact and table outputs like any other; it only stays
// out of the closed windows, each miss a PULSE_LATE_EVENTS row, and the
// manifest counts it as loaded, of which late. Lateness 5 minutes, topics
// in offset order, each topic's watermark its own:
//
//	social_sales   a 12:01, c 12:12 (watermark 12:07), b 12:02: late for [12:00, 12:05)
//	registration   u1 10:05, u2 11:30 (11:25), u3 10:10: late for the tumbling hour and the 4 sliding ones
//	sign_in        u1 10:00, u2 10:20 (10:15), u3 10:05: late for the 10:05 minute
//	sign_out       u1 10:30, u2 10:40 (10:35), u3 10:20: late for the 10:20 minute
//	pageviews      10:00, 10:10 (10:05), 10:01: late for its tumbling, 2 hopping and session windows
//	added_to_cart  A m0 10:00, A2 m0 10:02, B m1 10:20 (10:15), then late, each until 10:15:
//	               A m2 10:05, B m3 10:06, A2 m1 10:07; later E m0 Feb 12 09:59
//	checkout       A 10:10, B 10:30, then A2 10:12, E Feb 12 10:00, F Feb 3 11:00 (late:
//	               its week ended before Feb 12 09:55)
//
// Checkouts before 10:15 do not count the late additions (A buys m0, A2
// buys m0: A2's m1 is kept out although CART_EVENTS holds it when A2 is
// priced); B at 10:30 counts its late m3 with m1; E buys m0.
func TestLateRecordsAreLoaded(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Config{IdleTimeout: -1})
	movies := sim.Movies()[:4]
	var catalog []port.Message
	for i, m := range movies {
		catalog = append(catalog, msg("movies_catalog_enriched", int64(i), fmt.Sprintf(`{"item_id": %q, "title": %q, "genre": %q, "list_price_raw": %q, "price": %v, "currency": "USD"}`,
			m.ItemID, m.Title, m.Genre, m.ListPrice, m.Price)))
	}
	m := func(i int) string { return movies[i].ItemID }
	first := append(catalog,
		socialAt(0, "a", "Instagram", 1, 100), socialAt(1, "c", "Instagram", 12, 100), socialAt(2, "b", "Instagram", 2, 100),
		registration(0, 1, at(3, 10, 5)), registration(1, 2, at(3, 11, 30)), registration(2, 3, at(3, 10, 10)),
		sign("sign_in", 0, 1, at(3, 10, 0)), sign("sign_in", 1, 2, at(3, 10, 20)), sign("sign_in", 2, 3, at(3, 10, 5)),
		sign("sign_out", 0, 1, at(3, 10, 30)), sign("sign_out", 1, 2, at(3, 10, 40)), sign("sign_out", 2, 3, at(3, 10, 20)),
		msg("users", 0, `{"user_id": 77, "age": 30, "gender": "MALE", "country": "Brazil", "subscription": "Gold"}`),
		pageview(0, 10, 0), pageview(1, 10, 10), pageview(2, 10, 1),
		addToCart(0, cartA, m(0), at(3, 10, 0)), addToCart(1, cartA2, m(0), at(3, 10, 2)), addToCart(2, cartB, m(1), at(3, 10, 20)),
		addToCart(3, cartA, m(2), at(3, 10, 5)), addToCart(4, cartB, m(3), at(3, 10, 6)), addToCart(5, cartA2, m(1), at(3, 10, 7)),
		checkout(0, cartA, at(3, 10, 10)), checkout(1, cartB, at(3, 10, 30)),
	)
	res, err := r.p.Process(ctx, batches(first, len(first))[0])
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]port.Counts{}
	add := func(res *stream.Result) {
		for topic, tr := range res.Topics {
			c := counts[topic]
			c.Received += tr.Counts.Received
			c.Loaded += tr.Counts.Loaded
			c.Rejected += tr.Counts.Rejected
			c.Duplicate += tr.Counts.Duplicate
			c.Late += tr.Counts.Late
			counts[topic] = c
		}
	}
	add(res)
	r.now = time.Date(2024, 2, 12, 12, 0, 0, 0, time.UTC) // within a day of the next events
	res, err = r.p.Process(ctx, batches([]port.Message{
		addToCart(6, cartE, m(0), at(12, 9, 59)),
		checkout(2, cartA2, at(3, 10, 12)), checkout(3, cartE, at(12, 10, 0)), checkout(4, cartF, at(3, 11, 0)),
	}, 10)[0])
	if err != nil {
		t.Fatal(err)
	}
	add(res)
	if _, err := r.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Received = loaded + rejected + duplicate; late is part of loaded.
	for topic, want := range map[string]port.Counts{
		"social_sales":          {Received: 3, Loaded: 3, Late: 1},
		"consumer_registration": {Received: 3, Loaded: 3, Late: 1},
		"sign_in":               {Received: 3, Loaded: 3, Late: 1},
		"sign_out":              {Received: 3, Loaded: 3, Late: 1},
		"pageviews":             {Received: 3, Loaded: 3, Late: 1},
		"added_to_cart":         {Received: 7, Loaded: 7, Late: 3},
		"checkout_to_cart":      {Received: 5, Loaded: 5, Late: 1},
		"users":                 {Received: 1, Loaded: 1},
	} {
		if got := counts[topic]; got != want || !got.Balanced() {
			t.Errorf("%s: %s; want %s", topic, got, want)
		}
	}
	checkRows(t, r, "SELECT DATASET, SUM(RECEIVED), SUM(LOADED), SUM(REJECTED), SUM(DUPLICATE), SUM(LATE) FROM PULSE_MANIFESTS "+
		"WHERE DATASET IN ('social_sales', 'consumer_registration', 'added_to_cart', 'checkout_to_cart') GROUP BY DATASET ORDER BY DATASET",
		"[[added_to_cart 7 7 0 0 3] [checkout_to_cart 5 5 0 0 1] [consumer_registration 3 3 0 0 1] [social_sales 3 3 0 0 1]]")

	// Facts, dimensions and tables hold every record, late or not.
	checkRows(t, r, "SELECT RECORD_ID FROM FACT_SOCIAL_SALES ORDER BY RECORD_ID", "[[a] [b] [c]]")
	checkRows(t, r, "SELECT USER_ID, AGE, REGISTERED_AT FROM CONSUMER_USERS ORDER BY USER_ID",
		"[[1 30 2024-02-03 10:05:00 +0000 UTC] [2 30 2024-02-03 11:30:00 +0000 UTC] [3 30 2024-02-03 10:10:00 +0000 UTC]]")
	checkRows(t, r, "SELECT EVENT_NAME, COUNT(*), COUNT(DISTINCT USER_ID) FROM CONSUMER_EVENTS GROUP BY EVENT_NAME ORDER BY EVENT_NAME",
		"[[consumer_registration 3 3] [sign_in 3 3] [sign_out 3 3]]")
	checkRows(t, r, "SELECT EVENT_TIME, COUNTRY, AGE FROM PAGEVIEWS ORDER BY EVENT_TIME",
		"[[2024-02-03 10:00:00 +0000 UTC Brazil 30] [2024-02-03 10:01:00 +0000 UTC Brazil 30] [2024-02-03 10:10:00 +0000 UTC Brazil 30]]")
	checkRows(t, r, "SELECT EVENT_NAME, COUNT(*) FROM CART_EVENTS GROUP BY EVENT_NAME ORDER BY EVENT_NAME",
		"[[added_to_cart 7] [checkout_to_cart 5]]")

	// Lateness keeps them out of the windows already closed, and only those.
	checkRows(t, r, "SELECT DATASET, WINDOW_TYPE, COUNT(*) FROM PULSE_LATE_EVENTS GROUP BY DATASET, WINDOW_TYPE ORDER BY DATASET, WINDOW_TYPE",
		"[[added_to_cart checkout_join 3] [checkout_to_cart daily 1] [checkout_to_cart weekly 1] "+
			"[consumer_registration sliding 4] [consumer_registration tumbling 1] [pageviews hopping 2] [pageviews session 1] "+
			"[pageviews tumbling 1] [sign_in session_metrics 1] [sign_out session_metrics 1] [social_sales tumbling 1]]")
	checkRows(t, r, "SELECT PLATFORM, WINDOW_START, EVENTS FROM SOCIAL_PLATFORM_METRICS ORDER BY WINDOW_START",
		"[[Instagram 2024-02-03 12:00:00 +0000 UTC 1] [Instagram 2024-02-03 12:10:00 +0000 UTC 1]]")
	checkRows(t, r, "SELECT WINDOW_START, REGISTRATION_COUNT FROM USER_REGISTRATION_METRICS WHERE WINDOW_TYPE = 'tumbling' ORDER BY WINDOW_START",
		"[[2024-02-03 10:00:00 +0000 UTC 1] [2024-02-03 11:00:00 +0000 UTC 1]]")
	checkRows(t, r, "SELECT PAGEVIEWS FROM PAGEVIEW_WINDOW_METRICS WHERE WINDOW_TYPE = 'tumbling' ORDER BY WINDOW_START", "[[1] [1]]")
	checkRows(t, r, "SELECT USER_ID FROM CONSUMER_SESSIONS ORDER BY USER_ID", "[[1] [2]]")

	// The cart join: checkouts before 10:15 leave the late additions out.
	var want []string
	for _, w := range []struct {
		kind      string
		item, day int
		n         int
	}{{"daily", 0, 3, 2}, {"daily", 0, 12, 1}, {"daily", 1, 3, 1}, {"daily", 3, 3, 1},
		{"weekly", 0, 3, 2}, {"weekly", 0, 12, 1}, {"weekly", 1, 3, 1}, {"weekly", 3, 3, 1}} {
		start := time.Date(2024, 2, w.day, 0, 0, 0, 0, time.UTC)
		if w.kind == "weekly" {
			start = start.AddDate(0, 0, -(int(start.Weekday())+6)%7) // back to Monday
		}
		want = append(want, fmt.Sprintf("[%s %s %s %d %.2f]", w.kind, m(w.item), start.Format("2006-01-02"), w.n, float64(w.n)*movies[w.item].Price))
	}
	_, rows, err := r.wh.Query(ctx, "SELECT WINDOW_TYPE, MOVIE_ID, CAST(CAST(WINDOW_START AS DATE) AS VARCHAR), PURCHASES, ROUND(TOTAL_SALES, 2) "+
		"FROM MOVIE_SALES_METRICS ORDER BY WINDOW_TYPE, WINDOW_START, MOVIE_ID")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rows {
		got = append(got, fmt.Sprintf("[%s %s %s %d %.2f]", row...))
	}
	// Order as the query: by window type, start, then movie.
	if g, w := strings.Join(got, " "), strings.Join(sortedBy(want), " "); g != w {
		t.Errorf("movie sales\n got  %s\n want %s", g, w)
	}
}

// sortedBy orders the expected movie-sales rows like the query: window
// type, start, movie.
func sortedBy(rows []string) []string {
	out := append([]string(nil), rows...)
	key := func(s string) string {
		f := strings.Fields(strings.Trim(s, "[]"))
		return f[0] + " " + f[2] + " " + f[1]
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && key(out[j]) < key(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
