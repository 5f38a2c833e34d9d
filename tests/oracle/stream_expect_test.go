package oracle

// The stream oracle: what the stream-fed views must show for a produced
// simulator stream, worked out in plain Go from the produced events
// themselves (sim.Event.Record and Kind), with the documented rules
// written out again: the cleaning rules of the fields involved (seeds 001,
// 003, 004 and shared/dataset's package comment), de-duplication on each
// dataset's key, lateness against a 5-minute watermark (shared/window and
// shared/stream package comments), the windows, the sign-in/sign-out
// sessions, the cart join and the mart rules (shared/marts). Nothing here
// calls Pulse's cleaning, window, session, stream or view code.
//
// The facts follow the rule (DESIGN.md 4.2, 4.3): every valid record
// that is not a duplicate is loaded, late or not. Lateness only keeps a
// record out of the windows already closed: the metric tables are
// computed from the records that were on time for them, the views over
// facts (and the marts) from every loaded record.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pulse-analytics/pulse/events/sim"
)

// The shared rules' constants (windows.go), by their short names here.
const (
	minuteUS = MinuteUS
	dayUS    = DayUS
	lateness = Lateness
	noTime   = NoTime
)

// smsg is one produced message: its topic, its offset there (one
// partition per topic) and the simulator's event.
type smsg struct {
	topic  string
	offset int64
	ev     sim.Event
}

// Cleaned records, one type per dataset the views read.
type (
	socialRec struct {
		id, city, platform                             string
		usage, visitors, pageVisitors, conversion, sec int64
		sales                                          float64
		t                                              int64 // µs
		late                                           bool  // loaded, in no window
	}
	regRec struct {
		user int64
		age  any // int64 or nil
		lang any // string or nil
		t    int64
		late bool
	}
	signRec struct {
		user   int64
		out    bool
		t      int64
		origin string // topic/partition/offset
		late   bool   // loaded into CONSUMER_EVENTS, not into the sessions
	}
	viewRec struct {
		user int64
		item string
		t    int64
	}
	cartRec struct { // added_to_cart, checkout_to_cart
		user        int64
		cart, item  string
		t           int64
		dailyMissed bool  // checkout: too late for its daily window, counted in its weekly one
		late        bool  // checkout: late for its week, in no window; addition: behind its topic's watermark
		from        int64 // late addition: the watermark it met; the movie-sales join of checkouts before it leaves it out
	}
	pageviewRec struct {
		session, user, source string
		t                     int64
		late                  bool
	}
	movieRow struct {
		title, genre string
		price        float64
	}
	webUser struct {
		age     int64
		country string
	}
)

// streamWant is everything the oracle derives.
type streamWant struct {
	// loaded records (clean, first of their key, late or not), per dataset
	social    []socialRec
	regs      []regRec
	signs     []signRec
	views     []viewRec
	adds      []cartRec
	checkouts []cartRec
	pageviews []pageviewRec
	movies    map[string]movieRow // MOVIES: latest clean catalog row per item
	users     map[string]webUser  // CLEANED_USERS: latest clean users row per user

	regWindows   map[WKey]*WAgg // USER_REGISTRATION_METRICS
	pvWindows    map[WKey]*WAgg // PAGEVIEW_WINDOW_METRICS
	salesWindows map[WKey]*WAgg // MOVIE_SALES_METRICS
	sessionRows  []SessionRow

	reach map[string]int  // how often each rule was met (the data set must reach them)
	seen  map[string]bool // dedupe keys claimed, per topic
}

// --- cleaning ------------------------------------------------------------

// field reads a record's value as trimmed text; missing, null and blank
// values are absent.
func field(r map[string]any, k string) (string, bool) {
	switch v := r[k].(type) {
	case nil:
		return "", false
	case string:
		s := strings.TrimSpace(v)
		return s, s != ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	default:
		return fmt.Sprint(v), true
	}
}

