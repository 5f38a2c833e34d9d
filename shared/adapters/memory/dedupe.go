package memory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

var _ pipeline.Dedupe = (*Dedupe)(nil)

// ErrClosed is returned by Claim after Close.
var ErrClosed = errors.New("dedupe store closed")

type dedupeKey struct {
	namespace, key string
}

// Dedupe is an in-process pipeline.Dedupe. Built by OpenDedupe, it also
// appends every new claim to a file and reloads that file on open, so a
// local command-line run remembers keys across invocations.
type Dedupe struct {
	mu     sync.Mutex
	owners map[dedupeKey]string // key -> origin that first claimed it
	file   *os.File             // nil when not persistent
	path   string
	size   int64 // length of the file's complete lines
	closed bool
}

// NewDedupe returns an empty, non-persistent Dedupe.
func NewDedupe() *Dedupe {
	return &Dedupe{owners: make(map[dedupeKey]string)}
}

// claimLine is one line of the claims file: namespace, key, origin.
type claimLine [3]string

// OpenDedupe opens (creating if needed) the append-only claims file at path
// and loads the claims it holds. A torn last line (a crash mid-append) is
// cut off; any other malformed line is an error.
func OpenDedupe(path string) (*Dedupe, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening dedupe file %s: %w", path, err)
	}
	d := NewDedupe()
	d.file, d.path = f, path
	good, err := d.load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncating torn tail of dedupe file %s: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seeking dedupe file %s: %w", path, err)
	}
	d.size = good
	return d, nil
}

// load reads the claims file and returns the length of its complete lines.
func (d *Dedupe) load(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var good int64
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return good, nil // an unterminated tail is a torn write: dropped
		}
		if err != nil {
			return 0, fmt.Errorf("reading dedupe file %s: %w", d.path, err)
		}
		var cl claimLine
		if err := json.Unmarshal(bytes.TrimSpace(line), &cl); err != nil {
			return 0, fmt.Errorf("dedupe file %s line %d: %w", d.path, lineNo, err)
		}
		k := dedupeKey{cl[0], cl[1]}
		if _, ok := d.owners[k]; !ok {
			d.owners[k] = cl[2]
		}
		good += int64(len(line))
	}
}

// Claim implements pipeline.Dedupe. New claims are appended to the file
// (when persistent) before the call returns; if that write fails, none of
// the call's claims is remembered.
func (d *Dedupe) Claim(ctx context.Context, namespace string, claims []pipeline.Claim) ([]pipeline.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, err)
	}
	out := make([]pipeline.Outcome, len(claims))
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("claiming %d dedupe keys in %s: %w", len(claims), namespace, ErrClosed)
	}
	var added map[dedupeKey]string // claims made by this call, applied after the write
	var buf bytes.Buffer
	for i, cl := range claims {
		k := dedupeKey{namespace, cl.Key}
		owner, ok := d.owners[k]
		if !ok {
			owner, ok = added[k]
		}
		switch {
		case !ok:
			if added == nil {
				added = make(map[dedupeKey]string)
			}
			added[k] = cl.Origin
			out[i] = pipeline.Fresh
			if d.file != nil {
				line, err := json.Marshal(claimLine{namespace, cl.Key, cl.Origin})
				if err != nil {
					return nil, fmt.Errorf("encoding dedupe claim %s/%s: %w", namespace, cl.Key, err)
				}
				buf.Write(line)
				buf.WriteByte('\n')
			}
		case owner == cl.Origin:
			out[i] = pipeline.Retry
		default:
			out[i] = pipeline.Duplicate
		}
	}
	if d.file != nil && buf.Len() > 0 {
		if _, err := d.file.Write(buf.Bytes()); err != nil {
			// Cut off whatever part was written, so the file stays whole.
			if terr := d.file.Truncate(d.size); terr == nil {
				_, _ = d.file.Seek(d.size, io.SeekStart)
			}
			return nil, fmt.Errorf("appending %d dedupe claims to %s: %w", len(added), d.path, err)
		}
		d.size += int64(buf.Len())
	}
	for k, origin := range added {
		d.owners[k] = origin
	}
	return out, nil
}

// Len returns the number of claimed keys across all namespaces.
func (d *Dedupe) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.owners)
}

// Close syncs and closes the claims file, if any. Claim fails afterwards.
func (d *Dedupe) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.file == nil {
		return nil
	}
	if err := d.file.Sync(); err != nil {
		d.file.Close()
		return fmt.Errorf("syncing dedupe file %s: %w", d.path, err)
	}
	if err := d.file.Close(); err != nil {
		return fmt.Errorf("closing dedupe file %s: %w", d.path, err)
	}
	return nil
}
