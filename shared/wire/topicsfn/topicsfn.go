// Package topicsfn builds the topics function (functions/topics), which
// creates Pulse's Kafka topics: a CloudFormation custom resource
// (infra/stacks/streaming.go) invokes it on create and update with the
// topics, their partitions and replication factor (seed 004: 5 and 3), and
// it creates them on the MSK cluster (IAM auth) with franz-go's kadm,
// adding partitions to a topic that has fewer (shared/adapters/msk
// EnsureTopics). Deleting the resource keeps the topics and their data.
package topicsfn

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/pulse-analytics/pulse/shared/adapters/msk"
)

// PhysicalID is the resource's one physical ID: the cluster's topics.
const PhysicalID = "pulse-kafka-topics"

// Build makes the MSK client from the environment and returns the custom
// resource's handler.
func Build(ctx context.Context, getenv func(string) string) (any, error) {
	if _, err := msk.ConfigFromEnv(getenv); err != nil {
		return nil, err // a missing setting fails the init; the client is made by the event that needs it
	}
	return cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType == cfn.RequestDelete {
			return PhysicalID, nil, nil
		}
		spec, err := SpecOf(ev.ResourceProperties)
		if err != nil {
			return PhysicalID, nil, err
		}
		client, err := msk.ClientFromEnv(ctx, getenv)
		if err != nil {
			return PhysicalID, nil, err
		}
		defer client.Close()
		res, err := msk.EnsureTopics(ctx, client, spec)
		if err != nil {
			slog.Error("creating the topics", "error", err)
			return PhysicalID, nil, err
		}
		for _, r := range res {
			slog.Info("topic", "topic", r.Topic, "partitions", r.Partitions, "replication_factor", r.ReplicationFactor, "action", r.Action)
		}
		return PhysicalID, map[string]any{"Topics": len(res)}, nil
	}), nil
}

// SpecOf reads the resource's properties: Topics (a list), Partitions and
// ReplicationFactor (CloudFormation passes numbers as strings).
func SpecOf(p map[string]any) (msk.TopicSpec, error) {
	var spec msk.TopicSpec
	list, _ := p["Topics"].([]any)
	for _, t := range list {
		s, ok := t.(string)
		if !ok || s == "" {
			return spec, fmt.Errorf("Topics: %v is not a topic name", t)
		}
		spec.Topics = append(spec.Topics, s)
	}
	if len(spec.Topics) == 0 {
		return spec, fmt.Errorf("Topics: none given")
	}
	n, err := strconv.Atoi(fmt.Sprint(p["Partitions"]))
	if err != nil {
		return spec, fmt.Errorf("Partitions %v: %w", p["Partitions"], err)
	}
	rf, err := strconv.Atoi(fmt.Sprint(p["ReplicationFactor"]))
	if err != nil {
		return spec, fmt.Errorf("ReplicationFactor %v: %w", p["ReplicationFactor"], err)
	}
	spec.Partitions, spec.ReplicationFactor = int32(n), int16(rf)
	return spec, nil
}
