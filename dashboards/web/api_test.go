package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestDetailEqualsView: with no filter, every panel's detail aggregation
// (seed 000 over the star schema, seed 001 over FACT_SOCIAL_SALES and
// SOCIAL_PLATFORM_METRICS, seed 004 over PAGEVIEWS, the movie mart over
// the events) gives exactly the named view's rows, so a filtered panel
// re-aggregates the same numbers the view shows.
func TestDetailEqualsView(t *testing.T) {
	ctx := context.Background()
	var names []string
	for _, p := range Catalog {
		names = append(names, p.View)
	}
	cols, err := discover(ctx, fx.st.Warehouse, names)
	if err != nil {
		t.Fatal(err)
	}
	checked, details := 0, 0
	for _, p := range Catalog {
		if p.Detail != nil {
			details++
		}
		c, ok := cols[p.View]
		if p.Detail == nil || !ok {
			continue
		}
		t.Run(p.View, func(t *testing.T) {
			_, want, err := fx.st.Warehouse.Query(ctx, "SELECT * FROM "+p.View)
			if err != nil {
				t.Fatal(err)
			}
			sql, args, err := expand(p.Detail.SQL, Filters{}, nil)
			if err != nil || len(args) != 0 {
				t.Fatalf("expanding with no filter: %v, %d arguments", err, len(args))
			}
			names, got, err := fx.st.Warehouse.Query(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range names {
				if !strings.EqualFold(n, c[i].Name) {
					t.Fatalf("detail column %d is %s, the view's is %s", i+1, n, c[i].Name)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s is empty: the comparison proves nothing", p.View)
			}
			sameRows(t, p.View, got, want)
			// A panel with no filter reads the named view itself.
			d, err := readPanel(ctx, fx.st.Warehouse, p, c, Filters{}, fx.now)
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != p.View {
				t.Errorf("unfiltered source = %q, want the view", d.Source)
			}
			sameRows(t, p.View+" as the panel reads it", d.Rows, want)
		})
		checked++
	}
	if checked != details || checked < 13 {
		t.Errorf("compared %d panels of the %d with a detail", checked, details)
	}
}

// TestPlatformFilterMatchesGenerator: filtered by platform, the panels sum
// to what the generator says it wrote for that platform: on day 1 for the
// datasets with event times (day 2 and the stream have more of them), over
// all days for video interactions (only day 1's file has them; they carry
// no event time), plus the stream's video interactions (which do).
func TestPlatformFilterMatchesGenerator(t *testing.T) {
	timed, video := map[string]float64{}, map[string]float64{}
	for _, tr := range fx.day1 {
		m := timed
		if tr.Dataset == "video_interactions" {
			m = video
		} else if tr.Dataset != "community_interactions" && tr.Dataset != "live_streaming" {
			continue
		}
		for p, v := range tr.Engagement {
			m[p] += v
		}
	}
	if len(timed) < 3 || len(video) < 3 {
		t.Fatalf("generator wrote %d and %d platforms", len(timed), len(video))
	}
	for p, v := range timed {
		q := url.Values{"platform": {p}, "from": {"2024-02-03"}, "to": {"2024-02-03"}}.Encode()
		for _, view := range []string{"ENGAGEMENT_BY_AGE_GROUP", "ENGAGEMENT_BY_HOUR", "ENGAGEMENT_BY_PLATFORM"} {
			d := panel(t, view, q)
			if got := column(t, d, "TOTAL_ENGAGEMENT"); !near(got, v) {
				t.Errorf("%s for %s on day 1: total engagement %.4f, generator says %.4f", view, p, got, v)
			}
			if strings.Join(d.Applied, ",") != "platform,date" || len(d.NotApplied) != 0 {
				t.Errorf("%s: applied %v, not applied %v", view, d.Applied, d.NotApplied)
			}
			if d.Source != "re-aggregated from V_ENGAGEMENT" {
				t.Errorf("%s: source %q", view, d.Source)
			}
		}
	}
	anyStreamed := false
	for p, v := range video {
		d := panel(t, "VIDEO_ENGAGEMENT_BY_WATCH_REASON", "platform="+url.QueryEscape(p))
		streamed := scalar(t, `SELECT COALESCE(SUM(f.ENGAGEMENT), 0) FROM FACT_VIDEO_INTERACTIONS f
		  JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID WHERE p.PLATFORM = ? AND f.EVENT_TIME IS NOT NULL`, p)
		anyStreamed = anyStreamed || streamed > 0
		if got := column(t, d, "TOTAL_ENGAGEMENT"); !near(got, v+streamed) {
			t.Errorf("video engagement for %s: %.4f, generator says %.4f, the stream's facts %.4f", p, got, v, streamed)
		}
		if d.Source != "re-aggregated from FACT_VIDEO_INTERACTIONS" {
			t.Errorf("video: source %q", d.Source)
		}
	}
	if !anyStreamed {
		t.Error("no streamed video interaction on a batch file's platform: the check proves little")
	}
}

// TestGroupKeyFilterEqualsView: filtering by a view's own group key gives
// exactly that view's rows for the key (platform on ENGAGEMENT_BY_PLATFORM,
// age group on ENGAGEMENT_BY_AGE_GROUP), and the numbers change.
func TestGroupKeyFilterEqualsView(t *testing.T) {
	for _, c := range []struct{ view, param, col string }{
		{"ENGAGEMENT_BY_PLATFORM", "platform", "PLATFORM"},
		{"ENGAGEMENT_BY_AGE_GROUP", "age_group", "AGE_GROUP"},
	} {
		all := panel(t, c.view, "")
		i := index(all.Columns, c.col)
		value := all.Rows[len(all.Rows)-1][i].(string)
		var want [][]any
		for _, r := range all.Rows {
			if r[i] == value {
				want = append(want, r)
			}
		}
		d := panel(t, c.view, url.Values{c.param: {value}}.Encode())
		sameRows(t, c.view+" "+c.param+"="+value, d.Rows, want)
		if *d.Total == *all.Total || *d.Total == 0 {
			t.Errorf("%s: filtered total %v, unfiltered %v: the filter changed nothing", c.view, *d.Total, *all.Total)
		}
	}
}

// TestFiltersAcrossPanels: the age-group filter narrows the platform panel
// to exactly the interactions the age panel shows for that group.
func TestFiltersAcrossPanels(t *testing.T) {
	byAge := panel(t, "ENGAGEMENT_BY_AGE_GROUP", "")
	i, src, n := index(byAge.Columns, "AGE_GROUP"), index(byAge.Columns, "SOURCE"), index(byAge.Columns, "INTERACTIONS")
	group, most := "", 0.0
	for _, r := range byAge.Rows { // the group with the most community interactions
		if x, _ := number(r[n]); r[src] == "community" && x > most {
			group, most = r[i].(string), x
		}
	}
	var want float64
	for _, r := range byAge.Rows {
		if r[i] == group {
			x, _ := number(r[index(byAge.Columns, "INTERACTIONS")])
			want += x
		}
	}
	for _, view := range []string{"ENGAGEMENT_BY_PLATFORM", "ENGAGEMENT_BY_HOUR"} {
		d := panel(t, view, "age_group="+url.QueryEscape(group))
		if *d.Total != want {
			t.Errorf("%s with age group %s: %v interactions, ENGAGEMENT_BY_AGE_GROUP says %v", view, group, *d.Total, want)
		}
	}
	// The community panel under the same filter counts community facts of
	// users in that group, computed here straight from the star schema.
	d := panel(t, "COMMUNITY_TRENDS", "age_group="+url.QueryEscape(group))
	facts := scalar(t, "SELECT COUNT(*) FROM FACT_COMMUNITY_INTERACTIONS f JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID WHERE u.AGE_GROUP = ?", group)
	if got := column(t, d, "INTERACTIONS"); got != facts || facts == 0 {
		t.Errorf("COMMUNITY_TRENDS with age group %s: %v interactions, the facts have %v", group, got, facts)
	}
}

// TestDateFilter: a day narrows the panels to that day's facts.
func TestDateFilter(t *testing.T) {
	day2Facts := scalar(t, `SELECT (SELECT COUNT(*) FROM FACT_COMMUNITY_INTERACTIONS WHERE EVENT_TIME >= TIMESTAMP '2024-02-04 00:00:00' AND EVENT_TIME < TIMESTAMP '2024-02-05 00:00:00')
	  + (SELECT COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS WHERE EVENT_TIME >= TIMESTAMP '2024-02-04 00:00:00' AND EVENT_TIME < TIMESTAMP '2024-02-05 00:00:00')
	  + (SELECT COUNT(*) FROM FACT_VIDEO_INTERACTIONS WHERE EVENT_TIME >= TIMESTAMP '2024-02-04 00:00:00' AND EVENT_TIME < TIMESTAMP '2024-02-05 00:00:00')`)
	all := panel(t, "ENGAGEMENT_BY_PLATFORM", "")
	d := panel(t, "ENGAGEMENT_BY_PLATFORM", "from=2024-02-04&to=2024-02-04")
	if *d.Total != day2Facts || day2Facts == 0 || day2Facts == *all.Total {
		t.Errorf("day 2: %v interactions, the facts have %v (all days %v)", *d.Total, day2Facts, *all.Total)
	}
	open := panel(t, "ENGAGEMENT_BY_PLATFORM", "from=2024-02-04&to=2024-02-04")
	if *open.Total != day2Facts {
		t.Errorf("day 2 alone: %v interactions, want %v", *open.Total, day2Facts)
	}
	// Video interactions carry no event time, so a date range leaves them out.
	undated := scalar(t, "SELECT COUNT(*) FROM V_ENGAGEMENT WHERE EVENT_TIME IS NULL")
	batchVideo := 0
	for _, tr := range fx.day1 {
		if tr.Dataset == "video_interactions" {
			batchVideo += tr.Loaded
		}
	}
	if undated != float64(batchVideo) || undated == 0 {
		t.Errorf("%v undated interactions, want every batch video interaction (%d)", undated, batchVideo)
	}
	streamed := scalar(t, "SELECT COUNT(*) FROM V_ENGAGEMENT WHERE EVENT_TIME >= TIMESTAMP '2024-02-05 00:00:00'")
	before := panel(t, "ENGAGEMENT_BY_PLATFORM", "to=2024-02-03")
	if *before.Total+day2Facts+undated+streamed != *all.Total || streamed == 0 {
		t.Errorf("up to day 1: %v interactions, want %v", *before.Total, *all.Total-day2Facts-undated-streamed)
	}
	none := panel(t, "ENGAGEMENT_BY_PLATFORM", "from=2030-01-01")
	if len(none.Rows) != 0 {
		t.Errorf("a day without data gave %d rows", len(none.Rows))
	}
}

// TestFilterValuesAreBound: filter values travel as query arguments and
// never reach the SQL text, so quotes and SQL in them are just values.
func TestFilterValuesAreBound(t *testing.T) {
	evil := "X' OR '1'='1"
	d := panel(t, "ENGAGEMENT_BY_PLATFORM", url.Values{"platform": {evil}, "age_group": {"'; DROP TABLE DIM_USER; --"}}.Encode())
	if len(d.Rows) != 0 {
		t.Errorf("an unknown platform matched %d rows", len(d.Rows))
	}
	if n := scalar(t, "SELECT COUNT(*) FROM DIM_USER"); n == 0 {
		t.Error("DIM_USER is empty")
	}
	for _, p := range Catalog {
		sql, args, _, err := panelQuery(p, []Column{{"PLATFORM", typeText}, {"AGE_GROUP", typeText}, {"DAY", typeTime}},
			Filters{Platforms: []string{evil}, AgeGroups: []string{"zz"}, From: day1, To: day2})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sql, "OR '1'") || strings.Contains(sql, "zz") || strings.Contains(sql, "2024") {
			t.Errorf("%s: a filter value is in the SQL: %s", p.View, sql)
		}
		if strings.Count(sql, "?") != len(args) {
			t.Errorf("%s: %d placeholders, %d arguments: %s", p.View, strings.Count(sql, "?"), len(args), sql)
		}
	}
}

func TestBadRequests(t *testing.T) {
	for _, c := range []struct {
		path, want string
		code       int
	}{
		{"/api/panels/ENGAGEMENT_BY_PLATFORM?from=2024-13-01", "from: want a day as YYYY-MM-DD", http.StatusBadRequest},
		{"/api/panels/ENGAGEMENT_BY_PLATFORM?from=2024-02-04&to=2024-02-03", "to: 2024-02-03 is before from 2024-02-04", http.StatusBadRequest},
		{"/api/panels/ENGAGEMENT_BY_PLATFORM?platform=" + strings.Repeat("x", 201), "platform: value longer than 200", http.StatusBadRequest},
		{"/api/panels/NO_SUCH_VIEW", `no panel reads a view named "NO_SUCH_VIEW"`, http.StatusNotFound},
	} {
		var body map[string]string
		if code := get(t, c.path, &body); code != c.code || !strings.Contains(body["error"], c.want) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, code, body["error"], c.code, c.want)
		}
	}
}

