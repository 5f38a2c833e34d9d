package window

import (
	"fmt"
	"time"
)

// Window is the half-open event-time interval [Start, End) in UTC.
type Window struct {
	Start time.Time
	End   time.Time
}

// Contains reports whether t lies in [Start, End).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

func (w Window) String() string {
	return "[" + w.Start.UTC().Format(time.RFC3339Nano) + ", " + w.End.UTC().Format(time.RFC3339Nano) + ")"
}

func makeWindow(start, end int64) Window {
	return Window{Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC()}
}

type kind uint8

const (
	kindTumbling kind = iota + 1
	kindHopping
	kindSession
)

// Assigner decides which windows an event belongs to. Build one with
// Tumbling, Hopping or Session; the zero value is invalid.
type Assigner struct {
	name    string
	kind    kind
	size    int64 // nanoseconds; tumbling and hopping
	advance int64 // nanoseconds; hopping (tumbling: = size)
	gap     int64 // nanoseconds; session
	offset  int64 // nanoseconds; tumbling and hopping alignment, in [0, advance)
}

// Tumbling returns fixed, non-overlapping windows of the given size,
// aligned to the Unix epoch: [k*size, (k+1)*size).
func Tumbling(size time.Duration) Assigner {
	return Assigner{kind: kindTumbling, size: int64(size), advance: int64(size)}
}

// Hopping returns windows of the given size starting every advance,
// aligned to the Unix epoch: [k*advance, k*advance+size). A sliding window
// of 1 h every 15 min is Hopping(time.Hour, 15*time.Minute); each event then
// lies in size/advance = 4 windows. 0 < advance <= size.
func Hopping(size, advance time.Duration) Assigner {
	return Assigner{kind: kindHopping, size: int64(size), advance: int64(advance)}
}

// Session returns per-key session windows: an event at t opens
// [t, t+gap); windows of one key that overlap merge into one.
// Two events exactly gap apart are in different sessions.
func Session(gap time.Duration) Assigner {
	return Assigner{kind: kindSession, gap: int64(gap)}
}

// Offset returns a copy of a tumbling or hopping assigner whose windows
// are aligned to the Unix epoch plus d instead of the epoch:
// [k*advance+d, k*advance+d+size). The epoch was a Thursday, so weeks
// starting on Monday 00:00 UTC are Tumbling(7*24*time.Hour).Offset(4*24*time.Hour).
// d is reduced modulo the advance; it has no effect on session assigners.
func (a Assigner) Offset(d time.Duration) Assigner {
	if a.kind == kindSession || a.advance <= 0 {
		return a
	}
	a.offset = int64(d) % a.advance
	if a.offset < 0 {
		a.offset += a.advance
	}
	return a
}

// Named returns a copy of a with the given name, which Result.Assigner
// and LateEvent carry (e.g. "tumbling" and "sliding" for seed 003).
func (a Assigner) Named(name string) Assigner {
	a.name = name
	return a
}

// Name is the assigner's name: the one given with Named, or a description
// such as "tumbling(1h0m0s)".
func (a Assigner) Name() string {
	if a.name != "" {
		return a.name
	}
	return a.String()
}

// String describes the assigner's kind and sizes.
func (a Assigner) String() string {
	off := ""
	if a.offset != 0 {
		off = "+" + time.Duration(a.offset).String()
	}
	switch a.kind {
	case kindTumbling:
		return fmt.Sprintf("tumbling(%s%s)", time.Duration(a.size), off)
	case kindHopping:
		return fmt.Sprintf("hopping(%s,%s%s)", time.Duration(a.size), time.Duration(a.advance), off)
	case kindSession:
		return fmt.Sprintf("session(%s)", time.Duration(a.gap))
	}
	return "invalid"
}

// IsSession reports whether a assigns merging session windows.
func (a Assigner) IsSession() bool { return a.kind == kindSession }

func (a Assigner) validate() error {
	switch a.kind {
	case kindTumbling:
		if a.size <= 0 {
			return fmt.Errorf("tumbling window size %s: must be positive", time.Duration(a.size))
		}
	case kindHopping:
		if a.size <= 0 || a.advance <= 0 || a.advance > a.size {
			return fmt.Errorf("hopping window size %s advance %s: need 0 < advance <= size",
				time.Duration(a.size), time.Duration(a.advance))
		}
	case kindSession:
		if a.gap <= 0 {
			return fmt.Errorf("session gap %s: must be positive", time.Duration(a.gap))
		}
	default:
		return fmt.Errorf("assigner %q: not built with Tumbling, Hopping or Session", a.name)
	}
	return nil
}

// Windows returns the windows an event at t belongs to, earliest first.
// For a session assigner it is the event's own window [t, t+gap), before
// any merge.
func (a Assigner) Windows(t time.Time) []Window {
	var buf [16]span
	spans := a.spans(t.UnixNano(), buf[:0])
	out := make([]Window, len(spans))
	for i, s := range spans {
		out[i] = makeWindow(s.start, s.end)
	}
	return out
}

type span struct{ start, end int64 }

// spans appends the windows of an event at t (Unix ns) to buf, earliest first.
func (a Assigner) spans(t int64, buf []span) []span {
	switch a.kind {
	case kindTumbling:
		s := floorDiv(t-a.offset, a.size)*a.size + a.offset
		return append(buf, span{s, s + a.size})
	case kindHopping:
		last := floorDiv(t-a.offset, a.advance)*a.advance + a.offset
		first := last
		for first-a.advance+a.size > t {
			first -= a.advance
		}
		for s := first; s <= last; s += a.advance {
			buf = append(buf, span{s, s + a.size})
		}
		return buf
	case kindSession:
		return append(buf, span{t, t + a.gap})
	}
	return buf
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
