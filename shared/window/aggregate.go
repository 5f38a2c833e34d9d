package window

import (
	"sort"
	"strings"
)

// Acc is the running state of one window's aggregate. An aggregate keeps
// all its state in these fields (snapshots serialise them and nothing
// else). Each field has a merge rule, used when session windows merge:
// Count and Sum add, Max takes the larger and Min the smaller of the
// accumulators that saw an event (Count > 0), Distinct is a set union.
type Acc struct {
	Count    int64               // events folded in
	Sum      float64             // sum of Event.Value
	Max      float64             // largest Event.Value; meaningful when Count > 0
	Min      float64             // smallest Event.Value; meaningful when Count > 0 (kept by Min)
	Distinct map[string]struct{} // distinct Event.Distinct values
}

// Merge folds src into a by the fields' merge rules (see Acc).
func (a *Acc) Merge(src *Acc) {
	if src.Count > 0 && (a.Count == 0 || src.Max > a.Max) {
		a.Max = src.Max
	}
	if src.Count > 0 && (a.Count == 0 || src.Min < a.Min) {
		a.Min = src.Min
	}
	a.Count += src.Count
	a.Sum += src.Sum
	if len(src.Distinct) > 0 {
		if a.Distinct == nil {
			a.Distinct = make(map[string]struct{}, len(src.Distinct))
		}
		for k := range src.Distinct {
			a.Distinct[k] = struct{}{}
		}
	}
}

// Value is the aggregate's current value.
func (a *Acc) Value() AggregateValue {
	v := AggregateValue{Count: a.Count, Distinct: int64(len(a.Distinct)), Sum: a.Sum, Max: a.Max, Min: a.Min}
	if a.Count > 0 {
		v.Avg = a.Sum / float64(a.Count)
	}
	return v
}

// AggregateValue is the value of one window. Which fields mean something
// depends on the aggregate: Count for all built-ins, Distinct for
// DistinctCount and All, Sum and Avg for Sum, Avg, Min and All, Max for
// Max, Min and All, Min for Min only.
type AggregateValue struct {
	Count    int64
	Distinct int64
	Sum      float64
	Avg      float64 // Sum / Count, 0 when Count is 0
	Max      float64
	Min      float64
}

// Aggregate folds one event into a window's accumulator. Implementations
// keep all their state in Acc.
//
// When two session windows merge, their accumulators merge: by the
// aggregate's own Merge if it implements Merger, else by Acc.Merge, the
// fields' fixed rules. Acc.Merge gives the accumulator of all the events
// of both sides exactly when Add uses each field the way it merges: it
// only adds to Count and Sum, raises Max, lowers Min (Max and Min set on
// the first event, when Count is still 0) and inserts into Distinct. Every
// built-in does; a custom aggregate that uses a field otherwise (a last
// value, a product, a ratio kept in Sum) must implement Merger.
type Aggregate interface {
	// Name identifies the aggregate in snapshots: a snapshot restores only
	// into an engine with the same aggregate name and assigners.
	Name() string
	// Add folds e into acc.
	Add(acc *Acc, e *Event)
}

// Merger is an Aggregate with its own rule for merging two accumulators
// of merging session windows. dst belongs to the earlier session: every
// event folded into src is later in event time than every event folded
// into dst (sessions are disjoint until an event bridges them). After
// Merge, dst must be the accumulator of the events of both.
type Merger interface {
	Merge(dst, src *Acc)
}

// AggregateFunc adapts functions to Aggregate (and Merger).
type AggregateFunc struct {
	ID string
	F  func(acc *Acc, e *Event)
	// M merges src into dst when sessions merge (see Merger); nil means
	// Acc.Merge, which is right only if F uses each Acc field the way
	// Acc.Merge merges it (see Aggregate).
	M func(dst, src *Acc)
}

// Name returns f.ID.
func (f AggregateFunc) Name() string { return f.ID }

// Add calls f.F.
func (f AggregateFunc) Add(acc *Acc, e *Event) { f.F(acc, e) }

// Merge calls f.M, or dst.Merge(src) when M is nil.
func (f AggregateFunc) Merge(dst, src *Acc) {
	if f.M != nil {
		f.M(dst, src)
		return
	}
	dst.Merge(src)
}

