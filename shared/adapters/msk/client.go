// Package msk produces to Kafka with franz-go: Amazon MSK with IAM
// authentication (SASL AWS_MSK_IAM over TLS, brokers found with
// kafka:GetBootstrapBrokers) in the cloud, a plain broker list locally
// (kfake, a Kafka container). Producer implements catalog.Producer with a
// JSON or a Confluent-Avro encoder.
package msk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"
)

// Config says how to reach the brokers.
type Config struct {
	// Brokers are host:port seeds. Empty: asked of MSK for ClusterARN.
	Brokers []string
	// ClusterARN names the MSK cluster (IAM auth) whose brokers to use.
	ClusterARN string
	// IAM turns on SASL AWS_MSK_IAM over TLS (always with ClusterARN).
	IAM bool
}

// ConfigFromEnv reads PULSE_KAFKA_BROKERS (comma-separated host:port, a
// plain connection unless PULSE_KAFKA_IAM=true) or else
// PULSE_MSK_CLUSTER_ARN (IAM auth). One of them is required.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{ClusterARN: getenv("PULSE_MSK_CLUSTER_ARN"), IAM: getenv("PULSE_KAFKA_IAM") == "true"}
	for _, b := range strings.Split(getenv("PULSE_KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	if len(c.Brokers) == 0 && c.ClusterARN == "" {
		return Config{}, errors.New("kafka config: set PULSE_KAFKA_BROKERS or PULSE_MSK_CLUSTER_ARN")
	}
	if len(c.Brokers) == 0 {
		c.IAM = true
	}
	return c, nil
}

// kafkaAPI is the one MSK control-plane call this package makes.
type kafkaAPI interface {
	GetBootstrapBrokers(ctx context.Context, in *kafka.GetBootstrapBrokersInput, opts ...func(*kafka.Options)) (*kafka.GetBootstrapBrokersOutput, error)
}

// BootstrapBrokers asks MSK for the IAM bootstrap brokers of a cluster
// (provisioned or serverless).
func BootstrapBrokers(ctx context.Context, api kafkaAPI, clusterARN string) ([]string, error) {
	out, err := api.GetBootstrapBrokers(ctx, &kafka.GetBootstrapBrokersInput{ClusterArn: aws.String(clusterARN)})
	if err != nil {
		return nil, fmt.Errorf("getting bootstrap brokers of %s: %w", clusterARN, err)
	}
	s := aws.ToString(out.BootstrapBrokerStringSaslIam)
	if s == "" {
		return nil, fmt.Errorf("getting bootstrap brokers of %s: the cluster has no IAM listener (turn on IAM client authentication)", clusterARN)
	}
	return strings.Split(s, ","), nil
}

// NewClient makes a franz-go client for cfg. With IAM, credentials come
// from awsCfg (refreshed for every SASL session) and brokers, if none are
// configured, from GetBootstrapBrokers; awsCfg is unused otherwise. Extra
// options are appended.
func NewClient(ctx context.Context, cfg Config, awsCfg aws.Config, opts ...kgo.Opt) (*kgo.Client, error) {
	brokers := cfg.Brokers
	if len(brokers) == 0 {
		if cfg.ClusterARN == "" {
			return nil, errors.New("kafka client: no brokers and no cluster ARN")
		}
		var err error
		if brokers, err = BootstrapBrokers(ctx, kafka.NewFromConfig(awsCfg), cfg.ClusterARN); err != nil {
			return nil, err
		}
	}
	kopts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5 * time.Millisecond)}
	if cfg.IAM || len(cfg.Brokers) == 0 {
		kopts = append(kopts,
			kgo.SASL(iamMechanism(awsCfg)),
			kgo.Dialer((&tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tls.Config{MinVersion: tls.VersionTLS12}}).DialContext),
		)
	}
	cl, err := kgo.NewClient(append(kopts, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("making kafka client for %s: %w", strings.Join(brokers, ","), err)
	}
	return cl, nil
}

func iamMechanism(awsCfg aws.Config) sasl.Mechanism {
	return awssasl.ManagedStreamingIAM(func(ctx context.Context) (awssasl.Auth, error) {
		if awsCfg.Credentials == nil {
			return awssasl.Auth{}, errors.New("msk iam: no AWS credentials configured")
		}
		c, err := awsCfg.Credentials.Retrieve(ctx)
		if err != nil {
			return awssasl.Auth{}, fmt.Errorf("msk iam: retrieving credentials: %w", err)
		}
		return awssasl.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: "pulse"}, nil
	})
}

// ClientFromEnv makes a client from the function's environment
// (ConfigFromEnv) and the default AWS configuration (for IAM auth and the
// bootstrap-broker lookup): what the catalog and topics functions share.
// With only a cluster ARN it asks MSK for the brokers, a network call:
// call it where the first piece of work needs Kafka, not at init.
func ClientFromEnv(ctx context.Context, getenv func(string) string, opts ...kgo.Opt) (*kgo.Client, error) {
	kcfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka client: loading the AWS configuration: %w", err)
	}
	return NewClient(ctx, kcfg, awsCfg, opts...)
}
