package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServe: Serve picks a free port, answers, and stops when its context ends.
func TestServe(t *testing.T) {
	h, err := New(fx.st.Warehouse, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Serve(ctx, "127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || strings.HasSuffix(srv.URL, ":0/") {
		t.Errorf("URL %s", srv.URL)
	}
	res, err := http.Get(srv.URL + "api/config")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("status %d", res.StatusCode)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get(srv.URL + "api/config")
		if err != nil {
			break
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("still serving 5 s after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
	if _, err := Serve(context.Background(), "127.0.0.1:-1", h); err == nil || !strings.Contains(err.Error(), "listening on 127.0.0.1:-1") {
		t.Errorf("bad address: %v", err)
	}
}
