package stack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events/sim"
)

// BenchmarkStreamLatency measures produce-to-warehouse latency on the
// local stack: the simulator produces to kfake at a steady 5,000 events/s
// (mixed JSON and Avro, event time = now), the event-source mappings
// (batching window 500 ms, Lambda's MSK default) invoke the stream handler,
// which MERGEs into DuckDB. Latency runs from the record's Kafka timestamp
// to the end of the batch that loaded it. The first 3 s are a warm-up.
// Run once: -benchtime 1x.
func BenchmarkStreamLatency(b *testing.B) {
	const rate, warmup, measure = 5000.0, 3 * time.Second, 12 * time.Second
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		st, err := Start(ctx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ss, err := st.StartStream(ctx, StreamOptions{BatchSize: 10000, BatchWindow: 500 * time.Millisecond, TickEvery: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		brokers, _ := ss.Brokers()
		client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
		if err != nil {
			b.Fatal(err)
		}
		simCtx, stop := context.WithTimeout(ctx, warmup+measure)
		done := make(chan sim.Stats, 1)
		go func() {
			s, err := sim.Run(simCtx, sim.Config{Seed: 9, Rate: rate, DuplicatePct: 1, LatePct: 1, MalformedPct: 0.5, Format: sim.FormatMixed}, client, reg, nil)
			if err != nil {
				b.Error(err)
			}
			done <- s
		}()
		time.Sleep(warmup)
		ss.ResetLatency()
		stats := <-done
		stop()
		if err := ss.WaitCommitted(ctx, int64(stats.Events)); err != nil {
			b.Fatal(err)
		}
		q, n := ss.Latency(0.5, 0.99)
		produced := float64(stats.Events) / stats.Elapsed.Seconds()
		b.ReportMetric(produced, "produced-events/s")
		b.ReportMetric(float64(q[0].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(q[1].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(n), "records-measured")
		if produced < 0.9*rate {
			b.Errorf("the simulator reached only %.0f events/s of %.0f", produced, rate)
		}
		fmt.Printf("stream latency at %.0f events/s: p50 %s p99 %s over %d records (%d invocations retried)\n", produced, q[0], q[1], n, ss.Retries())
		client.Close()
		cancel()
		st.Close()
	}
}
