package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/web"
	"github.com/pulse-analytics/pulse/localstack/stack"
)

// TestDashboardShowsProfiles: `pulse dashboard --dir DATA` serves the
// data profile of the newest file each dataset staged in the data folder,
// read from the folder's files (no S3 server runs), and writes nothing
// under the folder's s3/.
func TestDashboardShowsProfiles(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	drop(t, st, "first.ndjson", liveLines(1, "TikTok", "TikTok", "Instagram"))
	time.Sleep(10 * time.Millisecond)
	second := drop(t, st, "second.ndjson", liveLines(10, "YouTube", "TikTok"))
	if err := st.Close(); err != nil { // the dashboard opens the warehouse when the demo is done
		t.Fatal(err)
	}
	before := files(t, filepath.Join(data, "s3"))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runDashboard(run, []string{"--dir", data, "--addr", addr}) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var page web.ProfilesPage
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/api/profiles")
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&page)
			res.Body.Close()
			if err == nil && res.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", res.StatusCode)
			}
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/profiles: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(page.Problems) != 0 || len(page.Profiles) != 1 {
		t.Fatalf("%d profiles, problems %q; want live_streaming's", len(page.Profiles), page.Problems)
	}
	p := page.Profiles[0]
	var platform string
	for _, c := range p.Columns {
		if c.Name == "Platform" {
			for _, v := range c.Top {
				platform += fmt.Sprintf("%s %d,", v.Value, v.Count)
			}
		}
	}
	if p.Dataset != "live_streaming" || p.Source != "raw/live_streaming/second.ndjson" || p.FileID != second.Manifest.FileID ||
		p.Rows != 2 || platform != "TikTok 1,YouTube 1," || p.ProfiledAt == nil {
		t.Errorf("profile: %s %s from %s, %d rows, platforms %q at %v; want the second file's 2 rows, TikTok 1 and YouTube 1",
			p.Dataset, p.FileID, p.Source, p.Rows, platform, p.ProfiledAt)
	}
	if after := files(t, filepath.Join(data, "s3")); after != before {
		t.Errorf("the dashboard changed the data folder's s3/:\n%s\nwas\n%s", after, before)
	}
}

// files lists every file under dir with its size and modification time.
func files(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintln(&b, p, st.Size(), st.ModTime().UnixNano(), e.IsDir())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
