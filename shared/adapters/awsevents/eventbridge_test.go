package awsevents_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

func TestEventBridgeDropGolden(t *testing.T) {
	raw := loadCorpus(t, "powertools/s3EventBridgeNotificationObjectCreatedEvent.json", nil)
	got, err := awsevents.EventBridgeDrop(raw)
	if err != nil {
		t.Fatalf("EventBridgeDrop: %v", err)
	}
	want := port.FileDrop{
		Bucket:    "example-bucket",
		Key:       "IMG_m7fzo3.jpg",
		Size:      184662,
		ETag:      "4e68adba0abe2dc8653dc3354e14c01d",
		VersionID: "",
		EventTime: "2023-03-08T17:50:14Z",
	}
	if got != want {
		t.Errorf("EventBridgeDrop\n got %+v\nwant %+v", got, want)
	}
}

func TestEventBridgeDropErrors(t *testing.T) {
	base := func(edit func(m map[string]any)) json.RawMessage {
		m := map[string]any{
			"source": "aws.s3", "detail-type": "Object Created", "time": "2024-01-01T00:00:00Z",
			"detail": map[string]any{
				"bucket": map[string]any{"name": "raw"},
				"object": map[string]any{"key": "a b/c.csv", "size": 5, "etag": "e", "version-id": "v9"},
			},
		}
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	detail := func(m map[string]any) map[string]any { return m["detail"].(map[string]any) }
	tests := []struct {
		name    string
		raw     json.RawMessage
		wantErr string
	}{
		{"ok keeps raw key and version", base(func(map[string]any) {}), ""},
		{"not json", json.RawMessage(`{`), "decoding eventbridge s3 event"},
		{"wrong detail-type", base(func(m map[string]any) { m["detail-type"] = "Object Deleted" }), `detail-type is "Object Deleted"`},
		{"wrong source", base(func(m map[string]any) { m["source"] = "aws.ec2" }), `source is "aws.ec2"`},
		{"no detail", base(func(m map[string]any) { delete(m, "detail") }), "detail is missing"},
		{"no bucket", base(func(m map[string]any) { delete(detail(m), "bucket") }), "detail.bucket.name is empty"},
		{"no key", base(func(m map[string]any) { delete(detail(m)["object"].(map[string]any), "key") }), "detail.object.key is empty"},
		{"no size", base(func(m map[string]any) { delete(detail(m)["object"].(map[string]any), "size") }), "detail.object.size is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := awsevents.EventBridgeDrop(tt.raw)
			if tt.wantErr == "" {
				want := port.FileDrop{Bucket: "raw", Key: "a b/c.csv", Size: 5, ETag: "e", VersionID: "v9", EventTime: "2024-01-01T00:00:00Z"}
				if err != nil || got != want {
					t.Fatalf("got %+v, %v; want %+v", got, err, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
