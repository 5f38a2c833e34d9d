package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/localstack/cloud"
	"github.com/pulse-analytics/pulse/shared/migration"
)

// The local cloud tests run what `cdk deploy` ships: the function binaries
// are built once per test binary for this host (infra/build-lambdas.sh),
// the CDK app is synthesized once with them through the CDK CLI, and each
// test brings that cloud assembly up on the stand-ins (localstack/cloud):
// the bootstraps under the Lambda Runtime Interface Emulator with their
// template environment, the notifications, mappings, rules and state
// machines of the templates.

var (
	cloudOnce     sync.Once
	cloudDir      string
	cloudPrepared *cloud.Prepared
	cloudErr      error
)

// cloudAssembly builds the bootstraps and synthesizes once per test binary.
// PULSE_CLOUD_ASSEMBLY names one already made by cloud.Prepare instead
// (while working on the tests).
func cloudAssembly(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("PULSE_CLOUD_ASSEMBLY"); dir != "" {
		if cloudPrepared == nil {
			cloudPrepared = &cloud.Prepared{Assembly: dir}
		}
		return dir
	}
	cloudOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			cloudErr = err
			return
		}
		if cloudDir, err = os.MkdirTemp("", "pulse-cloud-e2e-"); err != nil {
			cloudErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cloudPrepared, cloudErr = cloud.Prepare(ctx, root, cloudDir, nil)
	})
	if cloudErr != nil {
		t.Fatal(cloudErr)
	}
	return cloudPrepared.Assembly
}

// startCloud brings the assembly up for one test (the functions' Step
// Functions retries wait 50 ms instead of their seconds), with IAM
// enforced: a call its caller's role does not allow is answered
// AccessDenied, as on AWS.
func startCloud(t *testing.T, o cloud.Options) *cloud.Cloud {
	t.Helper()
	o.Assembly = cloudAssembly(t)
	o.Enforce = true
	if o.RetryInterval == 0 {
		o.RetryInterval = 50 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	c, err := cloud.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("local cloud up in %s (build %s, synth %s once per test binary)", time.Since(t0).Round(time.Millisecond),
		cloudPrepared.Build.Round(time.Second), cloudPrepared.Synth.Round(time.Second))
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range c.Functions() {
				if b, err := c.Log(f.Label); err == nil && len(b) > 0 {
					t.Logf("log of %s (last 3000 bytes):\n%s", f.Label, tail(b, 3000))
				}
			}
		}
		c.Close()
	})
	return c
}

// checkCustomResources checks that the deployment's custom resources ran
// and answered CloudFormation: the warehouse schema with the migration's
// digest, and the Kafka topics, each with the template's partitions.
func checkCustomResources(t *testing.T, c *cloud.Cloud) {
	t.Helper()
	got := map[string]*cloud.CustomResource{}
	for _, cr := range c.CustomResources() {
		got[cr.Resource.Type] = cr
	}
	if cr := got["Custom::PulseWarehouseSchema"]; cr == nil {
		t.Error("the warehouse schema custom resource did not run")
	} else if data, _ := cr.Response["Data"].(map[string]any); data["Digest"] != migration.Digest() {
		t.Errorf("the schema function answered %v, want the digest %s", cr.Response, migration.Digest())
	}
	cr := got["Custom::PulseKafkaTopics"]
	if cr == nil {
		t.Fatal("the Kafka topics custom resource did not run")
	}
	want, _ := cr.Resource.Properties["Partitions"].(string)
	topics, _ := cr.Resource.Properties["Topics"].([]any)
	if want != "5" {
		t.Errorf("the template creates the topics with %s partitions, want seed 004's 5", want)
	}
	listed := map[string]bool{}
	for _, tp := range topics {
		listed[fmt.Sprint(tp)] = true
	}
	for _, tp := range events.Topics() {
		if !listed[tp] {
			t.Errorf("topic %s is not created by the deployment", tp)
		}
	}
	for _, tp := range topics {
		if n := c.Kafka.Partitions(tp.(string)); fmt.Sprint(n) != want {
			t.Errorf("topic %v has %d partitions, want %s", tp, n, want)
		}
	}
}

// checkIAM fails the test for every AWS call of the run that its caller's
// role in the template does not allow (naming the function, the action and
// the resource), and logs per function the calls made and the grants no
// call used.
func checkIAM(t *testing.T, c *cloud.Cloud) {
	t.Helper()
	rep, err := c.CheckIAM()
	if err != nil {
		t.Fatalf("checking the calls against the roles: %v", err)
	}
	for _, d := range rep.Denied {
		who := d.Call.Function
		if who == "" {
			who = d.Call.Principal
		}
		t.Errorf("IAM: %s may not %s on %s (%s)", who, d.Call.Action, d.Call.Resource, d.Reason)
	}
	var fns []string
	for f := range rep.Calls {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	for _, f := range fns {
		t.Logf("IAM: %s made %d distinct calls: %s", f, len(rep.Calls[f]), strings.Join(rep.Calls[f], "; "))
	}
	for _, g := range rep.Unused {
		t.Logf("IAM: unused grant %s", g)
	}
	for _, u := range rep.Unknown {
		t.Logf("IAM: managed policy not evaluated: %s", u)
	}
	recordIAM(t, c, rep)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// cloudS3 is an S3 client of the cloud's endpoint with a test caller's
// credentials (what a user's upload would be).
func cloudS3(c *cloud.Cloud) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.Endpoint()), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(cloud.TestAccessKey, "local", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired, ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
}

// put uploads a file under key to a bucket of the cloud.
func put(ctx context.Context, t *testing.T, c *cloud.Cloud, bucket, key string, body []byte) {
	t.Helper()
	if _, err := cloudS3(c).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("uploading s3://%s/%s: %v", bucket, key, err)
	}
}

// cloudQuery reads the local warehouse.
func cloudQuery(t *testing.T, c *cloud.Cloud, q string, args ...any) [][]any {
	t.Helper()
	rows, err := c.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

// removeCloudDir removes what cloudAssembly built (TestMain).
func removeCloudDir() {
	if cloudDir != "" {
		os.RemoveAll(cloudDir)
	}
}
