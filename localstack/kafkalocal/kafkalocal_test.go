package kafkalocal

import (
	"context"
	"fmt"
	"path/filepath"
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

// TestRegistryFileKeepsIDs: a registry restarted on its file answers the
// ids it gave before, with no registration, and numbers a new schema after
// them. Without the file, ids depend on the registration order of the run:
// registering the same schemas in another order gives other ids, so a
// message from the earlier run would name the wrong schema.
func TestRegistryFileKeepsIDs(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "registry.json")
	schema := func(name string) sr.Schema {
		return sr.Schema{Schema: `{"type":"record","name":"` + name + `","fields":[{"name":"id","type":"string"}]}`, Type: sr.TypeAvro}
	}
	register := func(r *Registry, subjects ...string) map[string]int {
		cl, err := sr.NewClient(sr.URLs(r.URL()))
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for _, s := range subjects {
			ss, err := cl.CreateSchema(ctx, s+"-value", schema(s))
			if err != nil {
				t.Fatal(err)
			}
			ids[s] = ss.ID
		}
		return ids
	}
	first, err := StartRegistryWith(ctx, RegistryOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	before := register(first, "a", "b", "c")
	first.Close()
	if err := first.SaveErr(); err != nil {
		t.Fatal(err)
	}

	second, err := StartRegistryWith(ctx, RegistryOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	cl, err := sr.NewClient(sr.URLs(second.URL()))
	if err != nil {
		t.Fatal(err)
	}
	for s, id := range before {
		got, err := cl.SchemaByID(ctx, id)
		if err != nil || got.Schema != schema(s).Schema {
			t.Fatalf("id %d after the restart = %q, %v; want %s's schema", id, got.Schema, err, s)
		}
	}
	again := register(second, "c", "a", "b", "d") // same schemas, another order, and a new one
	for s, id := range before {
		if again[s] != id {
			t.Errorf("%s registered again: id %d, want %d", s, again[s], id)
		}
	}
	if again["d"] != 4 {
		t.Errorf("a new schema got id %d, want 4", again["d"])
	}

	// Without a file: the same order gives the same ids, another order other ids.
	for _, tc := range []struct {
		order []string
		same  bool
	}{{[]string{"a", "b", "c"}, true}, {[]string{"c", "a", "b"}, false}} {
		fresh, err := StartRegistry(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := register(fresh, tc.order...)
		fresh.Close()
		if same := got["a"] == before["a"] && got["b"] == before["b"] && got["c"] == before["c"]; same != tc.same {
			t.Errorf("fresh registry, order %v: ids %v, first run %v; same = %v, want %v", tc.order, got, before, same, tc.same)
		}
	}
}

// TestClusterDataDir: a cluster restarted on its data folder keeps the
// records and the consumer group's committed offsets; producing goes on at
// the next offset; a topic the folder lacks is created.
func TestClusterDataDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	consume := func(c *Cluster, want int) []int64 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.ConsumeTopics("a"), kgo.ConsumerGroup("g"),
			kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var offs []int64
		for len(offs) < want {
			fs := cl.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatal(err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				offs = append(offs, r.Offset)
				if err := cl.CommitRecords(ctx, r); err != nil {
					t.Fatal(err)
				}
			})
		}
		return offs
	}
	produce := func(c *Cluster, n int) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "a", Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, err := Start(ctx, Options{Topics: []string{"a"}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	produce(c, 3)
	if got := consume(c, 3); fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("first run consumed offsets %v", got)
	}
	produce(c, 1) // produced, not consumed before the restart
	c.Close()

	c, err = Start(ctx, Options{Topics: []string{"a", "b"}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Kfake().TopicInfo("b") == nil {
		t.Fatal("topic b was not created on the reloaded cluster")
	}
	produce(c, 1)
	if got := consume(c, 2); fmt.Sprint(got) != "[3 4]" {
		t.Fatalf("after the restart the group consumed offsets %v, want [3 4]", got)
	}
}