// integer reads an integral value (an int of any width, or its text).
func integer(r map[string]any, k string) (int64, bool) {
	s, ok := field(r, k)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// number reads a numeric value.
func number(r map[string]any, k string) (float64, bool) {
	s, ok := field(r, k)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// isoMicros reads seed 003's ISO 8601 timestamps.
func isoMicros(r map[string]any, k string) (int64, bool) {
	s, ok := field(r, k)
	if !ok {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMicro(), true
}

// title capitalizes each word and lower-cases the rest; a letter after
// '-', '/', '(', '.' or '&' starts a part too; runs of spaces become one. A
// word written in capitals with two to four letters is an acronym and
// stays as written ("Q&A", "ASMR"); a longer one is title-cased.
func title(s string) string {
	var b strings.Builder
	for i, w := range strings.Fields(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		letters, lower := 0, false
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
			}
			lower = lower || unicode.IsLower(r)
		}
		if letters >= 2 && letters <= 4 && !lower {
			b.WriteString(w)
			continue
		}
		up := true
		for _, r := range w {
			if up {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			up = strings.ContainsRune("-/(.&", r)
		}
	}
	return b.String()
}

var countryFix = map[string]string{"barzil": "Brazil", "brasil": "Brazil", "usa": "United States", "us": "United States",
	"uk": "United Kingdom", "viet nam": "Vietnam", "deutschland": "Germany"}

func country(s string) string {
	if c, ok := countryFix[strings.ToLower(s)]; ok {
		return c
	}
	return title(s)
}

// isUUID: 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range strings.ToLower(s) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// consumer cleans the fields every seed 003 event has: an ISO timestamp,
// event_name equal to the topic, user_id from 1 to 1,000,000.
func consumer(m smsg) (user, t int64, ok bool) {
	r := m.ev.Record
	t, okT := isoMicros(r, "timestamp")
	name, _ := field(r, "event_name")
	user, okU := integer(r, "user_id")
	return user, t, okT && strings.EqualFold(name, m.topic) && okU && user >= 1 && user <= 1_000_000
}

// listPrice reads the dollar value of a Movies.txt ListPrice: the amount
// after '$' ("4999USD$49.99", "$ 49.99") or, without one, the number
// beside "USD" ("USD 49.99", "49.99 USD"), in cents.
func listPrice(raw string) (int64, bool) {
	s := strings.TrimSpace(raw)
	if i := strings.LastIndexByte(s, '$'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "USD", ""))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return int64(math.Round(f * 100)), true
}

var (
	socialPlatforms = map[string]string{"x": "X", "twitter": "X", "instagram": "Instagram", "ig": "Instagram", "facebook": "Facebook",
		"fb": "Facebook", "tiktok": "TikTok", "tik tok": "TikTok", "telegram": "Telegram", "youtube": "YouTube"}
	pageSources = map[string]string{"homepage": "Homepage", "inbox": "Inbox", "external": "External"}
	payments    = map[string]string{"cash": "Cash", "card": "Card"}
	languages   = map[string]string{"eng": "eng", "geo": "geo", "": ""}
	tiers       = map[string]bool{"platinum": true, "gold": true, "silver": true, "standard": true}
)

// --- the stream ------------------------------------------------------------

// computeStream derives everything from the produced messages, topic by
// topic in offset order (each topic's order is all the rules depend on).
func computeStream(msgs []smsg) *streamWant {
	w := &streamWant{movies: map[string]movieRow{}, users: map[string]webUser{}, reach: map[string]int{}, seen: map[string]bool{}}
	byTopic := map[string][]smsg{}
	for _, m := range msgs {
		if m.ev.Kind == sim.KindMalformed || m.ev.Record == nil {
			w.reach["malformed"]++
			continue // does not decode: rejected
		}
		byTopic[m.topic] = append(byTopic[m.topic], m)
	}
	w.catalog(byTopic)
	w.webUsers(byTopic)
	w.socialSales(byTopic)
	w.registrations(byTopic)
	w.signEvents(byTopic)
	w.itemViews(byTopic)
	w.cartEvents(byTopic)
	w.pageviewEvents(byTopic)
	return w
}

// first reports whether key is the first of its dataset's clean records
// (the dedupe rule); later ones are duplicates.
func (w *streamWant) first(m smsg, key string) bool {
	k := m.topic + "\x00" + key
	if w.seen[k] {
		w.reach["duplicate"]++
		return false
	}
	w.seen[k] = true
	return true
}

// catalog: MOVIES, the latest clean row per item (a table, not deduplicated).
func (w *streamWant) catalog(byTopic map[string][]smsg) {
	for _, m := range byTopic["movies_catalog_enriched"] {
		r := m.ev.Record
		id, ok := field(r, "item_id")
		raw, okRaw := field(r, "list_price_raw")
		price, okPrice := number(r, "price")
		cur, okCur := field(r, "currency")
		if !okCur {
			cur = "USD"
		}
		cents, okParse := listPrice(raw)
		switch {
		case !okRaw && okPrice:
			cents, okParse = int64(math.Round(price*100)), price >= 0
		case okRaw && okPrice && math.Abs(price*100-float64(cents)) >= 0.5:
			okParse = false // the two prices disagree
		}
		if !ok || !okParse || !strings.EqualFold(cur, "USD") {
			continue
		}
		t, okT := field(r, "title")
		if !okT {
			t = "Unknown"
		}
		g, okG := field(r, "genre")
		if g = title(g); !okG {
			g = "Unknown"
		}
		w.movies[id] = movieRow{title: t, genre: g, price: float64(cents) / 100}
	}
}

// webUsers: CLEANED_USERS, the latest row per user without a NULL.
func (w *streamWant) webUsers(byTopic map[string][]smsg) {
	for _, m := range byTopic["users"] {
		r := m.ev.Record
		id, ok1 := field(r, "user_id")
		age, ok2 := integer(r, "age")
		_, ok3 := field(r, "gender")
		c, ok4 := field(r, "country")
		sub, ok5 := field(r, "subscription")
		if ok1 && ok2 && age >= 13 && age <= 100 && ok3 && ok4 && ok5 && tiers[strings.ToLower(sub)] {
			w.users[id] = webUser{age: age, country: country(c)}
		} else {
			w.reach["users row rejected"]++
		}
	}
}

// socialSales: seed 001.
func (w *streamWant) socialSales(byTopic map[string][]smsg) {
	// seed 001: 5-minute tumbling windows per platform; only wholly late
	// events exist with a single tumbling window.
	socialEngine := NewEngine(Tumbling("tumbling", 5*minuteUS, 0))
	for _, m := range byTopic["social_sales"] {
		r := m.ev.Record
		var s socialRec
		var ok [6]bool
		s.id, ok[0] = field(r, "ID")
		p, okP := field(r, "Sosial_Media")
		s.platform, ok[1] = socialPlatforms[strings.ToLower(p)]
		ok[1] = ok[1] && okP
		city, okCity := field(r, "Kota")
		if s.city = title(city); !okCity {
			s.city = "Unknown"
		}
		s.usage, _ = integer(r, "Usage_Count")
		s.sales, _ = number(r, "Sales")
		s.visitors, ok[2] = integer(r, "Visitors")
		s.pageVisitors, _ = integer(r, "PageVisitors")
		s.conversion, _ = integer(r, "Conversion")
		s.sec, ok[3] = integer(r, "Ts")
		ok[4] = s.visitors > 0 // both rates divide by it
		ok[5] = s.usage >= 0 && s.sales >= 0 && s.pageVisitors >= 0 && s.conversion >= 0
		if ok != [6]bool{true, true, true, true, true, true} || !w.first(m, s.id) {
			continue
		}
		s.t = s.sec * 1_000_000
		if ok, _ := socialEngine.Add(s.platform, s.t, 0, ""); !ok {
			w.reach["late social_sales"]++
			s.late = true
		}
		w.social = append(w.social, s)
	}
}

// registrations: seed 003 task 5.
func (w *streamWant) registrations(byTopic map[string][]smsg) {
	// seed 003 task 5: 1 h tumbling and 1 h sliding every 15 min.
	regEngine := NewEngine(Tumbling("tumbling", 60*minuteUS, 0), Assigner{Name: "sliding", Size: 60 * minuteUS, Adv: 15 * minuteUS})
	for _, m := range byTopic["consumer_registration"] {
		r := m.ev.Record
		user, t, ok := consumer(m)
		// seed 003: preferred_language is "eng", "geo" or "" (kept as
		// given, in any case); absent or null, it is NULL.
		rr := regRec{user: user, t: t, age: nil, lang: nil}
		if age, okA := integer(r, "age"); okA {
			rr.age = age
			ok = ok && age >= 18 && age <= 95
		}
		if email, okE := field(r, "masked_email"); okE {
			at := strings.LastIndexByte(email, '@')
			ok = ok && at > 0 && strings.Contains(email[at+1:], ".")
		}
		if l, present := r["preferred_language"].(string); present {
			lang, okL := languages[strings.ToLower(strings.TrimSpace(l))]
			rr.lang = lang
			ok = ok && okL
		} else if r["preferred_language"] != nil {
			ok = false // not a string
		}
		if !ok || !w.first(m, strconv.FormatInt(user, 10)) {
			continue
		}
		if ok, _ := regEngine.Add("", t, 0, strconv.FormatInt(user, 10)); !ok {
			w.reach["late consumer_registration"]++
			rr.late = true
		}
		w.regs = append(w.regs, rr)
	}
	w.regWindows = regEngine.Windows()
	w.reach["registrations late for some windows"] = regEngine.Partially
}

// signEvents: seed 003 bonus.
func (w *streamWant) signEvents(byTopic map[string][]smsg) {
	// seed 003 bonus: a sign-in or sign-out behind its own topic's
	// watermark is late.
	for _, topic := range []string{"sign_in", "sign_out"} {
		maxT := int64(noTime)
		for _, m := range byTopic[topic] {
			user, t, ok := consumer(m)
			if !ok || !w.first(m, fmt.Sprint(user, "|", t)) {
				continue
			}
			s := signRec{user: user, out: topic == "sign_out", t: t, origin: fmt.Sprintf("%s/0/%d", topic, m.offset)}
			if maxT != noTime && t < maxT-lateness {
				w.reach["late "+topic]++
				s.late = true
			}
			maxT = max(maxT, t)
			w.signs = append(w.signs, s)
		}
	}
	var onTime []SignEvent
	for _, s := range w.signs {
		if !s.late {
			onTime = append(onTime, SignEvent{User: strconv.FormatInt(s.user, 10), Out: s.out, T: s.t, Origin: s.origin})
		}
	}
	w.sessionRows, _ = TrackSessions(onTime)
	if n := len(w.sessionRows); n > 0 {
		last := w.sessionRows[n-1] // every event applied
		if last.Repeated > 0 {
			w.reach["repeated sign-ins"] = int(last.Repeated)
		}
		if last.Orphans > 0 {
			w.reach["orphan sign-outs"] = int(last.Orphans)
		}
		w.reach["timed-out sessions"] = int(last.TimedOut)
		w.reach["completed sessions"] = int(last.Completed)
	}
}

// itemViews: seed 003 item views, never late (no window).
func (w *streamWant) itemViews(byTopic map[string][]smsg) {
	for _, m := range byTopic["item_view"] {
		user, t, ok := consumer(m)
		item, okI := field(m.ev.Record, "item_id")
		if ok && okI && w.first(m, fmt.Sprint(user, "|", item, "|", t)) {
			w.views = append(w.views, viewRec{user: user, item: item, t: t})
		}
	}
}

// cartEvents: seed 003 task 6.
func (w *streamWant) cartEvents(byTopic map[string][]smsg) {
	// seed 003 task 6: an addition behind its topic's watermark W is late:
	// checkouts of its cart before W leave it out of the sales windows; a
	// checkout is late when its weekly window ended before its topic's
	// watermark, and misses its daily window alone when only that one did.
	// Late or not, every addition and checkout is in CART_EVENTS.
	maxT := int64(noTime)
	for _, m := range byTopic["added_to_cart"] {
		user, t, ok := consumer(m)
		item, okI := field(m.ev.Record, "item_id")
		cart, okC := field(m.ev.Record, "cart_id")
		cart = strings.ToLower(cart)
		if !ok || !okI || !okC || !isUUID(cart) || !w.first(m, cart+"|"+item+"|"+fmt.Sprint(t)) {
			continue
		}
		a := cartRec{user: user, cart: cart, item: item, t: t, from: noTime}
		if maxT != noTime && t < maxT-lateness {
			w.reach["late added_to_cart"]++
			a.late, a.from = true, maxT-lateness
		}
		maxT = max(maxT, t)
		w.adds = append(w.adds, a)
	}
	daily, weekly := Tumbling("daily", dayUS, 0), Tumbling("weekly", 7*dayUS, 4*dayUS) // weeks from Monday
	maxT = noTime
	for _, m := range byTopic["checkout_to_cart"] {
		user, t, ok := consumer(m)
		cart, okC := field(m.ev.Record, "cart_id")
		cart = strings.ToLower(cart)
		pay, okP := field(m.ev.Record, "payment_method")
		_, okPay := payments[strings.ToLower(pay)]
		if !ok || !okC || !isUUID(cart) || !okP || !okPay || !w.first(m, cart) {
			continue
		}
		own := int64(noTime)
		if maxT != noTime {
			own = maxT - lateness
		}
		maxT = max(maxT, t)
		c := cartRec{user: user, cart: cart, t: t, dailyMissed: daily.Spans(t)[0][1] <= own, late: weekly.Spans(t)[0][1] <= own}
		switch {
		case c.late:
			w.reach["late checkout_to_cart"]++
		case c.dailyMissed:
			w.reach["checkouts late for their day only"]++
		}
		w.checkouts = append(w.checkouts, c)
	}
	w.salesWindows = map[WKey]*WAgg{}
	for _, p := range w.salesPurchases() {
		if !p.priced {
			w.reach["purchases without a price"]++ // rejected by the stream path, counted at 0 by the marts
			continue
		}
		as := []Assigner{weekly}
		if !p.checkout.dailyMissed {
			as = append(as, daily)
		}
		for _, a := range as {
			s := a.Spans(p.checkout.t)[0]
			k := WKey{a.Name, p.item, s[0], s[1]}
			if w.salesWindows[k] == nil {
				w.salesWindows[k] = &WAgg{}
			}
			w.salesWindows[k].Add(p.price, "")
		}
	}
}

// pageviewEvents: seed 004.
func (w *streamWant) pageviewEvents(byTopic map[string][]smsg) {
	// seed 004: 1-minute tumbling, 1 minute hopping every 30 s, and
	// sessions with a 30 s gap, per page source, in one engine.
	pvEngine := NewEngine(Tumbling("tumbling", minuteUS, 0), Assigner{Name: "hopping", Size: minuteUS, Adv: minuteUS / 2},
		Assigner{Name: "session", Gap: minuteUS / 2})
	for _, m := range byTopic["pageviews"] {
		r := m.ev.Record
		var p pageviewRec
		var ok1, ok2, ok3, ok4 bool
		p.session, ok1 = field(r, "session_id")
		p.user, ok2 = field(r, "user_id")
		src, okS := field(r, "source")
		p.source, ok3 = pageSources[strings.ToLower(src)]
		ms, ok4 := integer(r, "event_timestamp")
		if !ok1 || !ok2 || !okS || !ok3 || !ok4 || !w.first(m, p.session+"|"+p.user+"|"+p.source+"|"+fmt.Sprint(ms)) {
			continue
		}
		p.t = ms * 1000
		if ok, _ := pvEngine.Add(p.source, p.t, 0, p.user); !ok {
			w.reach["late pageviews"]++
			p.late = true
		}
		w.pageviews = append(w.pageviews, p)
	}
	w.pvWindows = pvEngine.Windows()
	w.reach["pageviews late for some windows"] = pvEngine.Partially
	w.reach["pageviews joining two sessions"] = pvEngine.Merges
	for k, g := range w.pvWindows {
		if k.Assigner == "session" && g.N > 1 {
			w.reach["pageview sessions of several views"]++
		}
	}
}

// purchase is one purchased cart item (shared/marts: a cart's first
// checkout buys its additions at or before it, at the catalog price; an
// item missing from the catalog has no price).
type purchase struct {
	checkout cartRec
	add      cartRec // the addition it buys
	item     string
	price    float64
	priced   bool
}

func (w *streamWant) purchases() []purchase {
	var out []purchase
	for _, c := range w.checkouts { // one per cart: cart_id is the checkout's key
		for _, a := range w.adds {
			if a.cart == c.cart && a.t <= c.t {
				m, ok := w.movies[a.item]
				out = append(out, purchase{checkout: c, add: a, item: a.item, price: m.price, priced: ok})
			}
		}
	}
	return out
}

// salesPurchases are the purchases MOVIE_SALES_METRICS counts: those of
// the checkouts on time for their week, without the late additions a
// checkout came before the watermark of.
func (w *streamWant) salesPurchases() []purchase {
	var out []purchase
	for _, p := range w.purchases() {
		if p.checkout.late || p.add.late && p.checkout.t < p.add.from {
			continue
		}
		out = append(out, p)
	}
	return out
}
