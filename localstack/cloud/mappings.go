package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/esm"
)

// Mapping is one Kafka event-source mapping of the assembly, run by
// localstack/esm with the template's topic, consumer group, batch size,
// batching window and starting position; a batch that fails every attempt
// goes to the template's on-failure destination and the mapping moves on.
type Mapping struct {
	Resource         *Resource
	Function         *Function
	Cluster          string // the event source ARN
	Topics           []string
	Group            string
	BatchSize        int
	Window           time.Duration
	StartingPosition string
	OnFailure        string // destination ARN, "" for none
	MaxAttempts      int    // invocations of a failing batch before the destination

	poller *esm.Poller
	cancel context.CancelFunc
	done   chan struct{}
	err    error

	mu       sync.Mutex
	attempts map[string]int
	failed   []FailedBatch
}

// FailedBatch is what the mapping sent to its on-failure destination.
type FailedBatch struct {
	Destination string
	Message     json.RawMessage // the invocation record Lambda sends
}

func (c *Cloud) startMappings(ctx context.Context) error {
	a := c.Assembly
	topics := map[string]bool{}
	for _, r := range a.Resources("AWS::Lambda::EventSourceMapping") {
		v, err := a.Resolve(r.Stack, r.Properties)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		p := v.(map[string]any)
		m := &Mapping{Resource: r, attempts: map[string]int{}, MaxAttempts: c.opts.MappingRetries + 1}
		m.Cluster, _ = p["EventSourceArn"].(string)
		if !strings.Contains(m.Cluster, ":kafka:") {
			c.skipped = append(c.skipped, fmt.Sprintf("%s: event source %s is not an MSK cluster (not run)", r, m.Cluster))
			continue
		}
		fname, _ := p["FunctionName"].(string)
		if m.Function = c.functionByName(fname); m.Function == nil {
			return fmt.Errorf("%s: function %s is not run by the local cloud", r, fname)
		}
		m.Topics = strs(p["Topics"])
		if len(m.Topics) == 0 {
			return fmt.Errorf("%s has no Topics", r)
		}
		if kc, ok := p["AmazonManagedKafkaEventSourceConfig"].(map[string]any); ok {
			m.Group, _ = kc["ConsumerGroupId"].(string)
		}
		if m.Group == "" {
			m.Group = uuidOf(r.String()) // Lambda's default: the mapping's UUID
		}
		m.BatchSize = 100
		if b, ok := p["BatchSize"].(float64); ok {
			m.BatchSize = int(b)
		}
		m.Window = 500 * time.Millisecond // Lambda's default for MSK
		if w, ok := p["MaximumBatchingWindowInSeconds"].(float64); ok {
			m.Window = time.Duration(w * float64(time.Second))
		}
		m.StartingPosition, _ = p["StartingPosition"].(string)
		if m.StartingPosition != "TRIM_HORIZON" {
			return fmt.Errorf("%s: starting position %q: localstack/esm starts a new consumer group at the earliest offset (TRIM_HORIZON) only", r, m.StartingPosition)
		}
		if n, ok := p["MaximumRetryAttempts"].(float64); ok && n >= 0 {
			m.MaxAttempts = int(n) + 1
		}
		if dc, ok := p["DestinationConfig"].(map[string]any); ok {
			of, _ := dc["OnFailure"].(map[string]any)
			m.OnFailure, _ = of["Destination"].(string)
		}
		for _, t := range m.Topics {
			topics[t] = true
		}
		c.mappings = append(c.mappings, m)
	}
	for t := range topics {
		if c.Kafka.c.TopicInfo(t) == nil {
			if err := c.Kafka.c.CreateTopic(t, int32(c.opts.Partitions), nil); err != nil {
				return fmt.Errorf("creating topic %s: %w", t, err)
			}
		}
	}
	for _, m := range c.mappings {
		if err := c.startMapping(m); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cloud) startMapping(m *Mapping) error {
	poller, err := esm.New(esm.Config{
		Brokers: c.Kafka.Brokers(), Topics: m.Topics, Group: m.Group, BatchSize: m.BatchSize, BatchWindow: m.Window, Source: m.Cluster,
		Retry: esm.Retry{Initial: c.opts.MappingBackoff, Max: 5 * time.Second},
	}, func(ctx context.Context, ev lambdaevents.KafkaEvent) error { return c.handleBatch(ctx, m, ev) })
	if err != nil {
		return fmt.Errorf("%s: %w", m.Resource, err)
	}
	m.poller = poller
	ctx, cancel := context.WithCancel(c.ctx)
	m.cancel, m.done = cancel, make(chan struct{})
	c.recordMappingCalls(m)
	go func() {
		defer close(m.done)
		if err := poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			m.err = err
			c.log.Warn("cloud: event-source mapping stopped", "mapping", m.Resource.Path, "error", err)
		}
	}()
	return nil
}

func (m *Mapping) stop() {
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
}

