package e2e

// The oracle: an independent computation of what the stream path must
// leave in the warehouse for a produced stream, written from the
// documented semantics (shared/stream and shared/window package
// comments, DESIGN.md 4.2 and 4.3), not from Pulse's code. The window
// assignment, watermark, session merging and sign-in/sign-out pairing are
// tests/oracle's (the same rules its stream oracle uses); the record
// accounting, the rows of each metric table and the cart join are here. The facts follow the rule, not the windows: every valid
// record that is not a duplicate is loaded, late or not; lateness only
// keeps it out of the windows already closed.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/tests/oracle"
)

const (
	minute   = oracle.MinuteUS
	lateness = oracle.Lateness
	noT      = oracle.NoTime
)

// produced is one message as it was sent: topic, partition and offset
// (as the broker gave them; partition 0 and the topic's count before it
// when it was not produced through a client), and the event.
type produced struct {
	topic     string
	partition int32
	offset    int64
	ev        sim.Event
}

// input is the message's topic partition, "topic/partition": Kafka keeps
// the order of the messages of one partition, and no other, so each has
// its own watermark (the largest event time seen on it minus the
// lateness), and what is late on a partition depends on its order alone.
// With one partition per topic this is the topic's order, the rule of a
// one-partition stream.
func (p produced) input() string { return p.topic + "/" + strconv.Itoa(int(p.partition)) }

// oev is one event as a window engine takes it.
type oev struct {
	key      string
	t        int64
	value    float64
	distinct string
}

// add folds an event of input (a topic partition) into e.
func add(e *oracle.Engine, input string, o oev) (late bool, missed []oracle.WKey) {
	folded, missed := e.AddFrom(input, o.key, o.t, o.value, o.distinct)
	return !folded, missed
}

// --- the stream ---------------------------------------------------------

// rec is one record of the stream as the oracle sees it.
type orec struct {
	p      produced
	fields map[string]any
	status string // loaded, rejected, duplicate
	late   bool   // loaded, and missed every window it could count in
	t      int64  // event time µs
}

func (r *orec) str(k string) string {
	switch v := r.fields[k].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strconv.FormatInt(int64(v), 10)
	default:
		return fmt.Sprint(v)
	}
}

func (r *orec) num(k string) float64 {
	switch v := r.fields[k].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case int32:
		return float64(v)
	}
	panic(fmt.Sprintf("%s.%s = %T %v", r.p.topic, k, r.fields[k], r.fields[k]))
}

