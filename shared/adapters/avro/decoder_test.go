package avro_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
)

func registry(t *testing.T) (*sr.Client, string) {
	t.Helper()
	reg, err := kafkalocal.StartRegistry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return cl, reg.URL()
}

// TestAvroMatchesJSON generates the same seeded stream as JSON and as
// Confluent-framed Avro and checks that both decode to the same values for
// every topic's dataset columns.
func TestAvroMatchesJSON(t *testing.T) {
	ctx := context.Background()
	cl, url := registry(t)
	ids, err := sim.RegisterSchemas(ctx, cl, events.Topics())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avro.NewRegistryDecoder(url)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)
	js := sim.NewGenerator(sim.Config{Seed: 11, Rate: 50, MaxEvents: 1500, Start: start, Format: sim.FormatJSON})
	av := sim.NewGenerator(sim.Config{Seed: 11, Rate: 50, MaxEvents: 1500, Start: start, Format: sim.FormatAvro, SchemaIDs: ids})
	seen := map[string]int{}
	for {
		je, ok1 := js.Next()
		ae, ok2 := av.Next()
		if !ok1 || !ok2 {
			if ok1 != ok2 {
				t.Fatal("streams of different lengths")
			}
			break
		}
		if je.Topic != ae.Topic || je.Kind != ae.Kind {
			t.Fatalf("streams diverge: %s/%s vs %s/%s", je.Topic, je.Kind, ae.Topic, ae.Kind)
		}
		spec, err := dataset.Lookup(je.Topic)
		if err != nil {
			t.Fatal(err)
		}
		c, err := dataset.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		var jr, ar record.Raw
		jerr := dec.Decode(ctx, &port.Message{Topic: je.Topic, Value: je.Value}, c.Columns(), &jr)
		aerr := dec.Decode(ctx, &port.Message{Topic: ae.Topic, Value: ae.Value}, c.Columns(), &ar)
		if je.Kind == sim.KindMalformed {
			if jerr == nil || aerr == nil {
				t.Fatalf("%s malformed event decoded: json err %v, avro err %v", je.Topic, jerr, aerr)
			}
			if _, ok := record.AsRecordError(aerr); !ok {
				t.Fatalf("malformed avro: %v is not a record error", aerr)
			}
			continue
		}
		if jerr != nil || aerr != nil {
			t.Fatalf("%s: json err %v, avro err %v", je.Topic, jerr, aerr)
		}
		if !reflect.DeepEqual(jr.Values, ar.Values) {
			t.Fatalf("%s: json and avro decode differently\n json %v\n avro %v", je.Topic, jr.Values, ar.Values)
		}
		seen[je.Topic]++
	}
	for _, topic := range events.Topics() {
		if seen[topic] == 0 {
			t.Errorf("no %s event compared", topic)
		}
	}
}

func frame(id int, body []byte) []byte {
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], uint32(id))
	return append(out, body...)
}

