// Package snowflake is port.Warehouse on Snowflake through gosnowflake,
// with key-pair (SNOWFLAKE_JWT) authentication and the private key read
// through a SecretSource (AWS Secrets Manager in the cloud, an environment
// variable or file locally). Loads write the batch to a local file, PUT it
// on a stage, COPY it into a session temporary table and MERGE from there,
// using the Snowflake dialect of shared/sqlmodel.
//
// Build with -tags minicore_disabled (see PINS.md).
package snowflake

import (
	"fmt"
	"strconv"
	"strings"
)

// Config says where and as whom to connect.
type Config struct {
	Account   string
	User      string
	Role      string
	Warehouse string
	Database  string
	Schema    string
	// PrivateKeySecret names the PEM-encoded PKCS#8 RSA private key in the
	// SecretSource given to Open.
	PrivateKeySecret string
	// Stage is where batch files are PUT, one folder per table; default
	// "@~/pulse" (the user's stage).
	Stage string
	// Protocol ("https" or "http"), Host and Port override the endpoint
	// derived from Account (tests, private links).
	Protocol string
	Host     string
	Port     int
}

// ConfigFromEnv reads SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE,
// SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA,
// SNOWFLAKE_PRIVATE_KEY_SECRET, SNOWFLAKE_STAGE and optionally
// SNOWFLAKE_PROTOCOL, SNOWFLAKE_HOST, SNOWFLAKE_PORT through getenv
// (os.Getenv in production). Account, user and private key secret are
// required.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Account:          getenv("SNOWFLAKE_ACCOUNT"),
		User:             getenv("SNOWFLAKE_USER"),
		Role:             getenv("SNOWFLAKE_ROLE"),
		Warehouse:        getenv("SNOWFLAKE_WAREHOUSE"),
		Database:         getenv("SNOWFLAKE_DATABASE"),
		Schema:           getenv("SNOWFLAKE_SCHEMA"),
		PrivateKeySecret: getenv("SNOWFLAKE_PRIVATE_KEY_SECRET"),
		Stage:            getenv("SNOWFLAKE_STAGE"),
		Protocol:         getenv("SNOWFLAKE_PROTOCOL"),
		Host:             getenv("SNOWFLAKE_HOST"),
	}
	if p := getenv("SNOWFLAKE_PORT"); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return Config{}, fmt.Errorf("reading SNOWFLAKE_PORT %q: %w", p, err)
		}
		c.Port = port
	}
	return c, c.check()
}

func (c Config) check() error {
	var missing []string
	if c.Account == "" {
		missing = append(missing, "account (SNOWFLAKE_ACCOUNT)")
	}
	if c.User == "" {
		missing = append(missing, "user (SNOWFLAKE_USER)")
	}
	if c.PrivateKeySecret == "" {
		missing = append(missing, "private key secret (SNOWFLAKE_PRIVATE_KEY_SECRET)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("snowflake config: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func (c Config) stage() string {
	if c.Stage == "" {
		return "@~/pulse"
	}
	return strings.TrimSuffix(c.Stage, "/")
}
