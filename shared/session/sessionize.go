package session

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Activity is one user interaction (seed 002: page_view, edit, create,
// delete, share), with how long it lasted.
type Activity struct {
	UserID   string
	Time     time.Time
	Action   string
	Duration time.Duration
}

// Rules say where a gap-based session ends.
type Rules struct {
	// Gap: a new session starts when the time since the user's previous
	// action is Gap or more. Must be positive.
	Gap time.Duration
	// SplitAtMidnight: a new session also starts when the UTC date changes.
	SplitAtMidnight bool
}

// DefaultRules are seed 002's: a 30-minute gap and a split at UTC midnight.
func DefaultRules() Rules { return Rules{Gap: 30 * time.Minute, SplitAtMidnight: true} }

// Sessionize groups activities into sessions with DefaultRules.
func Sessionize(events []Activity) []Session { return SessionizeWith(events, DefaultRules()) }

// SessionizeWith groups activities, sorted or not, into per-user sessions:
// a user's actions in time order form one session until the gap to the
// next action is rules.Gap or more, or (with SplitAtMidnight) the next
// action falls on another UTC date. A session runs from its first to its
// last action, so a single-action session lasts 0 s; Actions counts its
// activities and ActionSeconds sums their Duration. The input is not
// modified. The output is sorted by UserID, then Start. A non-positive
// Gap is taken as DefaultRules().Gap.
func SessionizeWith(events []Activity, rules Rules) []Session {
	if rules.Gap <= 0 {
		rules.Gap = DefaultRules().Gap
	}
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		a, b := &events[i], &events[j]
		if c := strings.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	var out []Session
	var cur *Session
	var last time.Time
	for _, i := range idx {
		a := &events[i]
		t := a.Time.UTC()
		if cur == nil || a.UserID != cur.UserID || t.Sub(last) >= rules.Gap ||
			(rules.SplitAtMidnight && !sameUTCDate(t, last)) {
			if cur != nil {
				finish(cur, last)
			}
			out = append(out, Session{UserID: a.UserID, Start: t})
			cur = &out[len(out)-1]
		}
		cur.Actions++
		cur.ActionSeconds += a.Duration.Seconds()
		last = t
	}
	if cur != nil {
		finish(cur, last)
	}
	return out
}

func finish(s *Session, end time.Time) {
	s.End = end
	s.DurationSeconds = end.Sub(s.Start).Seconds()
	s.ID = sessionID(s.UserID, s.Start)
}

func sameUTCDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func sessionID(user string, start time.Time) string {
	return user + "|" + start.UTC().Format(time.RFC3339Nano)
}
