package awsevents_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

func TestS3DropsGolden(t *testing.T) {
	happy := port.FileDrop{
		Bucket:    "sourcebucket",
		Key:       "Happy Face.jpg",
		Size:      1024,
		ETag:      "d41d8cd98f00b204e9800998ecf8427e",
		VersionID: "version",
		EventTime: "1970-01-01T00:00:00.123Z",
	}
	tests := []struct {
		name string
		file string
		want []port.FileDrop
	}{
		{"lambda-go s3-event", "aws-lambda-go/s3-event.json", []port.FileDrop{happy}},
		{"lambda-go s3-event-with-decoded", "aws-lambda-go/s3-event-with-decoded.json", []port.FileDrop{happy}},
		{"powertools s3EventDecodedKey", "powertools/s3EventDecodedKey.json", []port.FileDrop{happy}},
		{"powertools s3Event", "powertools/s3Event.json", []port.FileDrop{{
			Bucket:    "lambda-artifacts-deafc19498e3f2df",
			Key:       "b21b84d653bb07b05b1e6b33684dc11b",
			Size:      1305107,
			ETag:      "b21b84d653bb07b05b1e6b33684dc11b",
			VersionID: "",
			EventTime: "2019-09-03T19:37:27.192Z",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e events.S3Event
			loadCorpus(t, tt.file, &e)
			got, err := awsevents.S3Drops(e)
			if err != nil {
				t.Fatalf("S3Drops: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("S3Drops\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestS3DropsDecoding(t *testing.T) {
	rec := func(name, key string) events.S3EventRecord {
		var r events.S3EventRecord
		r.EventName = name
		r.S3.Bucket.Name = "raw"
		r.S3.Object.Key = key
		r.S3.Object.ETag = `"abc"`
		return r
	}
	tests := []struct {
		name    string
		records []events.S3EventRecord
		keys    []string
		wantErr string
	}{
		{"plus is space", []events.S3EventRecord{rec("ObjectCreated:Put", "a+b%2Bc.csv")}, []string{"a b+c.csv"}, ""},
		{"unicode and slashes", []events.S3EventRecord{rec("ObjectCreated:CompleteMultipartUpload", "raw/2024/caf%C3%A9+%E6%97%A5%E6%9C%AC.csv")}, []string{"raw/2024/café 日本.csv"}, ""},
		{"removed skipped", []events.S3EventRecord{rec("ObjectRemoved:Delete", "x"), rec("ObjectCreated:Copy", "y")}, []string{"y"}, ""},
		{"bad escape names record and field", []events.S3EventRecord{rec("ObjectCreated:Put", "ok"), rec("ObjectCreated:Put", "bad%zz")}, nil, "record 1: decoding s3.object.key"},
		{"empty bucket", []events.S3EventRecord{func() events.S3EventRecord { r := rec("ObjectCreated:Put", "k"); r.S3.Bucket.Name = ""; return r }()}, nil, "record 0: s3.bucket.name is empty"},
		{"empty key", []events.S3EventRecord{rec("ObjectCreated:Put", "")}, nil, "record 0: s3.object.key is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := awsevents.S3Drops(events.S3Event{Records: tt.records})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("S3Drops: %v", err)
			}
			var keys []string
			for _, d := range got {
				keys = append(keys, d.Key)
				if d.ETag != "abc" {
					t.Errorf("ETag = %q, want abc", d.ETag)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("keys = %q, want %q", keys, tt.keys)
			}
		})
	}
}

func TestEncodeS3Key(t *testing.T) {
	tests := []struct{ key, want string }{
		{"Happy Face.jpg", "Happy+Face.jpg"},
		{"raw/dt=2024-01-02/a b.csv", "raw/dt%3D2024-01-02/a+b.csv"},
		{"café", "caf%C3%A9"},
		{"a+b", "a%2Bb"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := awsevents.EncodeS3Key(tt.key); got != tt.want {
				t.Errorf("EncodeS3Key(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestS3RoundTrip(t *testing.T) {
	drops := []port.FileDrop{
		{Bucket: "pulse-raw", Key: "raw/social sales/2024 01/café 日本 (1)+x%.csv", Size: 42, ETag: "0123abcd", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", EventTime: "2024-05-06T07:08:09.010Z"},
		{Bucket: "b", Key: "k", Size: 0, ETag: "e", EventTime: "2024-05-06T07:08:09.000Z"},
		{Bucket: "b", Key: "a/b/c/~!*'();:@&=$,?#[]", Size: 1 << 40, ETag: "e-2"},
	}
	for _, d := range drops {
		t.Run(d.Key, func(t *testing.T) {
			ev := awsevents.NewS3Event(d, "eu-west-1")
			if got := ev.Records[0].S3.Object.Key; strings.ContainsAny(got, " é") {
				t.Errorf("key not encoded: %q", got)
			}
			got, err := awsevents.S3Drops(ev)
			if err != nil {
				t.Fatalf("S3Drops: %v", err)
			}
			if !reflect.DeepEqual(got, []port.FileDrop{d}) {
				t.Errorf("direct round trip\n got %+v\nwant %+v", got, d)
			}
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var back events.S3Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if !reflect.DeepEqual(back, ev) {
				t.Errorf("json round trip changed the event\n got %+v\nwant %+v", back, ev)
			}
			if back.Records[0].S3.Object.URLDecodedKey != d.Key {
				t.Errorf("aws-lambda-go decoded key %q, want %q", back.Records[0].S3.Object.URLDecodedKey, d.Key)
			}
			got, err = awsevents.S3Drops(back)
			if err != nil {
				t.Fatalf("S3Drops after json: %v", err)
			}
			if !reflect.DeepEqual(got, []port.FileDrop{d}) {
				t.Errorf("json round trip\n got %+v\nwant %+v", got, d)
			}
		})
	}
}

func TestNewS3EventShape(t *testing.T) {
	ev := awsevents.NewS3Event(port.FileDrop{Bucket: "raw", Key: "a b", Size: 3, ETag: `"x"`, VersionID: "v1", EventTime: "2024-01-02T03:04:05.006Z"}, "us-east-1")
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Records []struct {
			EventName string `json:"eventName"`
			EventTime string `json:"eventTime"`
			AWSRegion string `json:"awsRegion"`
			S3        struct {
				Object map[string]any `json:"object"`
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	r := m.Records[0]
	if r.EventName != "ObjectCreated:Put" || r.EventTime != "2024-01-02T03:04:05.006Z" || r.AWSRegion != "us-east-1" {
		t.Errorf("record header = %+v", r)
	}
	want := map[string]any{"key": "a+b", "urlDecodedKey": "a b", "size": 3.0, "eTag": "x", "versionId": "v1", "sequencer": awsevents.Sequencer(time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC).UnixNano())}
	if !reflect.DeepEqual(r.S3.Object, want) {
		t.Errorf("object = %v, want %v", r.S3.Object, want)
	}
}

func FuzzS3KeyRoundTrip(f *testing.F) {
	for _, s := range []string{"Happy Face.jpg", "raw/café/日本.csv", "a+b%2F", "", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if key == "" {
			return
		}
		d := port.FileDrop{Bucket: "b", Key: key, ETag: "e"}
		got, err := awsevents.S3Drops(awsevents.NewS3Event(d, "us-east-1"))
		if err != nil {
			t.Fatalf("S3Drops(%q): %v", key, err)
		}
		if len(got) != 1 || got[0].Key != key {
			t.Fatalf("key %q came back as %+v", key, got)
		}
	})
}
