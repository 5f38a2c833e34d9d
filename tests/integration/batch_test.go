package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/dynamo"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/dedupetest"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/wire"
)

// TestBatchStepsThroughTheEndpoints runs the batch functions' handlers on the Env the clean function
// builds from its environment (S3 and DynamoDB at the endpoints): one file whole, one split into
// chunks, each cleaned twice (a redelivery), then Model, Load and DataTests (into DuckDB: the
// functions' Snowflake cannot run here). Counts and rows are the generator's.
func TestBatchStepsThroughTheEndpoints(t *testing.T) {
	ctx := context.Background()
	env, err := wire.Env(ctx, os.Getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	env.TempDir = t.TempDir()
	wh, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	env.Warehouse = wh
	b := &handlers.Batch{Env: env, ChunkBytes: 4 << 10}

	dir := t.TempDir()
	truths, err := batchgen.Generate(dir, batchgen.Options{Seed: 9, Rows: 250})
	if err != nil {
		t.Fatal(err)
	}
	run := map[string]string{"live_streaming.ndjson": "whole", "video_interactions.csv": "split"}
	facts := map[string]string{"live_streaming": star.FactLiveStreamingInteractions.Name, "video_interactions": star.FactVideoInteractions.Name}
	for _, tr := range truths {
		how, ok := run[tr.Name]
		if !ok {
			continue
		}
		t.Run(how+"/"+tr.Name, func(t *testing.T) {
			body, err := os.Open(filepath.Join(dir, tr.Name))
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			st, _ := body.Stat()
			key := "raw/" + tr.Dataset + "/" + tr.Name
			info, err := env.Store.Put(ctx, env.Buckets.Raw, key, body, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			if info.VersionID == "" {
				t.Errorf("the raw bucket gave no version ID")
			}
			file := port.FileDrop{Bucket: env.Buckets.Raw, Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID}
			var ref *handlers.ManifestRef
			for attempt := 0; attempt < 2; attempt++ { // the second run is a redelivery
				if how == "whole" {
					ref, err = b.Clean(ctx, handlers.StartInput{File: file})
				} else {
					ref, err = cleanSplit(ctx, b, file)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, step := range []func(context.Context, *handlers.ManifestRef) (*handlers.ManifestRef, error){b.Model, b.Load, b.DataTests} {
				if ref, err = step(ctx, ref); err != nil {
					t.Fatal(err)
				}
			}
			want := port.Counts{Received: int64(tr.Rows), Loaded: int64(tr.Loaded), Rejected: int64(tr.Rejected), Duplicate: int64(tr.Duplicate)}
			if ref.Counts != want || ref.Status != "tested" {
				t.Errorf("%s %s, want %s tested", ref.Status, ref.Counts, want)
			}
			_, rows, err := wh.Query(ctx, "SELECT COUNT(*) FROM "+facts[tr.Dataset])
			if err != nil {
				t.Fatal(err)
			}
			if got := rows[0][0].(int64); got != int64(tr.Loaded) {
				t.Errorf("%d fact rows, want %d", got, tr.Loaded)
			}
		})
	}
}

func cleanSplit(ctx context.Context, b *handlers.Batch, file port.FileDrop) (*handlers.ManifestRef, error) {
	sr, err := b.Split(ctx, file)
	if err != nil {
		return nil, err
	}
	for _, ch := range sr.Chunks {
		if _, err := b.CleanChunk(ctx, sr.File, ch); err != nil {
			return nil, err
		}
	}
	return b.Combine(ctx, sr.File, len(sr.Chunks))
}

// TestDedupeThroughTheEndpoint runs the dedupe conformance suite on the store the clean function
// builds (DynamoDB at the endpoint, the table its environment names), a new table per case.
func TestDedupeThroughTheEndpoint(t *testing.T) {
	client, err := dynamo.NewClient(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		n++
		table := fmt.Sprintf("%s-conformance-%d", os.Getenv(wire.EnvDedupeTable), n)
		if err := dynamo.EnsureTable(context.Background(), client, table); err != nil {
			t.Fatal(err)
		}
		t.Setenv(wire.EnvDedupeTable, table)
		t.Setenv(wire.EnvDedupeTTL, dedupetest.TTL.String())
		d, err := wire.Dedupe(context.Background(), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		d.SetClock(clock.Now)
		return d
	})
}
