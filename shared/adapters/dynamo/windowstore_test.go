package dynamo

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pulse-analytics/pulse/shared/window"
	"github.com/pulse-analytics/pulse/shared/window/storetest"
)

func TestWindowStoreConformance(t *testing.T) {
	client := localClient(t)
	storetest.Run(t, func(t *testing.T) window.Store {
		return NewWindowStore(client, freshTable(t, client), 24*time.Hour)
	})
}

func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestWindowStoreChunks saves states too big for one item (incompressible
// bytes), checks the round trip, that replacing a chunked version deletes
// its chunks, that a fresh store instance (no cache) does too, and the
// size limit.
func TestWindowStoreChunks(t *testing.T) {
	ctx := context.Background()
	client := localClient(t)
	table := freshTable(t, client)
	s := NewWindowStore(client, table, 0)
	big := noise(1200<<10, 1)
	if err := s.Save(ctx, "w", big, 0); err != nil {
		t.Fatal(err)
	}
	got, v, err := NewWindowStore(client, table, 0).Load(ctx, "w")
	if err != nil || v != 1 || !bytes.Equal(got, big) {
		t.Fatalf("Load = %d bytes, v%d, %v", len(got), v, err)
	}
	exists := func(pk string) bool {
		res, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyOf(pk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Item) > 0
	}
	if !exists(chunkKey("w", 1, 3)) || exists(chunkKey("w", 1, 4)) {
		t.Fatal("want 4 chunks of 350 KiB for 1.2 MiB")
	}
	// A second instance, which never loaded "w", replaces it with a bigger state.
	bigger := noise(1800<<10, 2)
	if err := NewWindowStore(client, table, 0).Save(ctx, "w", bigger, 1); err != nil {
		t.Fatal(err)
	}
	if exists(chunkKey("w", 1, 0)) || !exists(chunkKey("w", 2, 5)) {
		t.Fatal("version 1 chunks not replaced by version 2's")
	}
	if err := s.Save(ctx, "w", []byte("small"), 2); err != nil {
		t.Fatal(err)
	}
	if exists(chunkKey("w", 2, 0)) {
		t.Fatal("chunks left after an inline save")
	}
	if got, v, err := s.Load(ctx, "w"); err != nil || v != 3 || string(got) != "small" {
		t.Fatalf("Load = %q v%d %v", got, v, err)
	}
	if err := s.Save(ctx, "w", noise(4<<20, 3), 3); !errors.Is(err, ErrStateTooLarge) {
		t.Fatalf("4 MiB of noise: %v; want ErrStateTooLarge", err)
	}
	// Concurrent chunked writers: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = NewWindowStore(client, table, 0).Save(ctx, "race", noise(800<<10, uint64(10+i)), 0)
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, window.ErrConflict):
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d chunked writers won", wins)
	}
	if got, v, err := s.Load(ctx, "race"); err != nil || v != 1 || len(got) != 800<<10 {
		t.Fatalf("race winner: %d bytes v%d %v", len(got), v, err)
	}
	if s.Writes() != 2 { // one request per Save that was sent: the chunked one and the inline one
		t.Fatalf("writes %d, want 2", s.Writes())
	}
}
