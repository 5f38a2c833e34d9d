package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/star"
)

// Gold workflow contract (the daily gold and backfill state machine):
//
//	ListDates:   GoldDatesInput -> GoldDatesOutput (the days to compute)
//	GoldForDate: GoldDayInput   -> GoldDayOutput   (one day, run by a Map over the dates)
//
// The rules are shared/gold's: DAU, sessions (30-minute gap, split at
// midnight) and the per-day active users the GOLD_DAU_MAU view turns into a
// rolling 30-day MAU. Days are independent, so the Map may run them in any
// order and in parallel, and a retried day changes nothing.

// GoldDayInput names one UTC day, YYYY-MM-DD.
type GoldDayInput struct {
	Date string `json:"date"`
}

// GoldDayOutput is the computed day and the gold data tests run after it.
type GoldDayOutput struct {
	gold.DayResult
	ComputedAt       time.Time `json:"computedAt"`
	DataTests        int       `json:"dataTests"`
	DataTestFailures []string  `json:"dataTestFailures,omitempty"` // "<test> on <table>: <n> failing rows"
}

// GoldDatesInput asks for the days to compute: a backfill range (From and
// To, YYYY-MM-DD, both included), or a scheduled run (ScheduledAt, RFC
// 3339: the day before it, plus every stale day, see gold.StaleDays).
type GoldDatesInput struct {
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	ScheduledAt string `json:"scheduledAt,omitempty"`
}

// GoldDatesOutput lists days, YYYY-MM-DD, oldest first.
type GoldDatesOutput struct {
	Dates []string `json:"dates"`
}

// StaleMargin is how long before a day's gold was computed a file may have
// been ingested and still been loaded after it (the batch workflow's
// timeout), for GoldDatesInput.ScheduledAt.
const StaleMargin = time.Hour

// Gold computes the gold layer in a warehouse.
type Gold struct {
	Warehouse port.Warehouse
	Now       func() time.Time // default time.Now

	mu       sync.Mutex
	migrated bool
}

func (g *Gold) now() time.Time {
	if g.Now != nil {
		return g.Now().UTC()
	}
	return time.Now().UTC()
}

// migrate creates the gold tables once per process (again after a failure).
func (g *Gold) migrate(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.migrated {
		return nil
	}
	if err := gold.Migrate(ctx, g.Warehouse); err != nil {
		return err
	}
	g.migrated = true
	return nil
}

// Day computes one UTC day's gold, replacing what an earlier run of the
// day left, then runs the gold data tests (failures are reported in the
// output, not as an error).
func (g *Gold) Day(ctx context.Context, in GoldDayInput) (*GoldDayOutput, error) {
	if g.Warehouse == nil {
		return nil, errors.New("gold: no warehouse configured")
	}
	date, err := gold.ParseDate(in.Date)
	if err != nil {
		return nil, fmt.Errorf("gold day input: %w", err)
	}
	if err := g.migrate(ctx); err != nil {
		return nil, err
	}
	at := g.now()
	res, err := gold.Day(ctx, g.Warehouse, date, at)
	if err != nil {
		return nil, err
	}
	tests := datatest.ForTables(star.GoldSessions.Name, star.GoldActiveUsers.Name, star.GoldDaily.Name)
	results, err := datatest.Run(ctx, g.Warehouse, tests, at)
	if err != nil {
		return nil, fmt.Errorf("gold %s: %w", in.Date, err)
	}
	out := &GoldDayOutput{DayResult: *res, ComputedAt: at, DataTests: len(results)}
	for _, r := range datatest.Failed(results) {
		out.DataTestFailures = append(out.DataTestFailures, r.String())
	}
	return out, nil
}

// Dates lists the days a gold workflow run computes.
func (g *Gold) Dates(ctx context.Context, in GoldDatesInput) (*GoldDatesOutput, error) {
	var days []time.Time
	switch {
	case in.From != "" || in.To != "":
		from, err := gold.ParseDate(in.From)
		if err != nil {
			return nil, fmt.Errorf("gold dates input from: %w", err)
		}
		to, err := gold.ParseDate(in.To)
		if err != nil {
			return nil, fmt.Errorf("gold dates input to: %w", err)
		}
		if days, err = gold.Dates(from, to); err != nil {
			return nil, err
		}
	case in.ScheduledAt != "":
		at, err := time.Parse(time.RFC3339, in.ScheduledAt)
		if err != nil {
			return nil, fmt.Errorf("gold dates input scheduledAt %q: want RFC 3339", in.ScheduledAt)
		}
		if g.Warehouse == nil {
			return nil, errors.New("gold: no warehouse configured")
		}
		if err := g.migrate(ctx); err != nil {
			return nil, err
		}
		stale, err := gold.StaleDays(ctx, g.Warehouse, StaleMargin)
		if err != nil {
			return nil, err
		}
		y, m, d := at.UTC().AddDate(0, 0, -1).Date()
		yesterday := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		seen := map[time.Time]bool{}
		for _, t := range append(stale, yesterday) {
			if !seen[t] && !t.After(yesterday) {
				seen[t] = true
				days = append(days, t)
			}
		}
		slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	default:
		return nil, errors.New("gold dates input: give from and to, or scheduledAt")
	}
	out := &GoldDatesOutput{Dates: make([]string, len(days))}
	for i, t := range days {
		out.Dates[i] = t.Format(gold.DateLayout)
	}
	return out, nil
}
