package e2e

// The oracle: an independent computation of what the stream path must
// leave in the warehouse for a produced stream, written from the
// documented semantics (shared/stream and shared/window package
// comments, DESIGN.md 4.2 and 4.3), not from Pulse's code: its own window
// assignment, watermark, session merging, sign-in/sign-out pairing and
// cart join. The facts follow the rule, not the windows: every valid
// record that is not a duplicate is loaded, late or not; lateness only
// keeps it out of the windows already closed.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/events/sim"
)

const (
	us       = int64(time.Microsecond)
	minute   = int64(time.Minute / time.Microsecond)
	lateness = 5 * minute
	noT      = int64(-1 << 63)
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

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// --- window engine oracle ---------------------------------------------

type assign struct {
	name           string
	size, adv, off int64 // µs; tumbling: adv = size
	gap            int64 // µs; session
}

func (a assign) spans(t int64) [][2]int64 {
	if a.gap > 0 {
		return [][2]int64{{t, t + a.gap}}
	}
	var out [][2]int64
	for s := floorDiv(t-a.off, a.adv)*a.adv + a.off; s > t-a.size; s -= a.adv {
		out = append([][2]int64{{s, s + a.size}}, out...)
	}
	return out
}

type agg struct {
	n     int64
	sum   float64
	users map[string]bool
}

func (g *agg) add(o oev) {
	g.n++
	g.sum += o.value
	if g.users == nil {
		g.users = map[string]bool{}
	}
	g.users[o.distinct] = true
}

type owin struct {
	start, end int64
	agg
}

type oev struct {
	key      string
	t        int64
	value    float64
	distinct string
}

// wkey is one window of one key of one assigner.
type wkey struct {
	assigner, key string
	start, end    int64
}

type engineOracle struct {
	as     []assign
	wm     int64            // the watermark of the input of the event being added
	maxT   map[string]int64 // per input (topic partition): largest event time
	wins   map[wkey]*agg
	sess   map[string][]*owin // assigner|key -> sessions
	missed map[wkey]int       // windows missed (by assigner/window), counted per event
}

func newEngineOracle(as ...assign) *engineOracle {
	return &engineOracle{as: as, wm: noT, maxT: map[string]int64{}, wins: map[wkey]*agg{}, sess: map[string][]*owin{}, missed: map[wkey]int{}}
}

// add folds one event of input and reports whether it was wholly late,
// and the windows it missed: those that end at or before the watermark of
// the event's own input.
func (e *engineOracle) add(input string, o oev) (late bool, missed []wkey) {
	e.wm = noT
	if m, ok := e.maxT[input]; ok {
		e.wm = m - lateness
	}
	folded := false
	for _, a := range e.as {
		if a.gap == 0 {
			for _, s := range a.spans(o.t) {
				k := wkey{a.name, o.key, s[0], s[1]}
				if s[1] <= e.wm {
					missed = append(missed, k)
					continue
				}
				g := e.wins[k]
				if g == nil {
					g = &agg{}
					e.wins[k] = g
				}
				g.add(o)
				folded = true
			}
			continue
		}
		sk := a.name + "|" + o.key
		ns, ne := o.t, o.t+a.gap
		var hits []*owin
		closedHit := false
		for _, w := range e.sess[sk] {
			if w.start < ne && ns < w.end {
				if w.end <= e.wm {
					if w.end+a.gap+lateness <= e.wm {
						continue // a closed session is remembered gap + lateness past its end
					}
					closedHit = true
					missed = append(missed, wkey{a.name, o.key, w.start, w.end})
				} else {
					hits = append(hits, w)
				}
			}
		}
		switch {
		case closedHit:
		case len(hits) == 0 && ne <= e.wm:
			missed = append(missed, wkey{a.name, o.key, ns, ne})
		case len(hits) == 0:
			w := &owin{start: ns, end: ne}
			w.add(o)
			e.sess[sk] = append(e.sess[sk], w)
			folded = true
		default:
			t := hits[0]
			for _, h := range hits[1:] {
				t.n += h.n
				t.sum += h.sum
				for u := range h.users {
					t.users[u] = true
				}
				t.start, t.end = min(t.start, h.start), max(t.end, h.end)
			}
			t.start, t.end = min(t.start, ns), max(t.end, ne)
			t.add(o)
			keep := e.sess[sk][:0]
			for _, w := range e.sess[sk] {
				dead := false
				for _, h := range hits[1:] {
					dead = dead || w == h
				}
				if !dead {
					keep = append(keep, w)
				}
			}
			e.sess[sk] = keep
			folded = true
		}
	}
	if m, ok := e.maxT[input]; !ok || o.t > m {
		e.maxT[input] = o.t
	}
	for _, m := range missed {
		e.missed[m]++
	}
	return !folded, missed
}

// windows returns every window with its aggregate (sessions included).
func (e *engineOracle) windows() map[wkey]*agg {
	out := map[wkey]*agg{}
	for k, g := range e.wins {
		out[k] = g
	}
	for sk, ws := range e.sess {
		name, key, _ := strings.Cut(sk, "|")
		for _, w := range ws {
			g := w.agg
			out[wkey{name, key, w.start, w.end}] = &g
		}
	}
	return out
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

// oracle holds the expected outcome.
type oracle struct {
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

func (o *oracle) put(table, key, row string) {
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
func buildOracle(msgs []produced, joined func(key string) (country string, age int64, ok bool)) *oracle {
	o := &oracle{counts: map[string]*[5]int64{}, tables: map[string]map[string]string{}, late: map[string]int{}, lateEvents: map[string]int{}}
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
func (o *oracle) engineRun(dataset string, e *engineOracle, recs []*orec, ev func(*orec) oev, mark bool) {
	for _, r := range recs {
		if r.late {
			continue
		}
		late, missed := e.add(r.p.input(), ev(r))
		if !mark {
			continue // a secondary engine: same events, same decisions, no rows of its own
		}
		r.late = late
		by := map[string]bool{}
		for _, m := range missed {
			o.late[dataset+"|"+m.assigner]++
			by[m.assigner] = true
		}
		for a := range by {
			o.lateEvents[dataset+"|"+a]++
		}
	}
}

func (o *oracle) registrations(recs []*orec) {
	e := newEngineOracle(assign{name: "tumbling", size: 60 * minute, adv: 60 * minute},
		assign{name: "sliding", size: 60 * minute, adv: 15 * minute})
	o.engineRun("consumer_registration", e, recs, func(r *orec) oev { return oev{t: r.t, distinct: r.str("user_id")} }, true)
	for k, g := range e.windows() {
		o.put("USER_REGISTRATION_METRICS", k.assigner+" "+micro(k.start), fmt.Sprintf("%s %d", micro(k.end), len(g.users)))
	}
}

func (o *oracle) social(recs []*orec) {
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
	five := assign{name: "tumbling", size: 5 * minute, adv: 5 * minute}
	plat := map[string]*engineOracle{}
	for _, ms := range measures {
		plat[ms.name] = newEngineOracle(five)
		o.engineRun("social_sales", plat[ms.name], recs, func(r *orec) oev { return oev{key: r.str("Sosial_Media"), t: r.t, value: ms.val(r)} }, ms.name == "visitors")
	}
	cities := map[string]*engineOracle{}
	for _, name := range []string{"usage", "sales", "visitors"} {
		cities[name] = newEngineOracle(five)
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
	for k, g := range cities["usage"].windows() {
		platform, city, _ := strings.Cut(k.key, "|")
		id := platform + " " + micro(k.start)
		sales := cities["sales"].windows()[k]
		if t, ok := topUsers[id]; !ok || g.sum > t.val || g.sum == t.val && city < t.city {
			topUsers[id] = top{city, g.sum}
		}
		if t, ok := topSales[id]; !ok || sales.sum > t.val || sales.sum == t.val && city < t.city {
			topSales[id] = top{city, sales.sum}
		}
		o.put("SOCIAL_CITY_METRICS", k.key+" "+micro(k.start), fmt.Sprintf("%d %d %s %d", g.n, int64(g.sum), fnum(sales.sum), int64(cities["visitors"].windows()[k].sum)))
	}
	all := map[string]map[wkey]*agg{}
	for name, e := range plat {
		all[name] = e.windows()
	}
	for k, g := range all["visitors"] {
		id := k.key + " " + micro(k.start)
		o.put("SOCIAL_PLATFORM_METRICS", id, fmt.Sprintf("%d %d %d %s %d %s %s %s %d %s %s", g.n, int64(g.sum), int64(all["pv"][k].sum),
			fnum(all["sales"][k].sum), int64(all["usage"][k].sum), fnum(all["conv"][k].sum/float64(g.n)), fnum(all["bounce"][k].sum/float64(g.n)),
			topUsers[id].city, int64(topUsers[id].val), topSales[id].city, fnum(topSales[id].val)))
	}
}

func (o *oracle) pageviews(recs []*orec, joined func(string) (string, int64, bool)) {
	e := newEngineOracle(assign{name: "tumbling", size: minute, adv: minute}, assign{name: "hopping", size: minute, adv: minute / 2},
		assign{name: "session", gap: minute / 2})
	o.engineRun("pageviews", e, recs, func(r *orec) oev { return oev{key: r.str("source"), t: r.t, distinct: r.str("user_id")} }, true)
	for k, g := range e.windows() {
		o.put("PAGEVIEW_WINDOW_METRICS", k.assigner+" "+k.key+" "+micro(k.start), fmt.Sprintf("%s %d %d", micro(k.end), g.n, len(g.users)))
	}
	c := newEngineOracle(assign{name: "country_tumbling", size: minute, adv: minute})
	for _, r := range recs {
		if r.late {
			continue
		}
		_, key := r.timeAndKey()
		country, age, ok := joined(key)
		if !ok {
			continue
		}
		_, missed := c.add(r.p.input(), oev{key: country, t: r.t, value: float64(age), distinct: r.str("user_id")})
		for _, m := range missed {
			o.late["pageviews|"+m.assigner]++
		}
	}
	for k, g := range c.windows() {
		o.put("PAGEVIEW_COUNTRY_METRICS", k.key+" "+micro(k.start), fmt.Sprintf("%d %d %s", g.n, len(g.users), fnum(g.sum/float64(g.n))))
	}
}

// sessions pairs sign-ins and sign-outs (the seed 003 bonus rules of
// shared/session: timeout 30 min, a sign-out at or after the timeout or
// without a sign-in is an orphan, a second sign-in is ignored) over the
// events that are not late on their own topic, in event-time order.
func (o *oracle) sessions(ins, outs []*orec) {
	type sev struct {
		t      int64
		out    bool
		user   string
		origin string
	}
	var evs []sev
	maxT := map[string]int64{} // per topic partition
	for _, list := range [][]*orec{ins, outs} {
		for _, r := range list {
			if m, ok := maxT[r.p.input()]; ok && r.t < m-lateness {
				r.late = true
				o.late[r.p.topic+"|session_metrics"]++
				continue
			}
			if m, ok := maxT[r.p.input()]; !ok || r.t > m {
				maxT[r.p.input()] = r.t
			}
			evs = append(evs, sev{r.t, r.p.topic == "sign_out", r.str("user_id"), fmt.Sprintf("%s/%d", r.p.input(), r.p.offset)})
		}
	}
	if len(evs) == 0 {
		return
	}
	sort.Slice(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if a.t != b.t {
			return a.t < b.t
		}
		if a.out != b.out {
			return a.out
		}
		return a.origin < b.origin
	})
	const timeout = 30 * minute
	active := map[string]int64{}
	var ended, timedOut, orphans, endedNanos int64
	session := func(user string, start, end int64, to bool) {
		o.put("CONSUMER_SESSIONS", user+"|"+time.UnixMicro(start).UTC().Format(time.RFC3339Nano),
			fmt.Sprintf("%s %s %v", micro(end), fnum(float64(end-start)/1e6), to))
	}
	expire := func(at int64) {
		var users []string
		for u, s := range active {
			if s+timeout <= at {
				users = append(users, u)
			}
		}
		sort.Slice(users, func(i, j int) bool {
			if active[users[i]] != active[users[j]] {
				return active[users[i]] < active[users[j]]
			}
			return users[i] < users[j]
		})
		for _, u := range users {
			session(u, active[u], active[u]+timeout, true)
			delete(active, u)
			timedOut++
		}
	}
	metric := func(b int64) {
		expire(b)
		var n, age int64
		for _, s := range active {
			if s <= b && b < s+timeout {
				n++
				age += (b - s) * 1000
			}
		}
		avgAge, avgDur := 0.0, 0.0
		if n > 0 {
			avgAge = time.Duration(age / n).Seconds()
		}
		if ended > 0 {
			avgDur = time.Duration(endedNanos / ended).Seconds()
		}
		o.put("SESSION_METRICS", micro(b), fmt.Sprintf("%d %s %s %d %d %d", n, fnum(avgDur), fnum(avgAge), ended, timedOut, orphans))
	}
	// The row of minute M is the instant M with every event at M applied
	// (a sign-in at M active, a sign-out at M ended): before an event, the
	// minutes strictly before it.
	maxAll := evs[len(evs)-1].t
	next := floorDiv(evs[0].t, minute)*minute + minute
	for _, ev := range evs {
		for ; next < ev.t; next += minute {
			metric(next)
		}
		start, ok := active[ev.user]
		if ok && start+timeout <= ev.t {
			session(ev.user, start, start+timeout, true)
			delete(active, ev.user)
			timedOut++
			ok = false
		}
		switch {
		case !ev.out && !ok:
			active[ev.user] = ev.t
		case ev.out && (!ok || ev.t < start):
			orphans++
		case ev.out:
			delete(active, ev.user)
			ended++
			endedNanos += (ev.t - start) * 1000
			session(ev.user, start, ev.t, false)
		}
	}
	// Flush: metrics up to the last event time seen (its minute included:
	// every event is applied), and one at the last event time itself when
	// it falls between minutes.
	for ; next <= maxAll; next += minute {
		metric(next)
	}
	expire(maxAll)
	if maxAll%minute != 0 {
		metric(maxAll)
	}
	avgDur := 0.0
	if ended > 0 {
		avgDur = time.Duration(endedNanos / ended).Seconds()
	}
	o.sessionEnd = sessionEnd{last: maxAll, open: map[string]int64{}, tail: fmt.Sprintf("0 %s %s %d %d %d", fnum(avgDur), fnum(0), ended, timedOut+int64(len(active)), orphans)}
	for u, s := range active {
		o.sessionEnd.open[u] = s
	}
}

// movieSales: checkouts late for a window when the window ended before
// the checkout topic's watermark; additions late when behind their own
// topic's watermark W; a cart's movies are its additions up to the
// checkout's time, a late one only for checkouts at or after its W,
// priced from the catalog.
func (o *oracle) movieSales(checkouts, adds []*orec) {
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
	daily := assign{name: "daily", size: day, adv: day}
	weekly := assign{name: "weekly", size: 7 * day, adv: 7 * day, off: 4 * day}
	wins := map[wkey]*agg{}
	maxT = map[string]int64{}
	for _, r := range checkouts {
		own := noT
		if m, ok := maxT[r.p.input()]; ok {
			own = m - lateness
		}
		if m, ok := maxT[r.p.input()]; !ok || r.t > m {
			maxT[r.p.input()] = r.t
		}
		d, w := daily.spans(r.t)[0], weekly.spans(r.t)[0]
		if w[1] <= own {
			r.late = true
			o.late["checkout_to_cart|daily"]++
			o.late["checkout_to_cart|weekly"]++
			continue
		}
		as := []assign{weekly}
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
				s := a.spans(r.t)[0]
				k := wkey{a.name, it.id, s[0], s[1]}
				if wins[k] == nil {
					wins[k] = &agg{}
				}
				wins[k].add(oev{value: prices[it.id]})
			}
		}
	}
	for k, g := range wins {
		o.put("MOVIE_SALES_METRICS", k.assigner+" "+k.key+" "+micro(k.start), fmt.Sprintf("%s %s %d", micro(k.end), fnum(g.sum), g.n))
	}
}
