// Command gold is the gold workflow's function: mode "dates" lists the days a run computes (a
// backfill's range, or yesterday and any stale day for the daily rule), mode "gold" computes one day's
// DAU/MAU and session metrics in Snowflake (the Map over dates calls it once per date).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/wire/warehouse"
)

func main() {
	slog.SetDefault(handlers.NewLogger())
	wh, err := warehouse.Open(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("starting the gold function", "error", err)
		os.Exit(1)
	}
	g := &handlers.Gold{Warehouse: wh}
	lambda.Start(handlers.Lambda(handlers.GoldFunction(g.Dates, g.Day)))
}
