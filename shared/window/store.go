package window

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrConflict is returned by Store.Save when the stored version is not the
// expected one: another writer saved in between. Reload and reapply.
var ErrConflict = errors.New("window state version conflict")

// Store keeps engine state by name with optimistic concurrency.
// Implementations: MemStore here, and a DynamoDB adapter; both pass
// window/storetest.
type Store interface {
	// Load returns the state saved under name and its version. A name never
	// saved gives nil state, version 0 and no error.
	Load(ctx context.Context, name string) (state []byte, version int64, err error)
	// Save stores state under name if the stored version equals
	// expectVersion (0: the name must not exist yet); the new version is
	// expectVersion+1. Otherwise it returns an error wrapping ErrConflict
	// and stores nothing.
	Save(ctx context.Context, name string, state []byte, expectVersion int64) error
}

// MemStore is an in-memory Store, safe for concurrent use.
type MemStore struct {
	mu    sync.Mutex
	items map[string]memItem
}

type memItem struct {
	state   []byte
	version int64
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{items: make(map[string]memItem)} }

// Load implements Store.
func (s *MemStore) Load(ctx context.Context, name string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("loading window state %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	if !ok {
		return nil, 0, nil
	}
	return append([]byte(nil), it.state...), it.version, nil
}

// Save implements Store.
func (s *MemStore) Save(ctx context.Context, name string, state []byte, expectVersion int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("saving window state %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.items[name].version
	if cur != expectVersion {
		return fmt.Errorf("saving window state %s at version %d (stored %d): %w", name, expectVersion, cur, ErrConflict)
	}
	s.items[name] = memItem{state: append([]byte{}, state...), version: expectVersion + 1}
	return nil
}

// Load builds an engine from cfg and restores the state saved under name.
// It returns the version to pass to Save.
func Load(ctx context.Context, s Store, name string, cfg Config) (*Engine, int64, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, 0, err
	}
	state, version, err := s.Load(ctx, name)
	if err != nil {
		return nil, 0, fmt.Errorf("loading window engine %s: %w", name, err)
	}
	if err := e.Restore(state); err != nil {
		return nil, 0, fmt.Errorf("loading window engine %s: %w", name, err)
	}
	return e, version, nil
}

// Save stores e's snapshot under name, expecting version, and returns the
// new version.
func Save(ctx context.Context, s Store, name string, e *Engine, version int64) (int64, error) {
	b, err := e.Snapshot()
	if err != nil {
		return 0, fmt.Errorf("saving window engine %s: %w", name, err)
	}
	if err := s.Save(ctx, name, b, version); err != nil {
		return 0, fmt.Errorf("saving window engine %s: %w", name, err)
	}
	return version + 1, nil
}
