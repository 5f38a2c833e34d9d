package batch_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
)

func getObject(t *testing.T, st port.ObjectStore, bucket, key string) string {
	t.Helper()
	body, _, err := st.Get(context.Background(), bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlatformRegistry: a platform added to the registry is in the
// registry object (the curated bucket's reference/platforms.json), known
// at once, and known to a later process that loads the registry; a missing
// object is an empty registry.
func TestPlatformRegistry(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})
	st := memory.NewObjects()
	env := &batch.Env{Store: st, Buckets: port.Buckets{Raw: "raw", Staging: "staging", Curated: "curated", Quarantine: "q"}}

	reg := batch.Platforms(env)
	if err := reg.Load(ctx); err != nil {
		t.Fatalf("no registry yet: %v", err)
	}
	added, err := reg.Add(ctx, "Myspace", "  mastodon ", "TikTok", "myspace")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []string{"Myspace", "mastodon"}) {
		t.Errorf("added %v, want [Myspace mastodon] (TikTok is built in, myspace listed twice)", added)
	}
	want := "{\n  \"platforms\": [\n    {\n      \"name\": \"mastodon\"\n    },\n    {\n      \"name\": \"Myspace\"\n    }\n  ]\n}\n"
	if got := getObject(t, st, "curated", batch.PlatformsKey); got != want {
		t.Errorf("registry object:\n%s\nwant:\n%s", got, want)
	}
	if _, err := dataset.Platform("MYSPACE"); err != nil {
		t.Errorf("not known at once: %v", err)
	}

	// A later process: nothing in memory, the registry in the store.
	if err := dataset.UsePlatforms(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := dataset.Platform("Myspace"); err == nil {
		t.Fatal("the reset did not forget Myspace")
	}
	if err := batch.Platforms(env).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := dataset.KnownPlatforms(); !slices.Contains(got, "Myspace") || !slices.Contains(got, "mastodon") {
		t.Errorf("a later run knows %v", got)
	}
	// Adding again is harmless: the object stays the same.
	if added, err := batch.Platforms(env).Add(ctx, "Myspace"); err != nil || len(added) != 0 {
		t.Errorf("adding Myspace again: %v, %v", added, err)
	}
	if got := getObject(t, st, "curated", batch.PlatformsKey); got != want {
		t.Errorf("registry object after a repeated add:\n%s", got)
	}
}

// TestPlatformRegistryRefresh: Refresh reads the object again once MaxAge
// has passed, so a long-lived function sees a platform added elsewhere; a
// registry that does not parse is logged and the platforms known before
// stay in use (it stops no cleaning), while Add refuses to overwrite it.
func TestPlatformRegistryRefresh(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})
	st := memory.NewObjects()
	env := &batch.Env{Store: st, Buckets: port.Buckets{Curated: "curated"}}
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	reg := batch.Platforms(env)
	reg.MaxAge = time.Minute
	reg.Now = func() time.Time { return now }
	reg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	put := func(body string) {
		if _, err := st.Put(ctx, "curated", batch.PlatformsKey, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"platforms":[{"name":"Myspace"}]}`)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	put(`{"platforms":[{"name":"Myspace"},{"name":"Bluesky"}]}`) // added by another process
	now = now.Add(59 * time.Second)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dataset.Platform("Bluesky"); err == nil {
		t.Error("read again before MaxAge")
	}
	now = now.Add(time.Second)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dataset.Platform("Bluesky"); err != nil {
		t.Errorf("not read again after MaxAge: %v", err)
	}
	put(`{"platforms":[{"name":"Myspace"},`)
	now = now.Add(time.Minute)
	if err := reg.Refresh(ctx); err != nil {
		t.Errorf("a broken registry stopped the refresh: %v", err)
	}
	if _, err := dataset.Platform("Bluesky"); err != nil {
		t.Errorf("a broken registry dropped the platforms known before: %v", err)
	}
	if !strings.Contains(logs.String(), "platform registry") || !strings.Contains(logs.String(), batch.PlatformsKey) {
		t.Errorf("the broken registry was not logged: %q", logs.String())
	}
	if _, err := reg.Add(ctx, "Friendster"); err == nil || !strings.Contains(err.Error(), batch.PlatformsKey) {
		t.Errorf("Add over a broken registry: %v", err)
	}
}
