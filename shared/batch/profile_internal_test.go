package batch

import (
	"fmt"
	"math"
	"testing"

	"github.com/pulse-analytics/pulse/shared/table"
)

var profSchema = table.Schema{Name: "T", Columns: []table.Column{{Name: "PLATFORM", Type: table.String}, {Name: "AGE", Type: table.Int}}}

func row(platform string, age int64, ageNull bool) table.Row {
	return table.Row{{S: platform}, {I: age, Null: ageNull}}
}

// TestProfileExact: a small file's profile, every figure checked by hand.
func TestProfileExact(t *testing.T) {
	p := newProfiler(profSchema)
	for _, r := range []table.Row{
		row("YouTube", 30, false), row("TikTok", 19, false), row("YouTube", 0, true),
		row("YouTube", 64, false), row("X", 30, false), {{Null: true}, {I: 22}},
	} {
		p.add(r)
	}
	pr := p.profile("ds", "f1", "raw/ds/f.csv")
	if pr.Rows != 6 {
		t.Fatalf("rows %d, want 6", pr.Rows)
	}
	plat, age := pr.Columns[0], pr.Columns[1]
	if plat.Nulls != 1 || plat.NullShare != 0.1667 || plat.Distinct != 3 || !plat.Exact || *plat.Min != "TikTok" || *plat.Max != "YouTube" {
		t.Errorf("PLATFORM %+v", plat)
	}
	if got := fmt.Sprint(plat.Top); got != "[{YouTube 3} {TikTok 1} {X 1}]" {
		t.Errorf("PLATFORM top %s", got)
	}
	if age.Nulls != 1 || age.Distinct != 4 || *age.Min != "19" || *age.Max != "64" || age.Top[0] != (ValueCount{"30", 2}) {
		t.Errorf("AGE %+v", age)
	}
}

// TestProfileLargeColumns: past the exact set, the distinct count is a
// HyperLogLog estimate within 3%; a value holding 30% of the rows is the
// first of the top values with its count at most n/(k+1) short; and two
// halves profiled apart and merged give the same figures as the whole.
func TestProfileLargeColumns(t *testing.T) {
	const n = 100_000
	whole, a, b := newProfiler(profSchema), newProfiler(profSchema), newProfiler(profSchema)
	for i := range n {
		v := fmt.Sprintf("user-%06d", i)
		if i%10 < 3 {
			v = "heavy"
		}
		r := row(v, int64(i%90), false)
		whole.add(r)
		if i < n/2 {
			a.add(r)
		} else {
			b.add(r)
		}
	}
	for i := range a.cols {
		a.cols[i].merge(b.cols[i])
	}
	a.rows += b.rows
	pw, pm := whole.profile("ds", "f", "s"), a.profile("ds", "f", "s")
	wantDistinct := float64(n*7/10 + 1)
	for _, pr := range []*Profile{pw, pm} {
		c := pr.Columns[0]
		if c.Exact || math.Abs(float64(c.Distinct)-wantDistinct)/wantDistinct > 0.03 {
			t.Errorf("distinct %d (exact %v), want %.0f within 3%%", c.Distinct, c.Exact, wantDistinct)
		}
		if c.Top[0].Value != "heavy" || c.Top[0].Count > n*3/10 || c.Top[0].Count < n*3/10-n/(topCounters+1) {
			t.Errorf("top %+v, want heavy with about %d", c.Top[0], n*3/10)
		}
		if *c.Min != "heavy" || *c.Max != "user-099999" || pr.Rows != n {
			t.Errorf("min %s max %s rows %d", *c.Min, *c.Max, pr.Rows)
		}
		if age := pr.Columns[1]; age.Distinct != 90 || !age.Exact || *age.Max != "89" {
			t.Errorf("AGE %+v", age)
		}
	}
	if pw.Columns[0].Distinct != pm.Columns[0].Distinct {
		t.Errorf("merged halves estimate %d distinct, the whole %d: HyperLogLog merges exactly", pm.Columns[0].Distinct, pw.Columns[0].Distinct)
	}
}
