package stack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/events/sim"
)

// TestRunsBounded: a stack that ran many more executions than maxRuns
// remembers the newest maxRuns (and at most a quarter more) of them and
// of their names, and still counts them all.
func TestRunsBounded(t *testing.T) {
	s := &Stack{started: map[string]bool{}}
	const n = 5*maxRuns + 17
	for i := range n {
		name := fmt.Sprintf("exec-%d", i)
		s.mu.Lock()
		s.markStarted(name)
		s.addRun(name, Run{Name: name})
		s.mu.Unlock()
	}
	runs := s.Runs()
	if len(runs) < maxRuns || len(runs) > maxRuns+maxRuns/4 {
		t.Errorf("Runs holds %d executions, want %d to %d", len(runs), maxRuns, maxRuns+maxRuns/4)
	}
	if got, want := runs[len(runs)-1].Name, fmt.Sprintf("exec-%d", n-1); got != want {
		t.Errorf("newest run = %s, want %s", got, want)
	}
	if got, want := runs[0].Name, fmt.Sprintf("exec-%d", n-len(runs)); got != want {
		t.Errorf("oldest run kept = %s, want %s", got, want)
	}
	if s.runCount() != n {
		t.Errorf("runCount = %d, want %d", s.runCount(), n)
	}
	if len(s.started) < maxRuns || len(s.started) > maxRuns+maxRuns/4 || len(s.order) != len(s.started) {
		t.Errorf("started holds %d names (order %d), want %d to %d", len(s.started), len(s.order), maxRuns, maxRuns+maxRuns/4)
	}
	if !s.started[fmt.Sprintf("exec-%d", n-maxRuns)] || s.started["exec-0"] {
		t.Errorf("started should hold the newest %d names and not the first", maxRuns)
	}
}

// TestStackBounds: the stack opens DuckDB with its memory limit, and the
// stream side's Kafka deletes what every topic's mapping has committed
// (but the newest KafkaKeep records).
func TestStackBounds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, rows, err := st.Warehouse.Query(ctx, "SELECT current_setting('memory_limit')")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0][0], fmt.Sprintf("%.1f MiB", float64(DefaultWarehouseMemoryLimit)/(1<<20)); got != want {
		t.Errorf("memory_limit = %v, want %v (DefaultWarehouseMemoryLimit)", got, want)
	}

	ss, err := st.StartStream(ctx, StreamOptions{BatchWindow: 50 * time.Millisecond, TickEvery: -1, KafkaKeep: 1})
	if err != nil {
		t.Fatal(err)
	}
	brokers, err := ss.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	stats, err := sim.Run(ctx, sim.Config{Seed: 3, Rate: 100_000, MaxEvents: 600, Format: sim.FormatJSON}, client, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.WaitCommitted(ctx, int64(stats.Events)); err != nil {
		t.Fatal(err)
	}
	deleted, err := ss.Kafka.Trim()
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, topic := range ss.Topics {
		committed := int64(0)
		if g := ss.Kafka.Kfake().GroupInfo("pulse-stream-" + topic); g != nil {
			committed = g.Commits[topic][0].Offset
		}
		if committed > 1 {
			want += committed - 1
		}
		p := ss.Kafka.Kfake().PartitionInfo(topic, 0)
		if wantStart := max(committed-1, 0); p.LogStartOffset != wantStart {
			t.Errorf("%s starts at offset %d after the trim, want %d (committed %d, keep 1)", topic, p.LogStartOffset, wantStart, committed)
		}
	}
	if deleted != want || deleted < int64(stats.Events)/2 {
		t.Errorf("Trim deleted %d records, want %d (of %d produced)", deleted, want, stats.Events)
	}
}
