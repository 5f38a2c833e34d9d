package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ledger is what a processor has accounted of each topic partition it
// reads, keyed "topic/partition" (ledgerKey). The accounted offsets of a
// partition are those from its start to its high-water mark, minus its
// gaps:
//
//   - high: the highest offset a saved batch accounted;
//   - start: the lowest (kept only when above 0, so a partition read from
//     its beginning stores nothing more than before gaps existed);
//   - gaps: offsets between the two that no saved batch accounted. A gap
//     opens when a batch starts past high + 1: the event-source mapping
//     delivers a partition in order, so the offsets it skipped were a
//     batch it gave up on (sent to its on-failure destination). A batch
//     that starts below start opens the gap between its end and start.
//
// A record is a redelivery, skipped everywhere, only if its offset is
// accounted; a record in a gap or below start is processed like a new
// one, and the offsets its batch covers (first to last) leave the gaps
// once the batch's state is saved. So `pulse replay --failed` can bring a
// failed batch back with its original positions after later batches went
// past it. Offsets Kafka skips inside a partition (transaction markers,
// compaction) are indistinguishable from a failed batch: a gap that no
// stored failed batch covers holds no records.
type ledger struct {
	high   map[string]int64
	starts map[string]int64
	gaps   map[string][]span
}

// span is the offsets first to last, both included; stored as [first, last].
type span [2]int64

func newLedger() ledger {
	return ledger{high: map[string]int64{}, starts: map[string]int64{}, gaps: map[string][]span{}}
}

// accounted tells whether a saved batch accounted offset off of partition k.
func (l ledger) accounted(k string, off int64) bool {
	hw, ok := l.high[k]
	if !ok || off > hw || off < l.starts[k] {
		return false
	}
	for _, g := range l.gaps[k] {
		if off >= g[0] && off <= g[1] {
			return false
		}
	}
	return true
}

// account records that a batch accounted offsets first to last of
// partition k (every offset between them: the mapping delivers a
// partition in order), opening the gaps it jumped over.
func (l ledger) account(k string, first, last int64) {
	hw, ok := l.high[k]
	if !ok {
		l.high[k] = last
		if first > 0 {
			l.starts[k] = first
		}
		return
	}
	start := l.starts[k]
	gaps := l.gaps[k]
	if first > hw+1 {
		gaps = append(gaps, span{hw + 1, first - 1})
	}
	if last < start-1 {
		gaps = append(gaps, span{last + 1, start - 1})
	}
	gaps = withoutSpan(gaps, first, last)
	if len(gaps) == 0 {
		delete(l.gaps, k)
	} else {
		l.gaps[k] = gaps
	}
	if last > hw {
		l.high[k] = last
	}
	if first < start {
		if first > 0 {
			l.starts[k] = first
		} else {
			delete(l.starts, k)
		}
	}
}

// withoutSpan returns gaps minus the offsets first to last, sorted.
func withoutSpan(gaps []span, first, last int64) []span {
	var out []span
	for _, g := range gaps {
		if g[1] < first || g[0] > last {
			out = append(out, g)
			continue
		}
		if g[0] < first {
			out = append(out, span{g[0], first - 1})
		}
		if g[1] > last {
			out = append(out, span{last + 1, g[1]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Gap is a range of a partition's offsets the stream has not accounted
// although it accounted later ones: the batch that held them failed until
// the event-source mapping's on-failure destination took it, and its
// records are not in the warehouse until `pulse replay --failed` (or
// handlers.Stream.ReplayFailed) brings that batch back.
type Gap struct {
	Processor string `json:"processor"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	First     int64  `json:"first"`
	Last      int64  `json:"last"`
}

func (g Gap) String() string {
	return fmt.Sprintf("offsets %d-%d of %s/%d were never processed", g.First, g.Last, g.Topic, g.Partition)
}

// Gaps lists the offsets of every partition that later batches went past
// without them (see Gap), by topic, partition and offset. It reads the
// saved state only.
func (p *Pipeline) Gaps(ctx context.Context) ([]Gap, error) {
	var out []Gap
	for _, name := range p.order {
		l, err := p.readLedger(ctx, p.procs[name])
		if err != nil {
			return nil, err
		}
		for k, gaps := range l.gaps {
			topic, part, err := splitLedgerKey(k)
			if err != nil {
				return nil, fmt.Errorf("reading the gaps of stream state %s: %w", name, err)
			}
			for _, g := range gaps {
				out = append(out, Gap{Processor: name, Topic: topic, Partition: part, First: g[0], Last: g[1]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.First < b.First
	})
	return out, nil
}

// readLedger decodes the ledger of a processor's saved state, leaving the
// slot as it is.
func (p *Pipeline) readLedger(ctx context.Context, slot *procSlot) (ledger, error) {
	name := p.env.Config.StatePrefix + slot.name
	data, _, err := p.env.State.Load(ctx, name)
	if err != nil {
		return ledger{}, fmt.Errorf("loading stream state %s: %w", name, err)
	}
	l := newLedger()
	if len(data) == 0 {
		return l, nil
	}
	var st struct {
		Ledger map[string]int64  `json:"ledger"`
		Starts map[string]int64  `json:"starts"`
		Gaps   map[string][]span `json:"gaps"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return ledger{}, fmt.Errorf("decoding stream state %s: %w", name, err)
	}
	for k, v := range st.Ledger {
		l.high[k] = v
	}
	for k, v := range st.Starts {
		l.starts[k] = v
	}
	for k, v := range st.Gaps {
		l.gaps[k] = v
	}
	return l, nil
}

// ledgerKey names a partition in a ledger.
func ledgerKey(topic string, partition int32) string {
	return topic + "/" + itoa(int64(partition))
}

func splitLedgerKey(k string) (string, int32, error) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return "", 0, fmt.Errorf("ledger key %q: no partition", k)
	}
	part, err := strconv.ParseInt(k[i+1:], 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("ledger key %q: partition: %w", k, err)
	}
	return k[:i], int32(part), nil
}
