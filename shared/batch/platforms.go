package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
)

// PlatformsKey is the platform registry: one JSON object in the curated
// bucket (dataset.EncodePlatformRegistry's format), listing the platforms
// accepted beyond the built-in ones. `pulse replay --add-platform NAME`
// writes it; on AWS an operator puts it there the same way
// (aws s3 cp platforms.json s3://<curated bucket>/reference/platforms.json).
// The clean and stream functions read it before cleaning and the
// datatests function before its tests, so the cleaning and the
// DIM_PLATFORM accepted-values test agree in every later run. The curated
// bucket keeps objects (no expiry), and the local stack keeps its buckets
// in the data folder (<dir>/s3/buckets/pulse-curated/reference/platforms.json).
const PlatformsKey = "reference/platforms.json"

// DefaultPlatformsMaxAge is how long a loaded registry is used before
// Refresh reads the object again.
const DefaultPlatformsMaxAge = time.Minute

// PlatformRegistry reads and writes the platform registry object and makes
// its platforms the registered ones (dataset.UsePlatforms), for the whole
// process.
type PlatformRegistry struct {
	Store  port.ObjectStore
	Bucket string
	MaxAge time.Duration    // Refresh reads again after this long (default DefaultPlatformsMaxAge)
	Now    func() time.Time // default time.Now
	Log    *slog.Logger     // default slog.Default()

	mu     sync.Mutex
	loaded time.Time // when the object was last read (zero: never)
}

// Platforms is the registry of env: PlatformsKey in its curated bucket.
func Platforms(env *Env) *PlatformRegistry {
	return &PlatformRegistry{Store: env.Store, Bucket: env.Buckets.Curated, Log: env.Log}
}

func (r *PlatformRegistry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *PlatformRegistry) where() string { return "s3://" + r.Bucket + "/" + PlatformsKey }

// read returns the registry's entries (none when the object is missing).
func (r *PlatformRegistry) read(ctx context.Context) ([]dataset.PlatformEntry, error) {
	if r.Store == nil || r.Bucket == "" {
		return nil, errors.New("reading the platform registry: no object store or curated bucket configured")
	}
	body, _, err := r.Store.Get(ctx, r.Bucket, PlatformsKey)
	if errors.Is(err, port.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the platform registry %s: %w", r.where(), err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the platform registry %s: %w", r.where(), err)
	}
	entries, err := dataset.ParsePlatformRegistry(data)
	if err != nil {
		return nil, &registryError{where: r.where(), err: err}
	}
	return entries, nil
}

// registryError is a registry object that does not parse or check.
type registryError struct {
	where string
	err   error
}

func (e *registryError) Error() string { return e.where + ": " + e.err.Error() }
func (e *registryError) Unwrap() error { return e.err }

// Load reads the registry and makes its platforms the registered ones. A
// missing object is an empty registry; one that does not parse is an error
// naming it.
func (r *PlatformRegistry) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load(ctx)
}

func (r *PlatformRegistry) load(ctx context.Context) error {
	entries, err := r.read(ctx)
	if err != nil {
		return err
	}
	if err := dataset.UsePlatforms(entries); err != nil {
		return &registryError{where: r.where(), err: err}
	}
	r.loaded = r.now()
	return nil
}

// Refresh is Load when the registry was last read more than MaxAge ago (or
// never). A registry that does not parse stops nothing: it is logged as an
// error and the platforms known before stay in use (records of a platform
// it would add are rejected as unknown and can be replayed once it is
// fixed). An error reading the object is returned: the caller's retry
// reads it again.
func (r *PlatformRegistry) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	maxAge := r.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultPlatformsMaxAge
	}
	if !r.loaded.IsZero() && r.now().Sub(r.loaded) < maxAge {
		return nil
	}
	err := r.load(ctx)
	var bad *registryError
	if errors.As(err, &bad) {
		log := r.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("the platform registry does not parse: keeping the platforms known before", "registry", bad.where, "error", bad.err)
		r.loaded = r.now() // not again before MaxAge
		return nil
	}
	return err
}

// Add adds platforms to the registry object (read, add, write) and makes
// them known at once. Names are trimmed; one already known (built in, or
// in the registry, in any case) is skipped. It returns the names it added.
// A registry object that does not parse is an error: it is not overwritten.
// Two processes adding at the same moment may lose one's addition (the
// object store offers no compare-and-swap here); run one `pulse replay` at
// a time.
func (r *PlatformRegistry) Add(ctx context.Context, names ...string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	entries, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, e := range entries {
		known[strings.ToLower(e.Name)] = true
		for _, a := range e.Aliases {
			known[strings.ToLower(a)] = true
		}
	}
	var added []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if _, builtin := dataset.BuiltinPlatform(n); n == "" || builtin || known[strings.ToLower(n)] {
			continue
		}
		known[strings.ToLower(n)] = true
		entries = append(entries, dataset.PlatformEntry{Name: n})
		added = append(added, n)
	}
	if len(added) == 0 {
		return nil, r.useLocked(entries)
	}
	if err := dataset.UsePlatforms(entries); err != nil { // checks them before anything is written
		return nil, fmt.Errorf("adding %s to the platform registry %s: %w", strings.Join(added, ", "), r.where(), err)
	}
	data := dataset.EncodePlatformRegistry(entries)
	if _, err := r.Store.Put(ctx, r.Bucket, PlatformsKey, bytes.NewReader(data), int64(len(data))); err != nil {
		return nil, fmt.Errorf("writing the platform registry %s: %w", r.where(), err)
	}
	r.loaded = r.now()
	return added, nil
}

func (r *PlatformRegistry) useLocked(entries []dataset.PlatformEntry) error {
	if err := dataset.UsePlatforms(entries); err != nil {
		return &registryError{where: r.where(), err: err}
	}
	r.loaded = r.now()
	return nil
}
