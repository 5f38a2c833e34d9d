package kafkalocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// RegistryOptions configure StartRegistryWith.
type RegistryOptions struct {
	Port int // on 127.0.0.1; 0 picks a free port
	// File, if set, keeps the registry's schemas: they are seeded from it
	// at start with their subjects, versions and ids, and it is rewritten
	// after every request that may change the registry. Without it a new
	// registry numbers schemas from 1 in the order they are registered,
	// so an Avro message from an earlier run (its value names the id) is
	// only readable if every run registers the same schemas in the same
	// order; with it, ids never move.
	File string
}

// Registry is a running in-process schema registry.
type Registry struct {
	fake *srfake.Registry
	srv  *http.Server
	url  string
	done chan error
	file string

	saveMu  sync.Mutex
	saveErr error
}

// StartRegistry starts a schema registry on a free port of 127.0.0.1.
func StartRegistry(ctx context.Context) (*Registry, error) {
	return StartRegistryWith(ctx, RegistryOptions{})
}

// StartRegistryOn starts a schema registry on 127.0.0.1:port (0 = free port).
func StartRegistryOn(ctx context.Context, port int) (*Registry, error) {
	return StartRegistryWith(ctx, RegistryOptions{Port: port})
}

// StartRegistryWith starts a schema registry, seeded from o.File if it exists.
func StartRegistryWith(ctx context.Context, o RegistryOptions) (*Registry, error) {
	fake := srfake.NewRegistry()
	r := &Registry{fake: fake, done: make(chan error, 1), file: o.File}
	if o.File != "" {
		if err := r.load(); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", o.Port))
	if err != nil {
		return nil, fmt.Errorf("starting schema registry on port %d: %w", o.Port, err)
	}
	h := fake.Handler()
	if o.File != "" {
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			fake.Handler().ServeHTTP(w, req)
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				r.save()
			}
		})
	}
	r.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	r.url = "http://" + ln.Addr().String()
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// URL returns the registry's base URL, e.g. http://127.0.0.1:41234.
func (r *Registry) URL() string { return r.url }

// Fake returns the underlying srfake registry (seeding, inspection).
func (r *Registry) Fake() *srfake.Registry { return r.fake }

// SaveErr returns the last error writing the registry's file, if any
// (the request that caused it has been answered already).
func (r *Registry) SaveErr() error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	return r.saveErr
}

// Close stops the registry; with a file, it is written one last time.
func (r *Registry) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	if err := <-r.done; !errors.Is(err, http.ErrServerClosed) {
		slog.Warn("kafkalocal: the schema registry's server stopped", "err", err)
	}
	if r.file != "" {
		r.save()
	}
}

// registryFile is what the file holds: every subject version, soft-deleted
// ones too (their ids stay readable), by id.
type registryFile struct {
	Format   int                `json:"format"`
	Versions []sr.SubjectSchema `json:"versions"`
}

// save writes every subject version to the file (temporary file, rename).
func (r *Registry) save() {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.saveErr = r.write()
	if r.saveErr != nil {
		slog.Warn("schema registry: saving its schemas", "file", r.file, "err", r.saveErr)
	}
}

func (r *Registry) write() error {
	rec := httptest.NewRecorder()
	r.fake.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/schemas?deleted=true", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("listing schemas: HTTP %d %s", rec.Code, rec.Body.String())
	}
	var f registryFile
	if err := json.Unmarshal(rec.Body.Bytes(), &f.Versions); err != nil {
		return fmt.Errorf("listing schemas: %w", err)
	}
	f.Format = 1
	sortVersions(f.Versions)
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	tmp := r.file + ".tmp"
	if err := os.MkdirAll(filepath.Dir(r.file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.file)
}

func sortVersions(vs []sr.SubjectSchema) {
	sort.Slice(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Version < b.Version
	})
}

// load seeds the registry from its file; a missing file is a first run.
func (r *Registry) load() error {
	b, err := os.ReadFile(r.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading schema registry file %s: %w", r.file, err)
	}
	var f registryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("reading schema registry file %s: %w", r.file, err)
	}
	if f.Format != 1 {
		return fmt.Errorf("reading schema registry file %s: format %d, want 1", r.file, f.Format)
	}
	sortVersions(f.Versions)
	seeded := map[int]bool{}
	for _, v := range f.Versions {
		if err := r.seed(v, seeded[v.ID]); err != nil {
			return fmt.Errorf("schema registry file %s: subject %s version %d (id %d): %w", r.file, v.Subject, v.Version, v.ID, err)
		}
		seeded[v.ID] = true
	}
	return nil
}

// seed puts one subject version back at its id. srfake's SeedSchema takes
// each id once (and panics otherwise); a schema shared by two subjects is
// registered under the second one, which gives it the same id.
func (r *Registry) seed(v sr.SubjectSchema, idTaken bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	if !idTaken {
		r.fake.SeedSchema(v.Subject, v.Version, v.ID, v.Schema)
		return nil
	}
	id, _, err := r.fake.RegisterSchema(v.Subject, v.Schema)
	if err == nil && id != v.ID {
		err = fmt.Errorf("registered again as id %d", id)
	}
	return err
}
