package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/cloud"
)

// TestCloudStreamTopics produces the seeded stream of TestStreamEndToEnd
// (every topic, Avro through the schema registry, with duplicates, late
// and malformed messages) to the local cloud's Kafka: each topic's
// event-source mapping from the template (its batch size, batching window,
// consumer group) invokes the stream binary under the emulator, which loads
// the warehouse through gosnowflake. Once the stream has been idle for the
// function's idle timeout (one minute), the template's IdleTick rule closes
// the windows; then every metric table, the late events and the accounting
// equal the oracle's, exactly as in the in-process run.
func TestCloudStreamTopics(t *testing.T) {
	// One partition per topic: the deployment's default is seed 004's 5
	// (TestCloudBatchFileDrops checks them), but with several partitions the
	// stream's per-topic watermarks run ahead of a partition not yet read
	// and count its events late (README: what was and was not run).
	c := startCloud(t, cloud.Options{Partitions: 1, TopicPartitions: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if c.Registry == nil {
		t.Fatal("the template names no schema registry")
	}
	reg, err := sr.NewClient(sr.URLs(c.Registry.URL()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.Config{Seed: 21, Rate: 0.2, MaxEvents: 2500, DuplicatePct: 3, LatePct: 5, MalformedPct: 2, Format: sim.FormatAvro,
		Start: time.Date(2024, 2, 3, 8, 0, 0, 0, time.UTC)}
	if cfg.SchemaIDs, err = sim.RegisterSchemas(ctx, reg, events.Topics()); err != nil {
		t.Fatal(err)
	}
	g := sim.NewGenerator(cfg)
	var msgs []produced
	offsets := map[string]int64{}
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, produced{topic: ev.Topic, offset: offsets[ev.Topic], ev: ev})
		offsets[ev.Topic]++
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Kafka.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// As in TestStreamEndToEnd: the catalog first, then the users table,
	// then the rest, each phase consumed before the next is produced.
	catalog := len(sim.Movies())
	var usersTopic, rest []produced
	for _, m := range msgs[catalog:] {
		if m.topic == "users" {
			usersTopic = append(usersTopic, m)
		} else {
			rest = append(rest, m)
		}
	}
	want := map[string]int64{}
	for _, phase := range [][]produced{msgs[:catalog], usersTopic, rest} {
		rs := make([]*kgo.Record, len(phase))
		for i, m := range phase {
			rs[i] = &kgo.Record{Topic: m.topic, Key: m.ev.Key, Value: m.ev.Value}
			want[m.topic]++
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitCommitted(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	// The idle rule: a minute without events (every batch has been handled),
	// then the schedule's empty batch.
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(61 * time.Second):
	}
	if err := c.FireRule("PulseStreaming/IdleTick", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := c.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range c.Function("stream").Invocations() {
		if inv.Error != nil {
			t.Errorf("stream invocation from %s failed: %v", inv.Source, inv.Error)
		}
	}
	for _, m := range c.Mappings() {
		if f := m.Failed(); len(f) > 0 {
			t.Errorf("mapping %s sent %d batches to its on-failure destination", m.Resource.Path, len(f))
		}
	}
	checkIAM(t, c)
	rows := func(q string, args ...any) [][]any { return cloudQuery(t, c, q, args...) }
	// The run ends as on AWS, with the idle tick at the wall clock, not with
	// the oracle's flush: the tick's watermark (now - lateness) times out
	// the sessions still open (30 min) and moves the per-minute session
	// metrics up to now; every other table is final either way.
	idle := "ended by the idle tick at the wall clock (open sessions time out), not by the oracle's flush"
	lateTotal, sizes := checkStream(t, rows, msgs, catalog, map[string]string{"SESSION_METRICS": idle, "CONSUMER_SESSIONS": idle})
	t.Logf("%d messages (late %d) through %d mappings, %d stream invocations; rows checked: %s", len(msgs), lateTotal,
		len(c.Mappings()), len(c.Function("stream").Invocations()), strings.Join(sizes, ", "))
}
