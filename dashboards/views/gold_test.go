package views_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestGoldViews checks GOLD_DAU_MAU and GOLD_SESSION_STATS against active
// user sets counted in Go: 45 consecutive days plus one day a year and a
// half earlier (computed, but outside "the past year"), and days computed
// without data after them (computed, but after the newest day with data).
func TestGoldViews(t *testing.T) {
	ctx := context.Background()
	wh := openStream(t)
	first := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	ancient := first.AddDate(-1, -6, 0)
	active := map[string]map[string]bool{} // day -> users
	var facts []table.Row
	add := func(user string, at time.Time) {
		d := at.Format("2006-01-02")
		if active[d] == nil {
			active[d] = map[string]bool{}
		}
		active[d][user] = true
		facts = append(facts, row(t, star.FactAppInteractions, map[string]table.Cell{
			"INTERACTION_ID": table.Str(fmt.Sprint(user, at.UnixMicro())), "USER_ID": table.Str(user),
			"EVENT_TIME": table.Int64(at.UnixMicro()), "EVENT_DATE": table.Int64(at.Unix() / 86400),
			"ACTION_TYPE": table.Str("edit"), "DURATION_MS": table.Int64(1000),
		}))
	}
	for d := 0; d < 45; d++ {
		for u := 0; u < 20; u++ {
			if (d*7+u*3)%11 < 3 && d%9 != 4 { // every 9th day from day 4 has no activity
				day := first.AddDate(0, 0, d)
				add(fmt.Sprintf("U%02d", u), day.Add(time.Duration(u)*time.Hour))
				add(fmt.Sprintf("U%02d", u), day.Add(time.Duration(u)*time.Hour+10*time.Minute))
			}
		}
	}
	add("OLD", ancient.Add(time.Hour))
	merge(t, wh, star.FactAppInteractions, facts)
	if _, err := gold.Day(ctx, wh, ancient, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := gold.Backfill(ctx, wh, first, first.AddDate(0, 0, 44), gold.BackfillOptions{Parallel: 3}); err != nil {
		t.Fatal(err)
	}
	// Days computed without data after the last day with data (a future
	// date, a scheduled run over quiet days) do not move the past year.
	for _, empty := range []time.Time{first.AddDate(0, 0, 46), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := gold.Day(ctx, wh, empty, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	rows := query(t, wh, "SELECT strftime(DAY, '%Y-%m-%d'), DAU, WAU, MAU, DAU_MAU_RATIO, MAU_DAYS_COMPUTED FROM GOLD_DAU_MAU ORDER BY DAY")
	if len(rows) != 45 {
		t.Fatalf("GOLD_DAU_MAU has %d days, want the 45 of the past year", len(rows))
	}
	distinct := func(day time.Time, n int) int64 {
		set := map[string]bool{}
		for k := 0; k < n; k++ {
			for u := range active[day.AddDate(0, 0, -k).Format("2006-01-02")] {
				set[u] = true
			}
		}
		return int64(len(set))
	}
	empty := 0
	for i, r := range rows {
		day := first.AddDate(0, 0, i)
		dau, wau, mau := int64(len(active[day.Format("2006-01-02")])), distinct(day, 7), distinct(day, 30)
		if dau == 0 {
			empty++
		}
		var ratio any
		if mau > 0 {
			ratio = float64(dau) / float64(mau)
		}
		if r[0] != day.Format("2006-01-02") || r[1] != dau || r[2] != wau || r[3] != mau || fmt.Sprint(r[4]) != fmt.Sprint(ratio) ||
			r[5] != int64(min(i+1, 30)) {
			t.Errorf("GOLD_DAU_MAU %v, want DAU %d WAU %d MAU %d ratio %v days %d", r, dau, wau, mau, ratio, min(i+1, 30))
		}
	}
	if empty < 4 {
		t.Fatalf("only %d days without activity", empty)
	}
	rows = query(t, wh, "SELECT COUNT(*), SUM(SESSIONS), SUM(USERS), SUM(ACTIONS), MIN(AVG_SESSION_SECONDS), MAX(AVG_SESSION_SECONDS) FROM GOLD_SESSION_STATS")
	var users int64
	for d, set := range active {
		if d != ancient.Format("2006-01-02") {
			users += int64(len(set))
		}
	}
	// Each user's two actions of a day are 10 minutes apart: one 600 s session.
	if want := fmt.Sprint([]any{int64(45), users, users, 2 * users, 600.0, 600.0}); fmt.Sprint(rows[0]) != want {
		t.Errorf("GOLD_SESSION_STATS totals %v, want %s", rows[0], want)
	}
}
