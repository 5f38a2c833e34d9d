package awsevents

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/port"
)

// s3TimeLayout is how S3 writes eventTime: UTC with milliseconds.
const s3TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// S3Drops decodes an S3 event notification into one FileDrop per
// ObjectCreated record, in record order. Records of other event types
// (ObjectRemoved, Restore, ...) are skipped. Keys are URL-decoded the way
// S3 encodes them (spaces as '+'), ETags lose any surrounding quotes, and
// EventTime is the record's eventTime in S3's own layout
// (2006-01-02T15:04:05.000Z), or "" when the record has none.
// An invalid record fails the whole event with an error naming the record
// index and the field.
func S3Drops(e events.S3Event) ([]port.FileDrop, error) {
	drops := make([]port.FileDrop, 0, len(e.Records))
	for i, r := range e.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		if r.S3.Bucket.Name == "" {
			return nil, fmt.Errorf("s3 event record %d: s3.bucket.name is empty", i)
		}
		if r.S3.Object.Key == "" {
			return nil, fmt.Errorf("s3 event record %d: s3.object.key is empty", i)
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("s3 event record %d: decoding s3.object.key %q: %w", i, r.S3.Object.Key, err)
		}
		if r.S3.Object.Size < 0 {
			return nil, fmt.Errorf("s3 event record %d: s3.object.size is negative (%d)", i, r.S3.Object.Size)
		}
		var eventTime string
		if !r.EventTime.IsZero() {
			eventTime = r.EventTime.UTC().Format(s3TimeLayout)
		}
		drops = append(drops, port.FileDrop{
			Bucket:    r.S3.Bucket.Name,
			Key:       key,
			Size:      r.S3.Object.Size,
			ETag:      strings.Trim(r.S3.Object.ETag, `"`),
			VersionID: r.S3.Object.VersionID,
			EventTime: eventTime,
		})
	}
	return drops, nil
}

// NewS3Event builds the ObjectCreated:Put notification S3 sends for d, the
// inverse of S3Drops: the key is URL-encoded as S3 encodes it, and
// d.EventTime (RFC 3339) becomes eventTime (zero when empty or unparsable).
// The sequencer is derived from the event time; callers that need strictly
// increasing sequencers per key (as S3 guarantees) overwrite it.
func NewS3Event(d port.FileDrop, region string) events.S3Event {
	t, err := time.Parse(time.RFC3339Nano, d.EventTime)
	if err != nil {
		t = time.Time{}
	}
	t = t.UTC()
	var n int64 // nanoseconds since the epoch, 0 for a zero time
	if !t.IsZero() {
		n = t.UnixNano()
	}
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         region,
		EventTime:         t,
		EventName:         "ObjectCreated:Put",
		PrincipalID:       events.S3UserIdentity{PrincipalID: "AWS:PULSELOCAL"},
		RequestParameters: events.S3RequestParameters{SourceIPAddress: "127.0.0.1"},
		ResponseElements: map[string]string{
			"x-amz-request-id": fmt.Sprintf("%016X", uint64(n)),
			"x-amz-id-2":       "pulse-local",
		},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "pulse-raw-object-created",
			Bucket: events.S3Bucket{
				Name:          d.Bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: "PULSELOCAL"},
				Arn:           "arn:aws:s3:::" + d.Bucket,
			},
			Object: events.S3Object{
				Key:           EncodeS3Key(d.Key),
				URLDecodedKey: d.Key,
				Size:          d.Size,
				VersionID:     d.VersionID,
				ETag:          strings.Trim(d.ETag, `"`),
				Sequencer:     Sequencer(n),
			},
		},
	}}}
}

// EncodeS3Key URL-encodes an object key the way S3 writes it into event
// notifications: each path segment is query-escaped (space as '+', other
// reserved and non-ASCII bytes as %XX) and the '/' separators are kept.
func EncodeS3Key(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	return strings.Join(segs, "/")
}

// Sequencer formats n as an S3 sequencer: upper-case hex, zero-padded to 18
// digits, so sequencers of one key compare as strings in the order of n.
func Sequencer(n int64) string {
	return fmt.Sprintf("%018X", uint64(n))
}
