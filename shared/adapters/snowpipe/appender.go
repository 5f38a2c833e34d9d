package snowpipe

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

var _ port.Appender = (*Appender)(nil)

// Appender is port.Appender over a Client: one Channel per (table,
// channel name) on the table's default pipe, kept open across calls (a
// warm Lambda keeps them).
type Appender struct {
	c   *Client
	log *slog.Logger

	mu       sync.Mutex
	channels map[string]*Channel
}

// NewAppender returns the appender of c; log (nil: slog.Default) gets rows
// the pipe rejected.
func NewAppender(c *Client, log *slog.Logger) *Appender {
	if log == nil {
		log = slog.Default()
	}
	return &Appender{c: c, log: log, channels: map[string]*Channel{}}
}

func (a *Appender) channel(ctx context.Context, t table.Schema, name string, fresh bool) (*Channel, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := t.Name + "/" + name
	ch := a.channels[k]
	if ch == nil {
		var err error
		if ch, err = a.c.OpenChannel(ctx, ChannelSpec{Table: t, Name: name}); err != nil {
			return nil, err
		}
		a.channels[k] = ch
		return ch, nil
	}
	if fresh {
		ch.mu.Lock()
		err := ch.reopen(ctx)
		ch.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// Open implements port.Appender. It opens the channel anew on every
// call (one Open Channel request), so the token it returns is the
// service's, not what this process last saw: another process may have
// appended on the channel since.
func (a *Appender) Open(ctx context.Context, t table.Schema, channel string) (int64, error) {
	ch, err := a.channel(ctx, t, channel, true)
	if err != nil {
		return 0, err
	}
	tok, _ := ch.Committed()
	return tok, nil
}

// Append implements port.Appender with Channel.Append (rows sorted by
// token first). Rows the pipe rejected are logged as errors with the
// service's last message: their tokens are committed, so no retry would
// send them again.
func (a *Appender) Append(ctx context.Context, t table.Schema, channel string, rows []port.AppendRow, end int64) error {
	ch, err := a.channel(ctx, t, channel, false)
	if err != nil {
		return err
	}
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = Row{Offset: r.Token, Cells: r.Cells}
	}
	sortRows(out)
	res, err := ch.Append(ctx, out, end)
	if err != nil {
		return fmt.Errorf("appending %d rows to %s on channel %s: %w", len(rows), t.Name, channel, err)
	}
	if res.Commit.RowErrors > 0 {
		a.log.Error("snowpipe: the pipe rejected rows; their offsets are committed", "table", t.Name, "channel", channel,
			"rows", res.Commit.RowErrors, "last_error", res.Commit.LastRowError)
	}
	return nil
}

// sortRows orders rows by offset, keeping the order of rows sharing one.
func sortRows(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Offset < rows[j].Offset })
}