// merge merges accumulators by agg's rule.
func merge(agg Aggregate, dst, src *Acc) {
	if m, ok := agg.(Merger); ok {
		m.Merge(dst, src)
		return
	}
	dst.Merge(src)
}

func addCount(acc *Acc, _ *Event) { acc.Count++ }

func addDistinct(acc *Acc, e *Event) {
	acc.Count++
	if acc.Distinct == nil {
		acc.Distinct = make(map[string]struct{}, 4)
	}
	acc.Distinct[e.Distinct] = struct{}{}
}

func addSum(acc *Acc, e *Event) {
	if acc.Count == 0 || e.Value > acc.Max {
		acc.Max = e.Value
	}
	acc.Count++
	acc.Sum += e.Value
}

func addMin(acc *Acc, e *Event) {
	if acc.Count == 0 || e.Value < acc.Min {
		acc.Min = e.Value
	}
	addSum(acc, e)
}

func addAll(acc *Acc, e *Event) {
	addSum(acc, e)
	if acc.Distinct == nil {
		acc.Distinct = make(map[string]struct{}, 4)
	}
	acc.Distinct[e.Distinct] = struct{}{}
}

// Count counts events.
func Count() Aggregate { return AggregateFunc{ID: "count", F: addCount} }

// DistinctCount counts distinct Event.Distinct values (e.g. user_id); Count
// also holds the number of events.
func DistinctCount() Aggregate { return AggregateFunc{ID: "distinct", F: addDistinct} }

// Sum sums Event.Value; Count, Avg and Max come with it.
func Sum() Aggregate { return AggregateFunc{ID: "sum", F: addSum} }

// Avg averages Event.Value as Sum/Count; it is Sum under another name.
func Avg() Aggregate { return AggregateFunc{ID: "avg", F: addSum} }

// Max keeps the largest Event.Value; it is Sum under another name.
func Max() Aggregate { return AggregateFunc{ID: "max", F: addSum} }

// Min keeps the smallest Event.Value; Count, Sum, Avg and Max come with
// it. (Only Min keeps Acc.Min: the other built-ins, All included, keep
// the state their snapshots have always had.)
func Min() Aggregate { return AggregateFunc{ID: "min", F: addMin} }

// All keeps count, sum, avg, max and distinct at once (not min: use Min).
func All() Aggregate { return AggregateFunc{ID: "all", F: addAll} }

// KeySep joins the parts of a composite group key, e.g. "Facebook|Bogor".
const KeySep = "|"

// JoinKey joins parts with KeySep. Parts must not contain KeySep.
func JoinKey(parts ...string) string { return strings.Join(parts, KeySep) }

// Top is the best member of one group in one window, as chosen by TopBy.
type Top struct {
	Assigner string
	Group    string
	Member   string
	Window   Window
	Value    AggregateValue
	Final    bool
}

// TopBy answers "max-by" questions such as the top city per platform by
// distinct users or by sales. Run the engine keyed by JoinKey(platform,
// city), then pass its results here: TopBy splits each key at its first
// KeySep into group (platform) and member (city) and keeps, per assigner,
// group and window, the member with the largest metric; ties go to the
// smaller member name. Final is true only if every candidate was final.
// Keys without KeySep are their own group with member "". The output is
// sorted by assigner, group and window start.
func TopBy(results []Result, metric func(AggregateValue) float64) []Top {
	type gk struct {
		assigner, group string
		start, end      int64
	}
	best := make(map[gk]*Top)
	var order []gk
	for _, r := range results {
		group, member, _ := strings.Cut(r.Key, KeySep)
		k := gk{r.Assigner, group, r.Window.Start.UnixNano(), r.Window.End.UnixNano()}
		cur, ok := best[k]
		if !ok {
			best[k] = &Top{Assigner: r.Assigner, Group: group, Member: member, Window: r.Window, Value: r.Value, Final: r.Final}
			order = append(order, k)
			continue
		}
		cur.Final = cur.Final && r.Final
		m, c := metric(r.Value), metric(cur.Value)
		if m > c || (m == c && member < cur.Member) {
			cur.Member, cur.Value = member, r.Value
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.assigner != b.assigner {
			return a.assigner < b.assigner
		}
		if a.group != b.group {
			return a.group < b.group
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end < b.end
	})
	out := make([]Top, len(order))
	for i, k := range order {
		out[i] = *best[k]
	}
	return out
}
