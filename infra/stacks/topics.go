package stacks

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// Kafka topic settings (seed 004: 5 partitions, replication factor 3).
const (
	DefaultTopicPartitions        = 5
	DefaultTopicReplicationFactor = 3
	ContextTopicPartitions        = "topicPartitions"
	ContextTopicReplicationFactor = "topicReplicationFactor"
	// TopicsResourceType is the custom resource that creates the topics.
	TopicsResourceType = "Custom::PulseKafkaTopics"
)

func (c *Config) loadTopicSettings(lookup func(string) string) error {
	for key, dst := range map[string]*int{ContextTopicPartitions: &c.TopicPartitions, ContextTopicReplicationFactor: &c.TopicReplicationFactor} {
		v := lookup(key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("checking %s: %q is not a positive number", key, v)
		}
		*dst = n
	}
	return nil
}

func (c Config) topicPartitions() int {
	if c.TopicPartitions > 0 {
		return c.TopicPartitions
	}
	return DefaultTopicPartitions
}

func (c Config) topicReplicationFactor() int {
	if c.TopicReplicationFactor > 0 {
		return c.TopicReplicationFactor
	}
	return DefaultTopicReplicationFactor
}

// addTopics adds the topics function (functions/topics) and the custom resource that invokes it
// with every topic the stream function reads and the catalog function writes, their partitions and
// replication factor: the topics exist, as seed 004 sizes them, before the event-source mappings
// read them. The function may describe and create (and add partitions to) those topics only.
func (s *StreamingStack) addTopics(stack awscdk.Stack, cfg Config, topics []string) {
	set := map[string]bool{}
	for _, t := range topics {
		set[t] = true
	}
	names := make([]string, 0, len(set))
	for t := range set {
		names = append(names, t)
	}
	sort.Strings(names)
	spec := functionSpec{name: "topics", memory: 256, timeout: awscdk.Duration_Minutes(jsii.Number(5)),
		env: map[string]*string{"PULSE_MSK_CLUSTER_ARN": s.ClusterARN}}
	var fn awslambda.Function
	if s.VPC != nil {
		fn = newVPCFunction(stack, "Topics", cfg, spec, s.VPC, s.ClientSecurityGroup)
	} else {
		fn = newGoFunction(stack, "Topics", cfg, spec)
	}
	grantKafka(fn, []*string{s.ClusterARN}, "kafka-cluster:Connect", "kafka:GetBootstrapBrokers")
	var arns []*string
	for _, t := range names {
		arns = append(arns, kafkaResourceARN(stack, s.ClusterARN, "topic", t))
	}
	grantKafka(fn, arns, "kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic")
	cr := awscdk.NewCustomResource(stack, jsii.String("KafkaTopics"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String(TopicsResourceType),
		Properties: &map[string]any{"Topics": names, "Partitions": strconv.Itoa(cfg.topicPartitions()),
			"ReplicationFactor": strconv.Itoa(cfg.topicReplicationFactor())},
	})
	// The stream function and its event-source mappings come after the topics exist.
	s.Function.Node().AddDependency(cr)
	s.Topics = fn
	s.TopicsResource = cr
}
