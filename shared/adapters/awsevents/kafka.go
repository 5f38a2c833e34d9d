package awsevents

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// Event sources Lambda writes into a Kafka trigger payload.
const (
	SourceMSK         = "aws:kafka"
	SourceSelfManaged = "aws:SelfManagedKafka"
)

// KafkaMessages decodes an MSK or self-managed Kafka batch into messages
// ordered by topic, partition, then offset. Keys and values are base64;
// an empty key or value decodes to nil. Headers (arrays of signed bytes in
// the payload, already turned into bytes by events.JSONNumberBytes) become
// a map; when a header name repeats, the last value wins. A record whose
// base64 does not decode fails the batch with an error naming its
// topic/partition/offset and the field.
func KafkaMessages(e events.KafkaEvent) ([]pipeline.Message, error) {
	n := 0
	for _, rs := range e.Records {
		n += len(rs)
	}
	msgs := make([]pipeline.Message, 0, n)
	for _, rs := range e.Records {
		for _, r := range rs {
			m, err := kafkaMessage(r)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
	}
	slices.SortStableFunc(msgs, func(a, b pipeline.Message) int {
		return cmp.Or(
			strings.Compare(a.Topic, b.Topic),
			cmp.Compare(a.Partition, b.Partition),
			cmp.Compare(a.Offset, b.Offset),
		)
	})
	return msgs, nil
}

func kafkaMessage(r events.KafkaRecord) (pipeline.Message, error) {
	pos := func() string {
		return r.Topic + "/" + strconv.FormatInt(r.Partition, 10) + "/" + strconv.FormatInt(r.Offset, 10)
	}
	if r.Partition < 0 || r.Partition > math.MaxInt32 {
		return pipeline.Message{}, fmt.Errorf("kafka record %s: partition out of range", pos())
	}
	key, err := decodeBase64(r.Key)
	if err != nil {
		return pipeline.Message{}, fmt.Errorf("kafka record %s: decoding base64 key: %w", pos(), err)
	}
	value, err := decodeBase64(r.Value)
	if err != nil {
		return pipeline.Message{}, fmt.Errorf("kafka record %s: decoding base64 value: %w", pos(), err)
	}
	var headers map[string][]byte
	for _, h := range r.Headers {
		for name, v := range h {
			if headers == nil {
				headers = make(map[string][]byte, len(r.Headers))
			}
			headers[name] = append([]byte{}, v...)
		}
	}
	var ts int64
	if !r.Timestamp.IsZero() {
		ts = r.Timestamp.UnixMilli()
	}
	return pipeline.Message{
		Topic:     r.Topic,
		Partition: int32(r.Partition),
		Offset:    r.Offset,
		Timestamp: ts,
		Key:       key,
		Value:     value,
		Headers:   headers,
	}, nil
}

func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// NewKafkaEvent builds the Lambda payload for a batch, the inverse of
// KafkaMessages, grouping records under "topic-partition" keys in offset
// order as MSK does. source names the cluster: an ARN gives an MSK event
// (eventSource "aws:kafka", eventSourceArn = source); anything else gives a
// self-managed Kafka event (eventSource "aws:SelfManagedKafka",
// bootstrapServers = source). Timestamps are CREATE_TIME; headers are
// written one object per header, sorted by name.
func NewKafkaEvent(source string, msgs []pipeline.Message) events.KafkaEvent {
	e := events.KafkaEvent{Records: make(map[string][]events.KafkaRecord)}
	if strings.HasPrefix(source, "arn:") {
		e.EventSource = SourceMSK
		e.EventSourceARN = source
	} else {
		e.EventSource = SourceSelfManaged
		e.BootstrapServers = source
	}
	for _, m := range msgs {
		names := make([]string, 0, len(m.Headers))
		for name := range m.Headers {
			names = append(names, name)
		}
		slices.Sort(names)
		headers := make([]map[string]events.JSONNumberBytes, 0, len(names))
		for _, name := range names {
			headers = append(headers, map[string]events.JSONNumberBytes{
				name: append(events.JSONNumberBytes{}, m.Headers[name]...),
			})
		}
		group := m.Topic + "-" + strconv.FormatInt(int64(m.Partition), 10)
		e.Records[group] = append(e.Records[group], events.KafkaRecord{
			Topic:         m.Topic,
			Partition:     int64(m.Partition),
			Offset:        m.Offset,
			Timestamp:     events.MilliSecondsEpochTime{Time: time.UnixMilli(m.Timestamp).UTC()},
			TimestampType: "CREATE_TIME",
			Key:           base64.StdEncoding.EncodeToString(m.Key),
			Value:         base64.StdEncoding.EncodeToString(m.Value),
			Headers:       headers,
		})
	}
	for _, rs := range e.Records {
		slices.SortStableFunc(rs, func(a, b events.KafkaRecord) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	return e
}
