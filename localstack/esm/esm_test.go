package esm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
)

const topic = "clicks"

func cluster(t *testing.T, partitions int) (context.Context, *kafkalocal.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	t.Cleanup(cancel)
	c, err := kafkalocal.Start(ctx, kafkalocal.Options{Topics: []string{topic}, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return ctx, c
}

// produce writes n records round-robin over partitions; value "v<i>".
func produce(ctx context.Context, t *testing.T, c *kafkalocal.Cluster, partitions, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for i := from; i < from+n; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(i % partitions), Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%d", i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{0xff, 0x01}}, {Key: "h", Value: []byte("x")}}})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

type delivered struct {
	partition int64
	offset    int64
	value     string
}

func flatten(t *testing.T, e lambdaevents.KafkaEvent) []delivered {
	t.Helper()
	var out []delivered
	for group, rs := range e.Records {
		for _, r := range rs {
			if group != fmt.Sprintf("%s-%d", r.Topic, r.Partition) {
				t.Errorf("record %s/%d under %q", r.Topic, r.Partition, group)
			}
			v, err := base64.StdEncoding.DecodeString(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, delivered{r.Partition, r.Offset, string(v)})
		}
	}
	return out
}

func committed(ctx context.Context, t *testing.T, c *kafkalocal.Cluster, group string, partition int32) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			return p.Offset
		}
	}
	return -1
}

func TestDeliversEachRecordOnceInOrder(t *testing.T) {
	const partitions, n = 3, 600
	ctx, c := cluster(t, partitions)
	produce(ctx, t, c, partitions, 0, n)
	rctx, stop := context.WithCancel(ctx)
	var mu sync.Mutex
	seen := map[[2]int64]int{}
	next := map[int64]int64{}
	var first lambdaevents.KafkaEvent
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g1", BatchSize: 50, BatchWindow: 50 * time.Millisecond}, func(_ context.Context, e lambdaevents.KafkaEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if first.Records == nil {
			first = e
		}
		for _, d := range flatten(t, e) {
			if d.offset != next[d.partition] {
				t.Errorf("partition %d: offset %d, want %d", d.partition, d.offset, next[d.partition])
			}
			next[d.partition] = d.offset + 1
			seen[[2]int64{d.partition, d.offset}]++
		}
		if len(seen) == n {
			stop()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("saw %d records, want %d", len(seen), n)
	}
	for k, v := range seen {
		if v != 1 {
			t.Fatalf("record %v delivered %d times", k, v)
		}
	}
	for part := range int64(partitions) {
		if next[part] != n/partitions {
			t.Fatalf("partition %d ended at %d", part, next[part])
		}
	}
	// The payload looks like MSK's.
	b, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"eventSource":"aws:kafka"`, `"eventSourceArn":"arn:aws:kafka:local:000000000000:cluster/pulse/local"`,
		`"timestampType":"CREATE_TIME"`, `"headers":[{"h":[-1,1]},{"h":[120]}]`, `"key":"MA=="`, `"value":"djA="`, `"records":{"clicks-`} {
		if !strings.Contains(s, want) {
			t.Errorf("payload lacks %s: %.400s", want, s)
		}
	}
	if st := p.Stats(); st.Records < n || st.Retries != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailedBatchIsRetriedWholeAndCommittedAfter(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 10)
	rctx, stop := context.WithCancel(ctx)
	var events []lambdaevents.KafkaEvent
	var commitsDuringAttempts []int64
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g2", BatchSize: 10, BatchWindow: 100 * time.Millisecond,
		Retry: Retry{Initial: 20 * time.Millisecond}}, func(_ context.Context, e lambdaevents.KafkaEvent) error {
		events = append(events, e)
		commitsDuringAttempts = append(commitsDuringAttempts, committed(ctx, t, c, "g2", 0))
		if len(events) <= 2 {
			return errors.New("boom")
		}
		go func() {
			// Give Run time to commit, then stop it.
			for committed(ctx, t, c, "g2", 0) != 10 {
				time.Sleep(10 * time.Millisecond)
			}
			stop()
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("handler saw %d batches, want 3", len(events))
	}
	if !reflect.DeepEqual(events[0], events[1]) || !reflect.DeepEqual(events[0], events[2]) {
		t.Fatal("retried batches differ")
	}
	if got := len(flatten(t, events[0])); got != 10 {
		t.Fatalf("batch of %d records", got)
	}
	if !reflect.DeepEqual(commitsDuringAttempts, []int64{-1, -1, -1}) {
		t.Fatalf("committed offsets during attempts %v, want none", commitsDuringAttempts)
	}
	if got := committed(ctx, t, c, "g2", 0); got != 10 {
		t.Fatalf("committed %d after success", got)
	}
	if st := p.Stats(); st != (Stats{Batches: 1, Records: 10, Retries: 2}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetriesExhausted(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 3)
	calls := 0
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g5", BatchWindow: 50 * time.Millisecond,
		Retry: Retry{Initial: time.Millisecond, MaxAttempts: 3}}, func(context.Context, lambdaevents.KafkaEvent) error {
		calls++
		return errors.New("always")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); !errors.Is(err, ErrRetriesExhausted) || calls != 3 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	if got := committed(ctx, t, c, "g5", 0); got != -1 {
		t.Fatalf("committed %d after failure", got)
	}
}

