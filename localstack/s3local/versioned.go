package s3local

import (
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// versionMeta is the metadata key under which latestVersion keeps an
// object's version ID.
const versionMeta = "X-Amz-Meta-Pulse-Version-Id"

// latestVersion gives a backend that keeps one version per key (gofakes3's
// folder backend) S3's version IDs: every put gets a new one, kept in the
// object's metadata and answered on PUT, GET and HEAD. As on a versioned S3
// bucket, putting the same bytes again is a new version (a new upload that
// a notification names); unlike S3, the older versions' content is not
// kept (Pulse reads only an object's latest version).
type latestVersion struct {
	gofakes3.Backend
	mu   sync.Mutex
	last int64
}

func (b *latestVersion) next() gofakes3.VersionID {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := time.Now().UnixNano()
	if n <= b.last {
		n = b.last + 1
	}
	b.last = n
	return gofakes3.VersionID(strconv.FormatInt(n, 36))
}

func (b *latestVersion) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	v := b.next()
	m := make(map[string]string, len(meta)+1)
	for k, x := range meta {
		m[k] = x
	}
	m[versionMeta] = string(v)
	res, err := b.Backend.PutObject(bucket, key, m, input, size, cond)
	if err != nil {
		return res, err
	}
	res.VersionID = v
	return res, nil
}

func (b *latestVersion) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	obj, err := b.Backend.GetObject(bucket, key, rng)
	if err == nil {
		obj.VersionID = gofakes3.VersionID(obj.Metadata[versionMeta])
	}
	return obj, err
}

func (b *latestVersion) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	obj, err := b.Backend.HeadObject(bucket, key)
	if err == nil {
		obj.VersionID = gofakes3.VersionID(obj.Metadata[versionMeta])
	}
	return obj, err
}
