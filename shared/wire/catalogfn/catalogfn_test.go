package catalogfn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestBuildSendsNothing: the catalog function's init (Build) makes no
// network call, though its environment names an MSK cluster (whose
// bootstrap brokers come from MSK's API) and a schema registry (where the
// Avro schema is registered); both wait for the first file. Lambda bills
// the init phase of every cold start, and a failed init has no invocation
// to retry. The first invocation does reach them.
func TestBuildSendsNothing(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"not here"}`))
	}))
	defer srv.Close()
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	env := map[string]string{
		"AWS_ENDPOINT_URL":          srv.URL,
		"AWS_REGION":                "us-east-1",
		"AWS_ACCESS_KEY_ID":         "test",
		"AWS_SECRET_ACCESS_KEY":     "test",
		"AWS_EC2_METADATA_DISABLED": "true",
		"PULSE_MSK_CLUSTER_ARN":     "arn:aws:kafka:us-east-1:123456789012:cluster/pulse/abc",
		"PULSE_SCHEMA_REGISTRY_URL": srv.URL,
		"PULSE_QUARANTINE_BUCKET":   "quarantine",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	h, err := Build(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if r := requests(); len(r) != 0 {
		t.Fatalf("Build sent %d requests at init, want none: %q", len(r), r)
	}
	if h == nil {
		t.Fatal("Build returned no handler")
	}
}
