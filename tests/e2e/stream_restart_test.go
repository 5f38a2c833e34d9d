package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestStreamRestartMatchesOneRun: the stream side on a data folder is
// stopped in the middle of a seeded Avro stream, with windows and sessions
// open and messages in Kafka it has not consumed yet, and started again on
// the folder; the rest is produced, with the schema ids of the first run
// and no registration. Every metric table, the late events, the facts and
// the per-topic accounting must equal one uninterrupted run's over the
// same messages: Kafka (records and committed offsets), the window and
// session state and the schema registry all continue.
func TestStreamRestartMatchesOneRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := sim.Config{Seed: 33, Rate: 0.2, MaxEvents: 1500, DuplicatePct: 3, LatePct: 5, MalformedPct: 2, Format: sim.FormatAvro,
		Start: time.Date(2024, 2, 3, 8, 0, 0, 0, time.UTC)}
	opts := stack.StreamOptions{BatchSize: 200, BatchWindow: 20 * time.Millisecond, TickEvery: -1,
		Config: stream.Config{IdleTimeout: -1}, Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}}

	// phases cuts the stream as streamEndToEnd does (catalog, users, the
	// rest), the rest in two; cut is where the restart falls.
	phases := func(msgs []produced) (catalog, users, rest []produced) {
		n := len(sim.Movies())
		for _, m := range msgs[n:] {
			if m.topic == "users" {
				users = append(users, m)
			} else {
				rest = append(rest, m)
			}
		}
		return msgs[:n], users, rest
	}

	// One run.
	one := startStack(t, stack.Options{Dir: t.TempDir()})
	ss, err := one.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	msgs := generateStream(ctx, t, ss, cfg)
	catalog, users, rest := phases(msgs)
	for _, ph := range [][]produced{catalog, users, rest} {
		produceMsgs(ctx, t, ss, ph)
		waitAccounted(ctx, t, one, ss, ph)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := streamOutcome(t, one)

	// Stopped and started again.
	data := t.TempDir()
	first, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	ss, err = first.StartStream(ctx, opts)
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	for i, m := range generateStream(ctx, t, ss, cfg) {
		if !bytes.Equal(m.ev.Value, msgs[i].ev.Value) {
			t.Fatalf("message %d differs between the runs (schema ids?)", i)
		}
	}
	cut := len(rest) / 2
	for _, ph := range [][]produced{catalog, users, rest[:cut]} {
		produceMsgs(ctx, t, ss, ph)
		waitAccounted(ctx, t, first, ss, ph)
	}
	open := count(t, first, "SELECT COUNT(*) FROM SOCIAL_PLATFORM_METRICS WHERE NOT FINAL") +
		count(t, first, "SELECT COUNT(*) FROM PAGEVIEW_WINDOW_METRICS WHERE NOT FINAL")
	inKafka := rest[cut : cut+100] // produced, and most not consumed before the stop
	produceMsgs(ctx, t, ss, inKafka)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if open == 0 {
		t.Fatal("no window was open at the stop: the test would prove little")
	}
	if files, _ := filepath.Glob(filepath.Join(data, "stream", "state", "*.state")); len(files) == 0 {
		t.Fatal("the stop left no window state files")
	}
	if _, err := os.Stat(filepath.Join(data, "stream", "schema-registry.json")); err != nil {
		t.Fatal(err)
	}

	second, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	ss, err = second.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	produceMsgs(ctx, t, ss, rest[cut+100:])
	waitAccounted(ctx, t, second, ss, msgs)
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ss.Committed(); n > int64(len(rest)-cut) {
		t.Errorf("after the restart the mappings committed %d records; at most the %d produced after the last committed batch: the consumer groups started over", n, len(rest)-cut)
	}
	got := streamOutcome(t, second)
	for _, k := range sortedKeys(want) {
		compareRows(t, k, got[k], want[k])
	}
	t.Logf("%d messages, the last %d produced just before the stop; %d open metric rows at the stop; tables compared: %d",
		len(msgs), len(inKafka), open, len(want))
}

