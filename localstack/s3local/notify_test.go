package s3local_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/port"
)

// startStore runs s3local with the given buckets and returns an SDK-backed
// store on it.
func startStore(t *testing.T, buckets ...string) (*s3local.Server, port.ObjectStore) {
	t.Helper()
	srv, err := s3local.Start(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := srv.CreateBuckets(t.Context(), buckets...); err != nil {
		t.Fatalf("CreateBuckets: %v", err)
	}
	client, err := s3store.NewClient(t.Context(), srv.Endpoint())
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return srv, s3store.New(client)
}

func TestNotifyingStore(t *testing.T) {
	ctx := t.Context()
	_, store := startStore(t, "raw", "staging")

	var got []events.S3Event
	ns := s3local.NotifyingStore(store, "raw", "incoming/", func(_ context.Context, e events.S3Event) error {
		got = append(got, e)
		return nil
	})

	before := time.Now().UTC().Truncate(time.Millisecond)
	key := "incoming/social sales/Café 日本 (v2)+final%.csv"
	body := []byte("id,kota\n1,Jakarta\n")
	info, err := ns.Put(ctx, "raw", key, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	// Outside the prefix, or in another bucket: stored, not notified.
	if _, err := ns.Put(ctx, "raw", "elsewhere/x.csv", bytes.NewReader(body), -1); err != nil {
		t.Fatalf("Put outside prefix: %v", err)
	}
	if _, err := ns.Put(ctx, "staging", "incoming/x.csv", bytes.NewReader(body), -1); err != nil {
		t.Fatalf("Put to other bucket: %v", err)
	}
	info2, err := ns.Put(ctx, "raw", key, bytes.NewReader(body[:3]), -1)
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("notifications = %d, want 2: %+v", len(got), got)
	}

	r := got[0].Records[0]
	if r.EventName != "ObjectCreated:Put" || r.EventSource != "aws:s3" || r.AWSRegion != s3local.Region {
		t.Errorf("record header = %q %q %q", r.EventName, r.EventSource, r.AWSRegion)
	}
	if want := "incoming/social+sales/Caf%C3%A9+%E6%97%A5%E6%9C%AC+%28v2%29%2Bfinal%25.csv"; r.S3.Object.Key != want {
		t.Errorf("encoded key = %q, want %q", r.S3.Object.Key, want)
	}
	if r.S3.Object.URLDecodedKey != key {
		t.Errorf("aws-lambda-go decoded key = %q, want %q", r.S3.Object.URLDecodedKey, key)
	}
	if r.S3.Object.Sequencer >= got[1].Records[0].S3.Object.Sequencer || len(r.S3.Object.Sequencer) != 18 {
		t.Errorf("sequencers %q then %q, want increasing 18-digit hex", r.S3.Object.Sequencer, got[1].Records[0].S3.Object.Sequencer)
	}
	if r.EventTime.Before(before) || r.EventTime.After(time.Now()) {
		t.Errorf("eventTime %v not in [%v, now]", r.EventTime, before)
	}

	var drops []port.FileDrop
	for _, e := range got {
		d, err := awsevents.S3Drops(e)
		if err != nil {
			t.Fatalf("S3Drops: %v", err)
		}
		drops = append(drops, d...)
	}
	want := []port.FileDrop{
		{Bucket: "raw", Key: key, Size: int64(len(body)), ETag: info.ETag, VersionID: info.VersionID, EventTime: drops[0].EventTime},
		{Bucket: "raw", Key: key, Size: 3, ETag: info2.ETag, VersionID: info2.VersionID, EventTime: drops[1].EventTime},
	}
	if !reflect.DeepEqual(drops, want) {
		t.Errorf("drops\n got %+v\nwant %+v", drops, want)
	}
	if info.VersionID == "" || info.VersionID == info2.VersionID || info.ETag == "" {
		t.Errorf("versions %q, %q; etag %q", info.VersionID, info2.VersionID, info.ETag)
	}
	if _, err := time.Parse(time.RFC3339, drops[0].EventTime); err != nil || !strings.HasSuffix(drops[0].EventTime, "Z") {
		t.Errorf("EventTime %q: %v", drops[0].EventTime, err)
	}

	// The object a notification names is the object stored.
	rc, head, err := store.Get(ctx, drops[1].Bucket, drops[1].Key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	rc.Close()
	if head.VersionID != drops[1].VersionID || head.ETag != drops[1].ETag || head.Size != drops[1].Size {
		t.Errorf("stored %+v, notified %+v", head, drops[1])
	}
}

func TestNotifyingStoreErrors(t *testing.T) {
	ctx := t.Context()
	_, store := startStore(t, "raw")
	boom := errors.New("handler failed")
	calls := 0
	ns := s3local.NotifyingStore(store, "raw", "", func(context.Context, events.S3Event) error {
		calls++
		return boom
	})
	info, err := ns.Put(ctx, "raw", "a.csv", strings.NewReader("x"), 1)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "notifying put of s3://raw/a.csv") {
		t.Errorf("Put err = %v, want wrapping the handler error", err)
	}
	if info.VersionID == "" {
		t.Errorf("info = %+v, want the stored object's info", info)
	}
	if _, err := store.Head(ctx, "raw", "a.csv"); err != nil {
		t.Errorf("object not kept after a failed notification: %v", err)
	}
	// A failed put sends nothing.
	short := struct{ io.Reader }{strings.NewReader("x")} // not seekable: one attempt, no SDK retries
	if _, err := ns.Put(ctx, "raw", "b.csv", short, 5); err == nil {
		t.Errorf("Put with a short body succeeded")
	}
	if _, err := ns.Put(ctx, "no-such-bucket", "c.csv", strings.NewReader("x"), 1); err == nil {
		t.Errorf("Put to a missing bucket succeeded")
	}
	if calls != 1 {
		t.Errorf("notify calls = %d, want 1", calls)
	}
}

func TestServer(t *testing.T) {
	ctx := t.Context()
	srv, store := startStore(t, "a")
	if !strings.HasPrefix(srv.Endpoint(), "http://127.0.0.1:") || strings.HasSuffix(srv.Endpoint(), ":0") {
		t.Errorf("Endpoint = %q", srv.Endpoint())
	}
	if err := srv.CreateBuckets(ctx, "a", "b"); err != nil {
		t.Fatalf("CreateBuckets again: %v", err)
	}
	info, err := store.Put(ctx, "b", "k", strings.NewReader("v"), 1)
	if err != nil || info.VersionID == "" {
		t.Fatalf("Put to b = %+v, %v", info, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.CreateBuckets(cancelled, "c"); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateBuckets with a cancelled ctx: %v", err)
	}
}
