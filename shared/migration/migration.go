// Package migration is the warehouse's versioned DDL as one deployable
// step: the tables Pulse loads (with the data-test results table), the gold
// tables, and every view (the batch, stream, gold and health views and the
// MART_* marts), in dependency order. The deployment applies it through
// the schema function (a CloudFormation custom resource, functions/schema)
// on every deploy whose DDL changed; the loads migrate their tables again,
// idempotently, before each load.
package migration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/star"
)

// Apply brings wh to the current DDL: the loaded tables, the gold tables
// and the views. Running it again changes nothing.
func Apply(ctx context.Context, wh port.Warehouse) error {
	if err := wh.Migrate(ctx, batch.Schemas()); err != nil {
		return fmt.Errorf("migrating the warehouse tables: %w", err)
	}
	if err := views.Setup(ctx, wh); err != nil {
		return fmt.Errorf("creating the gold tables and views: %w", err)
	}
	return nil
}

// Statements is the DDL Apply sends to a Snowflake warehouse that has
// none of it yet, in order (the migrations table's bookkeeping aside).
func Statements() []string {
	d := sqlmodel.Snowflake
	var out []string
	for _, s := range batch.Schemas() {
		out = append(out, d.CreateTable(s))
	}
	for _, s := range star.Gold() {
		out = append(out, d.CreateTable(s))
	}
	for _, v := range views.All() {
		out = append(out, "CREATE OR REPLACE VIEW "+v.Name+" AS "+v.SQLFor(d))
	}
	return out
}

// Digest identifies the DDL: the deployment passes it to the custom
// resource, so that CloudFormation runs the migration again exactly when
// the DDL changed.
func Digest() string {
	h := sha256.New()
	for _, s := range Statements() {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
