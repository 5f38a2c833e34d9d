package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/pulse-analytics/pulse/shared/window"
)

var _ window.Store = (*WindowStore)(nil)

// WindowStore is the in-process window.Store, safe for concurrent use,
// with optimistic concurrency (window.ErrConflict) between goroutines.
// NewWindowStore keeps the state in memory only (unit tests, the
// in-memory demo).
//
// OpenWindowStore keeps it in a folder too, for the local stack: the
// stream path's window and session state survives a restart of `pulse
// demo` or a later `pulse replay`. Each name is one file, <escaped
// name>.state: a JSON header line {"name":...,"version":N} and then the
// state bytes as saved. Save writes a temporary file and renames it over
// the old one, so a crash leaves either the old or the new state, never a
// mix. Every file is read once at open; Load answers from memory. One
// process at a time may use a folder: the local stack opens it next to
// the DuckDB file, which DuckDB already locks. Files are not fsynced, so a
// crash of the process loses nothing, a crash of the machine may lose the
// last saves (as with the dedupe log).
type WindowStore struct {
	mu    sync.Mutex
	dir   string // "": in memory only
	items map[string]stateItem
}

type stateItem struct {
	state   []byte
	version int64
}

// stateHeader is the first line of a state file.
type stateHeader struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

const (
	stateSuffix = ".state"
	tmpPrefix   = ".tmp-"
)

// NewWindowStore returns an empty WindowStore kept in memory only.
func NewWindowStore() *WindowStore { return &WindowStore{items: map[string]stateItem{}} }

// OpenWindowStore opens (creating it if needed) the state folder dir and
// loads every state file in it. Temporary files a crash left behind are
// removed; a state file that does not parse is an error naming it.
func OpenWindowStore(dir string) (*WindowStore, error) {
	if dir == "" {
		return nil, errors.New("opening a window state folder: no folder given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening state folder %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading state folder %s: %w", dir, err)
	}
	s := &WindowStore{dir: dir, items: map[string]stateItem{}}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			continue
		case strings.HasPrefix(name, tmpPrefix):
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("removing the unfinished save %s: %w", filepath.Join(dir, name), err)
			}
			continue
		case !strings.HasSuffix(name, stateSuffix):
			continue
		}
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading state file %s: %w", path, err)
		}
		head, state, ok := bytes.Cut(b, []byte{'\n'})
		var h stateHeader
		if !ok {
			return nil, fmt.Errorf("state file %s: no header line", path)
		}
		if err := json.Unmarshal(head, &h); err != nil {
			return nil, fmt.Errorf("state file %s: header: %w", path, err)
		}
		if h.Version < 1 || fileName(h.Name) != name {
			return nil, fmt.Errorf("state file %s: header names %q at version %d, which is not this file", path, h.Name, h.Version)
		}
		s.items[h.Name] = stateItem{state: append([]byte{}, state...), version: h.Version}
	}
	return s, nil
}

// fileName is the file that keeps name: every byte outside [A-Za-z0-9-_.~]
// escaped, so "stream/session_metrics" is "stream%2Fsession_metrics.state".
func fileName(name string) string { return url.PathEscape(name) + stateSuffix }

// Dir returns the folder ("" for a store in memory only).
func (s *WindowStore) Dir() string { return s.dir }

// Names lists the names saved so far, sorted.
func (s *WindowStore) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.items))
	for n := range s.items {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load implements window.Store.
func (s *WindowStore) Load(ctx context.Context, name string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("loading window state %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	if !ok {
		return nil, 0, nil
	}
	return append([]byte{}, it.state...), it.version, nil
}

// Save implements window.Store. With a folder the file is replaced before
// the call returns; if that fails, nothing changed.
func (s *WindowStore) Save(ctx context.Context, name string, state []byte, expectVersion int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("saving window state %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.items[name].version
	if cur != expectVersion {
		return fmt.Errorf("saving window state %s at version %d (stored %d): %w", name, expectVersion, cur, window.ErrConflict)
	}
	if s.dir != "" {
		head, err := json.Marshal(stateHeader{Name: name, Version: expectVersion + 1})
		if err != nil {
			return fmt.Errorf("saving window state %s: %w", name, err)
		}
		if err := s.write(fileName(name), head, state); err != nil {
			return fmt.Errorf("saving window state %s: %w", name, err)
		}
	}
	s.items[name] = stateItem{state: append([]byte{}, state...), version: expectVersion + 1}
	return nil
}

// write replaces file with the header line and the state, through a
// temporary file and a rename.
func (s *WindowStore) write(file string, head, state []byte) (err error) {
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	buf := make([]byte, 0, len(head)+1+len(state))
	buf = append(append(append(buf, head...), '\n'), state...)
	if _, err := f.Write(buf); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(s.dir, file)); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	return nil
}
