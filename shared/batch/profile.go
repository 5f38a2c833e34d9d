package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

// A data profile (seed 002's "data profiling reports") describes what one
// staged file holds, column by column: the share of nulls, the number of
// distinct values, the smallest and largest value and the most frequent
// values. Clean writes it beside the file's manifest, in the staging bucket
// under _profiles/<dataset>/<file id>.json; a split file's chunks profile
// themselves and Combine merges them. Memory is bounded per column whatever
// the file's size: distinct values are counted exactly up to
// exactDistinct, then estimated with a HyperLogLog sketch (about 1.6%
// error); the most frequent values come from a Misra-Gries summary of
// topCounters counters (a value's count is exact while it was tracked from
// its first appearance, a lower bound otherwise). Values are those of the
// staging rows: personal fields are already masked.

const (
	exactDistinct = 4096 // distinct values counted exactly per column
	topCounters   = 64   // Misra-Gries counters per column
	topShown      = 5    // most frequent values reported
	hllBits       = 12   // HyperLogLog: 4,096 registers
)

// Profile is the data profile of one staged file (or chunk).
type Profile struct {
	Dataset string          `json:"dataset"`
	FileID  string          `json:"fileId"`
	Source  string          `json:"source"`
	Rows    int64           `json:"rows"`
	Columns []ColumnProfile `json:"columns"`
	// ProfiledAt is when the profile was stored (its object's Modified
	// time), set by LatestProfiles; it is not part of the stored object.
	ProfiledAt *time.Time `json:"profiledAt,omitempty"`
	// sketches carry what merging needs; not part of the JSON.
	sketches []*columnSketch
}

// ColumnProfile describes one column.
type ColumnProfile struct {
	Name      string       `json:"name"`
	Type      string       `json:"type"`
	Nulls     int64        `json:"nulls"`
	NullShare float64      `json:"nullShare"`
	Distinct  int64        `json:"distinct"`
	Exact     bool         `json:"distinctExact"` // false: a HyperLogLog estimate
	Min       *string      `json:"min,omitempty"`
	Max       *string      `json:"max,omitempty"`
	Top       []ValueCount `json:"top,omitempty"`
}

// ValueCount is one frequent value and how often it was seen.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// profiler accumulates a Profile over staging rows.
type profiler struct {
	schema table.Schema
	rows   int64
	cols   []*columnSketch
}

type columnSketch struct {
	typ      table.Type
	nulls    int64
	min, max table.Cell
	seen     bool
	exact    map[string]struct{} // nil once it overflowed into hll
	hll      []uint8
	top      map[string]int64 // Misra-Gries counters
	evicted  bool             // a counter was ever decremented: counts are lower bounds
}

func newProfiler(s table.Schema) *profiler {
	p := &profiler{schema: s}
	for _, c := range s.Columns {
		p.cols = append(p.cols, &columnSketch{typ: c.Type, exact: map[string]struct{}{}, top: map[string]int64{}})
	}
	return p
}

// internal tells the staging columns Pulse adds (_SOURCE, _ROW,
// _INGESTED_AT), which profiles leave out.
func internal(name string) bool { return len(name) > 0 && name[0] == '_' }

// add folds one staging row in.
func (p *profiler) add(row table.Row) {
	p.rows++
	var buf []byte
	for i, c := range p.cols {
		if internal(p.schema.Columns[i].Name) {
			continue
		}
		cell := row[i]
		if cell.Null {
			c.nulls++
			continue
		}
		buf = appendCellText(buf[:0], cell, c.typ)
		c.addValue(cell, buf)
	}
}

func (c *columnSketch) addValue(cell table.Cell, text []byte) {
	if !c.seen || less(cell, c.min, c.typ) {
		c.min = cell
	}
	if !c.seen || less(c.max, cell, c.typ) {
		c.max = cell
	}
	c.seen = true
	if c.exact != nil {
		if _, ok := c.exact[string(text)]; !ok {
			c.exact[string(text)] = struct{}{}
			if len(c.exact) > exactDistinct {
				c.overflow()
			}
		}
	}
	if c.exact == nil {
		c.hllAdd(text)
	}
	c.count(string(text), 1)
}

// overflow moves the exact set into a HyperLogLog sketch.
func (c *columnSketch) overflow() {
	c.hll = make([]uint8, 1<<hllBits)
	for v := range c.exact {
		c.hllAdd([]byte(v))
	}
	c.exact = nil
}

func (c *columnSketch) hllAdd(v []byte) {
	h := hash64(v)
	idx := h >> (64 - hllBits)
	rank := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1)) + 1)
	if rank > c.hll[idx] {
		c.hll[idx] = rank
	}
}

