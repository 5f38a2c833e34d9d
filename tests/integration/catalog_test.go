package integration

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// TestCatalogThroughTheEndpoints wires the catalog handler as functions/catalog does (the store from
// the S3 endpoint, the producer from PULSE_KAFKA_BROKERS) and runs it on the simulator's Movies.txt.
func TestCatalogThroughTheEndpoints(t *testing.T) {
	ctx := context.Background()
	store, err := wire.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kcfg, err := msk.ConfigFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	client, err := msk.NewClient(ctx, kcfg, aws.Config{}, kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	topic := "movies_catalog_enriched_it" + time.Now().Format("150405")
	h := &handlers.Catalog{Store: store, Producer: msk.NewProducer(client, topic, msk.JSON{}), QuarantineBucket: os.Getenv(wire.EnvQuarantineBucket), TempDir: t.TempDir()}
	body := sim.MoviesTxt()
	key := "raw/movies_catalog/Movies.txt"
	if _, err := store.Put(ctx, os.Getenv(wire.EnvRawBucket), key, strings.NewReader(string(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]string{"bucket": os.Getenv(wire.EnvRawBucket), "key": key})
	out, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	movies := sim.Movies()
	if len(out.Files) != 1 || out.Files[0].Counts != (catalog.Counts{Received: int64(len(movies)), Produced: int64(len(movies))}) {
		t.Fatalf("output %+v", out)
	}
	cl, err := kgo.NewClient(append(seeds(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var n int
	for n < len(movies) && pctx.Err() == nil {
		fs := cl.PollFetches(pctx)
		fs.EachRecord(func(r *kgo.Record) {
			var m port.Movie
			if err := json.Unmarshal(r.Value, &m); err != nil || m.ItemID != movies[n].ItemID || m.Price != movies[n].Price {
				t.Errorf("record %d: %s (%v), want %s at %v", n, r.Value, err, movies[n].ItemID, movies[n].Price)
			}
			n++
		})
	}
	if n != len(movies) {
		t.Errorf("consumed %d events, want %d", n, len(movies))
	}
}

func seeds() []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(strings.Split(os.Getenv("PULSE_KAFKA_BROKERS"), ",")...)}
}
