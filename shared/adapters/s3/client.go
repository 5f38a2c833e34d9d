package s3store

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultRegion is used when the config chain names no region.
const DefaultRegion = "us-east-1"

// NewClient builds an S3 client from the default config chain
// (environment, shared config, IAM role). The endpoint is the argument,
// else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS's own. With an
// endpoint (an emulator such as s3local or LocalStack) the client uses
// path-style addressing, computes request checksums and validates
// response checksums only when an operation requires it, and, when
// neither AWS_ACCESS_KEY_ID nor AWS_PROFILE is set, signs with dummy
// static credentials.
func NewClient(ctx context.Context, endpoint string) (*s3.Client, error) {
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	opts := []func(*config.LoadOptions) error{config.WithDefaultRegion(DefaultRegion)}
	if endpoint != "" {
		opts = append(opts,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		)
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading aws config for s3: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}
