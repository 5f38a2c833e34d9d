// Package wire builds what Pulse's Lambda functions run on from the
// environment infra/stacks gives them, so each functions/<name>/main.go
// stays a few lines and the integration tests (tests/integration) build
// the same values against the stand-ins or LocalStack. Endpoints come from
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> through the SDK.
//
// Start is every function's main (the masking logger, the build, Lambda).
// The package imports only the S3 and DynamoDB adapters: the warehouse
// (gosnowflake, wire/warehouse), the stream function (Avro, wire/streamfn)
// and the catalog function (Kafka, wire/catalogfn) are wired in
// subpackages, so other functions' binaries stay small.
package wire

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Environment variables (infra/stacks sets them).
const (
	EnvRawBucket        = "PULSE_RAW_BUCKET"
	EnvStagingBucket    = "PULSE_STAGING_BUCKET"
	EnvCuratedBucket    = "PULSE_CURATED_BUCKET"
	EnvQuarantineBucket = "PULSE_QUARANTINE_BUCKET"
	EnvDedupeTable      = "PULSE_DEDUPE_TABLE"
	EnvDedupeTTL        = "PULSE_DEDUPE_TTL"  // Go duration; default DefaultDedupeTTL
	EnvChunkBytes       = "PULSE_CHUNK_BYTES" // default batch.DefaultChunkBytes
	EnvStateMachineARN  = "PULSE_BATCH_STATE_MACHINE_ARN"
	EnvCatalogTopic     = "PULSE_CATALOG_TOPIC"
	EnvSchemaRegistry   = "PULSE_SCHEMA_REGISTRY_URL" // optional: produce Avro through it
	EnvTempDir          = "PULSE_TEMP_DIR"            // default: Lambda's /tmp
)

// DefaultDedupeTTL is how long a dedupe key is remembered after its last
// claim: a duplicate arriving later than this is loaded again.
const DefaultDedupeTTL = 400 * 24 * time.Hour

// Buckets reads the four bucket names, all required.
func Buckets(getenv func(string) string) (port.Buckets, error) {
	b := port.Buckets{
		Raw:        getenv(EnvRawBucket),
		Staging:    getenv(EnvStagingBucket),
		Curated:    getenv(EnvCuratedBucket),
		Quarantine: getenv(EnvQuarantineBucket),
	}
	if err := Require(getenv, EnvRawBucket, EnvStagingBucket, EnvCuratedBucket, EnvQuarantineBucket); err != nil {
		return b, err
	}
	return b, nil
}

// Require names every variable of names that is empty.
func Require(getenv func(string) string, names ...string) error {
	var missing []string
	for _, n := range names {
		if getenv(n) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("environment: %s not set", strings.Join(missing, ", "))
	}
	return nil
}

// Int64 reads a positive integer variable, def when unset.
func Int64(getenv func(string) string, name string, def int64) (int64, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("environment: %s=%q is not a positive integer", name, v)
	}
	return n, nil
}

// Duration reads a Go duration variable, def when unset.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("environment: %s=%q is not a positive duration", name, v)
	}
	return d, nil
}

// Store makes the S3 object store.
func Store(ctx context.Context) (*s3store.Store, error) {
	c, err := s3store.NewClient(ctx, "")
	if err != nil {
		return nil, err
	}
	return s3store.New(c), nil
}

// Dedupe makes the DynamoDB dedupe store on PULSE_DEDUPE_TABLE.
func Dedupe(ctx context.Context, getenv func(string) string) (*dynamo.Dedupe, error) {
	if err := Require(getenv, EnvDedupeTable); err != nil {
		return nil, err
	}
	ttl, err := Duration(getenv, EnvDedupeTTL, DefaultDedupeTTL)
	if err != nil {
		return nil, err
	}
	c, err := dynamo.NewClient(ctx, "")
	if err != nil {
		return nil, err
	}
	return dynamo.NewDedupe(c, getenv(EnvDedupeTable), ttl), nil
}

// Env makes the batch steps' batch.Env: the buckets, the S3 store and,
// with dedupe, the DynamoDB dedupe store. The caller adds a warehouse.
func Env(ctx context.Context, getenv func(string) string, dedupe bool) (*batch.Env, error) {
	b, err := Buckets(getenv)
	if err != nil {
		return nil, err
	}
	st, err := Store(ctx)
	if err != nil {
		return nil, err
	}
	env := &batch.Env{Store: st, Buckets: b, TempDir: getenv(EnvTempDir)}
	if dedupe {
		if env.Dedupe, err = Dedupe(ctx, getenv); err != nil {
			return nil, err
		}
	}
	return env, nil
}
