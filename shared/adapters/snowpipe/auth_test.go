package snowpipe_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
)

// The fingerprint is the one Snowflake's key-pair guide computes with
// openssl (and DESCRIBE USER shows as RSA_PUBLIC_KEY_FP).
func TestKeyFingerprintMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	key := userKey(t)
	path := filepath.Join(t.TempDir(), "rsa_key.p8")
	if err := os.WriteFile(path, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c",
		`openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | openssl enc -base64`, "sh", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := snowpipe.KeyFingerprint(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SHA256:" + strings.TrimSpace(string(out)); got != want {
		t.Errorf("fingerprint %s, openssl says %s", got, want)
	}
}

func TestJWTAccount(t *testing.T) {
	for in, want := range map[string]string{
		"myorg-pulse":              "MYORG-PULSE",
		"xy12345.us-east-1":        "XY12345", // a locator's region is left out
		"xy12345.eu-central-1.aws": "XY12345",
	} {
		if got := snowpipe.JWTAccount(in); got != want {
			t.Errorf("JWTAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeIngestHost(t *testing.T) {
	for in, want := range map[string]string{
		"my_account.region.ingest.snowflakecomputing.com": "my-account.region.ingest.snowflakecomputing.com",
		" \"abc.ingest.snowflakecomputing.com\"\n":        "abc.ingest.snowflakecomputing.com",
		"myorg-pulse.snowflakecomputing.com":              "myorg-pulse.snowflakecomputing.com",
	} {
		got, err := snowpipe.NormalizeIngestHost(in)
		if err != nil || got != want {
			t.Errorf("NormalizeIngestHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "https://x.com/", "a b"} {
		if _, err := snowpipe.NormalizeIngestHost(bad); err == nil {
			t.Errorf("NormalizeIngestHost(%q): no error", bad)
		}
	}
}

func TestNames(t *testing.T) {
	if got := snowpipe.ChannelName("consumer_registration", 3); got != "consumer_registration-3" {
		t.Errorf("ChannelName = %q", got)
	}
	if got := snowpipe.DefaultPipe("CART_EVENTS"); got != "CART_EVENTS-STREAMING" {
		t.Errorf("DefaultPipe = %q", got)
	}
}