// hash64 is FNV-1a with a murmur3 finalizer: stable across processes, so
// chunk sketches made apart merge.
func hash64(v []byte) uint64 {
	f := fnv.New64a()
	f.Write(v)
	h := f.Sum64()
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// count adds n to v's Misra-Gries counter, making room by decrementing
// every counter when all are taken.
func (c *columnSketch) count(v string, n int64) {
	if _, ok := c.top[v]; ok || len(c.top) < topCounters {
		c.top[v] += n
		return
	}
	c.evicted = true
	for n > 0 {
		least := int64(math.MaxInt64)
		for _, k := range c.top {
			least = min(least, k)
		}
		d := min(least, n)
		for k := range c.top {
			c.top[k] -= d
			if c.top[k] == 0 {
				delete(c.top, k)
			}
		}
		n -= d
		if n > 0 && len(c.top) < topCounters {
			c.top[v] = n
			return
		}
	}
}

func (c *columnSketch) distinct() (int64, bool) {
	if c.exact != nil {
		return int64(len(c.exact)), true
	}
	m := float64(len(c.hll))
	sum, zeros := 0.0, 0
	for _, r := range c.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting for small sets
	}
	return int64(math.Round(est)), false
}

// merge folds another chunk's sketch of the same column in.
func (c *columnSketch) merge(o *columnSketch) {
	c.nulls += o.nulls
	if o.seen {
		if !c.seen || less(o.min, c.min, c.typ) {
			c.min = o.min
		}
		if !c.seen || less(c.max, o.max, c.typ) {
			c.max = o.max
		}
		c.seen = true
	}
	switch {
	case c.exact != nil && o.exact != nil:
		for v := range o.exact {
			c.exact[v] = struct{}{}
		}
		if len(c.exact) > exactDistinct {
			c.overflow()
		}
	default:
		if c.exact != nil {
			c.overflow()
		}
		if o.exact != nil {
			for v := range o.exact {
				c.hllAdd([]byte(v))
			}
		} else {
			for i, r := range o.hll {
				c.hll[i] = max(c.hll[i], r)
			}
		}
	}
	c.evicted = c.evicted || o.evicted
	for v, n := range o.top {
		c.count(v, n)
	}
}

// profile makes the Profile of what was added.
func (p *profiler) profile(dataset, fileID, source string) *Profile {
	pr := &Profile{Dataset: dataset, FileID: fileID, Source: source, Rows: p.rows, sketches: p.cols}
	for i, c := range p.cols {
		if internal(p.schema.Columns[i].Name) {
			continue
		}
		cp := ColumnProfile{Name: p.schema.Columns[i].Name, Type: c.typ.String(), Nulls: c.nulls}
		if p.rows > 0 {
			cp.NullShare = math.Round(float64(c.nulls)/float64(p.rows)*1e4) / 1e4
		}
		cp.Distinct, cp.Exact = c.distinct()
		if c.seen {
			lo, hi := string(appendCellText(nil, c.min, c.typ)), string(appendCellText(nil, c.max, c.typ))
			cp.Min, cp.Max = &lo, &hi
		}
		// While no counter was ever evicted the counts are exact; after,
		// only values certain to be frequent are shown (a count above the
		// summary's error bound, n/(k+1)), so a profile does not depend on
		// how the file was split.
		bound := int64(0)
		if c.evicted {
			bound = p.rows / (topCounters + 1)
		}
		for v, n := range c.top {
			if n > bound {
				cp.Top = append(cp.Top, ValueCount{Value: v, Count: n})
			}
		}
		sort.Slice(cp.Top, func(a, b int) bool {
			if cp.Top[a].Count != cp.Top[b].Count {
				return cp.Top[a].Count > cp.Top[b].Count
			}
			return cp.Top[a].Value < cp.Top[b].Value
		})
		if len(cp.Top) > topShown {
			cp.Top = cp.Top[:topShown]
		}
		pr.Columns = append(pr.Columns, cp)
	}
	return pr
}

// less orders two non-null cells of type t.
func less(a, b table.Cell, t table.Type) bool {
	switch t {
	case table.Int, table.Timestamp, table.Date:
		return a.I < b.I
	case table.Float:
		return a.F < b.F
	case table.Bool:
		return !a.B && b.B
	}
	return a.S < b.S
}

