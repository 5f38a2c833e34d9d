package awsevents_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

func TestKafkaMessagesGolden(t *testing.T) {
	powertools := []port.Message{{
		Topic:     "mytopic",
		Partition: 0,
		Offset:    15,
		Timestamp: 1545084650987,
		Key:       []byte("recordKey"),
		Value:     []byte(`{"key":"value"}`),
		Headers:   map[string][]byte{"headerKey": []byte("headerValue")},
	}}
	tests := []struct {
		name   string
		file   string
		source string
		want   []port.Message
	}{
		{"lambda-go kafka-event", "aws-lambda-go/kafka-event.json", awsevents.SourceMSK, []port.Message{{
			Topic:     "AWSKafkaTopic",
			Partition: 0,
			Offset:    0,
			Timestamp: 1595035749700,
			Key:       []byte("8d5596b4-1813-4238-b24b-6dad8e3d1c0c"),
			Value:     []byte("8d5596b4-1813-4238-b24b-6dad8e3d1c0c"),
			// [118, -36, 0, 127, -128] as signed bytes.
			Headers: map[string][]byte{"headerKey": {0x76, 0xdc, 0x00, 0x7f, 0x80}},
		}}},
		{"powertools kafkaEventMsk", "powertools/kafkaEventMsk.json", awsevents.SourceMSK, powertools},
		{"powertools kafkaEventSelfManaged", "powertools/kafkaEventSelfManaged.json", awsevents.SourceSelfManaged, powertools},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e events.KafkaEvent
			loadCorpus(t, tt.file, &e)
			if e.EventSource != tt.source {
				t.Errorf("eventSource = %q, want %q", e.EventSource, tt.source)
			}
			got, err := awsevents.KafkaMessages(e)
			if err != nil {
				t.Fatalf("KafkaMessages: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("KafkaMessages\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestKafkaMessagesOrderAndErrors(t *testing.T) {
	const payload = `{
	  "eventSource": "aws:kafka",
	  "records": {
	    "b-1": [{"topic":"b","partition":1,"offset":7,"timestamp":1,"key":"","value":"eA==","headers":[]}],
	    "a-10": [{"topic":"a","partition":10,"offset":3,"timestamp":2,"value":"eQ==","headers":[{"h":[-1]},{"h":[2]}]}],
	    "a-2": [
	      {"topic":"a","partition":2,"offset":9,"timestamp":3,"value":"eg==","headers":[]},
	      {"topic":"a","partition":2,"offset":8,"timestamp":4,"value":"dw==","headers":[]}
	    ]
	  }
	}`
	var e events.KafkaEvent
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		t.Fatal(err)
	}
	got, err := awsevents.KafkaMessages(e)
	if err != nil {
		t.Fatalf("KafkaMessages: %v", err)
	}
	var order []string
	for _, m := range got {
		order = append(order, m.Topic+"/"+string(rune('0'+m.Partition%10))+"/"+string(m.Value))
	}
	want := []string{"a/2/w", "a/2/z", "a/0/y", "b/1/x"} // a-2 offsets 8,9; then a-10; then b-1
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order = %q, want %q", order, want)
	}
	if got[0].Offset != 8 || got[1].Offset != 9 || got[2].Partition != 10 {
		t.Errorf("positions = %+v", got)
	}
	if got[3].Key != nil || got[3].Headers != nil {
		t.Errorf("empty key/headers: key %v headers %v, want nil", got[3].Key, got[3].Headers)
	}
	if h := got[2].Headers["h"]; !reflect.DeepEqual(h, []byte{2}) {
		t.Errorf("repeated header h = %v, want last value [2]", h)
	}

	// A record that does not decode is quarantined, not a batch failure:
	// it comes back in its place with Err naming the field.
	tests := []struct {
		name, key, value string
		partition        int64
		wantField        string
		wantReason       string
		wantPartition    int32
	}{
		{"bad value", "", "!!notbase64", 3, "value", "decoding base64: illegal base64 data at input byte 0", 3},
		{"bad key", "a", "eA==", 3, "key", "decoding base64: illegal base64 data at input byte 0", 3},
		{"partition out of range", "", "eA==", 1 << 40, "partition", "1099511627776 out of range", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := events.KafkaEvent{Records: map[string][]events.KafkaRecord{
				"t-3": {{Topic: "t", Partition: 3, Offset: 43, Value: "eA=="}, {Topic: "t", Partition: tt.partition, Offset: 44, Key: tt.key, Value: tt.value,
					Headers: []map[string]events.JSONNumberBytes{{"h": {1}}}},
					{Topic: "t", Partition: 3, Offset: 45, Value: "eQ=="}},
			}}
			got, err := awsevents.KafkaMessages(e)
			if err != nil {
				t.Fatalf("KafkaMessages: %v", err)
			}
			if len(got) != 3 {
				t.Fatalf("got %d messages, want 3 (the bad one kept)", len(got))
			}
			var bad *port.Message
			for i := range got {
				if got[i].Offset == 44 {
					bad = &got[i]
				} else if got[i].Err != nil {
					t.Errorf("good record %d has Err %v", got[i].Offset, got[i].Err)
				}
			}
			if bad == nil || bad.Err == nil || bad.Err.Field != tt.wantField || bad.Err.Reason != tt.wantReason || bad.Err.Pos != 44 ||
				bad.Partition != tt.wantPartition || string(bad.Value) != tt.value || bad.Key != nil || bad.Headers != nil {
				t.Fatalf("bad record = %+v (Err %+v); want Err field %q reason %q at 44, partition %d, Value %q as it came",
					bad, bad.Err, tt.wantField, tt.wantReason, tt.wantPartition, tt.value)
			}
			if got, want := bad.ErrText(), tt.wantField+": "+tt.wantReason; got != want {
				t.Errorf("ErrText %q, want %q", got, want)
			}
		})
	}
}

func TestKafkaRoundTrip(t *testing.T) {
	msgs := []port.Message{
		{Topic: "events.raw", Partition: 0, Offset: 5, Timestamp: 1700000000123, Key: []byte("user-1"), Value: []byte(`{"a":1}`),
			Headers: map[string][]byte{"content-type": []byte("application/json"), "bin": {0x00, 0xdc, 0x80, 0xff, 0x7f}}},
		{Topic: "events.raw", Partition: 0, Offset: 6, Timestamp: 1700000000124, Value: []byte{0xff, 0x00}},
		{Topic: "events.raw", Partition: 3, Offset: 0, Timestamp: 0, Key: []byte{0x01}, Value: []byte("v")},
		{Topic: "audit", Partition: 1, Offset: 99, Timestamp: 1, Value: []byte("x"), Headers: map[string][]byte{"e": {}}},
	}
	want := []port.Message{msgs[3], msgs[0], msgs[1], msgs[2]}
	for _, source := range []string{"arn:aws:kafka:us-east-1:000000000000:cluster/pulse/abc", "127.0.0.1:9092"} {
		t.Run(source, func(t *testing.T) {
			ev := awsevents.NewKafkaEvent(source, msgs)
			if len(ev.Records) != 3 || len(ev.Records["events.raw-0"]) != 2 || len(ev.Records["audit-1"]) != 1 {
				t.Fatalf("groups = %v", ev.Records)
			}
			got, err := awsevents.KafkaMessages(ev)
			if err != nil {
				t.Fatalf("KafkaMessages: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("direct round trip\n got %+v\nwant %+v", got, want)
			}
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"bin":[0,-36,-128,-1,127]`) && strings.HasPrefix(source, "arn:") {
				t.Errorf("headers not written as signed bytes: %s", b)
			}
			var back events.KafkaEvent
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			got, err = awsevents.KafkaMessages(back)
			if err != nil {
				t.Fatalf("KafkaMessages after json: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("json round trip\n got %+v\nwant %+v", got, want)
			}
		})
	}
	ev := awsevents.NewKafkaEvent("arn:aws:kafka:x", nil)
	if ev.EventSource != awsevents.SourceMSK || ev.EventSourceARN != "arn:aws:kafka:x" {
		t.Errorf("msk source = %+v", ev)
	}
	ev = awsevents.NewKafkaEvent("h:9092", nil)
	if ev.EventSource != awsevents.SourceSelfManaged || ev.BootstrapServers != "h:9092" {
		t.Errorf("self-managed source = %+v", ev)
	}
}

func FuzzKafkaMessages(f *testing.F) {
	f.Add([]byte(`{"records":{"t-0":[{"topic":"t","partition":0,"offset":1,"timestamp":5,"key":"a2V5","value":"dg==","headers":[{"h":[-36]}]}]}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e events.KafkaEvent
		if err := json.Unmarshal(payload, &e); err != nil {
			return
		}
		msgs, err := awsevents.KafkaMessages(e)
		if err != nil {
			return
		}
		for i := 1; i < len(msgs); i++ {
			a, b := msgs[i-1], msgs[i]
			if a.Topic > b.Topic || (a.Topic == b.Topic && (a.Partition > b.Partition || (a.Partition == b.Partition && a.Offset > b.Offset))) {
				t.Fatalf("out of order: %+v then %+v", a, b)
			}
		}
	})
}
