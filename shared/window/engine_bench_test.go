package window_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/window"
)

// BenchmarkEngineDistinct measures events/s per core through one engine
// with a 1 h tumbling and a 1 h / 15 min hopping assigner counting distinct
// users per key (seed 003 task 5 shape, 16 keys, 10 000 users), in batches
// of 500 events as a Lambda invocation would see them.
func BenchmarkEngineDistinct(b *testing.B) {
	e := mustEngine(b, window.Config{Assigners: []window.Assigner{
		window.Tumbling(time.Hour).Named("tumbling"),
		window.Hopping(time.Hour, 15*time.Minute).Named("sliding"),
	}, Aggregate: window.DistinctCount()})
	const batch = 500
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = fmt.Sprintf("source%d", i)
	}
	users := make([]string, 10000)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
	}
	evs := make([]window.Event, batch)
	start := hm(0, 0)
	now := hm(12, 0)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		for i := range evs {
			k := n + i
			// 20 events per second of event time, a little out of order.
			evs[i] = window.Event{Key: keys[k%len(keys)], Time: start.Add(time.Duration(k)*50*time.Millisecond - time.Duration(k%7)*time.Second),
				Origin: window.Origin{Partition: "registrations/0", Offset: int64(k)}, Distinct: users[(k*7919)%len(users)]}
		}
		e.Apply(now, evs)
		n += batch
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkSnapshot measures the cost of checkpointing a window state of
// 16 keys x 5 open windows with up to 10 000 distinct users.
func BenchmarkSnapshot(b *testing.B) {
	e := mustEngine(b, window.Config{Assigners: []window.Assigner{
		window.Tumbling(time.Hour), window.Hopping(time.Hour, 15*time.Minute),
	}, Aggregate: window.DistinctCount()})
	evs := make([]window.Event, 20000)
	for k := range evs {
		evs[k] = window.Event{Key: fmt.Sprintf("source%d", k%16), Time: hm(10, 0).Add(time.Duration(k) * 100 * time.Millisecond),
			Distinct: fmt.Sprintf("user%d", (k*7919)%10000)}
	}
	e.Apply(hm(12, 0), evs)
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		s, err := e.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(s)
	}
	b.ReportMetric(float64(size), "bytes")
}
