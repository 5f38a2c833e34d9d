package views_test

import (
	"fmt"
	"testing"

	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestEngagementOverview: ENGAGEMENT_OVERVIEW, the seed 000 name the
// Metabase overview reads, has one row per platform and source with the
// interactions, total and average engagement of that source's facts,
// written here by hand.
func TestEngagementOverview(t *testing.T) {
	wh := openStream(t)
	s, i, f := table.Str, table.Int64, table.Float64
	merge(t, wh, star.DimPlatform, []table.Row{
		row(t, star.DimPlatform, map[string]table.Cell{"PLATFORM_ID": s("p1"), "PLATFORM": s("YouTube")}),
		row(t, star.DimPlatform, map[string]table.Cell{"PLATFORM_ID": s("p2"), "PLATFORM": s("Twitch")}),
	})
	merge(t, wh, star.DimUser, []table.Row{
		row(t, star.DimUser, map[string]table.Cell{"USER_S_ID": s("u1"), "USER_ID": s("1"), "AGE": i(30), "AGE_GROUP": s("25-34")}),
	})
	merge(t, wh, star.DimTime, []table.Row{
		row(t, star.DimTime, map[string]table.Cell{"TIME_ID": s("t1"), "WATCH_TIME": s("10:00"), "HOUR": i(10)}),
	})
	community := func(id, platform string, e float64) table.Row {
		return row(t, star.FactCommunityInteractions, map[string]table.Cell{"INTERACTION_ID": s(id), "USER_S_ID": s("u1"),
			"PLATFORM_ID": s(platform), "COMMUNITY_ENGAGEMENT": f(e), "HOUR": i(9)})
	}
	merge(t, wh, star.FactCommunityInteractions, []table.Row{community("c1", "p1", 3), community("c2", "p1", 5)})
	live := func(id, platform string, e float64) table.Row {
		return row(t, star.FactLiveStreamingInteractions, map[string]table.Cell{"INTERACTION_ID": s(id), "USER_S_ID": s("u1"),
			"PLATFORM_ID": s(platform), "TIME_ID": s("t1"), "LIVE_ENGAGEMENT": f(e)})
	}
	merge(t, wh, star.FactLiveStreamingInteractions, []table.Row{live("l1", "p1", 40), live("l2", "p2", 60), live("l3", "p2", 20)})
	merge(t, wh, star.FactVideoInteractions, []table.Row{row(t, star.FactVideoInteractions, map[string]table.Cell{
		"INTERACTION_ID": s("v1"), "USER_S_ID": s("u1"), "PLATFORM_ID": s("p2"), "TIME_ID": s("t1"), "ENGAGEMENT": f(4500)})})

	want := map[string]string{ // platform/source: interactions, total, average
		"YouTube/community":      "2 8 4",
		"YouTube/live_streaming": "1 40 40",
		"Twitch/live_streaming":  "2 80 40",
		"Twitch/video":           "1 4500 4500",
	}
	rows := query(t, wh, "SELECT PLATFORM, SOURCE, INTERACTIONS, TOTAL_ENGAGEMENT, AVG_ENGAGEMENT FROM ENGAGEMENT_OVERVIEW")
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		k := fmt.Sprint(r[0], "/", r[1])
		if got := fmt.Sprint(num(r[2]), num(r[3]), num(r[4])); got != want[k] {
			t.Errorf("%s: %s, want %s", k, got, want[k])
		}
	}
	// The same rows as ENGAGEMENT_BY_PLATFORM, Pulse's per-dashboard name.
	if n := query(t, wh, `SELECT COUNT(*) FROM ((SELECT * FROM ENGAGEMENT_OVERVIEW EXCEPT SELECT * FROM ENGAGEMENT_BY_PLATFORM)
	   UNION ALL (SELECT * FROM ENGAGEMENT_BY_PLATFORM EXCEPT SELECT * FROM ENGAGEMENT_OVERVIEW)) d`)[0][0]; num(n) != 0 {
		t.Errorf("%v rows differ between ENGAGEMENT_OVERVIEW and ENGAGEMENT_BY_PLATFORM", n)
	}
}
