package s3store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pulse-analytics/pulse/shared/port"
)

// pagedS3 is a hand-written fake serving ListObjectsV2 in fixed pages;
// the other calls come from the embedded interface (nil: they panic).
type pagedS3 struct {
	s3API
	pages  [][]string
	tokens []string // continuation tokens seen
	getErr error
}

func (f *pagedS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	i := 0
	if in.ContinuationToken != nil {
		f.tokens = append(f.tokens, *in.ContinuationToken)
		i = int((*in.ContinuationToken)[0] - '0')
	}
	out := &s3.ListObjectsV2Output{}
	for _, k := range f.pages[i] {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(k))), ETag: aws.String(`"e-` + k + `"`)})
	}
	if i+1 < len(f.pages) {
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func (f *pagedS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, f.getErr
}

func TestListFollowsPagesAndSorts(t *testing.T) {
	f := &pagedS3{pages: [][]string{{"p/c", "p/a"}, {"p/d"}, {"p/b"}}}
	got, err := New(f).List(t.Context(), "bkt", "p/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var keys []string
	for _, o := range got {
		keys = append(keys, o.Key)
		if o.ETag != "e-"+o.Key || o.Bucket != "bkt" || o.Size != int64(len(o.Key)) {
			t.Errorf("entry %+v", o)
		}
	}
	if want := []string{"p/a", "p/b", "p/c", "p/d"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if want := []string{"1", "2"}; !reflect.DeepEqual(f.tokens, want) {
		t.Errorf("continuation tokens = %q, want %q", f.tokens, want)
	}
}

func TestNotFoundMapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		notFound bool
	}{
		{"NoSuchKey", &types.NoSuchKey{}, true},
		{"NotFound", &types.NotFound{}, true},
		{"NoSuchBucket", &types.NoSuchBucket{}, false},
		{"other", errors.New("connection reset"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := New(&pagedS3{getErr: tt.err}).Get(t.Context(), "b", "k")
			if errors.Is(err, port.ErrNotFound) != tt.notFound || !errors.Is(err, tt.err) {
				t.Errorf("err = %v; Is(ErrNotFound) = %v, want %v; keeps the cause: %v", err, errors.Is(err, port.ErrNotFound), tt.notFound, errors.Is(err, tt.err))
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	isolate := func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
		for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
			t.Setenv(v, "")
		}
	}
	tests := []struct {
		name      string
		env       map[string]string
		arg       string
		endpoint  string
		region    string
		pathStyle bool
		keyID     string
	}{
		{"argument", nil, "http://127.0.0.1:9000", "http://127.0.0.1:9000", "us-east-1", true, "test"},
		{"AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3:1", "AWS_ENDPOINT_URL": "http://all:2", "AWS_REGION": "eu-west-1"}, "", "http://s3:1", "eu-west-1", true, "test"},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": "http://all:2"}, "", "http://all:2", "us-east-1", true, "test"},
		{"own credentials kept", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDREAL", "AWS_SECRET_ACCESS_KEY": "s"}, "http://x:1", "http://x:1", "us-east-1", true, "AKIDREAL"},
		{"no endpoint", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDREAL", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "ap-southeast-3"}, "", "", "ap-southeast-3", false, "AKIDREAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := NewClient(t.Context(), tt.arg)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			o := c.Options()
			if aws.ToString(o.BaseEndpoint) != tt.endpoint || o.Region != tt.region || o.UsePathStyle != tt.pathStyle {
				t.Errorf("endpoint %q region %q path-style %v; want %q %q %v", aws.ToString(o.BaseEndpoint), o.Region, o.UsePathStyle, tt.endpoint, tt.region, tt.pathStyle)
			}
			creds, err := o.Credentials.Retrieve(t.Context())
			if err != nil {
				t.Fatalf("credentials: %v", err)
			}
			if creds.AccessKeyID != tt.keyID {
				t.Errorf("access key = %q, want %q", creds.AccessKeyID, tt.keyID)
			}
		})
	}
}
