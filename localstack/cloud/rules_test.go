package cloud

import (
	"encoding/json"
	"testing"
)

func s3Event(bucket, key string) map[string]any {
	return map[string]any{"source": "aws.s3", "detail-type": "Object Created", "time": "2024-02-03T10:00:00Z",
		"detail": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": key, "size": float64(12)}}}
}

func TestMatchPattern(t *testing.T) {
	var pattern map[string]any
	_ = json.Unmarshal([]byte(`{"source":["aws.s3"],"detail-type":["Object Created"],
		"detail":{"bucket":{"name":["raw"]},"object":{"key":[{"wildcard":"raw/movies_catalog/*Movies.txt"}]}}}`), &pattern)
	for _, c := range []struct {
		bucket, key string
		want        bool
	}{
		{"raw", "raw/movies_catalog/Movies.txt", true},
		{"raw", "raw/movies_catalog/2024/new-Movies.txt", true},
		{"raw", "raw/movies_catalog/Movies.csv", false},
		{"other", "raw/movies_catalog/Movies.txt", false},
	} {
		got, err := matchPattern(pattern, s3Event(c.bucket, c.key))
		if err != nil || got != c.want {
			t.Errorf("%s/%s: %v %v, want %v", c.bucket, c.key, got, err, c.want)
		}
	}
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{`{"detail":{"object":{"key":[{"prefix":"raw/"}]}}}`, true},
		{`{"detail":{"object":{"key":[{"suffix":".csv"}]}}}`, false},
		{`{"detail":{"object":{"size":[12]}}}`, true},
		{`{"detail":{"object":{"etag":[{"exists":false}]}}}`, true},
		{`{"detail":{"object":{"key":[{"exists":true}]}}}`, true},
		{`{"source":[{"anything-but":["aws.s3"]}]}`, false},
		{`{"detail":{"object":{"key":[{"numeric":[">",1]}]}}}`, false},
	} {
		var p map[string]any
		if err := json.Unmarshal([]byte(c.pattern), &p); err != nil {
			t.Fatal(err)
		}
		got, err := matchPattern(p, s3Event("raw", "raw/movies_catalog/Movies.txt"))
		if c.pattern == `{"detail":{"object":{"key":[{"numeric":[">",1]}]}}}` {
			if err == nil {
				t.Errorf("an unsupported filter gave no error")
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.pattern, got, err, c.want)
		}
	}
}

func TestTransform(t *testing.T) {
	tr := &Transformer{Paths: map[string]string{"b": "$.detail.bucket.name", "k": "$.detail.object.key", "n": "$.detail.object.size", "time": "$.time"},
		Template: `{"bucket":<b>,"key":<k>,"size":<n>,"label":"file <k> at <time>"}`}
	got, err := transform(tr, s3Event("raw", `raw/a "quoted".txt`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bucket":"raw","key":"raw/a \"quoted\".txt","size":12,"label":"file raw/a \"quoted\".txt at 2024-02-03T10:00:00Z"}`
	if string(got) != want {
		t.Errorf("transform:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("the transformed input is not JSON")
	}
}
