package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

var _ port.Appender = (*Appender)(nil)

// ChannelsTable keeps each channel's committed offset token: the local
// stand-in for what Snowpipe Streaming keeps per channel.
const ChannelsTable = "PULSE_CHANNELS"

// Appender is port.Appender on a DuckDB warehouse, for the local stack
// and the tests: a channel is a row of PULSE_CHANNELS (TABLE_NAME,
// CHANNEL, TOKEN), and an append inserts its rows and moves the token in
// one transaction, so it behaves as a Snowpipe Streaming channel does
// across crashes and restarts: rows at or below the committed token are
// skipped, and a failed append left nothing behind.
type Appender struct {
	w *Warehouse
}

// NewAppender creates PULSE_CHANNELS if it does not exist.
func NewAppender(ctx context.Context, w *Warehouse) (*Appender, error) {
	if err := w.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+ChannelsTable+
		" (TABLE_NAME VARCHAR NOT NULL, CHANNEL VARCHAR NOT NULL, TOKEN BIGINT NOT NULL, PRIMARY KEY (TABLE_NAME, CHANNEL))"); err != nil {
		return nil, fmt.Errorf("creating %s: %w", ChannelsTable, err)
	}
	return &Appender{w: w}, nil
}

func committed(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tableName, channel string) (int64, error) {
	var tok int64
	err := q.QueryRowContext(ctx, "SELECT TOKEN FROM "+ChannelsTable+" WHERE TABLE_NAME = ? AND CHANNEL = ?", tableName, channel).Scan(&tok)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	return tok, err
}

// Open implements port.Appender.
func (a *Appender) Open(ctx context.Context, t table.Schema, channel string) (int64, error) {
	tok, err := committed(ctx, a.w.db, t.Name, channel)
	if err != nil {
		return 0, fmt.Errorf("opening channel %s of %s: %w", channel, t.Name, err)
	}
	return tok, nil
}

// Append implements port.Appender.
func (a *Appender) Append(ctx context.Context, t table.Schema, channel string, rows []port.AppendRow, end int64) error {
	for _, r := range rows {
		if r.Token > end {
			return fmt.Errorf("appending to %s on channel %s: row token %d above the end token %d", t.Name, channel, r.Token, end)
		}
		if len(r.Cells) != len(t.Columns) {
			return fmt.Errorf("appending to %s on channel %s: a row has %d cells for %d columns", t.Name, channel, len(r.Cells), len(t.Columns))
		}
	}
	rows = append([]port.AppendRow(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Token < rows[j].Token })
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	tx, err := a.w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("appending to %s on channel %s: beginning transaction: %w", t.Name, channel, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	tok, err := committed(ctx, tx, t.Name, channel)
	if err != nil {
		return fmt.Errorf("appending to %s on channel %s: reading its token: %w", t.Name, channel, err)
	}
	if end <= tok {
		return nil // all of it committed before
	}
	const chunk = 200
	var fresh []port.AppendRow
	for _, r := range rows {
		if r.Token > tok {
			fresh = append(fresh, r)
		}
	}
	for start := 0; start < len(fresh); start += chunk {
		part := fresh[start:min(start+chunk, len(fresh))]
		args := make([]any, 0, len(part)*len(t.Columns))
		for _, r := range part {
			for i, c := range t.Columns {
				args = append(args, value(c.Type, r.Cells[i]))
			}
		}
		if _, err := tx.ExecContext(ctx, dialect.InsertValues(t.Name, t, len(part)), args...); err != nil {
			return fmt.Errorf("appending %d rows to %s on channel %s: %w", len(part), t.Name, channel, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO "+ChannelsTable+" (TABLE_NAME, CHANNEL, TOKEN) VALUES (?, ?, ?)", t.Name, channel, end); err != nil {
		return fmt.Errorf("appending to %s on channel %s: committing token %d: %w", t.Name, channel, end, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("appending to %s on channel %s: committing: %w", t.Name, channel, err)
	}
	return nil
}
