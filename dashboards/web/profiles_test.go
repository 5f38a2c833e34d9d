package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

// personalKey is the raw key of the fixture's file of personal data: user
// sessions carrying names and e-mail addresses.
const personalKey = "raw/user_sessions/profiled-sessions.ndjson"

// personalFile: seven login records. s1 comes twice (the second is a
// duplicate), one has no session_id (rejected): five rows are staged. The
// names (a Personal field) and the e-mail addresses (in a Personal field,
// the dedupe key, a plain field and free text) must reach no profile.
var personalFile = strings.Join([]string{
	`{"session_id":"s1","user_id":"u1","user_name":"Ana Souza","login_timestamp":"2024-02-05T20:00:00Z","device":"mobile"}`,
	`{"session_id":"s2","user_id":"u2","user_name":"ana.souza@gmail.com","login_timestamp":"2024-02-05T20:05:00Z","device":"desktop"}`,
	`{"session_id":"s3","user_id":"u1","user_name":"Bruno Lima","login_timestamp":"2024-02-05T20:10:00Z","device":"mobile"}`,
	`{"session_id":"s4","user_id":"carla@example.org","user_name":null,"login_timestamp":"2024-02-05T21:00:00Z","device":"tablet via dan@Example.org"}`,
	`{"session_id":"eve@corp.com","user_id":"u3","user_name":"","login_timestamp":"2024-02-06T01:00:00Z"}`,
	`{"session_id":"s1","user_id":"u1","user_name":"Ana Souza","login_timestamp":"2024-02-05T20:00:00Z","device":"mobile"}`,
	`{"user_id":"u9","user_name":"Fabio Reis","login_timestamp":"2024-02-05T22:00:00Z","device":"mobile"}`,
}, "\n") + "\n"

// personalSecrets are the file's personal values, none of which may be served.
var personalSecrets = []string{"Ana", "Souza", "Bruno", "Lima", "Fabio", "ana.souza", "carla@", "dan@", "eve@", "Reis"}

// cleanPersonalFile puts personalFile in the fixture's raw bucket and runs
// Clean on it (the real path: the S3 stand-in, the cleaner, masking, the
// staging Parquet and its profile), but not Model or Load: the warehouse,
// whose figures the other tests check against the generators, stays as it
// was; the staging bucket has the file's profile as a file waiting for its
// load would.
func cleanPersonalFile(ctx context.Context, st *stack.Stack) (*batch.Manifest, error) {
	info, err := st.Env.Store.Put(ctx, stack.Buckets.Raw, personalKey, strings.NewReader(personalFile), int64(len(personalFile)))
	if err != nil {
		return nil, err
	}
	m, err := batch.Clean(ctx, st.Env, port.FileDrop{Bucket: stack.Buckets.Raw, Key: personalKey, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID})
	if err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", personalKey, err)
	}
	if err := st.Env.Dedupe.Abort(ctx, m.Origin); err != nil { // its claims hold nothing
		return nil, err
	}
	return m, nil
}

