package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

type catalogFixture struct {
	store   *s3store.Store
	cluster *kafkalocal.Cluster
	client  *kgo.Client
}

func newCatalogFixture(t *testing.T) *catalogFixture {
	t.Helper()
	ctx := t.Context()
	srv, err := s3local.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.CreateBuckets(ctx, "raw", "quarantine"); err != nil {
		t.Fatal(err)
	}
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kafkalocal.Start(ctx, kafkalocal.Options{Topics: []string{port.CatalogTopic}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	kc, err := msk.NewClient(ctx, msk.Config{Brokers: cluster.Brokers()}, awsConfigNone())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	return &catalogFixture{store: s3store.New(client), cluster: cluster, client: kc}
}

// consume reads n records of the catalog topic from the start.
func (f *catalogFixture) consume(t *testing.T, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.cluster.Brokers()...), kgo.ConsumeTopics(port.CatalogTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestCatalogJSON: the simulator's Movies.txt, dropped in the raw bucket
// and named by an EventBridge "Object Created" event, becomes 50 JSON
// events on the topic, keyed by item ID, with the simulator's prices.
func TestCatalogJSON(t *testing.T) {
	f := newCatalogFixture(t)
	ctx := t.Context()
	body := sim.MoviesTxt()
	info, err := f.store.Put(ctx, "raw", "raw/movies_catalog/Movies.txt", bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	h := &handlers.Catalog{Store: f.store, Producer: msk.NewProducer(f.client, port.CatalogTopic, msk.JSON{}), QuarantineBucket: "quarantine"}
	ev := `{"version":"0","source":"aws.s3","detail-type":"Object Created","time":"2024-02-03T00:00:00Z",
		"detail":{"bucket":{"name":"raw"},"object":{"key":"raw/movies_catalog/Movies.txt","size":` + itoa(len(body)) + `,"etag":"` + info.ETag + `","version-id":"` + info.VersionID + `"}}}`
	out, err := h.Handle(ctx, json.RawMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	movies := sim.Movies()
	want := catalog.Counts{Received: int64(len(movies)), Produced: int64(len(movies))}
	if len(out.Files) != 1 || !out.Files[0].Found || out.Files[0].Counts != want || out.Files[0].RejectsKey != "" {
		t.Fatalf("output %+v, want one file with %+v", out, want)
	}
	recs := f.consume(t, len(movies))
	if len(recs) != len(movies) {
		t.Fatalf("%d records, want %d", len(recs), len(movies))
	}
	for i, r := range recs {
		var got map[string]any
		if err := json.Unmarshal(r.Value, &got); err != nil {
			t.Fatal(err)
		}
		m := movies[i]
		if string(r.Key) != m.ItemID || got["item_id"] != m.ItemID || got["title"] != m.Title || got["price"] != m.Price || got["currency"] != "USD" ||
			got["list_price_raw"] != strings.TrimSpace(m.ListPrice) || got["genre"] != m.Genre {
			t.Errorf("record %d: key %s %v; want %+v", i, r.Key, got, m)
		}
	}
}

// TestCatalogAvroAndRejects: the {"bucket","key"} input of the state
// machine, an Avro encoder registered with the schema registry, and a file
// with bad lines: the good lines are produced in the Confluent wire
// format, the bad ones kept in quarantine with field and reason.
func TestCatalogAvroAndRejects(t *testing.T) {
	f := newCatalogFixture(t)
	ctx := t.Context()
	reg, err := kafkalocal.StartRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	rc, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := msk.NewAvro(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	body := "item_id\ttitle\tgenre\tListPrice\nB1\tOne\tDrama\t4999USD$49.99\nB2\tTwo\tDrama\t$$\n\tThree\tDrama\t$1\nB4\tFour\t\t 1500USD$15.00 \n"
	if _, err := f.store.Put(ctx, "raw", "raw/movies_catalog/Movies.txt", strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	h := &handlers.Catalog{Store: f.store, Producer: msk.NewProducer(f.client, port.CatalogTopic, enc), QuarantineBucket: "quarantine"}
	out, err := h.Handle(ctx, json.RawMessage(`{"bucket":"raw","key":"raw/movies_catalog/Movies.txt"}`))
	if err != nil {
		t.Fatal(err)
	}
	file := out.Files[0]
	if file.Counts != (catalog.Counts{Received: 4, Produced: 2, Rejected: 2}) || file.RejectsKey == "" {
		t.Fatalf("file %+v", file)
	}
	text, _ := events.Schema(port.CatalogTopic)
	schema := avro.MustParse(text)
	want := []map[string]any{
		{"item_id": "B1", "title": "One", "genre": "Drama", "list_price_raw": "4999USD$49.99", "price": 49.99, "currency": "USD"},
		{"item_id": "B4", "title": "Four", "genre": "Unknown", "list_price_raw": "1500USD$15.00", "price": 15.0, "currency": "USD"},
	}
	for i, r := range f.consume(t, 2) {
		if r.Value[0] != 0 || int(binary.BigEndian.Uint32(r.Value[1:5])) != enc.ID() {
			t.Fatalf("record %d does not start with magic 0 and schema id %d: % x", i, enc.ID(), r.Value[:5])
		}
		var got map[string]any
		if err := avro.Unmarshal(schema, r.Value[5:], &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("record %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
	}
	qb, _, err := f.store.Get(ctx, "quarantine", file.RejectsKey)
	if err != nil {
		t.Fatal(err)
	}
	defer qb.Close()
	var rejects []string
	sc := bufio.NewScanner(qb)
	for sc.Scan() {
		var q port.QuarantineRecord
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		rejects = append(rejects, itoa(int(q.Pos))+" "+q.Field+" "+q.Record)
	}
	if got := strings.Join(rejects, "|"); got != "3 ListPrice B2\tTwo\tDrama\t$$|4 item_id \tThree\tDrama\t$1" {
		t.Errorf("quarantined %q", got)
	}
}

// TestCatalogInputs: the schedule's run before any upload finds nothing
// and fails nothing; a file that is not a catalog is a permanent error;
// an S3 notification is accepted too; garbage input is BadInput.
func TestCatalogInputs(t *testing.T) {
	f := newCatalogFixture(t)
	ctx := t.Context()
	h := &handlers.Catalog{Store: f.store, Producer: msk.NewProducer(f.client, port.CatalogTopic, msk.JSON{}), QuarantineBucket: "quarantine"}
	out, err := h.Handle(ctx, json.RawMessage(`{"bucket":"raw","key":"raw/movies_catalog/Movies.txt"}`))
	if err != nil || len(out.Files) != 1 || out.Files[0].Found {
		t.Fatalf("missing file: %+v %v", out, err)
	}
	bad := "a,b,c\n1,2,3\n"
	info, err := f.store.Put(ctx, "raw", "raw/movies_catalog/Movies.txt", strings.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(awsevents.NewS3Event(port.FileDrop{Bucket: "raw", Key: "raw/movies_catalog/Movies.txt", Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}, "us-east-1"))
	_, err = h.Handle(ctx, ev)
	if handlers.ErrorName(err) != handlers.ErrorNotADataset || !errors.Is(err, catalog.ErrNotACatalog) {
		t.Errorf("csv file: %v (%s)", err, handlers.ErrorName(err))
	}
	if _, err := h.Handle(ctx, json.RawMessage(`{"hello":1}`)); handlers.ErrorName(err) != handlers.ErrorBadInput {
		t.Errorf("garbage input: %v", err)
	}
}