func TestBatchSizeAndWindow(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 10)
	rctx, stop := context.WithCancel(ctx)
	var sizes []int
	var lastAt time.Duration
	start := time.Now()
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g3", BatchSize: 4, BatchWindow: 400 * time.Millisecond},
		func(_ context.Context, e lambdaevents.KafkaEvent) error {
			sizes = append(sizes, len(flatten(t, e)))
			if len(sizes) == 3 {
				lastAt = time.Since(start)
				stop()
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sizes, []int{4, 4, 2}) {
		t.Fatalf("batch sizes %v, want [4 4 2]", sizes)
	}
	// The last batch is not full, so it waited out the window.
	if lastAt < 400*time.Millisecond {
		t.Fatalf("partial batch delivered after %v, before the 400ms window", lastAt)
	}
}

func TestRestartAfterCrashRedeliversFromLastCommit(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 6)
	cfg := Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g4", BatchSize: 3, BatchWindow: 100 * time.Millisecond}
	var firstRun []delivered
	p1, err := New(cfg, func(_ context.Context, e lambdaevents.KafkaEvent) error {
		firstRun = append(firstRun, flatten(t, e)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p1.crashAfterHandle = func(batch int64) bool { return batch == 2 }
	if err := p1.Run(ctx); !errors.Is(err, errCrashed) {
		t.Fatalf("first run: %v", err)
	}
	if len(firstRun) != 6 || committed(ctx, t, c, "g4", 0) != 3 {
		t.Fatalf("first run saw %d records, committed %d", len(firstRun), committed(ctx, t, c, "g4", 0))
	}
	rctx, stop := context.WithCancel(ctx)
	var secondRun []delivered
	p2, err := New(cfg, func(_ context.Context, e lambdaevents.KafkaEvent) error {
		secondRun = append(secondRun, flatten(t, e)...)
		if len(secondRun) >= 3 {
			stop()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Run(rctx); err != nil {
		t.Fatal(err)
	}
	want := []delivered{{0, 3, "v3"}, {0, 4, "v4"}, {0, 5, "v5"}}
	if !reflect.DeepEqual(secondRun, want) {
		t.Fatalf("second run got %v, want %v", secondRun, want)
	}
}

// TestFailedBatchGoesToOnFailureDestination: a batch that fails
// MaxAttempts times is handed whole, with the last error, to the
// on-failure destination; the mapping commits past it and delivers the
// next batch, as Lambda's mapping does with an S3 destination.
func TestFailedBatchGoesToOnFailureDestination(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 9)
	rctx, stop := context.WithCancel(ctx)
	var (
		mu       sync.Mutex
		attempts = map[int64]int{} // first offset -> invocations
		handled  []delivered
		kept     []delivered
		cause    error
		tries    int
	)
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g6", BatchSize: 3, BatchWindow: 50 * time.Millisecond,
		Retry: Retry{Initial: time.Millisecond, MaxAttempts: 4},
		OnFailure: func(_ context.Context, e lambdaevents.KafkaEvent, err error, n int) error {
			mu.Lock()
			defer mu.Unlock()
			kept, cause, tries = flatten(t, e), err, n
			return nil
		}}, func(_ context.Context, e lambdaevents.KafkaEvent) error {
		mu.Lock()
		defer mu.Unlock()
		d := flatten(t, e)
		attempts[d[0].offset]++
		if d[0].offset == 3 {
			return fmt.Errorf("warehouse down (attempt %d)", attempts[3])
		}
		handled = append(handled, d...)
		if d[len(d)-1].offset == 8 {
			go func() {
				for committed(ctx, t, c, "g6", 0) != 9 {
					time.Sleep(10 * time.Millisecond)
				}
				stop()
			}()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if want := []delivered{{0, 3, "v3"}, {0, 4, "v4"}, {0, 5, "v5"}}; !reflect.DeepEqual(kept, want) {
		t.Fatalf("on-failure destination got %v, want %v", kept, want)
	}
	if tries != 4 || cause == nil || cause.Error() != "warehouse down (attempt 4)" {
		t.Fatalf("destination told %d attempts, cause %v; want 4 and the last error", tries, cause)
	}
	if want := []delivered{{0, 0, "v0"}, {0, 1, "v1"}, {0, 2, "v2"}, {0, 6, "v6"}, {0, 7, "v7"}, {0, 8, "v8"}}; !reflect.DeepEqual(handled, want) {
		t.Fatalf("handled %v, want %v", handled, want)
	}
	if attempts[3] != 4 || attempts[6] != 1 {
		t.Fatalf("attempts %v: want 4 of the failing batch, 1 of the next", attempts)
	}
	if got := committed(ctx, t, c, "g6", 0); got != 9 {
		t.Fatalf("committed %d, want 9 (past the failed batch)", got)
	}
	if st := p.Stats(); st != (Stats{Batches: 2, Records: 6, Retries: 3, Failed: 1, Skipped: 3}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestOnFailureDestinationDown: when the on-failure destination cannot
// take the batch, the mapping stops without committing it, so the next
// poller of the group gets it again.
func TestOnFailureDestinationDown(t *testing.T) {
	ctx, c := cluster(t, 1)
	produce(ctx, t, c, 1, 0, 3)
	p, err := New(Config{Brokers: c.Brokers(), Topics: []string{topic}, Group: "g7", BatchWindow: 50 * time.Millisecond,
		OnFailure: func(context.Context, lambdaevents.KafkaEvent, error, int) error {
			return errors.New("bucket unreachable")
		},
		Retry: Retry{Initial: time.Millisecond, Max: time.Millisecond}},
		func(context.Context, lambdaevents.KafkaEvent) error { return errors.New("always") })
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "bucket unreachable") || !strings.Contains(err.Error(), "after 10 failed attempts") {
		t.Fatalf("Run: %v; want the destination's error after the default 10 attempts", err)
	}
	if got := committed(ctx, t, c, "g7", 0); got != -1 {
		t.Fatalf("committed %d; want nothing", got)
	}
}