// handleBatch invokes the function with one batch. After MaxAttempts
// failed invocations of the same batch it sends the batch's description to
// the on-failure destination and lets the mapping commit past it, as
// Lambda does; without a destination the batch is retried until it passes.
func (c *Cloud) handleBatch(ctx context.Context, m *Mapping, ev lambdaevents.KafkaEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = m.Function.Invoke(ctx, "esm:"+strings.Join(m.Topics, ","), payload)
	key := batchKey(ev)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.attempts, key)
		return nil
	}
	m.attempts[key]++
	if m.OnFailure == "" || m.attempts[key] < m.MaxAttempts {
		return err
	}
	delete(m.attempts, key)
	msg, _ := json.Marshal(failureRecord(m, ev, err, m.MaxAttempts))
	m.failed = append(m.failed, FailedBatch{Destination: m.OnFailure, Message: msg})
	cl := Call{Principal: principal(m.Function.Role), Function: m.Function.Label, Action: "sqs:SendMessage", Resource: m.OnFailure, Implied: "event-source mapping"}
	if strings.Contains(m.OnFailure, ":sns:") {
		cl.Action = "sns:Publish"
	} else if strings.Contains(m.OnFailure, ":s3:") {
		cl.Action, cl.Resource = "s3:PutObject", m.OnFailure+"/aws/lambda/"+m.Resource.Path // Lambda writes under aws/lambda/<mapping>/
	}
	c.record(cl)
	c.log.Warn("cloud: batch sent to the on-failure destination", "mapping", m.Resource.Path, "destination", m.OnFailure, "error", err)
	return nil
}

// batchKey identifies a batch by its first and last positions.
func batchKey(ev lambdaevents.KafkaEvent) string {
	var parts []string
	for tp, rs := range ev.Records {
		if len(rs) > 0 {
			parts = append(parts, fmt.Sprintf("%s@%d-%d", tp, rs[0].Offset, rs[len(rs)-1].Offset))
		}
	}
	return strings.Join(parts, ",")
}

// failureRecord is the invocation record Lambda sends to an on-failure
// destination for a Kafka batch.
func failureRecord(m *Mapping, ev lambdaevents.KafkaEvent, err error, attempts int) map[string]any {
	var batches []map[string]any
	for tp, rs := range ev.Records {
		if len(rs) == 0 {
			continue
		}
		batches = append(batches, map[string]any{"topic": rs[0].Topic, "partition": rs[0].Partition, "batchSize": len(rs),
			"startOffset": rs[0].Offset, "endOffset": rs[len(rs)-1].Offset, "key": tp})
	}
	return map[string]any{
		"requestContext":  map[string]any{"functionArn": m.Function.ARN, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0", "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"KafkaBatchInfo": batches, "errorMessage": err.Error(),
	}
}

// recordMappingCalls records what the mapping's poller does with the
// function's execution role on AWS (IAM-authenticated MSK): describe the
// cluster and get its brokers, connect, read the topic, and join and commit
// its consumer group. They are not AWS API calls made here (localstack/esm
// reads Kafka directly) but they are what the role must allow.
func (c *Cloud) recordMappingCalls(m *Mapping) {
	who, fn := principal(m.Function.Role), m.Function.Label
	res := func(kind, name string) string {
		return strings.Replace(m.Cluster, ":cluster/", ":"+kind+"/", 1) + "/" + name
	}
	calls := []Call{
		{Action: "kafka:DescribeClusterV2", Resource: m.Cluster},
		{Action: "kafka:GetBootstrapBrokers", Resource: m.Cluster},
		{Action: "kafka-cluster:Connect", Resource: m.Cluster},
		{Action: "kafka-cluster:DescribeGroup", Resource: res("group", m.Group)},
		{Action: "kafka-cluster:AlterGroup", Resource: res("group", m.Group)},
	}
	for _, t := range m.Topics {
		calls = append(calls, Call{Action: "kafka-cluster:DescribeTopic", Resource: res("topic", t)},
			Call{Action: "kafka-cluster:ReadData", Resource: res("topic", t)})
	}
	for i := range calls {
		calls[i].Principal, calls[i].Function, calls[i].Implied = who, fn, "event-source mapping"
	}
	c.record(calls...)
}

// Mappings returns the event-source mappings.
func (c *Cloud) Mappings() []*Mapping { return append([]*Mapping(nil), c.mappings...) }

// Committed is how many records the mapping has committed (handed to the
// function, which succeeded, or sent to the destination).
func (m *Mapping) Committed() int64 { return m.poller.Stats().Records }

// Failed returns the batches sent to the on-failure destination.
func (m *Mapping) Failed() []FailedBatch {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]FailedBatch(nil), m.failed...)
}

// WaitCommitted waits until the mappings of each topic have committed at
// least want[topic] records.
func (c *Cloud) WaitCommitted(ctx context.Context, want map[string]int64) error {
	for {
		missing := ""
		for topic, n := range want {
			var got int64
			for _, m := range c.mappings {
				if len(m.Topics) == 1 && m.Topics[0] == topic {
					got += m.Committed()
				}
			}
			if got < n {
				missing = fmt.Sprintf("%s: %d of %d", topic, got, n)
				break
			}
		}
		if missing == "" {
			return nil
		}
		for _, m := range c.mappings {
			if m.err != nil {
				return fmt.Errorf("mapping %s stopped: %w", m.Resource.Path, m.err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the mappings to commit (%s): %w", missing, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
