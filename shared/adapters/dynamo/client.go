package dynamo

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// defaultRegion is used when the environment names no region.
const defaultRegion = "us-east-1"

// NewClient builds a DynamoDB client from the default config chain
// (environment, shared config, container/instance roles), with region
// us-east-1 if none is set.
//
// A non-empty endpoint overrides the service endpoint (DynamoDB Local,
// LocalStack); with "" the SDK itself honours AWS_ENDPOINT_URL_DYNAMODB and
// AWS_ENDPOINT_URL. When an endpoint is in effect, response CRC32
// validation is off (emulators do not always send it) and, if the
// environment holds no credentials, static dummy ones are used.
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS config for DynamoDB: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	emulated := endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	if emulated && !credentialsInEnv() {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	// Keep a connection per concurrent dedupe write (the default keeps 10).
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = 2 * writeConcurrency
	})
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if emulated {
			o.DisableValidateResponseChecksum = true
		}
	}), nil
}

// credentialsInEnv reports whether the environment points the SDK at
// credentials (keys, a profile, a container or web-identity role).
func credentialsInEnv() bool {
	for _, v := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}
