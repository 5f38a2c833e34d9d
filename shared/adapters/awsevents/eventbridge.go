package awsevents

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulse-analytics/pulse/shared/port"
)

// eventBridgeS3 is the EventBridge "Object Created" event S3 emits when
// EventBridge notifications are enabled on a bucket. Unlike the classic
// notification, its object key is not URL-encoded.
type eventBridgeS3 struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
	Detail     *struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      *int64 `json:"size"`
			ETag      string `json:"etag"`
			VersionID string `json:"version-id"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"detail"`
}

// EventBridgeDrop decodes an EventBridge event from S3 of detail-type
// "Object Created" into a FileDrop. EventTime is the event's "time" as
// given. Any other source or detail-type, or a missing bucket, key or size,
// is an error naming the field.
func EventBridgeDrop(raw json.RawMessage) (port.FileDrop, error) {
	var e eventBridgeS3
	if err := json.Unmarshal(raw, &e); err != nil {
		return port.FileDrop{}, fmt.Errorf("decoding eventbridge s3 event: %w", err)
	}
	if e.Source != "aws.s3" {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: source is %q, want \"aws.s3\"", e.Source)
	}
	if e.DetailType != "Object Created" {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail-type is %q, want \"Object Created\"", e.DetailType)
	}
	if e.Detail == nil {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail is missing")
	}
	d := e.Detail
	if d.Bucket.Name == "" {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail.bucket.name is empty")
	}
	if d.Object.Key == "" {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail.object.key is empty")
	}
	if d.Object.Size == nil {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail.object.size is missing")
	}
	if *d.Object.Size < 0 {
		return port.FileDrop{}, fmt.Errorf("eventbridge event: detail.object.size is negative (%d)", *d.Object.Size)
	}
	return port.FileDrop{
		Bucket:    d.Bucket.Name,
		Key:       d.Object.Key,
		Size:      *d.Object.Size,
		ETag:      strings.Trim(d.Object.ETag, `"`),
		VersionID: d.Object.VersionID,
		EventTime: e.Time,
	}, nil
}
