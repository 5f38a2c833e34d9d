package window

import (
	"context"
	"errors"
	"fmt"
)

// ErrConflict is returned by Store.Save when the stored version is not the
// expected one: another writer saved in between. Reload and reapply.
var ErrConflict = errors.New("window state version conflict")

// Store keeps engine state by name with optimistic concurrency.
// Implementations: memory.WindowStore (shared/adapters/memory, in
// memory or in a folder) and the DynamoDB adapter; all pass
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
