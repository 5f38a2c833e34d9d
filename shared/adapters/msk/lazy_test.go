package msk

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/shared/catalog"
)

// TestLazyProducerRetriesItsBuild: nothing is built until the first
// Produce; a failed build is that call's error and the next call builds
// again; a successful build is kept for every later call.
func TestLazyProducerRetriesItsBuild(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, catalog.Topic))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	builds := 0
	down := errors.New("bootstrap brokers: connection refused")
	var clients []*kgo.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	lp := NewLazyProducer(func(ctx context.Context) (*Producer, error) {
		builds++
		if builds == 1 {
			return nil, down
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
		if err != nil {
			return nil, err
		}
		clients = append(clients, cl)
		return NewProducer(cl, catalog.Topic, JSON{}), nil
	})
	if builds != 0 {
		t.Fatalf("built %d times before any Produce", builds)
	}
	movies := []catalog.Movie{{ItemID: "m1", Title: "One"}}
	if err := lp.Produce(ctx, movies); !errors.Is(err, down) {
		t.Fatalf("first Produce: got %v, want the build's error", err)
	}
	for i := range 2 {
		if err := lp.Produce(ctx, movies); err != nil {
			t.Fatalf("Produce %d after the failed build: %v", i+2, err)
		}
	}
	if builds != 2 {
		t.Fatalf("builds = %d, want 2 (one failed, one kept)", builds)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics(catalog.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	for n < 2 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		n += fs.NumRecords()
	}
	if n != 2 {
		t.Fatalf("records on the topic = %d, want 2", n)
	}
}
