package warehouse

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestOpenAppender: OpenAppender needs the Snowflake settings and makes no
// call; the first Open reads the key (here from the environment, on AWS
// from Secrets Manager) and reaches Snowpipe Streaming (snowpipetest),
// and an Append lands once.
func TestOpenAppender(t *testing.T) {
	if _, err := OpenAppender(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "SNOWFLAKE_PRIVATE_KEY_SECRET") {
		t.Fatalf("no settings: %v", err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	tbl := table.Schema{Name: "FACT_X", Key: []string{"ID"}, Columns: []table.Column{{Name: "ID", Type: table.String}}}
	srv, err := snowpipetest.New(snowpipetest.Options{Account: "myorg-pulse", User: "loader", PublicKey: &k.PublicKey,
		Database: "PULSE", Schema: "PUBLIC", Tables: []table.Schema{tbl}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, portNum, _ := strings.Cut(strings.TrimPrefix(srv.AccountURL(), "http://"), ":")
	env := map[string]string{"SNOWFLAKE_ACCOUNT": "myorg-pulse", "SNOWFLAKE_USER": "loader", "SNOWFLAKE_DATABASE": "PULSE",
		"SNOWFLAKE_SCHEMA": "PUBLIC", "SNOWFLAKE_HOST": host, "SNOWFLAKE_PORT": portNum, "SNOWFLAKE_PROTOCOL": "http",
		"SNOWFLAKE_PRIVATE_KEY_SECRET": "PULSE_TEST_KEY",
		"PULSE_TEST_KEY":               string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	a, err := OpenAppender(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	a.secrets = func(context.Context) (snowflake.SecretSource, error) {
		reads++
		return snowflake.EnvSecrets{Getenv: func(k string) string { return env[k] }}, nil
	}
	ctx := context.Background()
	if tok, err := a.Open(ctx, tbl, "x-0"); err != nil || tok != -1 {
		t.Fatalf("open: %d, %v", tok, err)
	}
	for range 2 {
		if err := a.Append(ctx, tbl, "x-0", []port.AppendRow{{Token: 3, Cells: table.Row{{S: "a"}}}}, 4); err != nil {
			t.Fatal(err)
		}
	}
	if n, reads := srv.Count("FACT_X"), reads; n != 1 || reads != 1 {
		t.Fatalf("%d rows, %d key reads; want 1 and 1", n, reads)
	}
}
