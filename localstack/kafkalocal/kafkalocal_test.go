package kafkalocal

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

func TestClusterProduceConsume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{Topics: []string{"a"}, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Brokers()) != 1 {
		t.Fatalf("brokers = %v", c.Brokers())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.ConsumeTopics("a"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 3 {
		r := &kgo.Record{Topic: "a", Partition: int32(i), Value: []byte{byte('x' + i)}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	got := map[int32]string{}
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got[r.Partition] = string(r.Value) })
	}
	if got[0] != "x" || got[1] != "y" || got[2] != "z" {
		t.Fatalf("got %v", got)
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	r, err := StartRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cl, err := sr.NewClient(sr.URLs(r.URL()))
	if err != nil {
		t.Fatal(err)
	}
	schema := `{"type":"record","name":"A","fields":[{"name":"id","type":"string"}]}`
	ss, err := cl.CreateSchema(ctx, "a-value", sr.Schema{Schema: schema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.SchemaByID(ctx, ss.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != schema || ss.Version != 1 {
		t.Fatalf("got %+v v%d", got, ss.Version)
	}
}
