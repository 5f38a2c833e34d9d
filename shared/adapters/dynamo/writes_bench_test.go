package dynamo

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/table"
)

// countingClient counts the write requests sent to DynamoDB through it;
// the writes themselves go to DynamoDB Local.
type countingClient struct {
	*dynamodb.Client
	writes atomic.Int64
	leases atomic.Int64 // of which writes of the stream path's lease items
	reads  atomic.Int64
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.writes.Add(1)
	if strings.Contains(stringAttr(in.Item, attrPK), "/lease/") {
		c.leases.Add(1)
	}
	return c.Client.PutItem(ctx, in, opts...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes.Add(1)
	return c.Client.UpdateItem(ctx, in, opts...)
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.reads.Add(1)
	return c.Client.GetItem(ctx, in, opts...)
}

func (c *countingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes.Add(1)
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

type discardWarehouse struct{}

func (discardWarehouse) Migrate(context.Context, []table.Schema) error { return nil }
func (discardWarehouse) Merge(_ context.Context, _ table.Schema, rows []table.Row) (int, error) {
	return len(rows), nil
}
func (discardWarehouse) Exec(context.Context, string) error { return nil }
func (discardWarehouse) BeginLoad(context.Context) (port.Loader, error) {
	return discardLoader{}, nil
}
func (discardWarehouse) Query(context.Context, string, ...any) ([]string, [][]any, error) {
	return nil, nil, nil
}
func (discardWarehouse) Close() error { return nil }

type discardLoader struct{}

func (discardLoader) Stage(context.Context, table.Schema, []table.Row) error { return nil }
func (discardLoader) Exec(string)                                            {}
func (discardLoader) Commit(context.Context) (map[string]int, error)         { return nil, nil }
func (discardLoader) Close() error                                           { return nil }

// BenchmarkStreamWritesPerEvent runs a seeded stream through the stream
// path with the dedupe store and the window-state store on DynamoDB Local,
// in batches of one topic each (one event-source mapping per topic, as on
// AWS) of 100 and of 10,000 records, and reports the DynamoDB write
// requests per event of each store. Run once: -benchtime 1x.
func BenchmarkStreamWritesPerEvent(b *testing.B) {
	for _, size := range []int{100, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			for range b.N {
				benchWrites(b, size)
			}
		})
	}
}

func benchWrites(b *testing.B, size int) {
	ctx := context.Background()
	base := localClient(b)
	dd, ws := &countingClient{Client: base}, &countingClient{Client: base}
	dedupe := NewDedupe(dd, freshTable(b, base), 0)
	state := NewWindowStore(ws, freshTable(b, base), 0)
	p, err := stream.New(stream.Env{Store: memory.NewObjects(), Dedupe: dedupe, Warehouse: discardWarehouse{}, State: state,
		Decoder: avro.NewDecoder(nil), Buckets: port.Buckets{Raw: "r", Quarantine: "q"}, Config: stream.Config{IdleTimeout: -1}})
	if err != nil {
		b.Fatal(err)
	}
	g := sim.NewGenerator(sim.Config{Seed: 2, Rate: 200, MaxEvents: 10000, DuplicatePct: 2, LatePct: 2, MalformedPct: 1,
		Start: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC)})
	byTopic := map[string][]port.Message{}
	var order []string
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if _, seen := byTopic[ev.Topic]; !seen {
			order = append(order, ev.Topic)
		}
		byTopic[ev.Topic] = append(byTopic[ev.Topic], port.Message{Topic: ev.Topic, Offset: int64(len(byTopic[ev.Topic])), Value: ev.Value})
	}
	// Interleave the topics' batches as concurrent mappings would.
	var batches [][]port.Message
	for more := true; more; {
		more = false
		for _, t := range order {
			if ms := byTopic[t]; len(ms) > 0 {
				n := min(size, len(ms))
				batches = append(batches, ms[:n])
				byTopic[t] = ms[n:]
				more = true
			}
		}
	}
	events := 0
	start := time.Now()
	for _, batch := range batches {
		if _, err := p.Process(ctx, batch); err != nil {
			b.Fatal(err)
		}
		events += len(batch)
	}
	took := time.Since(start)
	b.ReportMetric(float64(dd.writes.Load())/float64(events), "dedupe-writes/event")
	b.ReportMetric(float64(dd.reads.Load())/float64(events), "dedupe-reads/event")
	b.ReportMetric(float64(ws.writes.Load()-ws.leases.Load())/float64(events), "state-writes/event")
	b.ReportMetric(float64(ws.leases.Load())/float64(events), "lease-writes/event")
	b.ReportMetric(float64(len(batches)), "batches")
	b.ReportMetric(float64(events)/took.Seconds(), "events/s")
}
