package events

import (
	"testing"

	"github.com/hamba/avro/v2"
)

func TestSchemasParse(t *testing.T) {
	topics := Topics()
	if len(topics) != 13 {
		t.Fatalf("got %d topics, want 13: %v", len(topics), topics)
	}
	for _, topic := range topics {
		t.Run(topic, func(t *testing.T) {
			s, err := Schema(topic)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := avro.Parse(s); err != nil {
				t.Fatalf("parsing %s: %v", topic, err)
			}
		})
	}
	if _, err := Schema("nope"); err == nil {
		t.Fatal("want error for unknown topic")
	}
}

func TestUsersNullableRoundTrip(t *testing.T) {
	s, _ := Schema(TopicUsers)
	sch := avro.MustParse(s)
	in := map[string]any{"user_id": 7, "age": nil, "gender": "Female", "country": nil, "subscription": "Gold"}
	b, err := avro.Marshal(sch, in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := avro.Unmarshal(sch, b, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("%#v", out)
}
