package sim

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
)

// TestAvroRoundTrip registers the schemas in srfake, generates Avro events
// and decodes each one with the schema fetched back from the registry by the
// id in its wire header.
func TestAvroRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := RegisterSchemas(ctx, cl, events.Topics())
	if err != nil {
		t.Fatal(err)
	}
	again, err := RegisterSchemas(ctx, cl, events.Topics())
	if err != nil || !reflect.DeepEqual(ids, again) {
		t.Fatalf("re-registering: %v, ids %v vs %v", err, ids, again)
	}
	g := NewGenerator(Config{Seed: 5, MaxEvents: 3000, MalformedPct: 5, DuplicatePct: 2, Format: FormatAvro, Start: t0, SchemaIDs: ids})
	schemas := map[int]avro.Schema{}
	decoded, malformed := 0, 0
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		v := ev.Value
		if ev.Kind == KindMalformed {
			malformed++
			if len(v) >= 5 && v[0] == 0 {
				s := schemas[int(binary.BigEndian.Uint32(v[1:5]))]
				if s == nil {
					text, _ := events.Schema(ev.Topic)
					s = avro.MustParse(text)
				}
				if out, err := strictDecode(s, v[5:]); err == nil {
					t.Fatalf("malformed %s event decoded: %v", ev.Topic, out)
				}
			}
			continue
		}
		if v[0] != 0 {
			t.Fatalf("magic byte %d", v[0])
		}
		id := int(binary.BigEndian.Uint32(v[1:5]))
		if id != ids[ev.Topic] {
			t.Fatalf("%s: schema id %d, want %d", ev.Topic, id, ids[ev.Topic])
		}
		s, ok := schemas[id]
		if !ok {
			got, err := cl.SchemaByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			s = avro.MustParse(got.Schema)
			schemas[id] = s
		}
		out, err := strictDecode(s, v[5:])
		if err != nil {
			t.Fatalf("decoding %s: %v", ev.Topic, err)
		}
		if !reflect.DeepEqual(out, ev.Record) {
			t.Fatalf("%s round trip:\n got %#v\nwant %#v", ev.Topic, out, ev.Record)
		}
		decoded++
	}
	if decoded < 2700 || malformed < 100 {
		t.Fatalf("decoded %d, malformed %d", decoded, malformed)
	}
}

// strictDecode decodes one Avro body and fails on a short body.
// avro.Unmarshal is not used on purpose: in hamba/avro v2.31.0 it returns no
// error when the body ends before an int/long field (the field decodes as
// nil); a Decoder over a reader reports "reading long: EOF".
func strictDecode(s avro.Schema, body []byte) (map[string]any, error) {
	r := bytes.NewReader(body)
	var out map[string]any
	if err := avro.NewDecoderForSchema(s, r).Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func TestRegisterSchemaCompatibility(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	cl, _ := sr.NewClient(sr.URLs(reg.URL()))
	v1 := `{"type":"record","name":"A","fields":[{"name":"id","type":"string"}]}`
	withDefault := `{"type":"record","name":"A","fields":[{"name":"id","type":"string"},{"name":"n","type":"int","default":0}]}`
	noDefault := `{"type":"record","name":"A","fields":[{"name":"id","type":"string"},{"name":"m","type":"int"}]}`
	tests := []struct {
		name    string
		schema  string
		wantErr bool
	}{
		{"first", v1, false},
		{"same again", v1, false},
		{"new field with default", withDefault, false},
		{"new field without default", noDefault, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RegisterSchema(ctx, cl, "a-value", tc.schema)
			if tc.wantErr != errors.Is(err, ErrIncompatibleSchema) {
				t.Fatalf("err = %v, want incompatible %v", err, tc.wantErr)
			}
		})
	}
	versions, err := cl.SubjectVersions(ctx, "a-value")
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions %v, %v", versions, err)
	}
}

// TestRunProducesToKafka runs the producer against kfake at 2000 events/s
// and reads every topic back.
func TestRunProducesToKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kafkalocal.Start(ctx, kafkalocal.Options{Topics: events.Topics(), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg, err := kafkalocal.StartRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rcl, _ := sr.NewClient(sr.URLs(reg.URL()))
	pcl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	calls := 0
	start := time.Now()
	st, err := Run(ctx, Config{Seed: 3, Rate: 2000, MaxEvents: 2000, MalformedPct: 1, Format: FormatAvro, Start: t0}, pcl, rcl, func(Stats) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("2000 events at 2000/s took %v", el)
	}
	if st.Events != 2000 || calls < 1 {
		t.Fatalf("stats %+v, %d progress calls", st, calls)
	}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.ConsumeTopics(events.Topics()...))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	got := map[string]int{}
	for n := 0; n < 2000; {
		fs := ccl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got[r.Topic]++; n++ })
	}
	if !reflect.DeepEqual(got, st.ByTopic) {
		t.Fatalf("consumed %v, produced %v", got, st.ByTopic)
	}
	subjects, _ := rcl.Subjects(ctx)
	if len(subjects) != len(events.Topics()) {
		t.Fatalf("subjects %v", subjects)
	}
	_ = json.Valid
}
