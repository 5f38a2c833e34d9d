package awsevents

import (
	"cmp"
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
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
// a map; when a header name repeats, the last value wins.
//
// A record that cannot be decoded (a key or value that is not base64, a
// partition out of range) does not fail the batch: it becomes a message
// with Err naming the field and the reason and Value holding the text as
// it came, so the stream path quarantines it and the partition goes on
// (DESIGN.md 4.4). The error result is kept for callers and is always nil.
func KafkaMessages(e events.KafkaEvent) ([]port.Message, error) {
	n := 0
	for _, rs := range e.Records {
		n += len(rs)
	}
	msgs := make([]port.Message, 0, n)
	for _, rs := range e.Records {
		for _, r := range rs {
			msgs = append(msgs, kafkaMessage(r))
		}
	}
	slices.SortStableFunc(msgs, func(a, b port.Message) int {
		return cmp.Or(
			strings.Compare(a.Topic, b.Topic),
			cmp.Compare(a.Partition, b.Partition),
			cmp.Compare(a.Offset, b.Offset),
		)
	})
	return msgs, nil
}

func kafkaMessage(r events.KafkaRecord) port.Message {
	m := port.Message{Topic: r.Topic, Offset: r.Offset}
	if !r.Timestamp.IsZero() {
		m.Timestamp = r.Timestamp.UnixMilli()
	}
	poison := func(field, reason string) port.Message {
		m.Key, m.Headers = nil, nil
		m.Value = []byte(r.Value)
		m.Err = &record.RecordError{Pos: r.Offset, Field: field, Reason: reason, Source: m.Value}
		return m
	}
	if r.Partition < 0 || r.Partition > math.MaxInt32 {
		m.Partition = -1
		return poison("partition", strconv.FormatInt(r.Partition, 10)+" out of range")
	}
	m.Partition = int32(r.Partition)
	key, err := decodeBase64(r.Key)
	if err != nil {
		return poison("key", "decoding base64: "+err.Error())
	}
	value, err := decodeBase64(r.Value)
	if err != nil {
		return poison("value", "decoding base64: "+err.Error())
	}
	m.Key, m.Value = key, value
	for _, h := range r.Headers {
		for name, v := range h {
			if m.Headers == nil {
				m.Headers = make(map[string][]byte, len(r.Headers))
			}
			m.Headers[name] = append([]byte{}, v...)
		}
	}
	return m
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
func NewKafkaEvent(source string, msgs []port.Message) events.KafkaEvent {
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
