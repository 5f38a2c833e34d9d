// Package fsstore implements port.ObjectStore over a local folder: a
// bucket is a sub-folder, an object is a file at its key's path. Puts and
// gets stream (nothing is held in memory whatever the size), so the batch
// path can be measured, and run on files bigger than RAM, without an S3
// stand-in that keeps objects in memory.
//
// ETags are the hex MD5 of the content, as S3 gives for single-part
// uploads. The VersionID is the same MD5: stable per content, so putting
// identical bytes again names the same version (Pulse then treats a re-run
// of that file as a retry, not as new data), while any change of content
// is a new version. Each object's metadata sits in a hidden sidecar file
// next to it and is checked against the file (size, modification time,
// inode) before use, so an object file replaced by other means is hashed
// again rather than misreported.
//
// A put writes a temporary file and renames it into place: readers see the
// old object or the new one, never part of one. Puts are not fsync'ed (a
// local store for development and benchmarks, not a durable one). A key
// that is a folder of another key ("a" and "a/b") cannot be stored in both
// forms; the second put fails with an error naming the key.
package fsstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.ObjectStore = (*Store)(nil)

// ErrNoSuchBucket is returned for a bucket that has no folder.
var ErrNoSuchBucket = errors.New("no such bucket")

// tmpDir is where puts write before renaming into place; its leading dot
// keeps it apart from bucket folders.
const tmpDir = ".tmp"

// copyBuffer is the size of the buffer puts copy through.
const copyBuffer = 256 << 10

// Store is a port.ObjectStore over the folder Root. It is safe for
// concurrent use, also by several processes sharing the folder.
type Store struct {
	root string
}

// Open returns a Store over root, creating the folder if needed.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening object store %s: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o755); err != nil {
		return nil, fmt.Errorf("opening object store %s: %w", root, err)
	}
	return &Store{root: abs}, nil
}

// Root is the store's folder.
func (s *Store) Root() string { return s.root }

// CreateBuckets makes the named buckets' folders; existing ones are kept.
func (s *Store) CreateBuckets(ctx context.Context, names ...string) error {
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("creating bucket %s: %w", n, err)
		}
		if err := validBucket(n); err != nil {
			return fmt.Errorf("creating bucket: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(s.root, n), 0o755); err != nil {
			return fmt.Errorf("creating bucket %s: %w", n, err)
		}
	}
	return nil
}

