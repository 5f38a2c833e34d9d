package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// dashboardURL finds the URL in the demo's "dashboard: URL ..." line.
func dashboardURL(line string) string {
	_, rest, ok := strings.Cut(line, "dashboard: ")
	if !ok {
		return ""
	}
	f := strings.Fields(rest)
	if len(f) == 0 || !strings.HasPrefix(f[0], "http://127.0.0.1:") {
		return "" // only the loopback dashboard the demo started
	}
	return strings.TrimSuffix(f[0], "/") + "/"
}

// pollDashboard reads the dashboard's panels and health every minute
// until ctx ends, as a browser tab with the default auto-refresh would.
// Failures go to the log; they do not stop the soak.
func pollDashboard(ctx context.Context, base string, log io.Writer) {
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return b, err
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		var list struct {
			Panels []struct{ View string } `json:"panels"`
		}
		b, err := get("api/panels")
		if err == nil {
			err = json.Unmarshal(b, &list)
		}
		for _, p := range list.Panels {
			if _, perr := get("api/panels/" + url.PathEscape(p.View)); perr != nil && err == nil {
				err = perr
			}
		}
		if _, herr := get("api/health"); herr != nil && err == nil {
			err = herr
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(log, "soak: reading the dashboard: %v\n", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
