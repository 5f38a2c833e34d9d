package msk

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec is how the deployment creates Pulse's topics (seed 004: 5
// partitions, replication factor 3).
type TopicSpec struct {
	Topics            []string
	Partitions        int32
	ReplicationFactor int16
}

// TopicResult is what EnsureTopics did to one topic.
type TopicResult struct {
	Topic             string
	Partitions        int32
	ReplicationFactor int16
	Action            string // "created", "partitions added", "unchanged"
}

// EnsureTopics creates each topic with spec's partitions and replication
// factor (capped at the cluster's broker count: MSK Serverless and a
// one-broker test cluster allow fewer replicas than seed 004 asks), and
// adds partitions to an existing topic that has fewer. It never deletes or
// shrinks: running it again changes nothing.
func EnsureTopics(ctx context.Context, client *kgo.Client, spec TopicSpec) ([]TopicResult, error) {
	if spec.Partitions <= 0 || spec.ReplicationFactor <= 0 {
		return nil, fmt.Errorf("topics: partitions %d and replication factor %d must be positive", spec.Partitions, spec.ReplicationFactor)
	}
	adm := kadm.NewClient(client)
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return nil, fmt.Errorf("topics: listing the brokers: %w", err)
	}
	rf := spec.ReplicationFactor
	if n := int16(len(brokers)); n > 0 && rf > n {
		rf = n
	}
	topics := append([]string(nil), spec.Topics...)
	sort.Strings(topics)
	existing, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("topics: describing %v: %w", topics, err)
	}
	var out []TopicResult
	var create, grow []string
	for _, t := range topics {
		d, ok := existing[t]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			create = append(create, t)
		case d.Err != nil:
			return nil, fmt.Errorf("topics: describing %s: %w", t, d.Err)
		case int32(len(d.Partitions)) < spec.Partitions:
			grow = append(grow, t)
		default:
			out = append(out, TopicResult{Topic: t, Partitions: int32(len(d.Partitions)), ReplicationFactor: int16(d.Partitions.NumReplicas()), Action: "unchanged"})
		}
	}
	if len(create) > 0 {
		res, err := adm.CreateTopics(ctx, spec.Partitions, rf, nil, create...)
		if err != nil {
			return nil, fmt.Errorf("topics: creating %v: %w", create, err)
		}
		for _, t := range create {
			r := res[t]
			if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
				return nil, fmt.Errorf("topics: creating %s with %d partitions, replication factor %d: %w", t, spec.Partitions, rf, r.Err)
			}
			out = append(out, TopicResult{Topic: t, Partitions: spec.Partitions, ReplicationFactor: rf, Action: "created"})
		}
	}
	if len(grow) > 0 {
		res, err := adm.UpdatePartitions(ctx, int(spec.Partitions), grow...)
		if err != nil {
			return nil, fmt.Errorf("topics: adding partitions to %v: %w", grow, err)
		}
		for _, t := range grow {
			if r := res[t]; r.Err != nil {
				return nil, fmt.Errorf("topics: adding partitions to %s: %w", t, r.Err)
			}
			out = append(out, TopicResult{Topic: t, Partitions: spec.Partitions, ReplicationFactor: int16(existing[t].Partitions.NumReplicas()), Action: "partitions added"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out, nil
}
