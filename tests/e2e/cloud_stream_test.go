package e2e

import (
	"context"
	"fmt"
	"sort"
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
//
// The topics have the deployment's partitions (seed 004's 5, created by
// its custom resource; the function's PULSE_TOPIC_PARTITIONS says so), the
// messages go to them by the generator's keys, and each topic's mapping
// delivers them in batches that mix partitions as the consumer fetched
// them: the oracle's watermarks are per partition, as the stream's.
func TestCloudStreamTopics(t *testing.T) {
	c := startCloud(t, cloud.Options{})
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
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, produced{topic: ev.Topic, ev: ev})
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
	want := map[string]int64{}
	for _, phase := range streamPhases(msgs, catalog) {
		produceKeyed(ctx, t, cl, msgs, phase)
		for _, i := range phase {
			want[msgs[i].topic]++
		}
		if err := c.WaitCommitted(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	partitions := c.Kafka.Partitions("sign_in")
	if partitions < 3 {
		t.Fatalf("sign_in has %d partitions; the deployment creates 5", partitions)
	}
	checkPartitioned(t, msgs, partitions)
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
	// the oracle's flush: the tick's frontier (now - lateness, years past the
	// stream) times out the sessions still open (30 min) and emits the
	// session metrics of the last day of minutes before it (the tracker's
	// bound), skipping those between. Checked below against the oracle's
	// state at the end of the input; every other table is final either way.
	idle := "ended by the idle tick at the wall clock: compared below"
	lateTotal, sizes, o := checkStream(t, rows, msgs, catalog, map[string]string{"SESSION_METRICS": idle, "CONSUMER_SESSIONS": idle})
	checkSessionsEndedByTick(t, rows, o)
	t.Logf("%d messages (late %d) through %d mappings (%d partitions per topic), %d stream invocations; rows checked: %s", len(msgs), lateTotal,
		len(c.Mappings()), partitions, len(c.Function("stream").Invocations()), strings.Join(sizes, ", "))
}

// checkSessionsEndedByTick compares SESSION_METRICS and CONSUMER_SESSIONS
// of a run ended by an idle tick far past the input with the oracle: the
// sessions are the oracle's, and those still open at the end of the input
// timed out (at their start + 30 min); the metric rows before the last
// event are the oracle's, and then come 1440 consecutive minutes (the
// tracker's bound after a jump in time) after every session timed out.
func checkSessionsEndedByTick(t *testing.T, rows func(q string, args ...any) [][]any, o *want) {
	t.Helper()
	end := o.sessionEnd
	want := map[string]string{}
	for k, v := range o.tables["CONSUMER_SESSIONS"] {
		want[k] = v
	}
	for u, start := range end.open {
		want[u+"|"+micro(start)] = fmt.Sprintf("%s %s true", micro(start+30*minute), fnum(30*60))
	}
	got := map[string]string{}
	for _, r := range rows(metricRenders["CONSUMER_SESSIONS"]) {
		k, v := render("CONSUMER_SESSIONS", r[:len(r)-1])
		got[k] = v
	}
	compareRows(t, "CONSUMER_SESSIONS", got, want)
	if len(end.open) == 0 {
		t.Error("no session was open at the end of the input: the tick's timeouts are not checked")
	}

	want, got = map[string]string{}, map[string]string{}
	for k, v := range o.tables["SESSION_METRICS"] {
		if isoMicros(k) < end.last {
			want[k] = v
		}
	}
	var tail []int64
	for _, r := range rows(metricRenders["SESSION_METRICS"]) {
		k, v := render("SESSION_METRICS", r[:len(r)-1])
		if at := isoMicros(k); at >= end.last {
			tail = append(tail, at)
			if v != end.tail {
				t.Errorf("SESSION_METRICS %s after the input = %q; want %q (every session over)", k, v, end.tail)
			}
			continue
		}
		got[k] = v
	}
	compareRows(t, "SESSION_METRICS", got, want)
	sort.Slice(tail, func(i, j int) bool { return tail[i] < tail[j] })
	if len(tail) != 1440 || tail[len(tail)-1]-tail[0] != 1439*minute || tail[0] < end.last+24*60*minute {
		t.Errorf("SESSION_METRICS has %d rows after the input; want the 1440 consecutive minutes of a day before the tick", len(tail))
	}
}
