package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/batch"
)

// TestLatestProfiles: of each dataset's whole-file profiles the newest by
// Modified is returned (not the last by key), chunk profiles and other
// keys are ignored, an unreadable newest profile gives way to the next
// newest, and a dataset with none readable is named in the error while the
// others are still returned, sorted by dataset.
func TestLatestProfiles(t *testing.T) {
	ctx := t.Context()
	store := memory.NewObjects()
	const bucket = "staging"
	profile := func(ds, id string, rows int64) string {
		b, err := json.Marshal(map[string]any{"dataset": ds, "fileId": id, "source": "raw/" + ds + "/" + id + ".csv", "rows": rows,
			"columns": []map[string]any{{"name": "user_id", "type": "STRING", "nulls": 1, "nullShare": 0.25, "distinct": 3, "distinctExact": true,
				"min": "u1", "max": "u3", "top": []map[string]any{{"value": "u1", "count": 2}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Puts in this order; each a little later than the one before, so
	// Modified orders them.
	puts := []struct{ key, body string }{
		{"_profiles/video/zzz.json", profile("video", "zzz", 10)},           // older, last by key
		{"_profiles/video/aaa.json", profile("video", "aaa", 20)},           // newest whole file of video
		{"_profiles/video/bbb/c00000.json", profile("video", "bbb", 99)},    // a chunk: ignored
		{"_profiles/app/a1.json", profile("app", "a1", 4)},                  // app's only readable one
		{"_profiles/app/a2.json", `{"dataset": "app", "fileId": "a2", "ro`}, // newest, cut short: skipped
		{"_profiles/broken/b1.json", `not json`},                            // broken's only one
		{"_manifests/video/aaa.json", profile("video", "manifest", 1)},      // not a profile
		{"_profiles/README", "x"},                                           // not a dataset's profile
	}
	modified := map[string]time.Time{}
	var last time.Time
	for _, p := range puts {
		for !time.Now().After(last) {
			time.Sleep(time.Millisecond)
		}
		info, err := store.Put(ctx, bucket, p.key, strings.NewReader(p.body), int64(len(p.body)))
		if err != nil {
			t.Fatal(err)
		}
		if !info.Modified.After(last) {
			t.Fatalf("%s: modified %v, not after %v", p.key, info.Modified, last)
		}
		last, modified[p.key] = info.Modified, info.Modified
	}

	got, err := batch.LatestProfiles(ctx, store, bucket)
	if err == nil || !strings.Contains(err.Error(), "dataset broken: no readable profile among 1") ||
		!strings.Contains(err.Error(), "s3://staging/_profiles/broken/b1.json") || strings.Contains(err.Error(), "app") {
		t.Errorf("error %v, want one naming dataset broken and its key only", err)
	}
	type row struct {
		dataset, fileID string
		rows            int64
		at              time.Time
	}
	want := []row{
		{"app", "a1", 4, modified["_profiles/app/a1.json"]},
		{"video", "aaa", 20, modified["_profiles/video/aaa.json"]},
	}
	if len(got) != len(want) {
		t.Fatalf("%d profiles, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Dataset != w.dataset || g.FileID != w.fileID || g.Rows != w.rows || g.ProfiledAt == nil || !g.ProfiledAt.Equal(w.at) {
			t.Errorf("profile %d: %s %s %d rows at %v, want %+v", i, g.Dataset, g.FileID, g.Rows, g.ProfiledAt, w)
		}
	}
	c := got[1].Columns
	if len(c) != 1 || c[0].Name != "user_id" || c[0].Nulls != 1 || c[0].NullShare != 0.25 || c[0].Distinct != 3 || !c[0].Exact ||
		*c[0].Min != "u1" || *c[0].Max != "u3" || len(c[0].Top) != 1 || c[0].Top[0] != (batch.ValueCount{Value: "u1", Count: 2}) {
		t.Errorf("video's columns: %+v", c)
	}

	// An empty bucket: no profiles, no error.
	if got, err := batch.LatestProfiles(ctx, store, "empty"); err != nil || len(got) != 0 {
		t.Errorf("empty bucket: %v, %v", got, err)
	}
	// A listing that fails returns its error.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := batch.LatestProfiles(cancelled, store, bucket); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestLatestProfilesOfClean: the profile LatestProfiles returns is the one
// Clean wrote for the newest file of the dataset.
func TestLatestProfilesOfClean(t *testing.T) {
	ctx := t.Context()
	env, _ := memEnv(t, memory.NewObjects())
	var ids []string
	for _, f := range []struct{ key, body string }{
		{"raw/app_users/b.csv", "user_id,join_date,country,device_type,subscription_type\nu1,2024-01-02,Brazil,Mobile,Free\nu2,,Barzil,Mobile,Premium\n"},
		{"raw/app_users/a.csv", "user_id,join_date,country,device_type,subscription_type\nu3,2024-01-05,Chile,Tablet,Free\n"},
	} {
		time.Sleep(2 * time.Millisecond)
		m, err := batch.Clean(ctx, env, putRaw(t, env.Store, f.key, []byte(f.body)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.FileID)
	}
	got, err := batch.LatestProfiles(ctx, env.Store, env.Buckets.Staging)
	if err != nil || len(got) != 1 {
		t.Fatalf("%d profiles, %v", len(got), err)
	}
	p := got[0]
	if p.Dataset != "app_users" || p.FileID != ids[1] || p.Source != "raw/app_users/a.csv" || p.Rows != 1 {
		t.Errorf("newest profile: %s %s from %s, %d rows; want app_users %s from raw/app_users/a.csv, 1 row", p.Dataset, p.FileID, p.Source, p.Rows, ids[1])
	}
	for _, c := range p.Columns {
		if c.Name == "country" && (c.Min == nil || *c.Min != "Chile" || c.Distinct != 1) {
			t.Errorf("country: %+v", c)
		}
	}
}
