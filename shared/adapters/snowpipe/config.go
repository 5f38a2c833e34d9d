package snowpipe

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Compression is how an Append Rows body is compressed (its
// Content-Encoding). Snowflake bills ingest by uncompressed bytes, so
// compression saves network time, not credits.
type Compression string

const (
	Zstd Compression = "zstd" // the default: smallest and fastest here (see the benchmark)
	Gzip Compression = "gzip"
	None Compression = "none" // no Content-Encoding
)

// Config says where and as whom to stream.
type Config struct {
	// Account is the account identifier (myorg-myaccount, or a locator such
	// as xy12345.us-east-1). The JWT names the part before the first dot,
	// upper-cased.
	Account string
	// User is the Snowflake user holding the key pair's public key.
	User string
	// Key is the user's RSA private key: snowflake.ParsePrivateKey turns the
	// PEM from Secrets Manager into it. Required.
	Key *rsa.PrivateKey
	// Database and Schema hold the target tables (and their pipes).
	Database string
	Schema   string
	// AccountURL is the control plane, default https://<Account>.snowflakecomputing.com.
	// Its scheme is used for the ingest host as well (http only in tests).
	AccountURL string
	// Compression of the Append Rows bodies; default Zstd.
	Compression Compression
	// MaxRequestRows caps the uncompressed NDJSON of one Append Rows
	// request, in bytes; default and maximum 4 MiB (the documented limit of
	// the rows payload). A batch larger than this is sent in several
	// requests, each with its own offset tokens.
	MaxRequestBytes int
	// Retry is the backoff for retryable failures (429, 5xx, network).
	Retry Backoff
	// CommitPoll is the pause between channel-status polls while waiting
	// for a commit; default 250 ms.
	CommitPoll time.Duration
	// CommitTimeout bounds WaitCommitted; default 2 min.
	CommitTimeout time.Duration
	// ReopenAfter is how long the committed offset token may stand still,
	// with rows sent above it, before the channel is reopened and the rows
	// sent again (a channel invalidated without an error reaching this
	// client); default 30 s.
	ReopenAfter time.Duration
	// MaxReopens bounds the reopens within one Send or WaitCommitted;
	// default 5.
	MaxReopens int
	// JWTLifetime is the key-pair JWT's validity; default and maximum 1 h.
	JWTLifetime time.Duration
	// HTTPClient defaults to a client with a 60 s timeout.
	HTTPClient *http.Client
	// UserAgent defaults to "PulseSnowpipe/1 (app=pulse)".
	UserAgent string
	// Now defaults to time.Now (tests move it to expire tokens).
	Now func() time.Time
}

// Backoff is exponential backoff with full jitter: attempt n waits a
// random time up to min(Max, Base·2ⁿ), or what Retry-After says.
type Backoff struct {
	// Attempts is the number of tries of one request; default 8.
	Attempts int
	Base     time.Duration // default 100 ms
	Max      time.Duration // default 5 s
}

const maxRowsPayload = 4 << 20 // the documented Append Rows payload limit

func (c Config) withDefaults() (Config, error) {
	var missing []string
	if c.Account == "" {
		missing = append(missing, "Account")
	}
	if c.User == "" {
		missing = append(missing, "User")
	}
	if c.Key == nil {
		missing = append(missing, "Key")
	}
	if c.Database == "" {
		missing = append(missing, "Database")
	}
	if c.Schema == "" {
		missing = append(missing, "Schema")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("snowpipe config: missing %s", strings.Join(missing, ", "))
	}
	if c.AccountURL == "" {
		c.AccountURL = "https://" + strings.ToLower(c.Account) + ".snowflakecomputing.com"
	}
	u, err := url.Parse(c.AccountURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c, fmt.Errorf("snowpipe config: AccountURL %q is not an http(s) URL", c.AccountURL)
	}
	c.AccountURL = strings.TrimRight(c.AccountURL, "/")
	switch c.Compression {
	case "":
		c.Compression = Zstd
	case Zstd, Gzip, None:
	default:
		return c, fmt.Errorf("snowpipe config: Compression %q: want zstd, gzip or none", c.Compression)
	}
	if c.MaxRequestBytes <= 0 || c.MaxRequestBytes > maxRowsPayload {
		c.MaxRequestBytes = maxRowsPayload
	}
	if c.Retry.Attempts <= 0 {
		c.Retry.Attempts = 8
	}
	if c.Retry.Base <= 0 {
		c.Retry.Base = 100 * time.Millisecond
	}
	if c.Retry.Max <= 0 {
		c.Retry.Max = 5 * time.Second
	}
	if c.CommitPoll <= 0 {
		c.CommitPoll = 250 * time.Millisecond
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 2 * time.Minute
	}
	if c.ReopenAfter <= 0 {
		c.ReopenAfter = 30 * time.Second
	}
	if c.MaxReopens <= 0 {
		c.MaxReopens = 5
	}
	if c.JWTLifetime <= 0 || c.JWTLifetime > time.Hour {
		c.JWTLifetime = time.Hour
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if c.UserAgent == "" {
		c.UserAgent = "PulseSnowpipe/1 (app=pulse)"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// ConfigFromEnv reads the Snowflake adapter's variables (SNOWFLAKE_ACCOUNT,
// SNOWFLAKE_USER, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA and, for tests and
// private links, SNOWFLAKE_PROTOCOL, SNOWFLAKE_HOST, SNOWFLAKE_PORT) and
// SNOWPIPE_COMPRESSION (zstd, gzip or none) through getenv. The key is not
// read here: the caller fetches SNOWFLAKE_PRIVATE_KEY_SECRET and sets Key.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Account:     getenv("SNOWFLAKE_ACCOUNT"),
		User:        getenv("SNOWFLAKE_USER"),
		Database:    getenv("SNOWFLAKE_DATABASE"),
		Schema:      getenv("SNOWFLAKE_SCHEMA"),
		Compression: Compression(strings.ToLower(getenv("SNOWPIPE_COMPRESSION"))),
	}
	if host := getenv("SNOWFLAKE_HOST"); host != "" {
		scheme := getenv("SNOWFLAKE_PROTOCOL")
		if scheme == "" {
			scheme = "https"
		}
		if p := getenv("SNOWFLAKE_PORT"); p != "" {
			if _, err := strconv.Atoi(p); err != nil {
				return Config{}, fmt.Errorf("reading SNOWFLAKE_PORT %q: %w", p, err)
			}
			host += ":" + p
		}
		c.AccountURL = scheme + "://" + host
	}
	switch c.Compression {
	case "", Zstd, Gzip, None:
	default:
		return Config{}, fmt.Errorf("reading SNOWPIPE_COMPRESSION %q: want zstd, gzip or none", c.Compression)
	}
	return c, nil
}
