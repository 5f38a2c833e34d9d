package s3local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulse-analytics/pulse/shared/port"
)

// ErrReadOnly is returned by a DirReader's Put and Delete.
var ErrReadOnly = errors.New("opened read-only")

// DirReader is a read-only port.ObjectStore over the folder a StartDir
// server keeps its objects in (dir/buckets/<bucket>/<key>), read straight
// from the files: no server runs and nothing is written, so a reader
// (pulse dashboard) can look at a data folder while a demo writes it. An
// object's Modified is its file's modification time; ETag and VersionID
// are left empty (they live in the server's metadata, which is not read).
// An object being written is read as far as it got: readers of a folder in
// use must tolerate a cut-short object (batch.LatestProfiles does).
type DirReader struct {
	dir     string // the folder given to StartDir
	buckets string // dir/buckets
}

var _ port.ObjectStore = (*DirReader)(nil)

// OpenDirReadOnly opens the objects of a StartDir folder for reading. The
// folder must exist; a bucket not in it is an error when read.
func OpenDirReadOnly(dir string) (*DirReader, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening s3local folder %s read-only: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("opening s3local folder %s read-only: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("opening s3local folder %s read-only: not a folder", dir)
	}
	return &DirReader{dir: abs, buckets: filepath.Join(abs, "buckets")}, nil
}

// Dir is the folder the reader reads.
func (d *DirReader) Dir() string { return d.dir }

// bucketDir is a bucket's folder, refusing a name that is not one folder.
func (d *DirReader) bucketDir(bucket string) (string, error) {
	if bucket == "" || bucket == "." || bucket == ".." || strings.ContainsAny(bucket, `/\`) {
		return "", fmt.Errorf("bucket name %q: not a bucket name", bucket)
	}
	return filepath.Join(d.buckets, bucket), nil
}

// objectPath is where a key's file is, refusing a key that would leave its bucket.
func (d *DirReader) objectPath(bucket, key string) (string, error) {
	bd, err := d.bucketDir(bucket)
	if err != nil {
		return "", err
	}
	if key == "" || strings.HasPrefix(key, "/") || path.Clean("/"+key) != "/"+strings.TrimSuffix(key, "/") || strings.HasSuffix(key, "/") {
		return "", fmt.Errorf("key %q: not a plain object key (empty, absolute, or with . or .. parts)", key)
	}
	return filepath.Join(bd, filepath.FromSlash(key)), nil
}

// Head implements port.ObjectStore.
func (d *DirReader) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
	}
	p, err := d.objectPath(bucket, key)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s in %s: %w", bucket, key, d.dir, err)
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || err == nil && st.IsDir() {
		if !d.bucketExists(bucket) {
			return port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s: no bucket %s in %s", bucket, key, bucket, d.dir)
		}
		return port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s in %s: %w", bucket, key, d.dir, port.ErrNotFound)
	}
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s in %s: %w", bucket, key, d.dir, err)
	}
	return port.ObjectInfo{Bucket: bucket, Key: key, Size: st.Size(), Modified: st.ModTime().UTC()}, nil
}

func (d *DirReader) bucketExists(bucket string) bool {
	bd, err := d.bucketDir(bucket)
	if err != nil {
		return false
	}
	st, err := os.Stat(bd)
	return err == nil && st.IsDir()
}

// Get implements port.ObjectStore.
func (d *DirReader) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	info, err := d.Head(ctx, bucket, key)
	if err != nil {
		return nil, info, err
	}
	p, _ := d.objectPath(bucket, key)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) { // removed since Head
		return nil, port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s in %s: %w", bucket, key, d.dir, port.ErrNotFound)
	}
	if err != nil {
		return nil, port.ObjectInfo{}, fmt.Errorf("reading s3://%s/%s in %s: %w", bucket, key, d.dir, err)
	}
	return f, info, nil
}

// List implements port.ObjectStore: every object under prefix, sorted
// by key. Only the folder the prefix names is walked.
func (d *DirReader) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	bd, err := d.bucketDir(bucket)
	if err != nil {
		return nil, fmt.Errorf("listing s3://%s/%s in %s: %w", bucket, prefix, d.dir, err)
	}
	if !d.bucketExists(bucket) {
		return nil, fmt.Errorf("listing s3://%s/%s: no bucket %s in %s", bucket, prefix, bucket, d.dir)
	}
	// Start from the deepest folder the prefix names whole.
	root := bd
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		sub := prefix[:i]
		if path.Clean("/"+sub) != "/"+sub {
			return nil, fmt.Errorf("listing s3://%s/%s in %s: prefix has . or .. parts or empty folders", bucket, prefix, d.dir)
		}
		root = filepath.Join(bd, filepath.FromSlash(sub))
	}
	var out []port.ObjectInfo
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the prefix's folder does not exist, or went away while walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(bd, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			// Skip folders that cannot hold a key under prefix.
			if p != root && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) || !e.Type().IsRegular() {
			return nil
		}
		st, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walked
		}
		if err != nil {
			return err
		}
		out = append(out, port.ObjectInfo{Bucket: bucket, Key: key, Size: st.Size(), Modified: st.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing s3://%s/%s in %s: %w", bucket, prefix, d.dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Put implements port.ObjectStore: always ErrReadOnly.
func (d *DirReader) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	return port.ObjectInfo{}, fmt.Errorf("putting s3://%s/%s: the S3 folder %s is %w", bucket, key, d.dir, ErrReadOnly)
}

// Delete implements port.ObjectStore: always ErrReadOnly.
func (d *DirReader) Delete(ctx context.Context, bucket, key string) error {
	return fmt.Errorf("deleting s3://%s/%s: the S3 folder %s is %w", bucket, key, d.dir, ErrReadOnly)
}
