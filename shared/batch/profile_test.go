package batch_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/events/batchgen"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/batch"
)

// TestCleanWritesProfiles: Clean writes the staged rows' profile beside the
// manifest; a split file's chunks profile themselves and Combine merges
// them into the same profile as a whole-file clean.
func TestCleanWritesProfiles(t *testing.T) {
	var b bytes.Buffer
	truth, err := batchgen.AppInteractions(&b, batchgen.Options{Seed: 5, Rows: 3000, Users: 350, Start: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	profiles := map[string]*batch.Profile{}
	for _, split := range []bool{false, true} {
		env, _ := memEnv(t, memory.NewObjects())
		drop := putRaw(t, env.Store, "raw/app_interactions/a.csv", b.Bytes())
		var m *batch.Manifest
		if split {
			sr, err := batch.Split(ctx, env, drop, 16<<10)
			if err != nil || len(sr.Chunks) < 3 {
				t.Fatalf("split: %v, %d chunks", err, len(sr.Chunks))
			}
			for _, ch := range sr.Chunks {
				if _, err := batch.CleanChunk(ctx, env, sr.File, ch); err != nil {
					t.Fatal(err)
				}
			}
			if m, err = batch.Combine(ctx, env, sr.File, len(sr.Chunks)); err != nil {
				t.Fatal(err) // err is this block's (from Split): the check below does not see it
			}
		} else {
			m, err = batch.Clean(ctx, env, drop)
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := env.LoadProfile(ctx, m.Dataset, m.FileID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Rows != int64(truth.Loaded) || p.Rows != m.Counts.Loaded {
			t.Fatalf("profile of %d rows, manifest loaded %d, truth %d", p.Rows, m.Counts.Loaded, truth.Loaded)
		}
		profiles[fmt.Sprint(split)] = p
	}
	whole, combined := profiles["false"], profiles["true"]
	for i, c := range whole.Columns {
		d := combined.Columns[i]
		if c.Name != d.Name || c.Nulls != d.Nulls || c.Distinct != d.Distinct || c.Exact != d.Exact ||
			*c.Min != *d.Min || *c.Max != *d.Max || fmt.Sprint(c.Top) != fmt.Sprint(d.Top) {
			t.Errorf("column %s: whole %+v, combined %+v", c.Name, c, d)
		}
	}
	for _, c := range whole.Columns {
		if c.Name == "user_id" && (c.Nulls != 0 || !c.Exact || c.Distinct != int64(len(truth.Users))) {
			t.Errorf("user_id: %+v, want no nulls and %d distinct users", c, len(truth.Users))
		}
	}
}