// TestPanelsList: the list holds exactly the catalog panels whose views
// exist, with the filters each takes; the rest are listed as missing.
func TestPanelsList(t *testing.T) {
	var list struct {
		Panels  []PanelInfo `json:"panels"`
		Missing []string    `json:"missing"`
	}
	get(t, "/api/panels", &list)
	var got []string
	for _, p := range list.Panels {
		got = append(got, p.View)
		if p.Group == "engagement" && strings.Join(p.Filters, ",") != "platform,age_group,date" {
			t.Errorf("%s: filters %v", p.View, p.Filters)
		}
	}
	exists := map[string]bool{}
	for _, v := range got {
		exists[v] = true
	}
	for _, p := range Catalog {
		n := scalar(t, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = ?", p.View)
		if (n > 0) != exists[p.View] {
			t.Errorf("%s: listed %v, in the warehouse %v", p.View, exists[p.View], n > 0)
		}
	}
	if len(got)+len(list.Missing) != len(Catalog) || len(got) < 6 {
		t.Errorf("%d panels + %d missing, catalog has %d", len(got), len(list.Missing), len(Catalog))
	}
}

// TestFilterOptions: the platforms are those the batch generator and the
// simulator wrote (canonicalized as cleaning does), the age groups those of
// DIM_USER and of the stream users' ages, and the days span the batch
// files, the stream and the gold days.
func TestFilterOptions(t *testing.T) {
	var o FilterOptions
	get(t, "/api/filters", &o)
	platforms := map[string]bool{}
	for _, tr := range append(append([]*batchgen.Truth{}, fx.day1...), fx.day2...) {
		for p := range tr.Platforms {
			platforms[p] = true
		}
	}
	for _, ev := range fx.stream.events {
		for _, field := range []string{"Platform", "Sosial_Media"} {
			if v, ok := ev.Record[field].(string); ok {
				for _, p := range dataset.Platforms {
					if strings.EqualFold(strings.TrimSpace(v), p) {
						platforms[p] = true
					}
				}
			}
		}
	}
	var want []string
	for p := range platforms {
		want = append(want, p)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(o.Platforms, want) {
		t.Errorf("platforms %v, the generators wrote %v", o.Platforms, want)
	}
	groups := map[string]bool{}
	for _, q := range []string{"SELECT DISTINCT AGE_GROUP FROM DIM_USER", "SELECT AGE FROM CLEANED_USERS", "SELECT AGE FROM CONSUMER_USERS WHERE AGE IS NOT NULL"} {
		_, rows, err := fx.st.Warehouse.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if a, ok := r[0].(int64); ok {
				groups[dataset.AgeGroup(table.Int64(a))] = true
			} else {
				groups[str(r[0])] = true
			}
		}
	}
	if len(o.AgeGroups) != len(groups) || len(groups) < 7 {
		t.Errorf("age groups %v, want %v", o.AgeGroups, groups)
	}
	if o.MinDay != "2024-02-03" || o.MaxDay != "2024-02-06" {
		t.Errorf("days %s to %s, want 2024-02-03 to 2024-02-06", o.MinDay, o.MaxDay)
	}
	// Each section's own span, per path: the batch files' days (the gold
	// days of the app interactions, 2024-02-03 to 05), and the simulator's
	// evening of 2024-02-05 to 06.
	var batchMax time.Time
	for _, f := range []string{"FACT_COMMUNITY_INTERACTIONS", "FACT_LIVE_STREAMING_INTERACTIONS", "FACT_VIDEO_INTERACTIONS"} {
		_, rows, err := fx.st.Warehouse.Query(context.Background(), "SELECT MAX(EVENT_TIME) FROM "+f+" WHERE SOURCE LIKE 'raw/%'")
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := rows[0][0].(time.Time); ok && v.After(batchMax) {
			batchMax = v
		}
	}
	stream := []Span{{Kind: SpanStream, MinDay: "2024-02-05", MaxDay: "2024-02-06"}}
	wantSpans := map[string][]Span{
		"engagement": {{Kind: SpanBatch, MinDay: "2024-02-03", MaxDay: batchMax.UTC().Format(time.DateOnly)}, stream[0]},
		"social":     stream, "pageviews": stream, "consumer": stream,
		"app": {{Kind: SpanBatch, MinDay: "2024-02-03", MaxDay: "2024-02-05"}},
	}
	if !reflect.DeepEqual(o.Spans, wantSpans) || batchMax.Before(day2) {
		t.Errorf("spans %+v, want %+v", o.Spans, wantSpans)
	}
}