// generateStream generates cfg's stream, numbered like Kafka would; for Avro it
// first registers the topic schemas in the stream side's registry.
func generateStream(ctx context.Context, t *testing.T, ss *stack.Stream, cfg sim.Config) []produced {
	t.Helper()
	if cfg.Format != sim.FormatJSON && cfg.Format != "" {
		reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.SchemaIDs, err = sim.RegisterSchemas(ctx, reg, events.Topics()); err != nil {
			t.Fatal(err)
		}
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
	return msgs
}

func produceMsgs(ctx context.Context, t *testing.T, ss *stack.Stream, ms []produced) {
	t.Helper()
	by := map[string][][]byte{}
	var topics []string
	for _, m := range ms {
		if by[m.topic] == nil {
			topics = append(topics, m.topic)
		}
		by[m.topic] = append(by[m.topic], m.ev.Value)
	}
	for _, tp := range topics {
		produceValues(ctx, t, ss, tp, by[tp]...)
	}
}

// waitAccounted waits until the batch manifests account for every message
// of upTo (and those before it): received counts each message once,
// whichever run and batch handled it.
func waitAccounted(ctx context.Context, t *testing.T, st *stack.Stack, ss *stack.Stream, upTo []produced) {
	t.Helper()
	want := map[string]int64{}
	for _, m := range upTo {
		want[m.topic] = max(want[m.topic], m.offset+1)
	}
	for {
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		done := true
		for topic, n := range want {
			_, rows, err := st.Warehouse.Query(ctx, "SELECT COALESCE(SUM(RECEIVED), 0) FROM PULSE_MANIFESTS WHERE DATASET = ? AND STATUS = 'loaded'", topic)
			if err != nil {
				t.Fatal(err)
			}
			if got := rows[0][0].(int64); got < n {
				done = false
				break
			}
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the stream to account %v: %v", want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// streamOutcome renders what the stream path left in the warehouse, minus
// processing times: every metric table, the late events, the rejects, the
// fact row counts and the per-topic accounting.
func streamOutcome(t *testing.T, st *stack.Stack) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for table, q := range metricRenders {
		rows := map[string]string{}
		for _, r := range query(t, st, q) {
			key, row := render(table, r)
			rows[key] = row
		}
		out[table] = rows
	}
	keyed := map[string]string{
		"PULSE_LATE_EVENTS": "SELECT ORIGIN || ' ' || WINDOW_TYPE || ' ' || CAST(WINDOW_START AS VARCHAR), DATASET, WINDOW_END, EVENT_TIME, WATERMARK FROM PULSE_LATE_EVENTS",
		"PULSE_REJECTS":     "SELECT REJECT_ID, DATASET, SOURCE, FIELD, REASON FROM PULSE_REJECTS",
		"accounting":        "SELECT DATASET, SUM(RECEIVED), SUM(LOADED), SUM(REJECTED), SUM(DUPLICATE), SUM(LATE) FROM PULSE_MANIFESTS GROUP BY DATASET",
		"facts": "SELECT 'FACT_SOCIAL_SALES', COUNT(*) FROM FACT_SOCIAL_SALES UNION ALL SELECT 'CONSUMER_EVENTS', COUNT(*) FROM CONSUMER_EVENTS " +
			"UNION ALL SELECT 'CART_EVENTS', COUNT(*) FROM CART_EVENTS UNION ALL SELECT 'PAGEVIEWS', COUNT(*) FROM PAGEVIEWS " +
			"UNION ALL SELECT 'ITEM_VIEW_EVENTS', COUNT(*) FROM ITEM_VIEW_EVENTS UNION ALL SELECT 'USER_SESSIONS', COUNT(*) FROM USER_SESSIONS " +
			"UNION ALL SELECT 'FACT_LIVE_STREAMING_INTERACTIONS', COUNT(*) FROM FACT_LIVE_STREAMING_INTERACTIONS UNION ALL SELECT 'MOVIES', COUNT(*) FROM MOVIES",
	}
	for name, q := range keyed {
		rows := map[string]string{}
		for _, r := range query(t, st, q) {
			rows[fmt.Sprint(r[0])] = fmt.Sprint(r[1:]...)
		}
		out[name] = rows
	}
	if len(out["PULSE_LATE_EVENTS"]) == 0 || len(out["PULSE_REJECTS"]) == 0 {
		t.Fatalf("the stream has no late events (%d) or no rejects (%d): the test would prove little", len(out["PULSE_LATE_EVENTS"]), len(out["PULSE_REJECTS"]))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
