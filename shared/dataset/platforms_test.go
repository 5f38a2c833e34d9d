package dataset_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
)

// TestPlatformRegistry: the platforms of a registry become canonical for
// the cleaning and are listed by KnownPlatforms (what the DIM_PLATFORM data
// test accepts); loading another registry replaces them; AddPlatform (a
// fix for this process only) comes on top and undoes on its own.
func TestPlatformRegistry(t *testing.T) {
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})
	builtin := append([]string(nil), dataset.Platforms...)
	if got := dataset.KnownPlatforms(); !slices.Equal(got, builtin) {
		t.Fatalf("KnownPlatforms = %v, want the built-in %v", got, builtin)
	}
	entries, err := dataset.ParsePlatformRegistry([]byte(`{"platforms":[{"name":"Myspace","aliases":["my space"]},{"name":"Mastodon"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := dataset.UsePlatforms(entries); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"myspace": "Myspace", "MY SPACE": "Myspace", "mastodon": "Mastodon", "ig": "Instagram"} {
		if got, err := dataset.Platform(in); err != nil || got != want {
			t.Errorf("Platform(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, want := dataset.KnownPlatforms(), append(append([]string(nil), builtin...), "Myspace", "Mastodon"); !slices.Equal(got, want) {
		t.Errorf("KnownPlatforms = %v, want %v", got, want)
	}
	undo := dataset.AddPlatform("Friendster")
	if _, err := dataset.Platform("friendster"); err != nil {
		t.Errorf("AddPlatform: %v", err)
	}
	// A new registry replaces the old one's platforms, not AddPlatform's.
	if err := dataset.UsePlatforms([]dataset.PlatformEntry{{Name: "Mastodon"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dataset.Platform("Myspace"); err == nil || !strings.Contains(err.Error(), `unknown platform "Myspace"`) {
		t.Errorf("Myspace after it left the registry: %v", err)
	}
	if got, want := dataset.KnownPlatforms(), append(append([]string(nil), builtin...), "Mastodon", "Friendster"); !slices.Equal(got, want) {
		t.Errorf("KnownPlatforms = %v, want %v", got, want)
	}
	undo()
	if _, err := dataset.Platform("friendster"); err == nil {
		t.Error("Friendster still known after undo")
	}
	if _, err := dataset.Platform("mastodon"); err != nil {
		t.Errorf("undoing AddPlatform dropped a registry platform: %v", err)
	}
	if err := dataset.UsePlatforms(nil); err != nil {
		t.Fatal(err)
	}
	if got := dataset.KnownPlatforms(); !slices.Equal(got, builtin) {
		t.Errorf("KnownPlatforms after an empty registry = %v", got)
	}
}

// TestPlatformRegistryFile: the file round-trips, sorted and without
// repeats, and a bad file or entry is refused with a reason naming it.
func TestPlatformRegistryFile(t *testing.T) {
	entries := []dataset.PlatformEntry{{Name: "Myspace", Aliases: []string{"my space", "MySpace.com"}}, {Name: "Bluesky"}}
	data := dataset.EncodePlatformRegistry(entries)
	want := "{\n  \"platforms\": [\n    {\n      \"name\": \"Bluesky\"\n    },\n    {\n      \"name\": \"Myspace\",\n      \"aliases\": [\n        \"my space\",\n        \"MySpace.com\"\n      ]\n    }\n  ]\n}\n"
	if string(data) != want {
		t.Errorf("encoded:\n%s\nwant:\n%s", data, want)
	}
	back, err := dataset.ParsePlatformRegistry(data)
	if err != nil || len(back) != 2 || back[0].Name != "Bluesky" || back[1].Name != "Myspace" || len(back[1].Aliases) != 2 {
		t.Errorf("parsed back: %+v, %v", back, err)
	}
	for _, bad := range []struct{ file, reason string }{
		{`not json`, "platform registry: "},
		{`{"platforms":[{"name":"  "}]}`, "platform registry entry 1: empty name"},
		{`{"platforms":[{"name":"Myspace"},{"name":"myspace"}]}`, `platform registry entry 2: "myspace" is listed twice`},
		{`{"platforms":[{"name":"Myspace","aliases":["ig"]}]}`, `platform registry entry 1: alias "ig" already means Instagram`},
		{`{"platforms":[{"name":"Twitter"}]}`, `platform registry entry 1: "Twitter" already means X`},
	} {
		entries, err := dataset.ParsePlatformRegistry([]byte(bad.file))
		if err == nil {
			err = dataset.UsePlatforms(entries)
			if rerr := dataset.UsePlatforms(nil); rerr != nil {
				t.Fatalf("restoring the built-in platforms: %v", rerr)
			}
		}
		if err == nil || !strings.HasPrefix(err.Error(), bad.reason) {
			t.Errorf("%s: error %v, want one starting %q", bad.file, err, bad.reason)
		}
	}
	// A built-in platform listed again is harmless.
	if err := dataset.UsePlatforms([]dataset.PlatformEntry{{Name: "TikTok"}}); err != nil {
		t.Errorf("a built-in name in the registry: %v", err)
	}
	if err := dataset.UsePlatforms(nil); err != nil {
		t.Errorf("restoring the built-in platforms: %v", err)
	}
}

// TestPlatformRegistryWhileCleaning: loading a registry while cleaners run
// (a stream batch during a refresh) is safe: each record is cleaned with
// the old list or the new one (go test -race checks the rest).
func TestPlatformRegistryWhileCleaning(t *testing.T) {
	t.Cleanup(func() {
		if err := dataset.UsePlatforms(nil); err != nil {
			t.Errorf("restoring the built-in platforms: %v", err)
		}
	})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dataset.Compile(dataset.SocialSales)
			if err != nil {
				t.Error(err)
				return
			}
			line := []byte(`{"ID":"a","Kota":"Bogor","Sosial_Media":"Myspace","Visitors":5,"Ts":1706981205}`)
			var raw record.Raw
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := record.DecodeJSONObject(line, c.Columns(), &raw); err != nil {
					t.Error(err)
					return
				}
				row := c.NewRow()
				if rj := c.Clean(&raw, dataset.Meta{}, row); rj != nil && !strings.Contains(rj.Error(), "unknown platform") {
					t.Errorf("reject %v", rj)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		var entries []dataset.PlatformEntry
		if i%2 == 0 {
			entries = []dataset.PlatformEntry{{Name: "Myspace"}}
		}
		if err := dataset.UsePlatforms(entries); err != nil {
			t.Fatal(err)
		}
		_ = dataset.KnownPlatforms()
	}
	close(stop)
	wg.Wait()
}
