package oracle

// The window and session rules of the stream oracle, written from the
// shared/window and shared/session package comments and seed 003.

import (
	"sort"
	"strings"
)

// --- windows -------------------------------------------------------------

// assigner is a window assigner: tumbling (adv = size), hopping, or
// session (gap > 0). Times in µs; off shifts the alignment to the epoch.
type assigner struct {
	name           string
	size, adv, off int64
	gap            int64
}

func tumbling(name string, size, off int64) assigner {
	return assigner{name: name, size: size, adv: size, off: off}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// spans are the aligned windows [start, end) holding t, oldest first.
func (a assigner) spans(t int64) [][2]int64 {
	var out [][2]int64
	last := floorDiv(t-a.off, a.adv)*a.adv + a.off
	for s := last; s > t-a.size; s -= a.adv {
		out = append([][2]int64{{s, s + a.size}}, out...)
	}
	return out
}

// wkey is one window of one group of one assigner.
type wkey struct {
	assigner, key string
	start, end    int64
}

// wagg is a window's aggregate: events, sum of values, distinct members.
type wagg struct {
	n        int64
	sum      float64
	distinct map[string]bool
}

func (g *wagg) add(v float64, member string) {
	g.n++
	g.sum += v
	if g.distinct == nil {
		g.distinct = map[string]bool{}
	}
	g.distinct[member] = true
}

func (g *wagg) merge(o *wagg) {
	g.n += o.n
	g.sum += o.sum
	for m := range o.distinct {
		if g.distinct == nil {
			g.distinct = map[string]bool{}
		}
		g.distinct[m] = true
	}
}

type sessWin struct {
	start, end int64
	agg        wagg
}

// engine follows the documented window rules: the watermark is the
// largest event time seen minus the lateness, moving with every event; a
// window is closed once the watermark is at or past its end; an event is
// folded into each of its windows still open, and is late when none is.
// Sessions: an event opens [t, t+gap) or joins every open session that
// window overlaps (they merge); it is late for the assigner when it
// overlaps a closed session (remembered gap + lateness past its end), or
// when its own window is closed and overlaps no open session.
type engine struct {
	as        []assigner
	maxT, wm  int64
	fixed     map[wkey]*wagg
	sessions  map[string][]*sessWin // assigner|key
	partially int                   // events late for some windows, folded into others
	merges    int                   // events that joined two or more sessions
}

func newEngine(as ...assigner) *engine {
	return &engine{as: as, maxT: noTime, wm: noTime, fixed: map[wkey]*wagg{}, sessions: map[string][]*sessWin{}}
}

// add folds one event and reports whether any window took it.
func (e *engine) add(key string, t int64, v float64, member string) bool {
	folded, missed := false, false
	for _, a := range e.as {
		if a.gap == 0 {
			for _, s := range a.spans(t) {
				if s[1] <= e.wm {
					missed = true
					continue
				}
				k := wkey{a.name, key, s[0], s[1]}
				if e.fixed[k] == nil {
					e.fixed[k] = &wagg{}
				}
				e.fixed[k].add(v, member)
				folded = true
			}
			continue
		}
		if e.addSession(a, key, t, v, member) {
			folded = true
		} else {
			missed = true
		}
	}
	if folded && missed {
		e.partially++
	}
	if t > e.maxT {
		e.maxT = t
		e.wm = t - lateness
	}
	return folded
}

func (e *engine) addSession(a assigner, key string, t int64, v float64, member string) bool {
	sk := a.name + "|" + key
	start, end := t, t+a.gap
	var open []*sessWin
	for _, w := range e.sessions[sk] {
		if w.start >= end || t >= w.end {
			continue
		}
		if w.end <= e.wm {
			if w.end+a.gap+lateness > e.wm {
				return false // it would join a final session
			}
			continue // forgotten
		}
		open = append(open, w)
	}
	if len(open) == 0 {
		if end <= e.wm {
			return false
		}
		w := &sessWin{start: start, end: end}
		w.agg.add(v, member)
		e.sessions[sk] = append(e.sessions[sk], w)
		return true
	}
	target := open[0]
	for _, o := range open[1:] {
		target.agg.merge(&o.agg)
		target.start, target.end = min(target.start, o.start), max(target.end, o.end)
		o.start, o.end = 0, 0 // dead
	}
	if len(open) > 1 {
		e.merges++
	}
	target.start, target.end = min(target.start, start), max(target.end, end)
	target.agg.add(v, member)
	var keep []*sessWin
	for _, w := range e.sessions[sk] {
		if w.end != 0 {
			keep = append(keep, w)
		}
	}
	e.sessions[sk] = keep
	return true
}

// windows are all windows with their aggregates, sessions included.
func (e *engine) windows() map[wkey]*wagg {
	out := map[wkey]*wagg{}
	for k, g := range e.fixed {
		out[k] = g
	}
	for sk, ws := range e.sessions {
		name, key, _ := strings.Cut(sk, "|")
		for _, w := range ws {
			out[wkey{name, key, w.start, w.end}] = &w.agg
		}
	}
	return out
}

// --- sign-in / sign-out sessions --------------------------------------------

// sessionMetric is one SESSION_METRICS row.
type sessionMetric struct {
	at                     int64
	active                 int64
	avgDuration, avgActive float64
	completed, timedOut    int64
}

// trackSessions applies seed 003's bonus rules to the sign events that
// are not late, in event-time order (sign-outs first at equal times): a
// sign-in opens a session unless one is open; a sign-out closes the
// user's open session; a session without a sign-out closes 30 minutes
// after its sign-in (timed out); a sign-out with no open session is an
// orphan. At each whole minute from the first event's next minute up to
// the last event time, and at the last event time itself when it is not
// a whole minute, a row describing that instant with every event at it
// applied (a sign-in at the minute is open, a sign-out at the minute has
// closed its session): sessions open at that instant, their mean age,
// the mean sign-in to sign-out duration of the sessions closed by a
// sign-out so far, and the cumulative counts.
func trackSessions(signs []signRec, reach map[string]int) []sessionMetric {
	if len(signs) == 0 {
		return nil
	}
	evs := append([]signRec(nil), signs...)
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
	const timeout = 30 * minuteUS
	open := map[int64]int64{} // user -> sign-in time
	var completed, timedOut, durations int64
	var rows []sessionMetric
	expire := func(at int64) {
		for u, s := range open {
			if s+timeout <= at {
				delete(open, u)
				timedOut++
			}
		}
	}
	row := func(at int64) {
		expire(at)
		m := sessionMetric{at: at, completed: completed, timedOut: timedOut}
		var age int64
		for _, s := range open {
			if s <= at {
				m.active++
				age += at - s
			}
		}
		if m.active > 0 {
			m.avgActive = float64(age) / float64(m.active) / 1e6
		}
		if completed > 0 {
			m.avgDuration = float64(durations) / float64(completed) / 1e6
		}
		rows = append(rows, m)
	}
	next := floorDiv(evs[0].t, minuteUS)*minuteUS + minuteUS
	for _, ev := range evs {
		for ; next < ev.t; next += minuteUS { // a minute's row waits for the events at the minute
			row(next)
		}
		expire(ev.t)
		start, isOpen := open[ev.user]
		switch {
		case !ev.out && !isOpen:
			open[ev.user] = ev.t
		case !ev.out:
			reach["repeated sign-ins"]++
		case !isOpen || ev.t < start:
			reach["orphan sign-outs"]++
		default:
			delete(open, ev.user)
			completed++
			durations += ev.t - start
		}
	}
	last := evs[len(evs)-1].t
	for ; next <= last; next += minuteUS {
		row(next)
	}
	if last%minuteUS != 0 {
		row(last)
	}
	reach["timed-out sessions"] = int(timedOut)
	reach["completed sessions"] = int(completed)
	return rows
}
