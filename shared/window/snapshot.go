package window

import (
	"encoding/json"
	"fmt"
	"sort"
)

const snapshotFormat = 1

type snapshot struct {
	Format      int              `json:"format"`
	Config      string           `json:"config"`
	Watermark   int64            `json:"watermark"`
	MaxTime     int64            `json:"max_time"`
	LastArrival int64            `json:"last_arrival"`
	Offsets     map[string]int64 `json:"offsets"` // encoding/json sorts map keys
	Stats       Stats            `json:"stats"`
	Windows     []snapWindow     `json:"windows"`
}

type snapWindow struct {
	Assigner int      `json:"a"`
	Key      string   `json:"k"`
	Start    int64    `json:"s"`
	End      int64    `json:"e"`
	Closed   bool     `json:"closed,omitempty"`
	Count    int64    `json:"n,omitempty"`
	Sum      float64  `json:"sum,omitempty"`
	Max      float64  `json:"max,omitempty"`
	Min      float64  `json:"min,omitempty"`
	Distinct []string `json:"d,omitempty"`
}

// Snapshot serialises the engine's whole state (windows, watermark,
// high-water offsets, stats) as JSON. Equal states give equal bytes.
func (e *Engine) Snapshot() ([]byte, error) {
	s := snapshot{
		Format: snapshotFormat, Config: e.fingerprint,
		Watermark: e.wm, MaxTime: e.maxT, LastArrival: e.lastArrival,
		Offsets: e.offsets, Stats: e.stats,
	}
	for ai, m := range e.groups {
		for key, g := range m {
			for _, w := range g.wins {
				sw := snapWindow{Assigner: ai, Key: key, Start: w.start, End: w.end, Closed: w.closed,
					Count: w.acc.Count, Sum: w.acc.Sum, Max: w.acc.Max, Min: w.acc.Min}
				if len(w.acc.Distinct) > 0 {
					sw.Distinct = make([]string, 0, len(w.acc.Distinct))
					for d := range w.acc.Distinct {
						sw.Distinct = append(sw.Distinct, d)
					}
					sort.Strings(sw.Distinct)
				}
				s.Windows = append(s.Windows, sw)
			}
		}
	}
	sort.Slice(s.Windows, func(i, j int) bool {
		a, b := s.Windows[i], s.Windows[j]
		if a.Assigner != b.Assigner {
			return a.Assigner < b.Assigner
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Start < b.Start
	})
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding window engine snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the engine's state with a snapshot taken from an engine
// with the same aggregate, assigners and allowed lateness. Restoring nil
// or empty bytes resets the engine to empty. On error the state is unchanged.
func (e *Engine) Restore(data []byte) error {
	if len(data) == 0 {
		e.reset()
		return nil
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("decoding window engine snapshot: %w", err)
	}
	if s.Format != snapshotFormat {
		return fmt.Errorf("decoding window engine snapshot: format %d, want %d", s.Format, snapshotFormat)
	}
	if s.Config != e.fingerprint {
		return fmt.Errorf("restoring window engine snapshot: it was taken with config %q, this engine has %q", s.Config, e.fingerprint)
	}
	for _, sw := range s.Windows {
		if sw.Assigner < 0 || sw.Assigner >= len(e.assigners) || sw.End <= sw.Start {
			return fmt.Errorf("restoring window engine snapshot: bad window %+v", sw)
		}
	}
	e.reset()
	e.wm, e.maxT, e.lastArrival, e.stats = s.Watermark, s.MaxTime, s.LastArrival, s.Stats
	for p, o := range s.Offsets {
		e.offsets[p] = o
	}
	for _, sw := range s.Windows {
		w := &win{start: sw.Start, end: sw.End, closed: sw.Closed,
			acc: Acc{Count: sw.Count, Sum: sw.Sum, Max: sw.Max, Min: sw.Min}}
		if len(sw.Distinct) > 0 {
			w.acc.Distinct = make(map[string]struct{}, len(sw.Distinct))
			for _, d := range sw.Distinct {
				w.acc.Distinct[d] = struct{}{}
			}
		}
		e.group(sw.Assigner, sw.Key).insert(w)
		end := sw.End
		if sw.Closed {
			end += e.retain(&e.assigners[sw.Assigner])
		}
		e.minEnd = min(e.minEnd, end)
	}
	return nil
}
