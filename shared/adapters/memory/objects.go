package memory

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.ObjectStore = (*Objects)(nil)

// Objects is an in-process port.ObjectStore (unversioned buckets that
// exist on first use), for unit tests and benchmarks of the use cases. The
// local stack uses gofakes3 over real HTTP instead.
type Objects struct {
	mu      sync.Mutex
	objects map[string]object // bucket + "\x00" + key
	now     func() time.Time
}

type object struct {
	body     []byte
	etag     string
	modified time.Time
}

// NewObjects returns an empty store.
func NewObjects() *Objects {
	return &Objects{objects: map[string]object{}, now: time.Now}
}

func objKey(bucket, key string) string { return bucket + "\x00" + key }

// Put implements port.ObjectStore.
func (o *Objects) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, fmt.Errorf("putting %s/%s: %w", bucket, key, err)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("putting %s/%s: reading body: %w", bucket, key, err)
	}
	if size >= 0 && int64(len(b)) != size {
		return port.ObjectInfo{}, fmt.Errorf("putting %s/%s: body has %d bytes, size said %d", bucket, key, len(b), size)
	}
	sum := md5.Sum(b)
	obj := object{body: b, etag: `"` + hex.EncodeToString(sum[:]) + `"`, modified: o.now().UTC()}
	o.mu.Lock()
	o.objects[objKey(bucket, key)] = obj
	o.mu.Unlock()
	return info(bucket, key, obj), nil
}

func info(bucket, key string, obj object) port.ObjectInfo {
	return port.ObjectInfo{Bucket: bucket, Key: key, Size: int64(len(obj.body)), ETag: obj.etag, Modified: obj.modified}
}

// Get implements port.ObjectStore.
func (o *Objects) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	inf, err := o.Head(ctx, bucket, key)
	if err != nil {
		return nil, port.ObjectInfo{}, err
	}
	o.mu.Lock()
	obj := o.objects[objKey(bucket, key)]
	o.mu.Unlock()
	return io.NopCloser(bytes.NewReader(obj.body)), inf, nil
}

// Head implements port.ObjectStore.
func (o *Objects) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, fmt.Errorf("reading %s/%s: %w", bucket, key, err)
	}
	o.mu.Lock()
	obj, ok := o.objects[objKey(bucket, key)]
	o.mu.Unlock()
	if !ok {
		return port.ObjectInfo{}, fmt.Errorf("reading %s/%s: %w", bucket, key, port.ErrNotFound)
	}
	return info(bucket, key, obj), nil
}

// List implements port.ObjectStore.
func (o *Objects) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", bucket, prefix, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []port.ObjectInfo
	for k, obj := range o.objects {
		b, key, _ := strings.Cut(k, "\x00")
		if b == bucket && strings.HasPrefix(key, prefix) {
			out = append(out, info(b, key, obj))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements port.ObjectStore; deleting a missing key is not an error.
func (o *Objects) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s/%s: %w", bucket, key, err)
	}
	o.mu.Lock()
	delete(o.objects, objKey(bucket, key))
	o.mu.Unlock()
	return nil
}

// Snapshot returns every object's body by bucket/key, for tests that
// compare stores.
func (o *Objects) Snapshot() map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]string, len(o.objects))
	for k, obj := range o.objects {
		b, key, _ := strings.Cut(k, "\x00")
		out[b+"/"+key] = string(obj.body)
	}
	return out
}