// meta is what a sidecar file records about its object file.
type meta struct {
	ETag  string `json:"etag"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // Unix nanoseconds
	Inode uint64 `json:"inode"`
}

func (m meta) matches(fi fs.FileInfo) bool {
	return m.Size == fi.Size() && m.MTime == fi.ModTime().UnixNano() && m.Inode == inode(fi) && len(m.ETag) == 32
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// bucketDir returns the bucket's folder, or an error wrapping
// ErrNoSuchBucket.
func (s *Store) bucketDir(bucket string) (string, error) {
	if err := validBucket(bucket); err != nil {
		return "", err
	}
	dir := filepath.Join(s.root, bucket)
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
	}
	return dir, nil
}

// objectPath returns the path of bucket/key's file.
func (s *Store) objectPath(bucket, key string) (string, error) {
	dir, err := s.bucketDir(bucket)
	if err != nil {
		return "", err
	}
	rel, err := relPath(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, rel), nil
}

func sidecar(path string) string {
	return filepath.Join(filepath.Dir(path), metaName(filepath.Base(path)))
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context //nolint:containedctx // io.Reader's Read takes no ctx; the reader lives for one copy
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put stores body under key: streamed into a temporary file while its MD5
// is computed, then renamed into place. With size >= 0 the body must hold
// exactly size bytes.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	info, err := s.put(ctx, bucket, key, body, size)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("putting %s/%s: %w", bucket, key, err)
	}
	return info, nil
}

func (s *Store) put(ctx context.Context, bucket, key string, body io.Reader, size int64) (port.ObjectInfo, error) {
	if size < -1 {
		return port.ObjectInfo{}, fmt.Errorf("invalid size %d", size)
	}
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, err
	}
	path, err := s.objectPath(bucket, key)
	if err != nil {
		return port.ObjectInfo{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, tmpDir), "put-*")
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("creating temporary file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := md5.New()
	src := io.Reader(ctxReader{ctx, body})
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	n, err := io.CopyBuffer(io.MultiWriter(tmp, h), src, make([]byte, copyBuffer))
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("writing body: %w", err)
	}
	if size >= 0 && n != size {
		return port.ObjectInfo{}, fmt.Errorf("body holds %s bytes, size says %d", sizeText(n, size), size)
	}
	if err := tmp.Close(); err != nil {
		return port.ObjectInfo{}, fmt.Errorf("closing temporary file: %w", err)
	}
	fi, err := os.Stat(tmp.Name())
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("checking temporary file: %w", err)
	}
	m := meta{ETag: hex.EncodeToString(h.Sum(nil)), Size: n, MTime: fi.ModTime().UnixNano(), Inode: inode(fi)}
	mtmp, err := writeMetaTemp(filepath.Join(s.root, tmpDir), m)
	if err != nil {
		return port.ObjectInfo{}, err
	}
	defer os.Remove(mtmp) // gone after a successful rename
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, err
	}
	if err := renameInto(tmp.Name(), path, key); err != nil {
		return port.ObjectInfo{}, err
	}
	done = true
	// The object is in place. Its sidecar follows; should this rename
	// fail or race with another put, readers find the sidecar stale and
	// hash the file again.
	_ = os.Rename(mtmp, sidecar(path))
	return port.ObjectInfo{Bucket: bucket, Key: key, Size: n, ETag: m.ETag, VersionID: m.ETag, Modified: fi.ModTime().UTC()}, nil
}

func sizeText(n, size int64) string {
	if n > size {
		return "more than " + fmt.Sprint(size)
	}
	return fmt.Sprint(n)
}

func writeMetaTemp(dir string, m meta) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding metadata: %w", err)
	}
	f, err := os.CreateTemp(dir, "meta-*")
	if err != nil {
		return "", fmt.Errorf("creating metadata file: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing metadata file: %w", err)
	}
	return f.Name(), nil
}

// renameInto moves the temporary file to path, making its folders. A
// Delete may remove an emptied folder between the two steps: try again.
func renameInto(tmp, path, key string) error {
	var err error
	for range 5 {
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("key %q: a folder of it is an object: %w", key, err)
			}
			continue
		}
		if fi, serr := os.Lstat(path); serr == nil && fi.IsDir() {
			return fmt.Errorf("key %q is a folder of other keys", key)
		}
		if err = os.Rename(tmp, path); err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return fmt.Errorf("moving into place: %w", err)
}

// Get opens the object for streaming; the caller closes the body.
func (s *Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, port.ObjectInfo{}, fmt.Errorf("getting %s/%s: %w", bucket, key, err)
	}
	path, err := s.objectPath(bucket, key)
	if err != nil {
		return nil, port.ObjectInfo{}, fmt.Errorf("getting %s/%s: %w", bucket, key, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, port.ObjectInfo{}, fmt.Errorf("getting %s/%s: %w", bucket, key, s.missing(bucket, err))
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, port.ObjectInfo{}, fmt.Errorf("getting %s/%s: %w", bucket, key, s.missing(bucket, err))
	}
	info, err := s.describe(path, f, fi, bucket, key)
	if err != nil {
		f.Close()
		return nil, port.ObjectInfo{}, fmt.Errorf("getting %s/%s: %w", bucket, key, err)
	}
	return f, info, nil
}

// Head describes the object.
func (s *Store) Head(ctx context.Context, bucket, key string) (port.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return port.ObjectInfo{}, fmt.Errorf("heading %s/%s: %w", bucket, key, err)
	}
	path, err := s.objectPath(bucket, key)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("heading %s/%s: %w", bucket, key, err)
	}
	info, err := s.stat(path, bucket, key)
	if err != nil {
		return port.ObjectInfo{}, fmt.Errorf("heading %s/%s: %w", bucket, key, err)
	}
	return info, nil
}

func (s *Store) stat(path, bucket, key string) (port.ObjectInfo, error) {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return port.ObjectInfo{}, s.missing(bucket, err)
	}
	return s.describe(path, nil, fi, bucket, key)
}

// missing turns "no such file" into port.ErrNotFound, or into
// ErrNoSuchBucket when the bucket itself is gone.
func (s *Store) missing(bucket string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return err
	}
	if _, berr := s.bucketDir(bucket); berr != nil {
		return berr
	}
	return fmt.Errorf("%w: %v", port.ErrNotFound, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
}

// describe returns the object's info from its sidecar, hashing the file
// (through f when open) if the sidecar is missing or stale.
func (s *Store) describe(path string, f *os.File, fi fs.FileInfo, bucket, key string) (port.ObjectInfo, error) {
	info := port.ObjectInfo{Bucket: bucket, Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC()}
	var m meta
	if b, err := os.ReadFile(sidecar(path)); err == nil && json.Unmarshal(b, &m) == nil && m.matches(fi) {
		info.ETag, info.VersionID = m.ETag, m.ETag
		return info, nil
	}
	etag, err := hashFile(path, f, fi.Size())
	if err != nil {
		return port.ObjectInfo{}, err
	}
	info.ETag, info.VersionID = etag, etag
	m = meta{ETag: etag, Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Inode: inode(fi)}
	if tmp, err := writeMetaTemp(filepath.Join(s.root, tmpDir), m); err == nil {
		if os.Rename(tmp, sidecar(path)) != nil {
			os.Remove(tmp)
		}
	}
	return info, nil
}

// hashFile is the hex MD5 of the file's first size bytes, read with
// ReadAt through f (leaving its offset alone) or from a fresh open.
func hashFile(path string, f *os.File, size int64) (string, error) {
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			return "", fmt.Errorf("hashing %s: %w", path, err)
		}
		defer f.Close()
	}
	var h hash.Hash = md5.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, size), make([]byte, copyBuffer)); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// List returns every object under prefix, sorted by key.
func (s *Store) List(ctx context.Context, bucket, prefix string) ([]port.ObjectInfo, error) {
	dir, err := s.bucketDir(bucket)
	if err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", bucket, prefix, err)
	}
	start := dir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		rel, err := relPath(prefix[:i] + "/x")
		if err != nil {
			return nil, fmt.Errorf("listing %s/%s: %w", bucket, prefix, err)
		}
		start = filepath.Join(dir, filepath.Dir(rel))
	}
	var out []port.ObjectInfo
	err = filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil // the prefix's folder does not exist, or was just removed
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		key, ok := keyOf(filepath.ToSlash(rel))
		if !ok || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := s.stat(path, bucket, key)
		if errors.Is(err, port.ErrNotFound) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		out = append(out, info)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", bucket, prefix, err)
	}
	slices.SortFunc(out, func(a, b port.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object and any folders it leaves empty. Deleting a
// missing key is not an error, as in S3.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s/%s: %w", bucket, key, err)
	}
	path, err := s.objectPath(bucket, key)
	if err != nil {
		return fmt.Errorf("deleting %s/%s: %w", bucket, key, err)
	}
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return nil // a folder of other keys, not an object
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("deleting %s/%s: %w", bucket, key, err)
	}
	if err := os.Remove(sidecar(path)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("deleting metadata of %s/%s: %w", bucket, key, err)
	}
	bdir := filepath.Join(s.root, bucket)
	for d := filepath.Dir(path); d != bdir && strings.HasPrefix(d, bdir+string(filepath.Separator)); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break // not empty (or gone): S3 has no folders to keep
		}
	}
	return nil
}
