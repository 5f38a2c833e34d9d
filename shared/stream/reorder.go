package stream

import (
	"math"
	"sort"
	"strings"
	"time"
)

// reorder is the event-time frontier of a processor, with one watermark
// per input, and (for processors that join two topics) a buffer that
// releases the processor's events in event-time order once every input
// has passed them. An input is a Kafka topic partition ("topic/partition",
// the ledger's key): Kafka keeps the order of one partition's messages,
// and no other, so the watermarks are kept per partition, as Flink's
// Kafka source does.
//
//   - Each input has its own watermark: the largest event time seen on it
//     minus the allowed lateness. What is late on an input depends only on
//     that input's own order, never on how partitions and topics
//     interleave in deliveries.
//   - The frontier is the smallest watermark over the inputs: the
//     partitions 0 to Config.Partitions-1 of each of the processor's topics
//     (the deployment creates them; one seen beyond them joins when seen).
//     An input not seen yet holds it back; an input with no events for the
//     idle timeout (processing time: the clock the batches carry) stops
//     holding it back, and when every input is idle the frontier follows
//     the clock (now - lateness). The frontier closes windows.
//   - Buffered events before the frontier are released sorted by (time,
//     rank, origin): no later event can come before them unless it is late.
//
// Version 2 of the stored form keys the watermarks by partition; version
// 1 (no "v") kept one per topic: it is read as that topic's partition 0,
// which is what it was with one partition.
type reorder struct {
	topics   []string
	parts    int32
	lateness int64 // µs
	idle     int64 // µs; < 0: never idle

	V        int              `json:"v"`     // stored form: reorderVersion
	MaxT     map[string]int64 `json:"max"`   // per input: largest event time, µs
	Seen     map[string]int64 `json:"seen"`  // per input: processing time of its last event, µs
	First    int64            `json:"first"` // processing time of the first event, µs (0: none yet)
	Frontier int64            `json:"frontier"`
	Pending  []pending        `json:"pending,omitempty"`
}

const reorderVersion = 2

// pending is one buffered event.
type pending struct {
	T      int64  `json:"t"`
	Rank   int    `json:"r,omitempty"` // order among equal times
	Input  string `json:"in"`          // its topic
	Origin string `json:"o"`
	Key    string `json:"k"`           // user id, cart id
	Flag   int    `json:"f,omitempty"` // processor-specific (movie sales: windows already missed)
}

func newReorder(c Config, topics ...string) *reorder {
	idle := int64(-1)
	if d := c.idle(); d >= 0 {
		idle = d.Microseconds()
	}
	return &reorder{topics: topics, parts: c.partitions(), lateness: c.lateness().Microseconds(), idle: idle, V: reorderVersion,
		MaxT: map[string]int64{}, Seen: map[string]int64{}, Frontier: noTime}
}

// reset empties the state, keeping the configuration.
func (b *reorder) reset() {
	b.V, b.MaxT, b.Seen, b.First, b.Frontier, b.Pending = reorderVersion, map[string]int64{}, map[string]int64{}, 0, noTime, nil
}

// upgrade turns a version 1 state (watermarks per topic) into version 2:
// a topic's watermark becomes its partition 0's.
func (b *reorder) upgrade() {
	if b.V >= reorderVersion {
		return
	}
	for _, m := range []map[string]int64{b.MaxT, b.Seen} {
		for k, v := range m {
			if !strings.Contains(k, "/") {
				delete(m, k)
				m[ledgerKey(k, 0)] = v
			}
		}
	}
	b.V = reorderVersion
}

// inputOf is the input of a record: its topic partition.
func inputOf(r *rec) string { return ledgerKey(r.msg.Topic, r.msg.Partition) }

// ownWatermark is input's watermark (noTime before its first event).
func (b *reorder) ownWatermark(input string) int64 {
	if t, ok := b.MaxT[input]; ok {
		return t - b.lateness
	}
	return noTime
}

// topicWatermark is the smallest watermark of the topic's partitions
// (noTime while one of them has not been seen).
func (b *reorder) topicWatermark(topic string) int64 {
	wm := int64(math.MaxInt64)
	for _, in := range b.inputs() {
		if t, _, err := splitLedgerKey(in); err == nil && t == topic {
			wm = min(wm, b.ownWatermark(in))
		}
	}
	if wm == math.MaxInt64 {
		return noTime
	}
	return wm
}

// lateBound is the time before which an event on input is late: its own
// watermark, or the frontier if that is further (after an idle spell, the
// frontier may have passed an input's watermark and closed windows).
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

// inputs lists the inputs in order: the configured partitions of each
// topic and every input seen.
func (b *reorder) inputs() []string {
	set := map[string]bool{}
	for _, t := range b.topics {
		for p := int32(0); p < b.parts; p++ {
			set[ledgerKey(t, p)] = true
		}
	}
	for in := range b.MaxT {
		set[in] = true
	}
	return sortedKeys(set)
}

// add buffers an event.
func (b *reorder) add(p pending) { b.Pending = append(b.Pending, p) }

// advance moves the frontier at processing time now and returns the
// buffered events it passed, in order.
func (b *reorder) advance(now time.Time) []pending {
	n := now.UnixMicro()
	cand, active := int64(math.MaxInt64), false
	for _, in := range b.inputs() {
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