// appendCellText is a cell's text in a profile: timestamps and dates in
// RFC 3339 UTC, the rest as star.AppendText writes them.
func appendCellText(b []byte, c table.Cell, t table.Type) []byte {
	switch t {
	case table.String:
		return append(b, c.S...)
	case table.Int:
		return strconv.AppendInt(b, c.I, 10)
	case table.Float:
		return strconv.AppendFloat(b, c.F, 'g', -1, 64)
	case table.Bool:
		return strconv.AppendBool(b, c.B)
	case table.Timestamp:
		return time.UnixMicro(c.I).UTC().AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
	case table.Date:
		return time.Unix(c.I*86400, 0).UTC().AppendFormat(b, "2006-01-02")
	}
	return b
}

// profileKey is where a file's (or chunk's) profile is kept.
func profileKey(dataset, fileID string, chunk *Chunk) string {
	if chunk != nil {
		return fmt.Sprintf("_profiles/%s/%s/c%05d.json", dataset, fileID, chunk.Index)
	}
	return "_profiles/" + dataset + "/" + fileID + ".json"
}

// sketchState is a chunk profile's mergeable state, stored beside it.
type sketchState struct {
	Nulls   int64            `json:"nulls"`
	Seen    bool             `json:"seen"`
	Min     table.Cell       `json:"min"`
	Max     table.Cell       `json:"max"`
	Exact   []string         `json:"exact,omitempty"`
	HLL     []byte           `json:"hll,omitempty"`
	Top     map[string]int64 `json:"top"`
	Evicted bool             `json:"evicted,omitempty"`
}

// storedProfile is a profile as stored: the report, and for a chunk the
// sketches Combine merges.
type storedProfile struct {
	*Profile
	Sketches []sketchState `json:"sketches,omitempty"`
}

func (e *Env) saveProfile(ctx context.Context, p *Profile, chunk *Chunk) error {
	sp := storedProfile{Profile: p}
	if chunk != nil {
		for _, c := range p.sketches {
			st := sketchState{Nulls: c.nulls, Seen: c.seen, Min: c.min, Max: c.max, HLL: c.hll, Top: c.top, Evicted: c.evicted}
			for v := range c.exact {
				st.Exact = append(st.Exact, v)
			}
			sort.Strings(st.Exact)
			sp.Sketches = append(sp.Sketches, st)
		}
	}
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding profile of %s: %w", p.FileID, err)
	}
	key := profileKey(p.Dataset, p.FileID, chunk)
	if _, err := e.Store.Put(ctx, e.Buckets.Staging, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("writing profile s3://%s/%s: %w", e.Buckets.Staging, key, err)
	}
	return nil
}

// LoadProfile reads a file's data profile from the staging bucket.
func (e *Env) LoadProfile(ctx context.Context, dataset, fileID string) (*Profile, error) {
	sp, err := e.loadProfile(ctx, profileKey(dataset, fileID, nil))
	if err != nil {
		return nil, err
	}
	return sp.Profile, nil
}

func (e *Env) loadProfile(ctx context.Context, key string) (*storedProfile, error) {
	body, _, err := e.Store.Get(ctx, e.Buckets.Staging, key)
	if err != nil {
		return nil, fmt.Errorf("reading profile s3://%s/%s: %w", e.Buckets.Staging, key, err)
	}
	defer body.Close()
	sp := &storedProfile{Profile: &Profile{}}
	if err := json.NewDecoder(body).Decode(sp); err != nil {
		return nil, fmt.Errorf("decoding profile %s: %w", key, err)
	}
	return sp, nil
}

// combineProfiles merges the chunk profiles of a split file into the
// file's profile.
func (e *Env) combineProfiles(ctx context.Context, s table.Schema, dataset, fileID, source string, chunks int) error {
	p := newProfiler(s)
	for i := range chunks {
		sp, err := e.loadProfile(ctx, profileKey(dataset, fileID, &Chunk{Index: i}))
		if err != nil {
			return err
		}
		if len(sp.Sketches) != len(p.cols) {
			return fmt.Errorf("profile of chunk %d of %s: %d columns, want %d", i, fileID, len(sp.Sketches), len(p.cols))
		}
		p.rows += sp.Rows
		for j, st := range sp.Sketches {
			o := &columnSketch{typ: p.cols[j].typ, nulls: st.Nulls, seen: st.Seen, min: st.Min, max: st.Max, top: st.Top, hll: st.HLL, evicted: st.Evicted}
			if st.HLL == nil {
				o.exact = map[string]struct{}{}
				for _, v := range st.Exact {
					o.exact[v] = struct{}{}
				}
			}
			p.cols[j].merge(o)
		}
	}
	return e.saveProfile(ctx, p.profile(dataset, fileID, source), nil)
}
