package web

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// streamConfigs are the seeded simulator runs the fixture produces, one
// after the other in event time: every topic, the seed 003 topics in Avro
// through the schema registry (the rest JSON), with duplicates, late and
// malformed messages. A quiet evening (0.1 events/s from 20:00, across
// midnight, so hourly and daily windows and the per-day marts have
// several) and then a busy half hour (2 events/s, so the one-minute
// windows have a few events per page source each).
var streamConfigs = []sim.Config{
	{Seed: 5, Rate: 0.1, MaxEvents: 2000, DuplicatePct: 2, LatePct: 3, MalformedPct: 1, Format: sim.FormatMixed,
		Start: time.Date(2024, 2, 5, 20, 0, 0, 0, time.UTC)},
	{Seed: 6, Rate: 2, MaxEvents: 5000, DuplicatePct: 2, LatePct: 3, MalformedPct: 1, Format: sim.FormatMixed,
		Start: time.Date(2024, 2, 6, 1, 35, 0, 0, time.UTC)},
}

// streamRun is what the fixture's stream produced and what the stream side
// accounted, for the tests to compare the dashboard with.
type streamRun struct {
	produced map[string]int         // messages per topic, from the simulator
	counts   map[string]port.Counts // per topic, from the stream handler's outputs
	events   []sim.Event
}

// runStream feeds the real stream path: the simulator's messages go to the
// local Kafka cluster (kfake), the event-source mappings invoke the stream
// handler, and Flush closes every window at the end of the bounded input.
// The catalogs go first and the users snapshots second (as
// tests/e2e/stream_test.go does), so prices and the page-view join do not
// depend on which topic is consumed first; each topic keeps its order.
func runStream(ctx context.Context, st *stack.Stack) (*streamRun, error) {
	ss, err := st.StartStream(ctx, stack.StreamOptions{BatchSize: 400, BatchWindow: 20 * time.Millisecond, TickEvery: -1,
		Config: stream.Config{IdleTimeout: -1}, Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		return nil, fmt.Errorf("starting the stream side: %w", err)
	}
	defer ss.Close()
	reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
	if err != nil {
		return nil, err
	}
	ids, err := sim.RegisterSchemas(ctx, reg, events.Topics())
	if err != nil {
		return nil, err
	}
	run := &streamRun{produced: map[string]int{}}
	catalog := len(sim.Movies()) // each run publishes the catalog first
	var movies, users, rest []sim.Event
	for _, cfg := range streamConfigs {
		cfg.SchemaIDs = ids
		g := sim.NewGenerator(cfg)
		for n := 0; ; n++ {
			ev, ok := g.Next()
			if !ok {
				break
			}
			run.events = append(run.events, ev)
			run.produced[ev.Topic]++
			switch {
			case n < catalog:
				movies = append(movies, ev)
			case ev.Topic == events.TopicUsers:
				users = append(users, ev)
			default:
				rest = append(rest, ev)
			}
		}
		if err := g.Err(); err != nil {
			return nil, fmt.Errorf("simulating: %w", err)
		}
	}
	brokers, err := ss.Brokers()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	done := int64(0)
	for _, phase := range [][]sim.Event{movies, users, rest} {
		rs := make([]*kgo.Record, len(phase))
		for i, ev := range phase {
			rs[i] = &kgo.Record{Topic: ev.Topic, Key: ev.Key, Value: ev.Value}
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			return nil, fmt.Errorf("producing: %w", err)
		}
		done += int64(len(phase))
		if err := ss.WaitCommitted(ctx, done); err != nil {
			return nil, err
		}
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		return nil, fmt.Errorf("flushing the windows: %w", err)
	}
	run.counts = ss.Counts()
	return run, nil
}

// finishWarehouse does what the gold workflow and the data-test steps do
// after loads: the seed-002 gold layer for the days with app interactions,
// then every data test of the suite (star, stream, gold, marts).
func finishWarehouse(ctx context.Context, st *stack.Stack, at time.Time) error {
	if _, _, err := gold.Refresh(ctx, st.Warehouse, at); err != nil {
		return fmt.Errorf("refreshing gold: %w", err)
	}
	if _, err := datatest.Run(ctx, st.Warehouse, datatest.Suite(), at); err != nil {
		return fmt.Errorf("running the data tests: %w", err)
	}
	return nil
}
