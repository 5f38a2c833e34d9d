package handlers

import (
	"context"
	"fmt"
	"time"
)

// Gold workflow contract (the state machine of infra/stacks/gold.go):
//
//	execution input {"from":"2024-01-01","to":"2024-01-07"} (a backfill) or {"scheduledAt": <RFC 3339>} (the daily rule)
//	gold {"mode":"dates","request": <execution input>} -> DatesOutput
//	gold {"mode":"gold","date":"2024-01-03"}           -> the day handler's output (one Map item per date)

// MaxBackfillDays bounds one backfill execution.
const MaxBackfillDays = 366

// DatesRequest is the gold workflow's input.
type DatesRequest struct {
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	ScheduledAt string `json:"scheduledAt,omitempty"`
}

// DatesInput is the dates mode's payload.
type DatesInput struct {
	Request DatesRequest `json:"request"`
}

// DatesOutput lists the dates a gold execution computes, oldest first.
type DatesOutput struct {
	Dates []string `json:"dates"`
}

// Dates lists the days of a backfill ([from, to], both included) or, for
// the daily schedule, the UTC day before scheduledAt.
func Dates(_ context.Context, in DatesInput) (*DatesOutput, error) {
	r := in.Request
	const day = "2006-01-02"
	if r.ScheduledAt != "" {
		if r.From != "" || r.To != "" {
			return nil, fmt.Errorf("%w: request: give either scheduledAt or from and to", ErrBadInput)
		}
		t, err := time.Parse(time.RFC3339, r.ScheduledAt)
		if err != nil {
			return nil, fmt.Errorf("%w: request.scheduledAt %q is not an RFC 3339 time", ErrBadInput, r.ScheduledAt)
		}
		return &DatesOutput{Dates: []string{t.UTC().AddDate(0, 0, -1).Format(day)}}, nil
	}
	from, err := time.Parse(day, r.From)
	if err != nil {
		return nil, fmt.Errorf("%w: request.from %q is not a date (YYYY-MM-DD)", ErrBadInput, r.From)
	}
	to, err := time.Parse(day, r.To)
	if err != nil {
		return nil, fmt.Errorf("%w: request.to %q is not a date (YYYY-MM-DD)", ErrBadInput, r.To)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("%w: request.to %s is before request.from %s", ErrBadInput, r.To, r.From)
	}
	out := &DatesOutput{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if len(out.Dates) == MaxBackfillDays {
			return nil, fmt.Errorf("%w: request: %s to %s is more than %d days; split the backfill", ErrBadInput, r.From, r.To, MaxBackfillDays)
		}
		out.Dates = append(out.Dates, d.Format(day))
	}
	return out, nil
}

// GoldFunction is the gold function: mode "dates" lists the dates of the
// execution (Dates), mode "gold" computes one date with day. It is generic
// over day's types so that it wires any per-date handler, such as
// (*Gold).Day.
func GoldFunction[In, Out any](day func(context.Context, In) (Out, error)) Func {
	return Modes("gold", map[string]Func{
		"dates": JSON(Dates),
		"gold":  JSON(day),
	})
}
