package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

func goldWarehouse(t *testing.T, ingested time.Time) *duckdb.Warehouse {
	t.Helper()
	ctx := context.Background()
	wh := duckdbtest.New(t)
	var rows []table.Row
	for i, at := range []time.Time{
		time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 9, 10, 0, 0, time.UTC), // u1: one 600 s session
		time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC), // u2
		time.Date(2024, 3, 3, 8, 0, 0, 0, time.UTC),  // u1 two days later
	} {
		user := "u1"
		if i == 2 {
			user = "u2"
		}
		rows = append(rows, table.Row{table.Str(string(rune('a' + i))), table.Str("s"), table.Str(user), table.Int64(at.UnixMicro()),
			table.Int64(at.Unix() / 86400), table.Str("edit"), table.Str("p"), table.Int64(1000), table.Str("1"),
			table.Int64(ingested.UnixMicro()), table.Str("t")})
	}
	if _, err := wh.Merge(ctx, *star.FactAppInteractions, rows); err != nil {
		t.Fatal(err)
	}
	return wh
}

func TestGoldDay(t *testing.T) {
	now := time.Date(2024, 3, 4, 2, 30, 0, 0, time.UTC)
	g := &handlers.Gold{Warehouse: goldWarehouse(t, now.Add(-24*time.Hour)), Now: func() time.Time { return now }}
	ctx := context.Background()
	if _, err := g.Day(ctx, handlers.GoldDayInput{Date: "03/01/2024"}); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("bad date: error %v", err)
	}
	var in handlers.GoldDayInput
	if err := json.Unmarshal([]byte(`{"mode":"gold","date":"2024-03-01"}`), &in); err != nil { // what the Map sends
		t.Fatal(err)
	}
	out, err := g.Day(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	for _, want := range []string{`"date":"2024-03-01"`, `"dau":2`, `"mau":2`, `"sessions":2`, `"avgSessionSeconds":300`,
		`"avgActionsPerSession":1.5`, `"computedAt":"2024-03-04T02:30:00Z"`, `"dataTests":4`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output %s lacks %s", b, want)
		}
	}
	if len(out.DataTestFailures) != 0 {
		t.Errorf("gold data tests failed: %v", out.DataTestFailures)
	}
	// Day 3 sees day 1's users in its MAU.
	out, err = g.Day(ctx, handlers.GoldDayInput{Date: "2024-03-03"})
	if err != nil || out.DAU != 1 || out.MAU != 2 || out.AvgSessionSeconds == nil || *out.AvgSessionSeconds != 0 {
		t.Errorf("day 3: %+v %v", out, err)
	}
}

func TestGoldDates(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 3, 4, 2, 30, 0, 0, time.UTC)
	g := &handlers.Gold{Warehouse: goldWarehouse(t, now.Add(-24*time.Hour)), Now: func() time.Time { return now }}
	out, err := g.Dates(ctx, handlers.GoldDatesInput{From: "2024-02-28", To: "2024-03-02"})
	if err != nil || strings.Join(out.Dates, " ") != "2024-02-28 2024-02-29 2024-03-01 2024-03-02" {
		t.Errorf("range: %v %v", out, err)
	}
	// Scheduled: the day before, plus the days with facts and no gold.
	out, err = g.Dates(ctx, handlers.GoldDatesInput{ScheduledAt: "2024-03-05T02:30:00Z"})
	if err != nil || strings.Join(out.Dates, " ") != "2024-03-01 2024-03-03 2024-03-04" {
		t.Errorf("scheduled: %v %v", out, err)
	}
	if _, err := g.Day(ctx, handlers.GoldDayInput{Date: "2024-03-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Day(ctx, handlers.GoldDayInput{Date: "2024-03-03"}); err != nil {
		t.Fatal(err)
	}
	out, err = g.Dates(ctx, handlers.GoldDatesInput{ScheduledAt: "2024-03-05T02:30:00Z"})
	if err != nil || strings.Join(out.Dates, " ") != "2024-03-04" {
		t.Errorf("scheduled after computing: %v %v", out, err)
	}
	for _, in := range []handlers.GoldDatesInput{{}, {From: "2024-03-02", To: "2024-03-01"}, {ScheduledAt: "yesterday"}} {
		if _, err := g.Dates(ctx, in); err == nil {
			t.Errorf("%+v accepted", in)
		}
	}
}
