// Package integration runs Pulse's functions' wiring (shared/wire: the S3 store, the DynamoDB dedupe
// store and the Kafka producer built from the environment, exactly as functions/<name>/main.go build
// them) against whatever AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> and PULSE_KAFKA_BROKERS name.
//
// In `make test` nothing is set: TestMain starts the stand-ins (gofakes3 over HTTP, DynamoDB Local,
// kfake) and points the variables at them. `make localstack-test` points them at LocalStack and the
// Kafka broker of localstack/compose.yaml, and also builds the tests tagged localstack, which drive
// the deployed stacks.
package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pulse-analytics/pulse/localstack/ddblocal"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// standIns says whether TestMain started the stand-ins (false: the environment named endpoints).
var standIns bool

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	stop, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests/integration:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func endpointSet(service string) bool {
	return os.Getenv("AWS_ENDPOINT_URL_"+service) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// setup starts a stand-in for every service the environment does not name, then makes the buckets
// and the dedupe table the functions' environment names (unless PULSE_* already name them).
func setup() (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var closers []func()
	stop := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if !endpointSet("S3") {
		standIns = true
		srv, err := s3local.Start(ctx, "127.0.0.1:0")
		if err != nil {
			return stop, err
		}
		closers = append(closers, func() { srv.Close() })
		os.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint())
	}
	if !endpointSet("DYNAMODB") {
		standIns = true
		ddb, err := ddblocal.Start(ctx)
		if err != nil {
			stop()
			return stop, fmt.Errorf("%w (make tools installs DynamoDB Local)", err)
		}
		closers = append(closers, func() { ddb.Close() })
		os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb.Endpoint())
	}
	if os.Getenv("PULSE_KAFKA_BROKERS") == "" {
		standIns = true
		kc, err := kafkalocal.Start(ctx, kafkalocal.Options{})
		if err != nil {
			stop()
			return stop, err
		}
		closers = append(closers, kc.Close)
		os.Setenv("PULSE_KAFKA_BROKERS", strings.Join(kc.Brokers(), ","))
	}
	suffix := fmt.Sprintf("-%d", time.Now().UnixNano()%1_000_000_000)
	defaults := map[string]string{
		wire.EnvRawBucket: "pulse-it-raw" + suffix, wire.EnvStagingBucket: "pulse-it-staging" + suffix,
		wire.EnvCuratedBucket: "pulse-it-curated" + suffix, wire.EnvQuarantineBucket: "pulse-it-quarantine" + suffix,
		wire.EnvDedupeTable: "pulse-it-dedupe" + suffix,
	}
	for k, v := range defaults {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	if err := makeBuckets(ctx); err != nil {
		stop()
		return stop, err
	}
	dc, err := dynamo.NewClient(ctx, "")
	if err != nil {
		stop()
		return stop, err
	}
	if err := dynamo.EnsureTable(ctx, dc, os.Getenv(wire.EnvDedupeTable)); err != nil {
		stop()
		return stop, err
	}
	return stop, nil
}

// makeBuckets creates the four buckets through the S3 API (versioned, as the raw bucket is on AWS);
// ones that exist already (deployed by cdklocal) are kept.
func makeBuckets(ctx context.Context) error {
	client, err := s3store.NewClient(ctx, "")
	if err != nil {
		return err
	}
	for _, env := range []string{wire.EnvRawBucket, wire.EnvStagingBucket, wire.EnvCuratedBucket, wire.EnvQuarantineBucket} {
		name := os.Getenv(env)
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		var owned *types.BucketAlreadyOwnedByYou
		var exists *types.BucketAlreadyExists
		if err != nil && !asAny(err, &owned, &exists) && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
		if _, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			return fmt.Errorf("enabling versioning on %s: %w", name, err)
		}
	}
	return nil
}
