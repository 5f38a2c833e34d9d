package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Catalog is the catalog function: it reads a Movies.txt and produces its
// movies_catalog_enriched events (the movie-catalog workflow, replacing
// seed 003's Airflow DAG). Rejected lines are kept, with their field and
// reason, in the quarantine bucket under movies_catalog/.
type Catalog struct {
	Store            port.ObjectStore
	Producer         port.Producer
	QuarantineBucket string
	TempDir          string // for rejects before upload ("" = os.TempDir())
}

// CatalogDataset names the catalog's quarantine folder and rejects.
const CatalogDataset = "movies_catalog"

// CatalogFile is what happened to one catalog file.
type CatalogFile struct {
	Bucket     string         `json:"bucket"`
	Key        string         `json:"key"`
	VersionID  string         `json:"versionId,omitempty"`
	Found      bool           `json:"found"` // false: no such object (a scheduled run before any upload)
	Counts     catalog.Counts `json:"counts"`
	RejectsKey string         `json:"rejectsKey,omitempty"`
}

// CatalogOutput lists the files of one invocation.
type CatalogOutput struct {
	Files []CatalogFile `json:"files"`
}

// Handle accepts {"bucket","key"} (the state machine's task input, from
// the schedule or the object rule), an EventBridge "Object Created" event
// or an S3 event notification.
func (c *Catalog) Handle(ctx context.Context, payload json.RawMessage) (*CatalogOutput, error) {
	drops, err := catalogDrops(payload)
	if err != nil {
		return nil, err
	}
	out := &CatalogOutput{}
	for _, d := range drops {
		f, err := c.publish(ctx, d)
		if err != nil {
			return nil, err
		}
		out.Files = append(out.Files, f)
	}
	return out, nil
}

func catalogDrops(payload json.RawMessage) ([]port.FileDrop, error) {
	var probe struct {
		Bucket     string            `json:"bucket"`
		Key        string            `json:"key"`
		DetailType string            `json:"detail-type"`
		Records    []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("%w: decoding catalog input: %v", ErrBadInput, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
	}
	switch {
	case probe.DetailType != "":
		d, err := awsevents.EventBridgeDrop(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
		}
		return []port.FileDrop{d}, nil
	case probe.Records != nil:
		var e events.S3Event
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, fmt.Errorf("%w: decoding s3 event: %v", ErrBadInput, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
		}
		drops, err := awsevents.S3Drops(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err) //nolint:errorlint // the sentinel (%w) classifies the error; the cause is detail only, kept out of errors.Is/As on purpose
		}
		return drops, nil
	case probe.Bucket != "" && probe.Key != "":
		return []port.FileDrop{{Bucket: probe.Bucket, Key: probe.Key}}, nil
	}
	return nil, fmt.Errorf("%w: catalog input needs bucket and key, an EventBridge S3 event or an S3 notification", ErrBadInput)
}

func (c *Catalog) publish(ctx context.Context, d port.FileDrop) (CatalogFile, error) {
	f := CatalogFile{Bucket: d.Bucket, Key: d.Key}
	body, info, err := c.Store.Get(ctx, d.Bucket, d.Key)
	if errors.Is(err, port.ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("reading catalog s3://%s/%s: %w", d.Bucket, d.Key, err)
	}
	defer body.Close()
	f.Found, f.VersionID = true, info.VersionID
	if d.VersionID == "" {
		d.VersionID, d.ETag = info.VersionID, info.ETag
	}
	rej, err := os.CreateTemp(c.TempDir, "pulse-catalog-rejects-*")
	if err != nil {
		return f, fmt.Errorf("creating rejects file: %w", err)
	}
	defer func() { rej.Close(); os.Remove(rej.Name()) }()
	enc := json.NewEncoder(rej)
	origin := batch.Origin(d)
	counts, err := catalog.Publish(ctx, body, c.Producer, func(r catalog.Reject) error {
		return enc.Encode(port.QuarantineRecord{Dataset: CatalogDataset, Origin: origin, Source: d.Key, Pos: r.Line, Field: r.Field,
			Reason: dataset.MaskEmails(r.Reason), Record: dataset.MaskEmails(r.Text)}) // masked as every kept record (DESIGN.md 4.6)
	})
	f.Counts = counts
	if errors.Is(err, catalog.ErrNotACatalog) {
		return f, &NamedError{Name: ErrorNotADataset, Err: fmt.Errorf("s3://%s/%s: %w", d.Bucket, d.Key, err)}
	}
	if err != nil {
		return f, fmt.Errorf("publishing catalog s3://%s/%s: %w", d.Bucket, d.Key, err)
	}
	if counts.Rejected > 0 {
		f.RejectsKey = CatalogDataset + "/" + batch.FileID(d) + ".ndjson"
		size, err := rej.Seek(0, io.SeekCurrent)
		if err == nil {
			_, err = rej.Seek(0, io.SeekStart)
		}
		if err == nil {
			_, err = c.Store.Put(ctx, c.QuarantineBucket, f.RejectsKey, rej, size)
		}
		if err != nil {
			return f, fmt.Errorf("keeping %d rejected catalog lines of %s: %w", counts.Rejected, path.Base(d.Key), err)
		}
	}
	return f, nil
}
