// Package views holds the SQL views the dashboards read (Metabase, Pulse's
// web dashboard, `pulse query`), one per seed dashboard, plus the seed 003
// marts and the health views, and applies them with CREATE OR REPLACE VIEW.
//
// Views are written once in the SQL DuckDB and Snowflake share; where the
// dialects differ (date arithmetic), a view is built from a function of the
// dialect that calls shared/sqlmodel, and Apply picks the dialect
// of the warehouse it is given. Every view's columns are listed in the doc
// comment of its variable; every view has a one-line Title for dashboards.
//
// The groups, in the order Setup applies them:
//
//	Batch     seed 000 engagement views over the star schema, and PIPELINE_HEALTH
//	Social    seed 001 social-media sales views
//	Pageview  seed 004 page-view views
//	Consumer  seed 003 stream metrics and the marts (MART_*)
//	Gold      seed 002 DAU/MAU and session views
//	Health    DATA_TEST_RESULTS
//
// Results never depend on the wall clock: "the last 5 minutes", "the past
// year" and "inactive" are measured back from the newest data, so a view
// over the same rows always returns the same answer.
package views

import (
	"context"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

// View is one named view.
type View struct {
	Name  string
	Title string // what a dashboard calls it, one line
	SQL   string // the SELECT, in the DuckDB dialect
	// For, when set, writes the SELECT for a dialect (SQL is For(DuckDB)).
	For func(d sqlmodel.Dialect) string
}

// SQLFor is the view's SELECT in dialect d.
func (v View) SQLFor(d sqlmodel.Dialect) string {
	if v.For != nil {
		return v.For(d)
	}
	return v.SQL
}

// dialectView is a view whose SELECT depends on the dialect.
func dialectView(name, title string, f func(d sqlmodel.Dialect) string) View {
	return View{Name: name, Title: title, SQL: f(sqlmodel.DuckDB), For: f}
}

// dateAdd is sqlmodel's DateAdd for a unit known to be valid.
func dateAdd(d sqlmodel.Dialect, unit string, n int, expr string) string {
	s, err := d.DateAdd(unit, fmt.Sprint(n), expr)
	if err != nil {
		panic(err) // a fixed unit in this package
	}
	return s
}

// All is every view, in dependency order.
func All() []View {
	var out []View
	for _, g := range [][]View{Batch, Social, Pageview, Consumer, Gold, Health} {
		out = append(out, g...)
	}
	return out
}

// Lookup returns the named view.
func Lookup(name string) (View, bool) {
	for _, v := range All() {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

// Apply creates or replaces the views, in order, in the dialect of wh
// (sqlmodel.Of).
func Apply(ctx context.Context, wh port.Warehouse, vs []View) error {
	d := sqlmodel.Of(wh)
	for _, v := range vs {
		if err := wh.Exec(ctx, "CREATE OR REPLACE VIEW "+v.Name+" AS "+v.SQLFor(d)); err != nil {
			return fmt.Errorf("creating view %s: %w", v.Name, err)
		}
	}
	return nil
}

// Setup makes a migrated warehouse (batch.Schemas) ready for the
// dashboards: it creates the gold tables the gold views read and applies
// All. Running it again changes nothing.
func Setup(ctx context.Context, wh port.Warehouse) error {
	if err := gold.Migrate(ctx, wh); err != nil {
		return err
	}
	return Apply(ctx, wh, All())
}
