package s3local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Region is the awsRegion written into the notifications NotifyingStore sends.
const Region = "us-east-1"

// Notify receives an S3 event notification, as a Lambda S3 trigger would.
type Notify func(ctx context.Context, event events.S3Event) error

// NotifyingStore wraps store so that every successful Put of a key under
// prefix in bucket sends fn the ObjectCreated:Put notification S3 would
// send: URL-encoded key, size, eTag, versionId, a sequencer that increases
// with every put, eventTime (now, UTC, milliseconds) and awsRegion Region.
// The event passes through JSON on the way, so fn sees exactly what a
// Lambda handler would decode.
//
// Delivery is synchronous, once per put. If fn fails, Put returns the
// stored object's info together with the error (the object stays stored,
// as in S3, where a failed trigger does not undo the upload). Other
// methods pass straight through.
func NotifyingStore(store port.ObjectStore, bucket, prefix string, fn Notify) port.ObjectStore {
	return &notifyingStore{ObjectStore: store, bucket: bucket, prefix: prefix, fn: fn}
}

type notifyingStore struct {
	port.ObjectStore
	bucket, prefix string
	fn             Notify

	mu      sync.Mutex
	lastSeq int64
}

func (n *notifyingStore) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	info, err := n.ObjectStore.Put(ctx, bucket, key, body, size)
	if err != nil || bucket != n.bucket || !strings.HasPrefix(key, n.prefix) {
		return info, err
	}
	now, seq := n.next()
	ev := awsevents.NewS3Event(port.FileDrop{
		Bucket:    bucket,
		Key:       key,
		Size:      info.Size,
		ETag:      info.ETag,
		VersionID: info.VersionID,
		EventTime: now.Format("2006-01-02T15:04:05.000Z07:00"),
	}, Region)
	ev.Records[0].S3.Object.Sequencer = awsevents.Sequencer(seq)
	raw, err := json.Marshal(ev)
	if err != nil {
		return info, fmt.Errorf("encoding s3 notification for s3://%s/%s: %w", bucket, key, err)
	}
	var delivered events.S3Event
	if err := json.Unmarshal(raw, &delivered); err != nil {
		return info, fmt.Errorf("decoding s3 notification for s3://%s/%s: %w", bucket, key, err)
	}
	if err := n.fn(ctx, delivered); err != nil {
		return info, fmt.Errorf("notifying put of s3://%s/%s: %w", bucket, key, err)
	}
	return info, nil
}

// next returns the event time (UTC, truncated to milliseconds) and a
// sequencer value greater than any returned before.
func (n *notifyingStore) next() (time.Time, int64) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	n.mu.Lock()
	defer n.mu.Unlock()
	seq := now.UnixNano()
	if seq <= n.lastSeq {
		seq = n.lastSeq + 1
	}
	n.lastSeq = seq
	return now, seq
}