// TestProfilesAPI: /api/profiles serves the newest profile of each
// dataset the fixture staged: the generator files' (the second day's file
// where there is one) and the personal-data file's, whose every figure is
// checked against the file above, counted by hand, with its names and
// addresses masked.
func TestProfilesAPI(t *testing.T) {
	var page ProfilesPage
	if code := get(t, "/api/profiles", &page); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if len(page.Problems) != 0 {
		t.Errorf("problems: %q", page.Problems)
	}
	if fmt.Sprint(page.Personal) != "map[user_sessions:[user_name]]" {
		t.Errorf("personal columns: %v", page.Personal)
	}
	got := map[string]batch.Profile{}
	var order []string
	for _, p := range page.Profiles {
		got[p.Dataset] = p
		order = append(order, p.Dataset)
	}
	// Every generator dataset, from its newest file: day 2's where there
	// is one (its loaded rows, after day 1's duplicates, are its manifest's).
	want := map[string]struct {
		source string
		rows   int64
	}{}
	for _, tr := range fx.day1 {
		want[tr.Dataset] = struct {
			source string
			rows   int64
		}{"raw/" + tr.Dataset + "/" + day1.Format("20060102") + "-" + tr.Name, int64(tr.Loaded)}
	}
	for _, run := range fx.runs {
		if strings.Contains(run.Drop.Key, day2.Format("20060102")) {
			want[run.Manifest.Dataset] = struct {
				source string
				rows   int64
			}{run.Drop.Key, run.Manifest.Counts.Loaded}
		}
	}
	want["user_sessions"] = struct {
		source string
		rows   int64
	}{personalKey, 5}
	wantOrder := []string{"app_interactions", "app_users", "community_interactions", "live_streaming", "user_sessions", "video_interactions"}
	if fmt.Sprint(order) != fmt.Sprint(wantOrder) || len(want) != len(wantOrder) {
		t.Errorf("profiles of %v, want %v", order, wantOrder)
	}
	for ds, w := range want {
		p := got[ds]
		if ds == "video_interactions" { // two files on day 1: the one dropped last
			w.source = "raw/video_interactions/" + day1.Format("20060102") + "-video_interactions.ndjson"
		}
		if p.Source != w.source || p.Rows != w.rows || p.ProfiledAt == nil || len(p.Columns) == 0 || w.rows == 0 {
			t.Errorf("%s: %d rows from %s at %v, want %d rows from %s", ds, p.Rows, p.Source, p.ProfiledAt, w.rows, w.source)
		}
	}

	// The personal-data file, figure by figure.
	digest := sha256.Sum256([]byte("eve@corp.com"))
	eve := "****" + hex.EncodeToString(digest[:8]) + "@corp.com" // a dedupe key's pseudonym (DESIGN.md 4.6)
	type col struct {
		name, typ      string
		nulls          int64
		share          float64
		distinct       int64
		min, max, tops string
	}
	wantCols := []col{
		{"session_id", "STRING", 0, 0, 5, eve, "s4", eve + " 1, s1 1, s2 1, s3 1, s4 1"},
		{"user_id", "STRING", 0, 0, 4, "****@example.org", "u3", "u1 2, ****@example.org 1, u2 1, u3 1"},
		// A missing or blank name takes the default, Unknown, which is no one's name.
		{"user_name", "STRING", 0, 0, 3, "****", "Unknown", "**** 2, Unknown 2, ****@gmail.com 1"},
		{"login_timestamp", "TIMESTAMP", 0, 0, 5, "2024-02-05T20:00:00Z", "2024-02-06T01:00:00Z",
			"2024-02-05T20:00:00Z 1, 2024-02-05T20:05:00Z 1, 2024-02-05T20:10:00Z 1, 2024-02-05T21:00:00Z 1, 2024-02-06T01:00:00Z 1"},
		{"device", "STRING", 0, 0, 4, "Unknown", "tablet via ****@example.org", "mobile 2, Unknown 1, desktop 1, tablet via ****@example.org 1"},
	}
	p := got["user_sessions"]
	if p.FileID != fx.personal.FileID || len(p.Columns) != len(wantCols) {
		t.Fatalf("user_sessions: file %s with %d columns, want %s with %d", p.FileID, len(p.Columns), fx.personal.FileID, len(wantCols))
	}
	for i, w := range wantCols {
		c := p.Columns[i]
		var tops []string
		for _, vc := range c.Top {
			tops = append(tops, fmt.Sprintf("%s %d", vc.Value, vc.Count))
		}
		g := col{c.Name, c.Type, c.Nulls, c.NullShare, c.Distinct, deref(c.Min), deref(c.Max), strings.Join(tops, ", ")}
		if g != w || !c.Exact {
			t.Errorf("user_sessions column %d:\n got %+v (exact %v)\nwant %+v", i, g, c.Exact, w)
		}
	}
	res, err := http.Get(fx.srv.URL + "/api/profiles")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, s := range personalSecrets {
		if strings.Contains(string(body), s) {
			t.Errorf("/api/profiles serves %q", s)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestProfilesOff: a dashboard without a profile source says so on
// /api/profiles and in its config, and shows no panel.
func TestProfilesOff(t *testing.T) {
	h, err := New(fx.st.Warehouse, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/profiles")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "without a data-profile source") {
		t.Errorf("no source: %d %s", res.StatusCode, body)
	}
	var cfg struct{ Profiles *bool }
	if code := get(t, "/api/config", &cfg); code != http.StatusOK || cfg.Profiles == nil || !*cfg.Profiles {
		t.Errorf("the fixture's config: profiles %v", cfg.Profiles)
	}
}

// TestMaskedProfile: whatever wrote a profile, the page's copy of it
// holds masked values only: a Personal column's values whole, e-mail
// addresses elsewhere, keeping a key's pseudonym and the default of a
// missing value (Unknown), and counting values that mask alike together.
func TestMaskedProfile(t *testing.T) {
	s := func(v string) *string { return &v }
	in := batch.Profile{Dataset: "user_sessions", Columns: []batch.ColumnProfile{
		{Name: "user_name", Min: s("Ana"), Max: s("zoe@Mail.com"), Top: []batch.ValueCount{{Value: "Ana", Count: 3}, {Value: "Bob", Count: 2},
			{Value: "zoe@Mail.com", Count: 1}, {Value: "Unknown", Count: 1}}},
		{Name: "device", Min: s("****0123456789abcdef@x.io"), Max: s("ask joe@x.io or ****@y.io"), Top: []batch.ValueCount{{Value: "mobile", Count: 4}}},
		{Name: "user_id", Min: nil, Max: nil},
	}}
	out := masked(in)
	got := fmt.Sprint(deref(out.Columns[0].Min), " ", deref(out.Columns[0].Max), " ", out.Columns[0].Top, " | ",
		deref(out.Columns[1].Min), " ", deref(out.Columns[1].Max), " ", out.Columns[1].Top, " | ", out.Columns[2].Min, out.Columns[2].Max)
	want := "**** ****@mail.com [{**** 5} {****@mail.com 1} {Unknown 1}] | ****0123456789abcdef@x.io ask ****@x.io or ****@y.io [{mobile 4}] | <nil> <nil>"
	if got != want {
		t.Errorf("masked:\n got %s\nwant %s", got, want)
	}
	if *in.Columns[0].Min != "Ana" {
		t.Error("masked changed its argument")
	}
}
