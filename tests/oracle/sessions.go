package oracle

import "sort"

// SignEvent is one sign-in or sign-out that is not late on its topic.
type SignEvent struct {
	User   string
	Out    bool   // a sign-out
	T      int64  // µs
	Origin string // topic/partition/offset, the order of events at one instant
}

// SessionRow is one SESSION_METRICS row's inputs at one instant: the
// sessions open then and the sum of their ages, the sessions closed by a
// sign-out so far and the sum of their durations (µs), and the cumulative
// counts. Each test takes the means its own way.
type SessionRow struct {
	At                          int64
	Active, AgeSum              int64
	Completed, DurationSum      int64
	TimedOut, Orphans, Repeated int64
}

// Session is one closed session (CONSUMER_SESSIONS).
type Session struct {
	User       string
	Start, End int64
	TimedOut   bool
}

// TrackSessions applies seed 003's bonus rules to the sign events, in
// event-time order (sign-outs first at equal times, then by origin): a
// sign-in opens a session unless one is open (a repeated sign-in); a
// sign-out closes the user's open session; a session without a sign-out
// closes 30 minutes after its sign-in (timed out); a sign-out with no
// open session is an orphan. At each whole minute from the first event's
// next minute up to the last event time, and at the last event time
// itself when it is not a whole minute, a row describing that instant
// with every event at it applied (a sign-in at the minute is open, a
// sign-out at the minute has closed its session).
func TrackSessions(signs []SignEvent) ([]SessionRow, []Session) {
	rows, sessions, _ := TrackSessionsOpen(signs)
	return rows, sessions
}

// TrackSessionsOpen is TrackSessions, and the sessions still open at the
// last event time (user -> sign-in time).
func TrackSessionsOpen(signs []SignEvent) ([]SessionRow, []Session, map[string]int64) {
	if len(signs) == 0 {
		return nil, nil, nil
	}
	evs := append([]SignEvent(nil), signs...)
	sort.Slice(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if a.T != b.T {
			return a.T < b.T
		}
		if a.Out != b.Out {
			return a.Out
		}
		return a.Origin < b.Origin
	})
	const timeout = 30 * MinuteUS
	open := map[string]int64{} // user -> sign-in time
	var cur SessionRow
	var rows []SessionRow
	var sessions []Session
	expire := func(at int64) {
		for u, s := range open {
			if s+timeout <= at {
				delete(open, u)
				cur.TimedOut++
				sessions = append(sessions, Session{u, s, s + timeout, true})
			}
		}
	}
	row := func(at int64) {
		expire(at)
		r := cur
		r.At = at
		for _, s := range open {
			if s <= at {
				r.Active++
				r.AgeSum += at - s
			}
		}
		rows = append(rows, r)
	}
	next := FloorDiv(evs[0].T, MinuteUS)*MinuteUS + MinuteUS
	for _, ev := range evs {
		for ; next < ev.T; next += MinuteUS { // a minute's row waits for the events at the minute
			row(next)
		}
		expire(ev.T)
		start, isOpen := open[ev.User]
		switch {
		case !ev.Out && !isOpen:
			open[ev.User] = ev.T
		case !ev.Out:
			cur.Repeated++
		case !isOpen || ev.T < start:
			cur.Orphans++
		default:
			delete(open, ev.User)
			cur.Completed++
			cur.DurationSum += ev.T - start
			sessions = append(sessions, Session{ev.User, start, ev.T, false})
		}
	}
	last := evs[len(evs)-1].T
	for ; next <= last; next += MinuteUS {
		row(next)
	}
	if last%MinuteUS != 0 {
		row(last)
	}
	expire(last)
	return rows, sessions, open
}
