package metabase

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
)

func titles() map[string]string {
	m := map[string]string{}
	for _, v := range views.All() {
		m[v.Name] = v.Title
	}
	return m
}

func specs(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds {
		if err := ds[i].Validate(titles()); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

// TestSpecsCoverEveryDashboardView: every seed dashboard view has a card,
// refreshes every 60 s, and every filter is wired.
func TestSpecsCoverEveryDashboardView(t *testing.T) {
	read := map[string]bool{}
	for _, d := range specs(t) {
		if d.RefreshSeconds != 60 {
			t.Errorf("%s refreshes every %d s", d.Key, d.RefreshSeconds)
		}
		for _, c := range d.Cards {
			read[c.View] = true
		}
	}
	// The seed's overview is read under the seed's name (section 3.5).
	if !read["ENGAGEMENT_OVERVIEW"] {
		t.Error("no Metabase card reads ENGAGEMENT_OVERVIEW, the view seed 000's dashboards read")
	}
	for _, v := range views.All() {
		switch v.Name {
		case "V_ENGAGEMENT", "MART_PURCHASES": // bases of other views
			continue
		case "ENGAGEMENT_BY_PLATFORM": // ENGAGEMENT_OVERVIEW's rows under Pulse's name (the web dashboard's)
			continue
		}
		if !read[v.Name] {
			t.Errorf("no Metabase card reads %s (%s)", v.Name, v.Title)
		}
	}
}

// TestCardQueriesRun runs every card's SQL on DuckDB over the real views,
// without filters and with each filter set, as Metabase would substitute it.
func TestCardQueriesRun(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Setup(ctx, wh); err != nil {
		t.Fatal(err)
	}
	for _, d := range specs(t) {
		all := map[string]string{}
		for _, f := range d.Filters {
			all[f.Slug] = f.Values[0]
		}
		for _, c := range d.Cards {
			for _, vals := range []map[string]string{nil, all} {
				q := d.RenderSQL(c, vals)
				if strings.Contains(q, "{{") || strings.Contains(q, "[[") {
					t.Errorf("%s/%s: unrendered %s", d.Key, c.Key, q)
				}
				if _, _, err := wh.Query(ctx, q); err != nil {
					t.Errorf("%s/%s: %v", d.Key, c.Key, err)
				}
			}
		}
	}
}

func TestRenderSQL(t *testing.T) {
	d := Dashboard{Filters: []Filter{{Slug: "platform"}, {Slug: "window_type", Default: "tumbling"}}}
	c := Card{Query: "SELECT * FROM V WHERE W = {{window_type}} [[AND PLATFORM = {{platform}}]]"}
	if got, want := d.RenderSQL(c, nil), "SELECT * FROM V WHERE W = 'tumbling' "; got != want {
		t.Errorf("no values: %q, want %q", got, want)
	}
	if got, want := d.RenderSQL(c, map[string]string{"platform": "O'Neil", "window_type": "session"}),
		"SELECT * FROM V WHERE W = 'session' AND PLATFORM = 'O''Neil'"; got != want {
		t.Errorf("values: %q, want %q", got, want)
	}
}

func TestValidateRejects(t *testing.T) {
	base := func() Dashboard {
		return Dashboard{Key: "k", Name: "n", RefreshSeconds: 60, Filters: []Filter{{Slug: "platform", Name: "Platform"}},
			Cards: []Card{{Key: "c", View: "ENGAGEMENT_BY_PLATFORM", Query: "SELECT * FROM ENGAGEMENT_BY_PLATFORM WHERE 1 = 1 [[AND PLATFORM = {{platform}}]]"}}}
	}
	for name, mutate := range map[string]func(d *Dashboard){
		"unknown view":    func(d *Dashboard) { d.Cards[0].View = "NOPE" },
		"query elsewhere": func(d *Dashboard) { d.Cards[0].Query = "SELECT 1 [[AND P = {{platform}}]]" },
		"unknown tag":     func(d *Dashboard) { d.Cards[0].Query += " [[AND X = {{x}}]]" },
		"required tag": func(d *Dashboard) {
			d.Cards[0].Query = "SELECT * FROM ENGAGEMENT_BY_PLATFORM WHERE PLATFORM = {{platform}}"
		},
		"unwired filter": func(d *Dashboard) { d.Filters = append(d.Filters, Filter{Slug: "age", Name: "Age"}) },
		"no refresh":     func(d *Dashboard) { d.RefreshSeconds = 0 },
		"too wide":       func(d *Dashboard) { d.Cards[0].Width = 30 },
	} {
		d := base()
		mutate(&d)
		if err := d.Validate(titles()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d := base()
	if err := d.Validate(titles()); err != nil || d.Cards[0].Name != "Engagement overview: engagement by platform" || d.Cards[0].Width != 12 {
		t.Errorf("valid dashboard: %v %+v", err, d.Cards[0])
	}
}

// TestPush: the first push creates every card and dashboard with the
// requests Metabase expects; the second updates them in place.
func TestPush(t *testing.T) {
	ctx := context.Background()
	f := newFakeMetabase(t)
	ds := specs(t)
	c, err := NewClient(ctx, f.srv.URL, Auth{User: f.user, Password: f.password}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Push(ctx, ds, PushOptions{Database: "Pulse Snowflake"})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, r := range res {
		total += len(ds[i].Cards)
		if !r.Created || r.CardsCreated != len(ds[i].Cards) || r.CardsUpdated != 0 ||
			r.URL != fmt.Sprintf("%s/dashboard/%d#refresh=60", f.srv.URL, r.DashboardID) {
			t.Errorf("first push of %s: %+v", ds[i].Key, r)
		}
	}
	log := f.log()
	// Login, the database, the cards, then per dashboard: its cards, the
	// search for it, its creation and its layout.
	want := []string{"POST /api/session", "GET /api/database", "GET /api/card?f=all"}
	for range ds[0].Cards {
		want = append(want, "POST /api/card")
	}
	want = append(want, "GET /api/search?"+url.Values{"models": {"dashboard"}, "q": {ds[0].Name}}.Encode(), "POST /api/dashboard",
		fmt.Sprintf("PUT /api/dashboard/%d", res[0].DashboardID))
	if strings.Join(log[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("first requests:\n%s\nwant\n%s", strings.Join(log[:len(want)], "\n"), strings.Join(want, "\n"))
	}
	if n := 3 + total + 3*len(ds); len(log) != n {
		t.Errorf("%d requests, want %d", len(log), n)
	}
	// Every dashboard holds its cards, each filter wired where its tag is.
	for i, r := range res {
		d := f.dashboards[r.DashboardID]
		if d == nil || len(d.dashcards) != len(ds[i].Cards) || len(d.params) != len(ds[i].Filters) {
			t.Fatalf("dashboard %s in Metabase: %+v", ds[i].Key, d)
		}
		wired := 0
		for _, dc := range d.dashcards {
			wired += len(dc["parameter_mappings"].([]any))
		}
		want := 0
		for _, card := range ds[i].Cards {
			want += len(card.Tags())
		}
		if wired != want || (len(ds[i].Filters) > 0 && wired == 0) {
			t.Errorf("dashboard %s: %d filter mappings, want %d", ds[i].Key, wired, want)
		}
	}

	before := f.snapshot()
	n := len(f.log())
	c2, err := NewClient(ctx, f.srv.URL, Auth{APIKey: f.apiKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := c2.Push(ctx, ds, PushOptions{Database: "Pulse Snowflake"})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res2 {
		if r.Created || r.CardsCreated != 0 || r.CardsUpdated != len(ds[i].Cards) || r.DashboardID != res[i].DashboardID {
			t.Errorf("second push of %s: %+v", ds[i].Key, r)
		}
	}
	for _, req := range f.log()[n:] {
		if strings.HasPrefix(req, "POST") {
			t.Errorf("second push created something: %s", req)
		}
	}
	if after := f.snapshot(); after != before {
		t.Errorf("second push changed Metabase:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPushErrors(t *testing.T) {
	ctx := context.Background()
	f := newFakeMetabase(t)
	if _, err := NewClient(ctx, f.srv.URL, Auth{User: f.user, Password: "wrong"}, nil); err == nil ||
		!strings.Contains(err.Error(), "logging in to metabase as admin@pulse.local") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("bad password: %v", err)
	}
	if _, err := NewClient(ctx, "localhost:3000", Auth{Session: "x"}, nil); err == nil {
		t.Error("a URL without scheme was accepted")
	}
	if _, err := NewClient(ctx, f.srv.URL, Auth{}, nil); err == nil {
		t.Error("no credentials accepted")
	}
	c, err := NewClient(ctx, f.srv.URL, Auth{Session: "stale"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, specs(t), PushOptions{Database: "Pulse Snowflake"}); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("stale session: %v", err)
	}
	c, _ = NewClient(ctx, f.srv.URL, Auth{APIKey: f.apiKey}, nil)
	if _, err := c.Push(ctx, specs(t), PushOptions{Database: "Snowflake"}); err == nil ||
		!strings.Contains(err.Error(), `no database "Snowflake" (it has: Sample Database, Pulse Snowflake)`) {
		t.Errorf("unknown database: %v", err)
	}
}
