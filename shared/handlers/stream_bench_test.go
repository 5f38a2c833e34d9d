package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/sr"

	evs "github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/table"
)

// nullWarehouse takes every MERGE and keeps nothing: the benchmark
// measures the handler, not the warehouse.
type nullWarehouse struct{ rows int }

func (w *nullWarehouse) Migrate(context.Context, []table.Schema) error { return nil }
func (w *nullWarehouse) Merge(_ context.Context, _ table.Schema, rows []table.Row) (int, error) {
	w.rows += len(rows)
	return len(rows), nil
}
func (w *nullWarehouse) Exec(context.Context, string) error { return nil }
func (w *nullWarehouse) BeginLoad(context.Context) (pipeline.Loader, error) {
	return &nullLoader{w: w}, nil
}

type nullLoader struct{ w *nullWarehouse }

func (l *nullLoader) Stage(_ context.Context, _ table.Schema, rows []table.Row) error {
	l.w.rows += len(rows)
	return nil
}
func (l *nullLoader) Exec(string)                                    {}
func (l *nullLoader) Commit(context.Context) (map[string]int, error) { return nil, nil }
func (l *nullLoader) Close() error                                   { return nil }
func (w *nullWarehouse) Query(context.Context, string, ...any) ([]string, [][]any, error) {
	return nil, nil, nil
}
func (w *nullWarehouse) Close() error { return nil }

// BenchmarkStreamHandler measures the stream handler's throughput in
// events per second on one core: base64 payload decoding, JSON or Avro
// decoding, cleaning, dedupe (in memory), windows and sessions, state
// snapshots (in memory), archive and quarantine (in memory); the
// warehouse is left out. Run with -cpu 1.
func BenchmarkStreamHandler(b *testing.B) {
	for _, format := range []string{sim.FormatJSON, sim.FormatAvro} {
		b.Run(format, func(b *testing.B) { benchHandler(b, format) })
	}
}

func benchHandler(b *testing.B, format string) {
	ctx := context.Background()
	const batch, total = 500, 20000
	cfg := sim.Config{Seed: 1, Rate: 5000, MaxEvents: total, DuplicatePct: 1, LatePct: 1, MalformedPct: 0.5, Format: format,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)}
	var dec *avro.Decoder
	if format == sim.FormatAvro {
		reg, err := kafkalocal.StartRegistry(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer reg.Close()
		cl, err := sr.NewClient(sr.URLs(reg.URL()))
		if err != nil {
			b.Fatal(err)
		}
		if cfg.SchemaIDs, err = sim.RegisterSchemas(ctx, cl, evs.Topics()); err != nil {
			b.Fatal(err)
		}
		dec = avro.NewDecoder(cl)
	} else {
		dec = avro.NewDecoder(nil)
	}
	g := sim.NewGenerator(cfg)
	offsets := map[string]int64{}
	var msgs []pipeline.Message
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, pipeline.Message{Topic: ev.Topic, Offset: offsets[ev.Topic], Key: ev.Key, Value: ev.Value, Timestamp: cfg.Start.UnixMilli()})
		offsets[ev.Topic]++
	}
	var kes []events.KafkaEvent
	for i := 0; i < len(msgs); i += batch {
		kes = append(kes, awsevents.NewKafkaEvent("arn:aws:kafka:us-east-1:000000000000:cluster/pulse/b", msgs[i:min(i+batch, len(msgs))]))
	}
	newHandler := func() *handlers.Stream {
		p, err := stream.New(stream.Env{Store: memory.NewObjects(), Dedupe: memory.NewDedupe(), Warehouse: &nullWarehouse{},
			State: memory.NewWindowStore(), Decoder: dec, Buckets: pipeline.Buckets{Raw: "r", Quarantine: "q"},
			Config: stream.Config{IdleTimeout: -1}})
		if err != nil {
			b.Fatal(err)
		}
		return &handlers.Stream{Pipeline: p}
	}
	b.ReportAllocs()
	b.ResetTimer()
	handled := 0
	var h *handlers.Stream
	for i := 0; i < b.N; i++ {
		k := i % len(kes)
		if k == 0 { // a fresh pipeline for each pass over the stream
			b.StopTimer()
			h = newHandler()
			b.StartTimer()
		}
		out, err := h.Handle(ctx, kes[k])
		if err != nil {
			b.Fatal(err)
		}
		handled += out.Records
	}
	b.ReportMetric(float64(handled)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(handled)/float64(b.N), "events/op")
}
