package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
)

// Manifest records what Clean did with one file; Model and Load add to it.
// It is written to the staging bucket at _manifests/<dataset>/<file id>.json
// and passed between the workflow's steps.
type Manifest struct {
	FileID  string        `json:"fileId"`
	Dataset string        `json:"dataset"`
	Source  port.FileDrop `json:"source"`
	Origin  string        `json:"origin"` // s3://bucket/key@version, the dedupe origin prefix
	// Txn is the dedupe transaction of the manifest's records when it is
	// not Origin (a replay batch names its own).
	Txn           string      `json:"txn,omitempty"`
	IngestedAt    int64       `json:"ingestedAt"`
	Counts        port.Counts `json:"counts"`
	StagingKeys   []string    `json:"stagingKeys"`
	QuarantineKey string      `json:"quarantineKey,omitempty"`
	// Chunk is set on the manifest of one chunk of a split file; Chunks
	// (the number of chunks) and ChunkRejectKeys (their quarantine files)
	// on the file manifest Combine makes from them.
	Chunk           *Chunk         `json:"chunk,omitempty"`
	Chunks          int            `json:"chunks,omitempty"`
	ChunkRejectKeys []string       `json:"chunkRejectKeys,omitempty"`
	Curated         []Output       `json:"curated,omitempty"`
	Inserted        map[string]int `json:"inserted,omitempty"`
	Status          string         `json:"status"` // cleaned, modelled, loaded, tested
	StartedAt       int64          `json:"startedAt"`
	FinishedAt      int64          `json:"finishedAt,omitempty"`
}

// Output is one curated Parquet file for one table.
type Output struct {
	Table string `json:"table"`
	Key   string `json:"key"`
	Rows  int64  `json:"rows"`
}

// FileID names a file version stably: the same object version always gets
// the same id, so a retried step overwrites its own outputs.
func FileID(d port.FileDrop) string {
	base := path.Base(d.Key)
	for _, ext := range []string{".gz", ".parquet", ".ndjson", ".jsonl", ".json", ".csv"} {
		base = strings.TrimSuffix(base, ext)
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, base)
	if len(base) > 60 {
		base = base[:60]
	}
	ver := d.VersionID
	if ver == "" {
		ver = d.ETag
	}
	return base + "-" + star.MD5Hex([]byte(d.Bucket + "/" + d.Key + "@" + ver))[:12]
}

// Origin is the dedupe origin prefix of a file version.
func Origin(d port.FileDrop) string {
	ver := d.VersionID
	if ver == "" {
		ver = d.ETag
	}
	return "s3://" + d.Bucket + "/" + d.Key + "@" + ver
}

func manifestKey(dataset, fileID string) string {
	return "_manifests/" + dataset + "/" + fileID + ".json"
}

// chunkManifestKey is where a chunk's manifest is kept, in a folder of its
// file's (Manifests lists file manifests only).
func chunkManifestKey(dataset, fileID string, index int) string {
	return fmt.Sprintf("_manifests/%s/%s/c%05d.json", dataset, fileID, index)
}

// rejectKeys lists the quarantine files of a file's rejects.
func (m *Manifest) rejectKeys() []string {
	var keys []string
	if m.QuarantineKey != "" {
		keys = append(keys, m.QuarantineKey)
	}
	return append(keys, m.ChunkRejectKeys...)
}

// SaveManifest writes a manifest to the staging bucket (a chunk's under its
// file's folder).
func (e *Env) SaveManifest(ctx context.Context, m *Manifest) error { return e.saveManifest(ctx, m) }

func (e *Env) saveManifest(ctx context.Context, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest %s: %w", m.FileID, err)
	}
	key := manifestKey(m.Dataset, m.FileID)
	if m.Chunk != nil {
		key = chunkManifestKey(m.Dataset, m.FileID, m.Chunk.Index)
	}
	if _, err := e.Store.Put(ctx, e.Buckets.Staging, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("writing manifest s3://%s/%s: %w", e.Buckets.Staging, key, err)
	}
	return nil
}

// LoadManifest reads a file's manifest from the staging bucket.
func (e *Env) LoadManifest(ctx context.Context, dataset, fileID string) (*Manifest, error) {
	return e.loadManifest(ctx, manifestKey(dataset, fileID))
}

func (e *Env) loadManifest(ctx context.Context, key string) (*Manifest, error) {
	body, _, err := e.Store.Get(ctx, e.Buckets.Staging, key)
	if err != nil {
		return nil, fmt.Errorf("reading manifest s3://%s/%s: %w", e.Buckets.Staging, key, err)
	}
	defer body.Close()
	var m Manifest
	if err := json.NewDecoder(body).Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %w", key, err)
	}
	return &m, nil
}

// Manifests lists every manifest of a dataset ("" = all datasets).
func (e *Env) Manifests(ctx context.Context, dataset string) ([]*Manifest, error) {
	prefix := "_manifests/"
	if dataset != "" {
		prefix += dataset + "/"
	}
	objs, err := e.Store.List(ctx, e.Buckets.Staging, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing manifests: %w", err)
	}
	var out []*Manifest
	for _, o := range objs {
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(o.Key, "_manifests/"), ".json"), "/")
		if len(parts) != 2 {
			continue
		}
		m, err := e.LoadManifest(ctx, parts[0], parts[1])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
