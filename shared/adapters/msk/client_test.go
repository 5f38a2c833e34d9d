package msk

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kafka"
)

func TestConfigFromEnv(t *testing.T) {
	const arn = "arn:aws:kafka:eu-west-1:111122223333:cluster/pulse/0123-4567"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Config
		err  bool
	}{
		{"brokers", map[string]string{"PULSE_KAFKA_BROKERS": "a:9092, b:9092,"}, Config{Brokers: []string{"a:9092", "b:9092"}}, false},
		{"brokers with iam", map[string]string{"PULSE_KAFKA_BROKERS": "a:9098", "PULSE_KAFKA_IAM": "true"}, Config{Brokers: []string{"a:9098"}, IAM: true}, false},
		{"cluster", map[string]string{"PULSE_MSK_CLUSTER_ARN": arn}, Config{ClusterARN: arn, IAM: true}, false},
		{"nothing", map[string]string{}, Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v %v, want %+v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

type fakeKafka struct {
	out *kafka.GetBootstrapBrokersOutput
	err error
	arn string
}

func (f *fakeKafka) GetBootstrapBrokers(_ context.Context, in *kafka.GetBootstrapBrokersInput, _ ...func(*kafka.Options)) (*kafka.GetBootstrapBrokersOutput, error) {
	f.arn = aws.ToString(in.ClusterArn)
	return f.out, f.err
}

func TestBootstrapBrokers(t *testing.T) {
	f := &fakeKafka{out: &kafka.GetBootstrapBrokersOutput{BootstrapBrokerStringSaslIam: aws.String("b-1.x:9098,b-2.x:9098")}}
	got, err := BootstrapBrokers(context.Background(), f, "arn:c")
	if err != nil || !reflect.DeepEqual(got, []string{"b-1.x:9098", "b-2.x:9098"}) || f.arn != "arn:c" {
		t.Errorf("brokers %v %v (asked for %q)", got, err, f.arn)
	}
	f.out = &kafka.GetBootstrapBrokersOutput{BootstrapBrokerString: aws.String("b-1.x:9092")}
	if _, err := BootstrapBrokers(context.Background(), f, "arn:c"); err == nil || !strings.Contains(err.Error(), "no IAM listener") {
		t.Errorf("no iam listener: %v", err)
	}
	f.err = errors.New("AccessDenied")
	if _, err := BootstrapBrokers(context.Background(), f, "arn:c"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("api error: %v", err)
	}
}
