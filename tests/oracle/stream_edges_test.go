package oracle

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
)

// Hand-written messages that reach the cleaning and join rules the
// simulator's records never do (it writes canonical values): variant
// spellings to standardize, blank and NULL fields to default, values to
// reject, an addition at the very instant of its checkout and one after
// it, an item missing from the catalog, a second checkout of a cart, a
// catalog row replaced and one that contradicts itself, users rows
// replaced and rejected, an orphan sign-out and a repeated sign-in. They
// are JSON (the decoder takes JSON on every topic), sent after a run's
// own messages with event times just after its last one, so none is late.

type edgeRec struct {
	topic string
	rec   map[string]any
}

// signEdges follow the first run (the only one with sign events).
func signEdges(base time.Time) []edgeRec {
	iso := func(sec int) string {
		return base.Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05.000Z")
	}
	sign := func(topic string, sec, user int, name string) edgeRec {
		return edgeRec{topic, map[string]any{"timestamp": iso(sec), "event_name": name, "user_id": user}}
	}
	return []edgeRec{
		sign("sign_out", 1, 999001, "sign_out"), // no sign-in: an orphan
		sign("sign_in", 2, 999002, "sign_in"),
		sign("sign_in", 3, 999002, "sign_in"), // repeated: the session keeps its start
		sign("sign_in", 4, 999003, "Sign_In"), // any case; never signs out
		sign("sign_in", 5, 0, "sign_in"),      // user_id out of range: rejected
		sign("sign_out", 65, 999002, "SIGN_OUT"),
	}
}

// shopEdges follow the second run.
func shopEdges(base time.Time) []edgeRec {
	iso := func(sec int) string {
		return base.Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05.000Z")
	}
	unix := func(sec int) int64 { return base.Add(time.Duration(sec) * time.Second).Unix() }
	milli := func(sec int) int64 { return base.Add(time.Duration(sec) * time.Second).UnixMilli() }
	movies := sim.Movies()
	social := func(id string, sec int, kota, platform any, usage, sales, visitors any) edgeRec {
		return edgeRec{"social_sales", map[string]any{"ID": id, "Kota": kota, "Sosial_Media": platform, "Usage_Count": usage,
			"Sales": sales, "Visitors": visitors, "PageVisitors": 3, "Conversion": 2, "Ts": unix(sec)}}
	}
	reg := func(sec, user int, age any, lang, name string) edgeRec {
		return edgeRec{"consumer_registration", map[string]any{"timestamp": iso(sec), "event_name": name, "user_id": user, "age": age,
			"masked_email": "ana@Example.org", "preferred_language": lang}}
	}
	const cart = "ABCDEF12-3456-4789-ABCD-0123456789AB" // upper case: cleaned to lower
	add := func(sec int, item string) edgeRec {
		return edgeRec{"added_to_cart", map[string]any{"timestamp": iso(sec), "event_name": "added_to_cart", "item_id": item,
			"user_id": 999101, "cart_id": cart}}
	}
	checkout := func(sec int, pay string) edgeRec {
		return edgeRec{"checkout_to_cart", map[string]any{"timestamp": iso(sec), "event_name": "checkout_to_cart", "user_id": 999101,
			"cart_id": cart, "payment_method": pay}}
	}
	user := func(id, age any, gender, country any) edgeRec {
		return edgeRec{"users", map[string]any{"user_id": id, "age": age, "gender": gender, "country": country, "subscription": "gold"}}
	}
	view := func(sec int, session string, user int, source string) edgeRec {
		return edgeRec{"pageviews", map[string]any{"session_id": session, "user_id": user, "source": source, "event_timestamp": milli(sec)}}
	}
	movie := func(id, title, genre, raw string, price float64) edgeRec {
		return edgeRec{"movies_catalog_enriched", map[string]any{"item_id": id, "title": title, "genre": genre, "list_price_raw": raw,
			"price": price, "currency": "usd"}}
	}
	return []edgeRec{
		social("edge-s1", 1, "  bekasi ", "twitter", 5, 7, 10),
		social("edge-s2", 2, "JAKARTA", "tik tok", 9, nil, 40), // no Sales: 0
		social("edge-s3", 3, nil, "Instagram", 4, 2, 20),       // no Kota: Unknown
		social("edge-s7", 3, " south   JAKARTA", "ig", 4, 2, 20),
		social("edge-s4", 4, "Bogor", "X", 4, 2, 0),         // Visitors 0: rejected
		social("edge-s5", 5, "Bogor", "MySpace", 4, 2, 50),  // unknown platform: rejected
		social("edge-s6", 6, "Bogor", "X", -1, 2, 50),       // negative usage: rejected
		reg(7, 999101, nil, "ENG", "consumer_registration"), // no age: NULL; language in any case
		reg(8, 999102, 17, "geo", "consumer_registration"),  // too young: rejected
		reg(9, 999103, 30, "eng", "sign_in"),                // wrong event_name: rejected
		reg(10, 999104, 30, "fr", "consumer_registration"),  // language not eng/geo: rejected
		reg(10, 999105, 31, "", "consumer_registration"),    // no preference: "" is one of seed 003's values, kept
		{"consumer_registration", map[string]any{"timestamp": iso(10), "event_name": "consumer_registration", "user_id": 999106, "age": 32,
			"masked_email": "****@example.org"}}, // no preferred_language at all: NULL
		{"item_view", map[string]any{"timestamp": iso(11), "event_name": "item_view", "item_id": " " + movies[0].ItemID + " ", "user_id": 999101}},
		// The same instant's day differs in UTC and in the offset's zone: the day is UTC's.
		{"item_view", map[string]any{"timestamp": base.Add(14 * time.Second).In(time.FixedZone("", -11*3600)).Format(time.RFC3339),
			"event_name": "item_view", "item_id": movies[3].ItemID, "user_id": "999101"}},
		add(12, movies[0].ItemID),
		add(13, "B999999999"), // not in the catalog: bought at no price
		add(20, movies[1].ItemID),
		checkout(20, "card"), // buys the three additions up to and including its instant
		add(30, movies[2].ItemID),
		checkout(40, "Cash"), // the same cart again: a duplicate
		user(999202, 30, "m", "usa"),
		user(999203, 12, "F", "India"),               // too young: rejected
		view(41, "edge-session", 999201, "homepage"), // no users row: left out of the country view
		view(42, "edge-session", 999202, "INBOX"),
		view(43, "edge-session", 999203, "Facebook"), // not a page source: rejected
		view(44, "edge-session", 999203, "External"),
		user(999202, 30, "male", "barzil"), // the latest row wins: Brazil
		movie(movies[0].ItemID, "The General (1926)", "comedy", movies[0].ListPrice, movies[0].Price), // replaces the title
		movie(movies[1].ItemID, "Metropolis", "Sci-Fi", "$9.99", 19.99),                               // prices disagree: rejected
		movie("B999000001", "Edge Movie", "sci-fi", " 1250USD$12.50 ", 12.5),
	}
}

