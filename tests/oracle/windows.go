package oracle

import (
	"math"
	"strings"
	"time"
)

// Times are microseconds since the epoch, as in Pulse's records.
const (
	MinuteUS = int64(time.Minute / time.Microsecond)
	DayUS    = 24 * 60 * MinuteUS
	// Lateness is the allowed lateness: watermark = largest event time
	// seen - 5 min (shared/window and shared/stream package comments).
	Lateness = 5 * MinuteUS
	// NoTime is "no event yet".
	NoTime = int64(math.MinInt64)
)

// Assigner is a window assigner: tumbling (Adv = Size), hopping, or
// session (Gap > 0). Off shifts the alignment from the epoch.
type Assigner struct {
	Name           string
	Size, Adv, Off int64
	Gap            int64
}

// Tumbling is an assigner of windows of size, aligned off past the epoch.
func Tumbling(name string, size, off int64) Assigner {
	return Assigner{Name: name, Size: size, Adv: size, Off: off}
}

// FloorDiv is a / b rounded towards minus infinity.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Spans are the aligned windows [start, end) holding t, oldest first (not
// for sessions).
func (a Assigner) Spans(t int64) [][2]int64 {
	var out [][2]int64
	last := FloorDiv(t-a.Off, a.Adv)*a.Adv + a.Off
	for s := last; s > t-a.Size; s -= a.Adv {
		out = append([][2]int64{{s, s + a.Size}}, out...)
	}
	return out
}

// WKey is one window of one group of one assigner.
type WKey struct {
	Assigner, Key string
	Start, End    int64
}

// WAgg is a window's aggregate: events, sum of values, distinct members.
type WAgg struct {
	N        int64
	Sum      float64
	Distinct map[string]bool
}

// Add folds one event's value and member.
func (g *WAgg) Add(v float64, member string) {
	g.N++
	g.Sum += v
	if g.Distinct == nil {
		g.Distinct = map[string]bool{}
	}
	g.Distinct[member] = true
}

func (g *WAgg) merge(o *WAgg) {
	g.N += o.N
	g.Sum += o.Sum
	for m := range o.Distinct {
		if g.Distinct == nil {
			g.Distinct = map[string]bool{}
		}
		g.Distinct[m] = true
	}
}

type sessWin struct {
	start, end int64
	agg        WAgg
}

// Engine follows the documented window rules: the watermark is the
// largest event time seen minus the lateness, moving with every event; a
// window is closed once the watermark is at or past its end; an event is
// folded into each of its windows still open, and is late when none is.
// Sessions: an event opens [t, t+gap) or joins every open session that
// window overlaps (they merge); it is late for the assigner when it
// overlaps a closed session (remembered gap + lateness past its end), or
// when its own window is closed and overlaps no open session.
type Engine struct {
	as        []Assigner
	maxT      map[string]int64 // per input (a Kafka topic partition): largest event time
	wm        int64            // the watermark of the input of the event being added
	fixed     map[WKey]*WAgg
	sessions  map[string][]*sessWin // assigner|key
	Partially int                   // events late for some windows, folded into others
	Merges    int                   // events that joined two or more sessions
}

// NewEngine returns an engine of the assigners, with no event yet.
func NewEngine(as ...Assigner) *Engine {
	return &Engine{as: as, maxT: map[string]int64{}, wm: NoTime, fixed: map[WKey]*WAgg{}, sessions: map[string][]*sessWin{}}
}

// Add folds one event and reports whether any window took it, and the
// windows it missed (closed ones it belongs to or would have joined). All
// events come from one input (AddFrom).
func (e *Engine) Add(key string, t int64, v float64, member string) (folded bool, missed []WKey) {
	return e.AddFrom("", key, t, v, member)
}

// AddFrom is Add for an event of input (a Kafka topic partition: Kafka
// keeps the order of one partition's messages, and no other). Each input
// has its own watermark, the largest event time seen on it minus the
// lateness, and an event is late against its own input's: with one input
// this is the topic's rule. (A window closed for one input may still take
// another input's events: it is closed for an event once that event's own
// watermark has passed its end.)
func (e *Engine) AddFrom(input, key string, t int64, v float64, member string) (folded bool, missed []WKey) {
	e.wm = NoTime
	if m, ok := e.maxT[input]; ok {
		e.wm = m - Lateness
	}
	for _, a := range e.as {
		if a.Gap == 0 {
			for _, s := range a.Spans(t) {
				k := WKey{a.Name, key, s[0], s[1]}
				if s[1] <= e.wm {
					missed = append(missed, k)
					continue
				}
				if e.fixed[k] == nil {
					e.fixed[k] = &WAgg{}
				}
				e.fixed[k].Add(v, member)
				folded = true
			}
			continue
		}
		ok, m := e.addSession(a, key, t, v, member)
		folded = folded || ok
		missed = append(missed, m...)
	}
	if folded && len(missed) > 0 {
		e.Partially++
	}
	if m, ok := e.maxT[input]; !ok || t > m {
		e.maxT[input] = t
	}
	return folded, missed
}

func (e *Engine) addSession(a Assigner, key string, t int64, v float64, member string) (bool, []WKey) {
	sk := a.Name + "|" + key
	start, end := t, t+a.Gap
	var open []*sessWin
	var closed []WKey
	for _, w := range e.sessions[sk] {
		if w.start >= end || t >= w.end {
			continue
		}
		if w.end <= e.wm {
			if w.end+a.Gap+Lateness > e.wm {
				closed = append(closed, WKey{a.Name, key, w.start, w.end}) // it would join a final session
			}
			continue // else forgotten
		}
		open = append(open, w)
	}
	switch {
	case len(closed) > 0:
		return false, closed
	case len(open) == 0 && end <= e.wm:
		return false, []WKey{{a.Name, key, start, end}}
	case len(open) == 0:
		w := &sessWin{start: start, end: end}
		w.agg.Add(v, member)
		e.sessions[sk] = append(e.sessions[sk], w)
		return true, nil
	}
	target := open[0]
	for _, o := range open[1:] {
		target.agg.merge(&o.agg)
		target.start, target.end = min(target.start, o.start), max(target.end, o.end)
		o.start, o.end = 0, 0 // dead
	}
	if len(open) > 1 {
		e.Merges++
	}
	target.start, target.end = min(target.start, start), max(target.end, end)
	target.agg.Add(v, member)
	var keep []*sessWin
	for _, w := range e.sessions[sk] {
		if w.end != 0 {
			keep = append(keep, w)
		}
	}
	e.sessions[sk] = keep
	return true, nil
}

// Windows are all windows with their aggregates, sessions included.
func (e *Engine) Windows() map[WKey]*WAgg {
	out := map[WKey]*WAgg{}
	for k, g := range e.fixed {
		out[k] = g
	}
	for sk, ws := range e.sessions {
		name, key, _ := strings.Cut(sk, "|")
		for _, w := range ws {
			out[WKey{name, key, w.start, w.end}] = &w.agg
		}
	}
	return out
}
