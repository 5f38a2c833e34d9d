package warehouse

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// endpoint stands in for Secrets Manager and Snowflake on one local port
// and records every request: "GetSecretValue", "login", "query: <sql>", or
// the method and path of anything else.
type endpoint struct {
	srv        *httptest.Server
	key        string
	failSecret bool

	mu  sync.Mutex
	got []string
}

func newEndpoint(t *testing.T) *endpoint {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoint{key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	what := r.Method + " " + r.URL.Path
	var sqlText string
	switch {
	case r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue":
		what = "GetSecretValue"
	case r.URL.Path == "/session/v1/login-request":
		what = "login"
	case r.URL.Path == "/queries/v1/query-request":
		var q struct {
			SQLText string `json:"sqlText"`
		}
		_ = json.Unmarshal(body, &q)
		sqlText = q.SQLText
		what = "query: " + sqlText
	}
	e.mu.Lock()
	e.got = append(e.got, what)
	e.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case what == "GetSecretValue" && e.failSecret:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		reply(400, map[string]any{"__type": "AccessDeniedException", "message": "not allowed"})
	case what == "GetSecretValue":
		reply(200, map[string]any{"Name": "pulse/snowflake", "SecretString": e.key})
	case what == "login":
		reply(200, map[string]any{"success": true, "data": map[string]any{
			"token": "t1", "masterToken": "m1", "validityInSeconds": 3600, "masterValidityInSeconds": 14400, "sessionId": 1,
			"parameters":  []map[string]any{{"name": "TIMEZONE", "value": "UTC"}},
			"sessionInfo": map[string]any{"databaseName": "PULSE", "schemaName": "PUBLIC", "warehouseName": "PULSE_WH", "roleName": "PULSE_LOADER"},
		}})
	case strings.HasPrefix(what, "query: "):
		reply(200, map[string]any{"success": true, "data": map[string]any{
			"parameters": []any{}, "rowtype": []any{map[string]any{"name": "N", "type": "fixed", "scale": 0, "precision": 38, "nullable": true}},
			"rowset": [][]string{{"7"}}, "total": 1, "returned": 1, "queryId": "q1", "statementTypeId": 0x1000, "queryResultFormat": "json",
		}})
	case r.URL.Path == "/session":
		reply(200, map[string]any{"success": true, "data": nil})
	default:
		reply(404, map[string]any{"message": "unexpected"})
	}
}

// setup points the AWS SDK and gosnowflake at e and returns the function's getenv.
func setup(t *testing.T, e *endpoint) func(string) string {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", e.srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// Open sets SNOWFLAKE_DISABLE_PLATFORM_DETECTION when unset: restore the process's value after.
	if v, ok := os.LookupEnv(disablePlatformDetection); ok {
		t.Setenv(disablePlatformDetection, v)
	} else {
		t.Cleanup(func() { os.Unsetenv(disablePlatformDetection) })
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.srv.URL, "http://"))
	if _, err := strconv.Atoi(port); err != nil {
		t.Fatal(e.srv.URL)
	}
	env := map[string]string{
		"SNOWFLAKE_ACCOUNT": "acct", "SNOWFLAKE_USER": "PULSE_LOADER", "SNOWFLAKE_DATABASE": "PULSE", "SNOWFLAKE_SCHEMA": "PUBLIC",
		"SNOWFLAKE_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse/snowflake-AbCdEf",
		"SNOWFLAKE_HOST":               "127.0.0.1", "SNOWFLAKE_PORT": port, "SNOWFLAKE_PROTOCOL": "http",
	}
	return func(k string) string { return env[k] }
}

// TestOpenMakesNoRequest: Open (what a function's init runs) sends nothing; the first query
// fetches the key and logs in, once; the second only queries. Platform detection is off, so
// the login is not preceded by an STS or metadata request.
func TestOpenMakesNoRequest(t *testing.T) {
	e := newEndpoint(t)
	getenv := setup(t, e)
	ctx := context.Background()
	wh, err := Open(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var _ port.Warehouse = wh
	if got := e.requests(); len(got) != 0 {
		t.Fatalf("Open sent %q, want no request", got)
	}
	if sqlmodel.Of(wh) != sqlmodel.Snowflake || wh.Connected() {
		t.Fatalf("dialect %v, connected %v before any call: want snowflake, false", sqlmodel.Of(wh), wh.Connected())
	}
	for i := 0; i < 2; i++ {
		_, rows, err := wh.Query(ctx, "SELECT 7 AS N")
		if err != nil {
			t.Fatalf("query %d: %v", i+1, err)
		}
		if len(rows) != 1 || rows[0][0] != int64(7) {
			t.Fatalf("query %d: rows %v, want [[7]]", i+1, rows)
		}
	}
	want := []string{"GetSecretValue", "login", "query: SELECT 1", "query: SELECT 7 AS N", "query: SELECT 7 AS N"} // SELECT 1: snowflake.Open's ping
	if got := e.requests(); !slices.Equal(got, want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	if os.Getenv(disablePlatformDetection) != "true" {
		t.Errorf("%s = %q after connecting, want true", disablePlatformDetection, os.Getenv(disablePlatformDetection))
	}
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConnectErrorIsTheCallsError: a key that cannot be read fails the call that needed the
// warehouse (naming the secret), not Open, and the next call tries again.
func TestConnectErrorIsTheCallsError(t *testing.T) {
	e := newEndpoint(t)
	e.failSecret = true
	getenv := setup(t, e)
	ctx := context.Background()
	wh, err := Open(ctx, getenv)
	if err != nil {
		t.Fatalf("Open failed with the secret unreadable: %v (it should not read it)", err)
	}
	for i := 0; i < 2; i++ {
		err := wh.Exec(ctx, "DELETE FROM T")
		if err == nil || !strings.Contains(err.Error(), "pulse/snowflake-AbCdEf") || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Fatalf("exec %d: error %v, want the secret's ARN and AccessDeniedException", i+1, err)
		}
	}
	if got, want := e.requests(), []string{"GetSecretValue", "GetSecretValue"}; !slices.Equal(got, want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	if wh.Connected() {
		t.Error("connected after failing")
	}
	if err := wh.Close(); err != nil {
		t.Errorf("closing a warehouse never connected: %v", err)
	}
}

// TestOpenChecksTheConfig: a missing setting is still Open's error, at init.
func TestOpenChecksTheConfig(t *testing.T) {
	_, err := Open(context.Background(), func(k string) string {
		if k == "SNOWFLAKE_ACCOUNT" {
			return "acct"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "SNOWFLAKE_USER") || !strings.Contains(err.Error(), "SNOWFLAKE_PRIVATE_KEY_SECRET") {
		t.Fatalf("error %v, want SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_SECRET named", err)
	}
}