// edgeMessages encodes edge records as produced events.
func edgeMessages(recs []edgeRec) ([]sim.Event, error) {
	out := make([]sim.Event, len(recs))
	for i, r := range recs {
		v, err := json.Marshal(r.rec)
		if err != nil {
			return nil, fmt.Errorf("encoding edge record %d: %w", i, err)
		}
		out[i] = sim.Event{Topic: r.topic, Value: v, Record: r.rec, Kind: sim.KindNormal}
	}
	return out, nil
}

// checkEdges makes sure the edge records landed where they were meant
// to, so that the views' comparison covers them.
func checkEdges(t *testing.T, w *streamWant) {
	t.Helper()
	social := map[string]socialRec{}
	for _, s := range w.social {
		social[s.id] = s
	}
	regs := map[int64]regRec{}
	for _, r := range w.regs {
		regs[r.user] = r
	}
	var bought, unpriced int
	for _, p := range w.purchases() {
		if p.checkout.user == 999101 {
			bought++
			if !p.priced {
				unpriced++
			}
		}
	}
	movies := sim.Movies()
	signs := 0
	for _, s := range w.signs {
		if s.user >= 999001 && s.user <= 999003 {
			signs++
		}
	}
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"edge-s1 is X in Bekasi", social["edge-s1"].platform == "X" && social["edge-s1"].city == "Bekasi"},
		{"edge-s2 is TikTok in Jakarta with no sales", social["edge-s2"].platform == "TikTok" && social["edge-s2"].city == "Jakarta" &&
			social["edge-s2"].sales == 0 && social["edge-s2"].t != 0},
		{"edge-s3 is in Unknown", social["edge-s3"].city == "Unknown"},
		{"edge-s7 is Instagram in South Jakarta", social["edge-s7"].city == "South Jakarta" && social["edge-s7"].platform == "Instagram"},
		{"edge-s4..6 are rejected", social["edge-s4"].id == "" && social["edge-s5"].id == "" && social["edge-s6"].id == ""},
		{"999101 registered with no age and eng", regs[999101].user != 0 && regs[999101].age == nil && regs[999101].lang == "eng"},
		{"999102..4 are rejected", regs[999102].user == 0 && regs[999103].user == 0 && regs[999104].user == 0},
		{"999105 has language \"\", 999106 none", regs[999105].user != 0 && regs[999105].lang == "" && regs[999106].user != 0 && regs[999106].lang == nil},
		{"the edge cart bought 3 items, 1 without a price", bought == 3 && unpriced == 1},
		{"999202 lives in Brazil, 999203 is rejected", w.users["999202"].country == "Brazil" && w.users["999203"].country == ""},
		{"the catalog edges", w.movies[movies[0].ItemID].title == "The General (1926)" && w.movies[movies[1].ItemID].price == movies[1].Price &&
			w.movies["B999000001"].genre == "Sci-Fi" && w.movies["B999000001"].price == 12.5},
		{"the sign edges", signs == 5},
	} {
		if !c.ok {
			t.Errorf("edge records: %s does not hold in the oracle", c.what)
		}
	}
}
