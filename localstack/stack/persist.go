package stack

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// The local S3 (gofakes3) keeps objects in memory. So that one `pulse`
// command can pick up what an earlier one left (pulse drop, then pulse
// replay of its quarantined records), a stack with a data folder saves
// every object of its buckets under <Dir>/s3/<bucket>/<key> when it closes
// and puts them back when it starts. Restored objects get new version IDs;
// nothing Pulse keeps refers to a version across runs except dedupe origins,
// which name the version the file had when it was first cleaned.
//
// The stream side keeps its own parts under <Dir>/stream as it goes (see
// StartStream): Kafka's folder, the window state and the schema registry.

const s3Folder = "s3"

// saveObjects writes every object of the stack's buckets to dir, replacing
// what an earlier save left.
func saveObjects(ctx context.Context, store pipeline.ObjectStore, dir string) error {
	tmp := dir + ".saving"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clearing %s: %w", tmp, err)
	}
	for _, b := range bucketNames() {
		objs, err := store.List(ctx, b, "")
		if err != nil {
			return fmt.Errorf("saving bucket %s: %w", b, err)
		}
		for _, o := range objs {
			if err := saveObject(ctx, store, b, o.Key, tmp); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	return nil
}

func saveObject(ctx context.Context, store pipeline.ObjectStore, bucket, key, root string) error {
	path, err := objectPath(root, bucket, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving s3://%s/%s: %w", bucket, key, err)
	}
	body, _, err := store.Get(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("saving s3://%s/%s: %w", bucket, key, err)
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("saving s3://%s/%s: %w", bucket, key, err)
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("saving s3://%s/%s: %w", bucket, key, err)
	}
	return f.Close()
}

// loadObjects puts back what saveObjects wrote; a missing dir is a first run.
func loadObjects(ctx context.Context, store pipeline.ObjectStore, dir string) (int, error) {
	n := 0
	for _, b := range bucketNames() {
		root := filepath.Join(dir, b)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == root {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			if _, err := store.Put(ctx, b, filepath.ToSlash(rel), f, st.Size()); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("restoring bucket %s from %s: %w", b, root, err)
		}
	}
	return n, nil
}

func bucketNames() []string {
	return []string{Buckets.Raw, Buckets.Staging, Buckets.Curated, Buckets.Quarantine}
}

// objectPath maps a key to a file under root/bucket, refusing keys that
// would leave it.
func objectPath(root, bucket, key string) (string, error) {
	p := filepath.Join(root, bucket, filepath.FromSlash(key))
	if !strings.HasPrefix(p, filepath.Join(root, bucket)+string(filepath.Separator)) {
		return "", fmt.Errorf("saving s3://%s/%s: key leaves the bucket folder", bucket, key)
	}
	return p, nil
}
