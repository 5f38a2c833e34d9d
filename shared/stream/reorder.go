package stream

import (
	"math"
	"sort"
	"time"
)

// reorder is the event-time frontier of a processor with several inputs
// (topics), and a buffer that releases the processor's events in
// event-time order once every input has passed them.
//
//   - Each input has its own watermark: the largest event time seen on it
//     minus the allowed lateness. What is late on an input depends only on
//     that input's own order, never on how the topics interleave.
//   - The frontier is the smallest watermark over the inputs, as in Flink:
//     an input not seen yet holds it back; an input with no events for the
//     idle timeout (processing time) stops holding it back, and when every
//     input is idle the frontier follows the clock (now - lateness).
//   - Buffered events before the frontier are released sorted by (time,
//     rank, origin): no later event can come before them unless it is late.
type reorder struct {
	inputs   []string
	lateness int64 // µs
	idle     int64 // µs; < 0: never idle

	MaxT     map[string]int64 `json:"max"`   // per input: largest event time, µs
	Seen     map[string]int64 `json:"seen"`  // per input: processing time of its last event, µs
	First    int64            `json:"first"` // processing time of the first event, µs (0: none yet)
	Frontier int64            `json:"frontier"`
	Pending  []pending        `json:"pending,omitempty"`
}

// pending is one buffered event.
type pending struct {
	T      int64  `json:"t"`
	Rank   int    `json:"r,omitempty"` // order among equal times
	Input  string `json:"in"`
	Origin string `json:"o"`
	Key    string `json:"k"`           // user id, cart id
	Flag   int    `json:"f,omitempty"` // processor-specific (movie sales: windows already missed)
}

func newReorder(c Config, inputs ...string) *reorder {
	idle := int64(-1)
	if d := c.idle(); d >= 0 {
		idle = d.Microseconds()
	}
	return &reorder{inputs: inputs, lateness: c.lateness().Microseconds(), idle: idle,
		MaxT: map[string]int64{}, Seen: map[string]int64{}, Frontier: noTime}
}

// reset empties the state, keeping the configuration.
func (b *reorder) reset() {
	b.MaxT, b.Seen, b.First, b.Frontier, b.Pending = map[string]int64{}, map[string]int64{}, 0, noTime, nil
}

// ownWatermark is input's watermark (noTime before its first event).
func (b *reorder) ownWatermark(input string) int64 {
	if t, ok := b.MaxT[input]; ok {
		return t - b.lateness
	}
	return noTime
}

// lateBound is the time before which an event on input is late: its own
// watermark, or the frontier if that is further (after an idle spell).
func (b *reorder) lateBound(input string) int64 { return max(b.ownWatermark(input), b.Frontier) }

// seen records an event of input at event time t, processing time now.
func (b *reorder) seen(input string, t int64, now time.Time) {
	if cur, ok := b.MaxT[input]; !ok || t > cur {
		b.MaxT[input] = t
	}
	n := now.UnixMicro()
	b.Seen[input] = n
	if b.First == 0 {
		b.First = n
	}
}

// add buffers an event.
func (b *reorder) add(p pending) { b.Pending = append(b.Pending, p) }

// advance moves the frontier at processing time now and returns the
// buffered events it passed, in order.
func (b *reorder) advance(now time.Time) []pending {
	n := now.UnixMicro()
	cand, active := int64(math.MaxInt64), false
	for _, in := range b.inputs {
		t, ok := b.MaxT[in]
		var live bool
		switch {
		case b.idle < 0:
			live = true
		case ok:
			live = n-b.Seen[in] < b.idle
		default:
			live = b.First == 0 || n-b.First < b.idle
		}
		if !live {
			continue
		}
		active = true
		if !ok {
			cand = noTime // an input not seen yet holds the frontier back
			break
		}
		cand = min(cand, t-b.lateness)
	}
	if !active {
		cand = noTime
		if b.First != 0 {
			cand = n - b.lateness // every input idle: follow the clock
		}
	}
	if cand > b.Frontier {
		b.Frontier = cand
	}
	return b.release(b.Frontier)
}

// flush releases everything and moves the frontier past every event.
func (b *reorder) flush() []pending {
	b.Frontier = maxEventTime
	return b.release(b.Frontier)
}

func (b *reorder) release(before int64) []pending {
	var out, keep []pending
	for _, p := range b.Pending {
		if p.T < before {
			out = append(out, p)
		} else {
			keep = append(keep, p)
		}
	}
	b.Pending = keep
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		if a.T != c.T {
			return a.T < c.T
		}
		if a.Rank != c.Rank {
			return a.Rank < c.Rank
		}
		return a.Origin < c.Origin
	})
	return out
}
