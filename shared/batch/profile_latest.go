package batch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulse-analytics/pulse/shared/port"
)

// profilesPrefix is where Clean keeps the data profiles in the staging bucket.
const profilesPrefix = "_profiles/"

// LatestProfiles returns, for each dataset with a profile in bucket (the
// staging bucket), the newest whole-file profile by the object's Modified
// time (the larger key breaks a tie), sorted by dataset; chunk profiles
// (_profiles/<dataset>/<file id>/cNNNNN.json) are left out. Each carries
// its object's Modified time as ProfiledAt.
//
// A profile that cannot be read or decoded (one a replay just removed, or
// one still being written into a folder read as it is) gives way to the
// dataset's next newest. A dataset none of whose profiles can be read is
// left out, and the error names its newest key and why; the profiles that
// could be read are returned with it. A failed listing returns no profiles.
func LatestProfiles(ctx context.Context, store port.ObjectStore, bucket string) ([]Profile, error) {
	objs, err := store.List(ctx, bucket, profilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("listing the data profiles in s3://%s/%s: %w", bucket, profilesPrefix, err)
	}
	byDataset := map[string][]port.ObjectInfo{}
	for _, o := range objs {
		ds, ok := wholeFileProfile(o.Key)
		if ok {
			byDataset[ds] = append(byDataset[ds], o)
		}
	}
	datasets := make([]string, 0, len(byDataset))
	for ds := range byDataset {
		datasets = append(datasets, ds)
	}
	slices.Sort(datasets)
	var out []Profile
	var errs []error
	for _, ds := range datasets {
		cands := byDataset[ds]
		slices.SortFunc(cands, func(a, b port.ObjectInfo) int { // newest first
			if c := b.Modified.Compare(a.Modified); c != 0 {
				return c
			}
			return cmp.Compare(b.Key, a.Key)
		})
		var first error
		for _, o := range cands {
			p, err := readProfile(ctx, store, bucket, o.Key)
			if err != nil {
				if ctx.Err() != nil {
					return out, fmt.Errorf("reading the data profiles of %s: %w", ds, ctx.Err())
				}
				first = cmp.Or(first, err)
				continue
			}
			at := o.Modified.UTC()
			p.ProfiledAt = &at
			if p.Dataset == "" {
				p.Dataset = ds
			}
			out = append(out, *p)
			first = nil
			break
		}
		if first != nil {
			errs = append(errs, fmt.Errorf("dataset %s: no readable profile among %d: %w", ds, len(cands), first))
		}
	}
	return out, errors.Join(errs...)
}

// wholeFileProfile tells a whole-file profile's key
// (_profiles/<dataset>/<file id>.json) and returns its dataset.
func wholeFileProfile(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, profilesPrefix)
	if !ok {
		return "", false
	}
	ds, file, ok := strings.Cut(rest, "/")
	if !ok || ds == "" || strings.Contains(file, "/") || !strings.HasSuffix(file, ".json") || file == ".json" {
		return "", false
	}
	return ds, true
}

// readProfile reads one stored profile (the report, without any chunk sketches).
func readProfile(ctx context.Context, store port.ObjectStore, bucket, key string) (*Profile, error) {
	body, _, err := store.Get(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("reading profile s3://%s/%s: %w", bucket, key, err)
	}
	defer body.Close()
	p := &Profile{}
	if err := json.NewDecoder(body).Decode(p); err != nil {
		return nil, fmt.Errorf("decoding profile s3://%s/%s: %w", bucket, key, err)
	}
	if p.FileID == "" {
		return nil, fmt.Errorf("decoding profile s3://%s/%s: no fileId", bucket, key)
	}
	return p, nil
}