func TestBadMessages(t *testing.T) {
	ctx := context.Background()
	cl, _ := registry(t)
	schema := `{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"long"}]}`
	ss, err := cl.CreateSchema(ctx, "r-value", sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	body, err := havro.Marshal(havro.MustParse(schema), map[string]any{"a": "x", "b": int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	dec := avro.NewDecoder(cl)
	cols := []string{"a", "b"}
	good := frame(ss.ID, body)
	var raw record.Raw
	if err := dec.Decode(ctx, &port.Message{Value: good}, cols, &raw); err != nil || raw.Values[0].Text != "x" || raw.Values[1].Text != "7" {
		t.Fatalf("good message: %v %v", raw.Values, err)
	}
	tests := []struct {
		name, value, reason string
	}{
		{"empty", "", "empty message value"},
		{"not json nor avro", "hello", "neither a JSON object nor Confluent Avro (first byte 0x68"},
		{"invalid json", `{"a":`, "invalid JSON"},
		{"json array", `[1,2]`, "neither a JSON object"},
		{"short header", "\x00\x00\x01", "Confluent Avro header cut short (3 bytes"},
		{"unknown id", string(frame(9999, body)), "schema id 9999 is not in the schema registry"},
		{"truncated body", string(good[:len(good)-1]), "Avro body does not match schema id"},
		{"trailing bytes", string(append(append([]byte{}, good...), 1, 2)), "2 bytes left after the record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := dec.Decode(ctx, &port.Message{Value: []byte(tt.value)}, cols, &raw)
			re, ok := record.AsRecordError(err)
			if !ok || re.Field != "value" || !strings.Contains(re.Reason, tt.reason) {
				t.Fatalf("err = %v; want a record error on field value containing %q", err, tt.reason)
			}
			for _, v := range raw.Values {
				if !v.Null {
					t.Fatalf("values after a failed decode = %v; want all NULL", raw.Values)
				}
			}
		})
	}
}

type downRegistry struct{}

func (downRegistry) SchemaByID(context.Context, int) (sr.Schema, error) {
	return sr.Schema{}, errors.New("dial tcp: connection refused")
}

func TestRegistryDownIsRetryable(t *testing.T) {
	dec := avro.NewDecoder(downRegistry{})
	var raw record.Raw
	err := dec.Decode(context.Background(), &port.Message{Value: frame(1, []byte{2, 'x'})}, []string{"a"}, &raw)
	if err == nil {
		t.Fatal("decoded without a registry")
	}
	if _, ok := record.AsRecordError(err); ok {
		t.Fatalf("a registry outage was taken for a bad message: %v", err)
	}
}

// TestSchemaEvolutionAndTypes decodes a writer schema that reorders and
// adds fields and uses every kind of type, against the reader's columns.
func TestSchemaEvolutionAndTypes(t *testing.T) {
	ctx := context.Background()
	cl, _ := registry(t)
	schema := `{"type":"record","name":"E","namespace":"t","fields":[
	  {"name":"extra","type":"string"},
	  {"name":"B","type":["null","int"]},
	  {"name":"a","type":"string"},
	  {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	  {"name":"day","type":{"type":"int","logicalType":"date"}},
	  {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}},
	  {"name":"kind","type":{"type":"enum","name":"K","symbols":["X","Y"]}},
	  {"name":"tags","type":{"type":"array","items":"string"}},
	  {"name":"attrs","type":{"type":"map","values":"double"}},
	  {"name":"nested","type":{"type":"record","name":"N","fields":[{"name":"n","type":"boolean"}]}},
	  {"name":"f","type":"float"},
	  {"name":"raw","type":"bytes"}
	]}`
	ss, err := cl.CreateSchema(ctx, "e-value", sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{
		"extra": "ignored", "B": nil, "a": "hello", "ts": time.Date(2024, 2, 3, 10, 0, 0, 123e6, time.UTC),
		"day": time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), "price": mustRat("-12.34"), "kind": "Y",
		"tags": []string{"p", "q"}, "attrs": map[string]any{"k": 1.5}, "nested": map[string]any{"n": true},
		"f": float32(0.5), "raw": []byte{0xff, 0x00},
	}
	body, err := havro.Marshal(havro.MustParse(schema), rec)
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"a", "b", "missing", "ts", "day", "price", "kind", "tags", "attrs", "nested", "f", "raw"}
	var raw record.Raw
	if err := avro.NewDecoder(cl).Decode(ctx, &port.Message{Value: frame(ss.ID, body)}, cols, &raw); err != nil {
		t.Fatal(err)
	}
	want := []record.Value{{Text: "hello"}, {Null: true}, {Null: true}, {Text: "2024-02-03T10:00:00.123Z"}, {Text: "2024-02-03"},
		{Text: "-12.34"}, {Text: "Y"}, {Text: `["p","q"]`}, {Text: `{"k":1.5}`}, {Text: `{"n":true}`}, {Text: "0.5"}, {Text: "/wA="}}
	if !reflect.DeepEqual(raw.Values, want) {
		t.Fatalf("values\n got %v\nwant %v", raw.Values, want)
	}
}

func FuzzDecode(f *testing.F) {
	schema := `{"type":"record","name":"F","fields":[{"name":"a","type":["null","string"]},{"name":"m","type":{"type":"map","values":{"type":"array","items":"long"}}}]}`
	s := havro.MustParse(schema)
	src := fakeSource{1: schema}
	body, _ := havro.Marshal(s, map[string]any{"a": "x", "m": map[string]any{"k": []int64{1, 2}}})
	f.Add(frame(1, body))
	f.Add([]byte(`{"a":"x"}`))
	dec := avro.NewDecoder(src)
	f.Fuzz(func(t *testing.T, v []byte) {
		var raw record.Raw
		err := dec.Decode(context.Background(), &port.Message{Value: v}, []string{"a", "m"}, &raw)
		if err != nil {
			if _, ok := record.AsRecordError(err); !ok {
				t.Fatalf("not a record error: %v", err)
			}
		}
		if len(raw.Values) != 2 {
			t.Fatalf("%d values", len(raw.Values))
		}
	})
}

type fakeSource map[int]string

func (f fakeSource) SchemaByID(_ context.Context, id int) (sr.Schema, error) {
	if s, ok := f[id]; ok {
		return sr.Schema{Schema: s}, nil
	}
	return sr.Schema{}, &sr.ResponseError{StatusCode: 404}
}

func mustRat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}