func isoMicros(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

// eventTime and dedupe key per topic, from the field lists of the seeds.
func (r *orec) timeAndKey() (int64, string) {
	f := r.str
	switch r.p.topic {
	case "social_sales":
		return int64(r.num("Ts")) * 1e6, f("ID")
	case "consumer_registration":
		return isoMicros(f("timestamp")), f("user_id")
	case "sign_in", "sign_out":
		t := isoMicros(f("timestamp"))
		return t, f("user_id") + "|" + strconv.FormatInt(t, 10)
	case "item_view":
		t := isoMicros(f("timestamp"))
		return t, f("user_id") + "|" + f("item_id") + "|" + strconv.FormatInt(t, 10)
	case "added_to_cart":
		t := isoMicros(f("timestamp"))
		return t, f("cart_id") + "|" + f("item_id") + "|" + strconv.FormatInt(t, 10)
	case "checkout_to_cart":
		return isoMicros(f("timestamp")), f("cart_id")
	case "pageviews":
		t := int64(r.num("event_timestamp")) * 1000
		return t, f("session_id") + "|" + f("user_id") + "|" + f("source") + "|" + strconv.FormatInt(t, 10)
	case "user_sessions":
		return int64(r.num("login_timestamp")) * 1000, f("session_id")
	case "live_streaming":
		return isoMicros(f("EventTime")), f("EventID") + "|" + f("UserID")
	case "video_interactions":
		return isoMicros(f("EventTime")), f("UserID") + "|" + f("Video_ID")
	}
	return 0, "" // tables (users, movies): no dedupe
}

// want holds the expected outcome.
type want struct {
	recs   []*orec
	counts map[string]*[5]int64 // topic -> received, loaded, rejected, duplicate, late (of the loaded)
	// metric rows, rendered as the test compares them
	tables map[string]map[string]string // table -> key -> row text
	late   map[string]int               // dataset|window type -> PULSE_LATE_EVENTS rows
	// dataset|window type -> events with PULSE_LATE_EVENTS rows (an event
	// may miss two sessions of a session window)
	lateEvents map[string]int
	sessionEnd sessionEnd
}

// sessionEnd is the sessions' state at the end of the input, for a run
// ended by an idle tick far past it instead of a flush.
type sessionEnd struct {
	last int64            // the last sign-in or sign-out time applied
	open map[string]int64 // user -> start of the sessions still open at last
	// tail is the SESSION_METRICS row (as rendered) of a minute after
	// every open session has timed out.
	tail string
}

func (o *want) put(table, key, row string) {
	if o.tables[table] == nil {
		o.tables[table] = map[string]string{}
	}
	o.tables[table][key] = row
}

func micro(t int64) string { return time.UnixMicro(t).UTC().Format(time.RFC3339Nano) }

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// buildOracle computes everything from the produced messages. joined says,
// for a loaded page view (by its dedupe key), whether the users table had
// the user when it was processed (the only input that depends on how the
// topics interleave; the test reads it from PAGEVIEWS and checks it).
func buildOracle(msgs []produced, joined func(key string) (country string, age int64, ok bool)) *want {
	o := &want{counts: map[string]*[5]int64{}, tables: map[string]map[string]string{}, late: map[string]int{}, lateEvents: map[string]int{}}
	byTopic := map[string][]*orec{}
	seen := map[string]bool{}
	for _, m := range msgs {
		r := &orec{p: m, fields: map[string]any{}}
		o.recs = append(o.recs, r)
		c := o.counts[m.topic]
		if c == nil {
			c = &[5]int64{}
			o.counts[m.topic] = c
		}
		c[0]++
		if m.ev.Kind == sim.KindMalformed {
			r.status = "rejected"
			continue
		}
		for k, v := range m.ev.Record {
			r.fields[k] = v
		}
		r.t, _ = r.timeAndKey()
		if m.topic == "users" {
			for _, k := range []string{"age", "gender", "country"} {
				if r.fields[k] == nil {
					r.status = "rejected"
				}
			}
			if r.status == "" {
				r.status = "loaded"
			}
			continue
		}
		if _, key := r.timeAndKey(); key != "" {
			if seen[m.topic+"#"+key] {
				r.status = "duplicate"
				continue
			}
			seen[m.topic+"#"+key] = true
		}
		byTopic[m.topic] = append(byTopic[m.topic], r)
	}
	o.registrations(byTopic["consumer_registration"])
	o.social(byTopic["social_sales"])
	o.pageviews(byTopic["pageviews"], joined)
	o.sessions(byTopic["sign_in"], byTopic["sign_out"])
	o.movieSales(byTopic["checkout_to_cart"], byTopic["added_to_cart"])
	for k, n := range o.late {
		if _, ok := o.lateEvents[k]; !ok {
			o.lateEvents[k] = n // one window of the type per event
		}
	}
	for _, r := range o.recs {
		if r.status == "" {
			r.status = "loaded"
		}
		c := o.counts[r.p.topic]
		switch r.status {
		case "loaded":
			c[1]++
			if r.late {
				c[4]++
			}
		case "rejected":
			c[2]++
		case "duplicate":
			c[3]++
		}
	}
	return o
}

// engineRun feeds records through an engine oracle, marking wholly late
// ones (when mark) and counting their missed windows as late rows.
func (o *want) engineRun(dataset string, e *oracle.Engine, recs []*orec, ev func(*orec) oev, mark bool) {
	for _, r := range recs {
		if r.late {
			continue
		}
		late, missed := add(e, r.p.input(), ev(r))
		if !mark {
			continue // a secondary engine: same events, same decisions, no rows of its own
		}
		r.late = late
		by := map[string]bool{}
		for _, m := range missed {
			o.late[dataset+"|"+m.Assigner]++
			by[m.Assigner] = true
		}
		for a := range by {
			o.lateEvents[dataset+"|"+a]++
		}
	}
}

func (o *want) registrations(recs []*orec) {
	e := oracle.NewEngine(oracle.Tumbling("tumbling", 60*minute, 0),
		oracle.Assigner{Name: "sliding", Size: 60 * minute, Adv: 15 * minute})
	o.engineRun("consumer_registration", e, recs, func(r *orec) oev { return oev{t: r.t, distinct: r.str("user_id")} }, true)
	for k, g := range e.Windows() {
		o.put("USER_REGISTRATION_METRICS", k.Assigner+" "+micro(k.Start), fmt.Sprintf("%s %d", micro(k.End), len(g.Distinct)))
	}
}

func (o *want) social(recs []*orec) {
	type m struct {
		name string
		val  func(*orec) float64
	}
	rate := func(num string) func(*orec) float64 {
		return func(r *orec) float64 { return r.num(num) / r.num("Visitors") * 100 }
	}
	measures := []m{{"visitors", func(r *orec) float64 { return r.num("Visitors") }}, {"pv", func(r *orec) float64 { return r.num("PageVisitors") }},
		{"sales", func(r *orec) float64 { return r.num("Sales") }}, {"usage", func(r *orec) float64 { return r.num("Usage_Count") }},
		{"conv", rate("Conversion")}, {"bounce", rate("PageVisitors")}}
	five := oracle.Tumbling("tumbling", 5*minute, 0)
	plat := map[string]*oracle.Engine{}
	for _, ms := range measures {
		plat[ms.name] = oracle.NewEngine(five)
		o.engineRun("social_sales", plat[ms.name], recs, func(r *orec) oev { return oev{key: r.str("Sosial_Media"), t: r.t, value: ms.val(r)} }, ms.name == "visitors")
	}
	cities := map[string]*oracle.Engine{}
	for _, name := range []string{"usage", "sales", "visitors"} {
		cities[name] = oracle.NewEngine(five)
		var val func(*orec) float64
		for _, ms := range measures {
			if ms.name == name {
				val = ms.val
			}
		}
		o.engineRun("", cities[name], recs, func(r *orec) oev { return oev{key: r.str("Sosial_Media") + "|" + r.str("Kota"), t: r.t, value: val(r)} }, false)
	}
	type top struct {
		city string
		val  float64
	}
	topUsers, topSales := map[string]top{}, map[string]top{}
	for k, g := range cities["usage"].Windows() {
		platform, city, _ := strings.Cut(k.Key, "|")
		id := platform + " " + micro(k.Start)
		sales := cities["sales"].Windows()[k]
		if t, ok := topUsers[id]; !ok || g.Sum > t.val || g.Sum == t.val && city < t.city {
			topUsers[id] = top{city, g.Sum}
		}
		if t, ok := topSales[id]; !ok || sales.Sum > t.val || sales.Sum == t.val && city < t.city {
			topSales[id] = top{city, sales.Sum}
		}
		o.put("SOCIAL_CITY_METRICS", k.Key+" "+micro(k.Start), fmt.Sprintf("%d %d %s %d", g.N, int64(g.Sum), fnum(sales.Sum), int64(cities["visitors"].Windows()[k].Sum)))
	}
	all := map[string]map[oracle.WKey]*oracle.WAgg{}
	for name, e := range plat {
		all[name] = e.Windows()
	}
	for k, g := range all["visitors"] {
		id := k.Key + " " + micro(k.Start)
		o.put("SOCIAL_PLATFORM_METRICS", id, fmt.Sprintf("%d %d %d %s %d %s %s %s %d %s %s", g.N, int64(g.Sum), int64(all["pv"][k].Sum),
			fnum(all["sales"][k].Sum), int64(all["usage"][k].Sum), fnum(all["conv"][k].Sum/float64(g.N)), fnum(all["bounce"][k].Sum/float64(g.N)),
			topUsers[id].city, int64(topUsers[id].val), topSales[id].city, fnum(topSales[id].val)))
	}
}

func (o *want) pageviews(recs []*orec, joined func(string) (string, int64, bool)) {
	e := oracle.NewEngine(oracle.Tumbling("tumbling", minute, 0), oracle.Assigner{Name: "hopping", Size: minute, Adv: minute / 2},
		oracle.Assigner{Name: "session", Gap: minute / 2})
	o.engineRun("pageviews", e, recs, func(r *orec) oev { return oev{key: r.str("source"), t: r.t, distinct: r.str("user_id")} }, true)
	for k, g := range e.Windows() {
		o.put("PAGEVIEW_WINDOW_METRICS", k.Assigner+" "+k.Key+" "+micro(k.Start), fmt.Sprintf("%s %d %d", micro(k.End), g.N, len(g.Distinct)))
	}
	c := oracle.NewEngine(oracle.Tumbling("country_tumbling", minute, 0))
	for _, r := range recs {
		if r.late {
			continue
		}
		_, key := r.timeAndKey()
		country, age, ok := joined(key)
		if !ok {
			continue
		}
		_, missed := add(c, r.p.input(), oev{key: country, t: r.t, value: float64(age), distinct: r.str("user_id")})
		for _, m := range missed {
			o.late["pageviews|"+m.Assigner]++
		}
	}
	for k, g := range c.Windows() {
		o.put("PAGEVIEW_COUNTRY_METRICS", k.Key+" "+micro(k.Start), fmt.Sprintf("%d %d %s", g.N, len(g.Distinct), fnum(g.Sum/float64(g.N))))
	}
}

// sessions pairs sign-ins and sign-outs (the seed 003 bonus rules of
// shared/session: timeout 30 min, a sign-out at or after the timeout or
// without a sign-in is an orphan, a second sign-in is ignored) over the
// events that are not late on their own topic partition, in event-time
// order.
func (o *want) sessions(ins, outs []*orec) {
	var evs []oracle.SignEvent
	maxT := map[string]int64{} // per topic partition
	for _, list := range [][]*orec{ins, outs} {
		for _, r := range list {
			m, ok := maxT[r.p.input()]
			if ok && r.t < m-lateness {
				r.late = true
				o.late[r.p.topic+"|session_metrics"]++
				continue
			}
			if !ok || r.t > m {
				maxT[r.p.input()] = r.t
			}
			evs = append(evs, oracle.SignEvent{User: r.str("user_id"), Out: r.p.topic == "sign_out", T: r.t, Origin: fmt.Sprintf("%s/%d", r.p.input(), r.p.offset)})
		}
	}
	rows, sessions, open := oracle.TrackSessionsOpen(evs)
	for _, s := range sessions {
		o.put("CONSUMER_SESSIONS", s.User+"|"+micro(s.Start), fmt.Sprintf("%s %s %v", micro(s.End), fnum(float64(s.End-s.Start)/1e6), s.TimedOut))
	}
	for _, m := range rows {
		// The means in whole nanoseconds, as the session tracker takes them.
		avgAge, avgDur := 0.0, 0.0
		if m.Active > 0 {
			avgAge = time.Duration(m.AgeSum * 1000 / m.Active).Seconds()
		}
		if m.Completed > 0 {
			avgDur = time.Duration(m.DurationSum * 1000 / m.Completed).Seconds()
		}
		o.put("SESSION_METRICS", micro(m.At), fmt.Sprintf("%d %s %s %d %d %d", m.Active, fnum(avgDur), fnum(avgAge), m.Completed, m.TimedOut, m.Orphans))
	}
	if len(rows) > 0 {
		last := rows[len(rows)-1]
		avgDur := 0.0
		if last.Completed > 0 {
			avgDur = time.Duration(last.DurationSum * 1000 / last.Completed).Seconds()
		}
		o.sessionEnd = sessionEnd{last: last.At, open: open,
			tail: fmt.Sprintf("0 %s %s %d %d %d", fnum(avgDur), fnum(0), last.Completed, last.TimedOut+int64(len(open)), last.Orphans)}
	}
}

// movieSales: checkouts late for a window when the window ended before
// their partition's watermark; additions late when behind their own
// partition's watermark W; a cart's movies are its additions up to the
// checkout's time, a late one only for checkouts at or after its W,
// priced from the catalog.
func (o *want) movieSales(checkouts, adds []*orec) {
	prices := map[string]float64{}
	for _, m := range sim.Movies() {
		prices[m.ItemID] = m.Price
	}
	type item struct {
		id   string
		t    int64
		from int64 // checkouts before this do not count it (a late addition's watermark)
	}
	carts := map[string][]item{}
	maxT := map[string]int64{} // per topic partition
	for _, r := range adds {
		it := item{r.str("item_id"), r.t, noT}
		m, ok := maxT[r.p.input()]
		if ok && r.t < m-lateness {
			r.late = true
			o.late["added_to_cart|checkout_join"]++
			it.from = m - lateness
		}
		if !ok || r.t > m {
			maxT[r.p.input()] = r.t
		}
		carts[r.str("cart_id")] = append(carts[r.str("cart_id")], it)
	}
	day := 24 * 60 * minute
	daily := oracle.Tumbling("daily", day, 0)
	weekly := oracle.Tumbling("weekly", 7*day, 4*day)
	wins := map[oracle.WKey]*oracle.WAgg{}
	maxT = map[string]int64{}
	for _, r := range checkouts {
		own := noT
		m, ok := maxT[r.p.input()]
		if ok {
			own = m - lateness
		}
		if !ok || r.t > m {
			maxT[r.p.input()] = r.t
		}
		d, w := daily.Spans(r.t)[0], weekly.Spans(r.t)[0]
		if w[1] <= own {
			r.late = true
			o.late["checkout_to_cart|daily"]++
			o.late["checkout_to_cart|weekly"]++
			continue
		}
		as := []oracle.Assigner{weekly}
		if d[1] <= own {
			o.late["checkout_to_cart|daily"]++
		} else {
			as = append(as, daily)
		}
		for _, it := range carts[r.str("cart_id")] {
			if it.t > r.t || r.t < it.from {
				continue
			}
			for _, a := range as {
				s := a.Spans(r.t)[0]
				k := oracle.WKey{Assigner: a.Name, Key: it.id, Start: s[0], End: s[1]}
				if wins[k] == nil {
					wins[k] = &oracle.WAgg{}
				}
				wins[k].Add(prices[it.id], "")
			}
		}
	}
	for k, g := range wins {
		o.put("MOVIE_SALES_METRICS", k.Assigner+" "+k.Key+" "+micro(k.Start), fmt.Sprintf("%s %s %d", micro(k.End), fnum(g.Sum), g.N))
	}
}
