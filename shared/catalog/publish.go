package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pulse-analytics/pulse/shared/port"
)

// BatchSize is how many events one Produce call carries.
const BatchSize = 500

// Publish reads the catalog r and produces its movies in batches through
// p. Each rejected line goes to onReject (to be kept with its reason);
// the rest goes on. A file without a catalog header fails whole with
// ErrNotACatalog. Producing the same file again produces the same events
// with the same keys: downstream, the latest event per item_id wins.
func Publish(ctx context.Context, r io.Reader, p port.Producer, onReject func(Reject) error) (Counts, error) {
	var c Counts
	rd, err := NewReader(r)
	if err != nil {
		return c, err
	}
	batch := make([]port.Movie, 0, BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.Produce(ctx, batch); err != nil {
			return fmt.Errorf("producing %d catalog events: %w", len(batch), err)
		}
		c.Produced += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	for {
		m, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if rj, ok := AsReject(err); ok {
			c.Received++
			c.Rejected++
			if err := onReject(rj); err != nil {
				return c, fmt.Errorf("keeping rejected catalog line %d: %w", rj.Line, err)
			}
			continue
		}
		if err != nil {
			return c, err
		}
		c.Received++
		batch = append(batch, m)
		if len(batch) == BatchSize {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	return c, flush()
}
