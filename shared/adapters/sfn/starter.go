// Package sfn starts AWS Step Functions executions: port.Starter on
// the batch state machine, for the trigger function.
package sfn

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.Starter = (*Starter)(nil)

// sfnAPI is the one Step Functions call Starter makes.
type sfnAPI interface {
	StartExecution(ctx context.Context, in *awssfn.StartExecutionInput, opts ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error)
}

// Starter starts executions of one state machine.
type Starter struct {
	client sfnAPI
	arn    string
}

// NewStarter starts executions of the state machine arn with client.
func NewStarter(client sfnAPI, arn string) *Starter {
	return &Starter{client: client, arn: arn}
}

// Start implements port.Starter. A name already used by an execution
// of the state machine (Step Functions keeps names for 90 days) is
// ExecutionAlreadyExists: nothing new starts and Start reports false.
// Step Functions answers a repeat of a still-running execution with the
// same input with success, which Start reports as started: either way
// exactly one execution runs.
func (s *Starter) Start(ctx context.Context, name string, input []byte) (bool, error) {
	_, err := s.client.StartExecution(ctx, &awssfn.StartExecutionInput{
		StateMachineArn: aws.String(s.arn),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("starting execution %s of %s: %w", name, s.arn, err)
	}
	return true, nil
}

// NewClient builds a Step Functions client from the default config chain;
// the endpoint is the argument, else AWS_ENDPOINT_URL_SFN, else
// AWS_ENDPOINT_URL (read by the SDK), else AWS's own. With an endpoint and
// no credentials in the environment, dummy static credentials are used.
func NewClient(ctx context.Context, endpoint string) (*awssfn.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithDefaultRegion("us-east-1")}
	emulated := endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_SFN") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	if emulated && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading aws config for step functions: %w", err)
	}
	return awssfn.NewFromConfig(cfg, func(o *awssfn.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}
