package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/web"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/gold"
)

// startDemoDashboard serves the web dashboard over the demo's warehouse.
// A busy port falls back to a free one, so a second demo still shows its
// dashboard. addr "off" serves none.
func startDemoDashboard(ctx context.Context, st *stack.Stack, addr string) (*web.Server, error) {
	if addr == "off" || addr == "" {
		return nil, nil
	}
	h, err := web.New(st.Warehouse, web.Options{Profiles: func(ctx context.Context) ([]batch.Profile, error) {
		return batch.LatestProfiles(ctx, st.Env.Store, stack.Buckets.Staging)
	}})
	if err != nil {
		return nil, err
	}
	srv, err := web.Serve(ctx, addr, h)
	if err != nil {
		host, _, serr := net.SplitHostPort(addr)
		if serr != nil {
			return nil, err
		}
		fmt.Printf("  dashboard: %s is busy (%v); using a free port\n", addr, err)
		if srv, err = web.Serve(ctx, net.JoinHostPort(host, "0"), h); err != nil {
			return nil, err
		}
	}
	fmt.Printf("  dashboard: %s   pipeline health: %spipeline\n", srv.URL, srv.URL)
	return srv, nil
}

// demoGold recomputes the seed-002 gold layer (DAU/MAU, sessions) for the
// days present, then the batch, gold and marts data tests, as the daily
// gold workflow and the batch workflow's DataTests step do on AWS.
func demoGold(ctx context.Context, st *stack.Stack) error {
	now := time.Now()
	from, to, err := gold.Refresh(ctx, st.Warehouse, now)
	if err != nil {
		return fmt.Errorf("refreshing gold: %w", err)
	}
	var tests []datatest.Test
	for _, g := range []string{"star", "gold", "marts"} {
		tests = append(tests, datatest.Group(g)...)
	}
	results, err := datatest.Run(ctx, st.Warehouse, tests, now)
	if err != nil {
		return fmt.Errorf("running data tests: %w", err)
	}
	failed := datatest.Failed(results)
	if !from.IsZero() {
		fmt.Printf("  gold: DAU/MAU and sessions for %s to %s; data tests: %d pass, %d fail\n",
			from.Format(gold.DateLayout), to.Format(gold.DateLayout), len(results)-len(failed), len(failed))
	}
	for _, r := range failed {
		fmt.Printf("    %s\n", r)
	}
	return nil
}
