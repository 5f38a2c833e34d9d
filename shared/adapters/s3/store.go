// Package s3store implements port.ObjectStore on Amazon S3 with
// aws-sdk-go-v2. It works against real S3 and against S3-compatible
// stand-ins (gofakes3 in localstack/s3local, LocalStack) through NewClient.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/pulse-analytics/pulse/shared/port"
)

// s3API lists the S3 calls the Store makes.
type s3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Store is a port.ObjectStore over an S3 client.
type Store struct {
	client s3API
	tmpDir string // where unknown-size puts are spooled; "" is os.TempDir
}

var (
	_ port.ObjectStore = (*Store)(nil)
	_ port.RangeGetter = (*Store)(nil)
)

// New returns a Store using client (an *s3.Client from NewClient).
func New(client s3API) *Store {
	return &Store{client: client}
}

// Put stores body under key. With a known size the body streams straight
// into PutObject; a body that is not an io.ReadSeeker is sent as
// UNSIGNED-PAYLOAD in a single attempt, since it can be neither rewound
// for hashing nor resent. With size -1 the body is first spooled to a temporary
// file (memory stays bounded whatever the size) and then sent with its
// length. The returned ObjectInfo has the size, ETag (unquoted) and
// version ID; Modified is zero, as PutObject does not return it.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	if size < -1 {
		return port.ObjectInfo{}, fmt.Errorf("putting s3://%s/%s: invalid size %d", bucket, key, size)
	}
	if size == -1 {
		f, n, err := s.spool(body)
		if err != nil {
			return port.ObjectInfo{}, fmt.Errorf("putting s3://%s/%s: %w", bucket, key, err)
		}
		defer func() {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}()
		body, size = f, n
	}
	var opts []func(*s3.Options)
	if _, ok := body.(io.ReadSeeker); !ok {
		// The signer cannot hash a stream it cannot rewind: send it as
		// UNSIGNED-PAYLOAD (TLS protects it on real S3), as the SDK's
		// transfer manager does. A consumed stream cannot be resent
		// either, so the SDK must not retry; the caller may.
		opts = append(opts,
			s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware),
			func(o *s3.Options) { o.RetryMaxAttempts = 1 },
		)
	}
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
	}, opts...)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("putting s3://%s/%s: %w", bucket, key, err)
	}
	return port.ObjectInfo{
		Bucket:    bucket,
		Key:       key,
		Size:      size,
		ETag:      unquote(out.ETag),
		VersionID: aws.ToString(out.VersionId),
	}, nil
}

// spool copies r into a new temporary file, rewound, and returns its size.
func (s *Store) spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.tmpDir, "pulse-s3-put-*")
	if err != nil {
		return nil, 0, fmt.Errorf("creating spool file: %w", err)
	}
	fail := func(err error) (*os.File, int64, error) {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, 0, err
	}
	n, err := io.Copy(f, r)
	if err != nil {
		return fail(fmt.Errorf("spooling body to %s: %w", f.Name(), err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("rewinding spool file %s: %w", f.Name(), err))
	}
	return f, n, nil
}

// Get opens the object for streaming; the caller closes the body. A
// missing key is an error wrapping port.ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, port.ObjectInfo{}, fmt.Errorf("getting s3://%s/%s: %w", bucket, key, notFound(err))
	}
	return out.Body, port.ObjectInfo{
		Bucket:    bucket,
		Key:       key,
		Size:      aws.ToInt64(out.ContentLength),
		ETag:      unquote(out.ETag),
		VersionID: aws.ToString(out.VersionId),
		Modified:  aws.ToTime(out.LastModified),
	}, nil
}

// GetRange opens bytes [offset, offset+length) of the object (an HTTP
// Range request); a range past the end is cut short, as S3 does. A
// zero length reads nothing.
func (s *Store) GetRange(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || length < 0 {
		return nil, fmt.Errorf("getting s3://%s/%s: invalid range offset %d length %d", bucket, key, offset, length)
	}
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)),
	})
	if err != nil {
		return nil, fmt.Errorf("getting bytes %d-%d of s3://%s/%s: %w", offset, offset+length-1, bucket, key, notFound(err))
	}
	return out.Body, nil
}

// Head describes the object. A missing key is an error wrapping
// port.ErrNotFound.
func (s *Store) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("heading s3://%s/%s: %w", bucket, key, notFound(err))
	}
	return port.ObjectInfo{
		Bucket:    bucket,
		Key:       key,
		Size:      aws.ToInt64(out.ContentLength),
		ETag:      unquote(out.ETag),
		VersionID: aws.ToString(out.VersionId),
		Modified:  aws.ToTime(out.LastModified),
	}, nil
}

// List returns every object under prefix, across all pages, sorted by
// key. ListObjectsV2 reports no version IDs, so VersionID is empty.
func (s *Store) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	var infos []port.ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			infos = append(infos, port.ObjectInfo{
				Bucket:   bucket,
				Key:      aws.ToString(o.Key),
				Size:     aws.ToInt64(o.Size),
				ETag:     unquote(o.ETag),
				Modified: aws.ToTime(o.LastModified),
			})
		}
	}
	slices.SortFunc(infos, func(a, b port.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}

// Delete removes the object (its current version on a versioned bucket).
// Deleting a missing key is not an error, as in S3.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("deleting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// notFound adds port.ErrNotFound to S3's missing-key errors (NoSuchKey
// from GET, a bodiless 404 "NotFound" from HEAD).
func notFound(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")) {
		return fmt.Errorf("%w: %w", port.ErrNotFound, err)
	}
	return err
}

func unquote(etag *string) string {
	return strings.Trim(aws.ToString(etag), `"`)
}
