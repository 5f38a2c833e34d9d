package handlers

import (
	"context"
	"encoding/json"
	"fmt"
)

// Gold workflow contract (the state machine of infra/stacks/gold.go):
//
//	execution input {"from":"2024-01-01","to":"2024-01-07"} (a backfill) or {"scheduledAt": <RFC 3339>} (the daily rule)
//	gold {"mode":"dates","request": <execution input>} -> {"dates": ["2024-01-01", ...]}
//	gold {"mode":"gold","date":"2024-01-03"}           -> the day's output (one Map item per date)

// GoldFunction is the gold function: mode "dates" passes the payload's
// "request" (the execution input) to dates, mode "gold" (the default)
// passes the payload to day. It is generic so that it wires the gold
// handler's own methods: GoldFunction(g.Dates, g.Day).
func GoldFunction[DIn, DOut, In, Out any](dates func(context.Context, DIn) (DOut, error), day func(context.Context, In) (Out, error)) Func {
	return Modes("gold", map[string]Func{
		"dates": func(ctx context.Context, payload json.RawMessage) (any, error) {
			var in struct {
				Request json.RawMessage `json:"request"`
			}
			if err := json.Unmarshal(payload, &in); err != nil || len(in.Request) == 0 {
				return nil, fmt.Errorf("%w: the dates mode needs the execution input as \"request\"", ErrBadInput)
			}
			return JSON(dates)(ctx, in.Request)
		},
		"gold": JSON(day),
	})
}
