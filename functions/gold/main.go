// Command gold is the gold workflow's function: mode "dates" lists the days a run computes (a
// backfill's range, or yesterday and any stale day for the daily rule), mode "gold" computes one day's
// DAU/MAU and session metrics in Snowflake (the Map over dates calls it once per date).
package main

import (
	"context"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() { wire.Start("gold", build) }

func build(ctx context.Context, getenv func(string) string) (any, error) {
	wh, err := warehouse.Open(ctx, getenv)
	if err != nil {
		return nil, err
	}
	g := &handlers.Gold{Warehouse: wh}
	return handlers.Lambda(handlers.GoldFunction(g.Dates, g.Day)), nil
}
