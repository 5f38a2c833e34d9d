package views_test

import (
	"context"
	"testing"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
)

func TestSetupAppliesEveryView(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	for i := 0; i < 2; i++ { // idempotent
		if err := views.Setup(ctx, wh); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range views.All() {
		if _, _, err := wh.Query(ctx, "SELECT * FROM "+v.Name); err != nil {
			t.Errorf("%s: %v", v.Name, err)
		}
	}
}
