package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/avro"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/stream"
	testcorpora "github.com/pulse-analytics/pulse/tests/corpora"
)

func newStream(t *testing.T) (*handlers.Stream, *duckdb.Warehouse) {
	t.Helper()
	wh := duckdbtest.New(t)
	p, err := stream.New(stream.Env{Store: memory.NewObjects(), Dedupe: memory.NewDedupe(), Warehouse: wh, State: memory.NewWindowStore(),
		Decoder: avro.NewDecoder(nil), Buckets: pipeline.Buckets{Raw: "r", Quarantine: "q"}, Config: stream.Config{IdleTimeout: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return &handlers.Stream{Pipeline: p}, wh
}

// corpus reads a file of the test corpora's aws-events folder.
func corpus(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(testcorpora.Path(t, "aws-events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestStreamHandlerCorpora feeds AWS's own MSK sample events to the
// handler: they decode, and their records (a uuid and {"key":"value"} on
// topics Pulse does not know) are quarantined with a reason, not errors.
func TestStreamHandlerCorpora(t *testing.T) {
	for _, name := range []string{"aws-lambda-go/kafka-event.json", "powertools/kafkaEventMsk.json", "powertools/kafkaEventSelfManaged.json"} {
		t.Run(name, func(t *testing.T) {
			h, wh := newStream(t)
			var e events.KafkaEvent
			corpus(t, name, &e)
			out, err := h.Handle(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if out.Records != 1 || out.Counts != (pipeline.Counts{Received: 1, Rejected: 1}) {
				t.Fatalf("output %+v", out)
			}
			_, rows, err := wh.Query(context.Background(), "SELECT FIELD, RECORD FROM PULSE_REJECTS")
			if err != nil || len(rows) != 1 || rows[0][0] != "topic" {
				t.Fatalf("rejects %v %v", rows, err)
			}
		})
	}
}

// TestStreamHandlerPoison: a record whose base64 does not decode is
// quarantined and the rest of the batch is loaded.
func TestStreamHandlerPoison(t *testing.T) {
	h, wh := newStream(t)
	ts := time.Date(2024, 2, 3, 17, 30, 0, 0, time.UTC).UnixMilli()
	e := awsevents.NewKafkaEvent("arn:aws:kafka:us-east-1:000000000000:cluster/pulse/x", []pipeline.Message{
		{Topic: "social_sales", Offset: 7, Timestamp: ts, Value: []byte(`{"ID":"a","Kota":"Bogor","Sosial_Media":"X","Usage_Count":1,"Sales":2,"Visitors":10,"PageVisitors":5,"Conversion":1,"Ts":1706981205}`)},
		{Topic: "social_sales", Offset: 8, Timestamp: ts, Value: []byte(`{}`)},
		{Topic: "social_sales", Offset: 9, Timestamp: ts, Value: []byte(`{"ID":"b","Kota":"Bogor","Sosial_Media":"X","Usage_Count":1,"Sales":2,"Visitors":20,"PageVisitors":5,"Conversion":1,"Ts":1706981206}`)},
	})
	e.Records["social_sales-0"][1].Value = "not base64!"
	out, err := h.Handle(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts != (pipeline.Counts{Received: 3, Loaded: 2, Rejected: 1}) {
		t.Fatalf("counts %s", out.Counts)
	}
	_, rows, _ := wh.Query(context.Background(), "SELECT ROW_POS, FIELD, RECORD FROM PULSE_REJECTS")
	if len(rows) != 1 || rows[0][0] != int64(8) || rows[0][1] != "value" || rows[0][2] != "not base64!" {
		t.Fatalf("rejects %v", rows)
	}
	_, rows, _ = wh.Query(context.Background(), "SELECT RECORD_ID, CONVERSION_RATE FROM FACT_SOCIAL_SALES ORDER BY 1")
	if len(rows) != 2 || rows[0][1] != 10.0 || rows[1][1] != 5.0 {
		t.Fatalf("facts %v", rows)
	}
}

// TestStreamHandlerDataTests: with Tests set, the stream and marts data
// tests (seed 003: every user_id in consumer events exists in users) run
// on the idle tick in the first minute of each TestsEvery of the clock,
// never on a batch, so one deployment runs them once per interval however
// many instances it has; a failure is recorded, not raised.
func TestStreamHandlerDataTests(t *testing.T) {
	ctx := context.Background()
	h, wh := newStream(t)
	if err := views.Setup(ctx, wh); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 21, 0, 30, 0, time.UTC) // 30 s into a quarter hour
	h.Tests, h.Now = wh, func() time.Time { return now }
	signIn := func(offset int64, user int) events.KafkaEvent {
		return awsevents.NewKafkaEvent("arn:aws:kafka:us-east-1:000000000000:cluster/pulse/x", []pipeline.Message{{
			Topic: "sign_in", Offset: offset, Timestamp: time.Date(2024, 2, 3, 17, 30, 0, 0, time.UTC).UnixMilli(),
			Value: fmt.Appendf(nil, `{"timestamp":"2024-02-03T17:30:00Z","event_name":"sign_in","user_id":%d}`, user),
		}})
	}
	tick := events.KafkaEvent{EventSource: handlers.IdleTickSource}
	failures := func() (int64, string) {
		_, rows, err := wh.Query(ctx, "SELECT FAILURES, STATUS FROM PULSE_DATA_TESTS WHERE TABLE_NAME = 'CONSUMER_EVENTS' AND TEST LIKE 'relationships%' ORDER BY RUN_AT DESC LIMIT 1")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return -1, "not run"
		}
		return rows[0][0].(int64), rows[0][1].(string)
	}
	if out, err := h.Handle(ctx, signIn(0, 41)); err != nil || out.Counts.Loaded != 1 {
		t.Fatalf("first batch: %+v %v", out, err)
	}
	if n, status := failures(); status != "not run" {
		t.Fatalf("a batch ran the data tests (%d failing rows, %s): they run on the idle tick only", n, status)
	}
	if _, err := h.Handle(ctx, tick); err != nil {
		t.Fatal(err)
	}
	if n, status := failures(); n != 1 || status != "fail" {
		t.Fatalf("after a sign-in of an unregistered user and a due tick: %d failing rows, %s; want 1, fail", n, status)
	}
	if _, err := h.Handle(ctx, signIn(1, 42)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute) // 1:30 into the quarter: not due
	if _, err := h.Handle(ctx, tick); err != nil {
		t.Fatal(err)
	}
	if n, _ := failures(); n != 1 {
		t.Fatalf("a tick past the first minute of the interval ran the tests: %d failing rows", n)
	}
	now = time.Date(2026, 12, 7, 21, 15, 0, 0, time.UTC) // the next quarter hour
	if _, err := h.Handle(ctx, tick); err != nil {
		t.Fatal(err)
	}
	if n, _ := failures(); n != 2 {
		t.Fatalf("at the next interval the tests see %d orphan sign-ins, want 2", n)
	}
}
