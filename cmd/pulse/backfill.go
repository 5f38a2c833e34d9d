package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/gold"
	"github.com/pulse-analytics/pulse/shared/port"
)

func init() {
	register("backfill", "compute gold DAU/MAU and sessions for a date range: pulse backfill --from YYYY-MM-DD --to YYYY-MM-DD", runBackfill)
	describe("backfill", "",
		"pulse backfill --from 2024-02-03 --to 2024-02-10 --parallel 4",
		"Recomputes seed 002's gold tables (GOLD_DAILY, and through it the DAU/MAU and session views) for every UTC day\n"+
			"of the range, days in parallel; what the daily gold workflow does on AWS for one day. A range with no app\n"+
			"interactions writes nothing and says so; the views stay anchored to the days with data.")
}

func runBackfill(ctx context.Context, args []string) error {
	fs := newFlags("backfill")
	fromS := fs.String("from", "", "first UTC day, YYYY-MM-DD (default: the first day with app interactions)")
	toS := fs.String("to", "", "last UTC day, YYYY-MM-DD, included (default: the last day with app interactions)")
	parallel := fs.Int("parallel", 4, "days computed at once")
	dir := fs.String("dir", "demo-data", "data folder of the local warehouse (warehouse.duckdb), as pulse demo made it")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait while another pulse process holds the warehouse")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("backfill", "unexpected arguments %q (the range is --from and --to)", fs.Args())
	}
	abs, err := dataFolder("backfill", *dir)
	if err != nil {
		return err
	}
	wh, err := openWarehouse(ctx, abs, true, *wait)
	if err != nil {
		return err
	}
	defer wh.Close()
	return backfill(ctx, os.Stdout, wh, *fromS, *toS, *parallel)
}

// backfill computes the gold days of [from, to] on wh, printing a line per
// day and a summary, then runs the gold data tests. A range without any
// app interactions (a mistyped year, a future date) is not computed: it
// warns and writes nothing. The gold views are anchored to the newest day
// with data in any case (dashboards/views/gold.go).
func backfill(ctx context.Context, w io.Writer, wh port.Warehouse, fromS, toS string, parallel int) error {
	if err := wh.Migrate(ctx, batch.Schemas()); err != nil {
		return err
	}
	if err := views.Setup(ctx, wh); err != nil { // the gold tables and the views over them
		return err
	}
	from, to, err := backfillRange(ctx, wh, fromS, toS)
	if err != nil {
		return err
	}
	days, err := gold.Dates(from, to)
	if err != nil {
		return err
	}
	withData, err := gold.DaysWithData(ctx, wh, from, to)
	if err != nil {
		return err
	}
	if len(withData) == 0 {
		fmt.Fprintf(w, "Warning: no app interactions between %s and %s (%s): nothing computed, the gold views are unchanged\n",
			from.Format(gold.DateLayout), to.Format(gold.DateLayout), coverage(ctx, wh))
		return nil
	}
	if n := len(days) - len(withData); n > 0 {
		fmt.Fprintf(w, "Note: %d of the %d days have no app interactions (%s); they are computed as days without activity\n",
			n, len(days), coverage(ctx, wh))
	}
	fmt.Fprintf(w, "Backfilling gold for %s..%s (%d days, %d at a time)\n", from.Format(gold.DateLayout), to.Format(gold.DateLayout), len(days), parallel)
	start := time.Now()
	_, err = gold.Backfill(ctx, wh, from, to, gold.BackfillOptions{Parallel: parallel, Progress: func(p gold.Progress) {
		width := len(fmt.Sprint(p.Total))
		if p.Err != nil {
			fmt.Fprintf(w, "  [%*d/%d] %s  FAILED: %v\n", width, p.Done, p.Total, p.Date.Format(gold.DateLayout), p.Err)
			return
		}
		r := p.Result
		avg := "-"
		if r.AvgSessionSeconds != nil {
			avg = (time.Duration(*r.AvgSessionSeconds * float64(time.Second))).Round(time.Second).String()
		}
		fmt.Fprintf(w, "  [%*d/%d] %s  DAU %-5d MAU %-5d sessions %-5d avg session %-8s actions %-6d (%s)\n", width, p.Done, p.Total,
			r.Date, r.DAU, r.MAU, r.Sessions, avg, r.Actions, p.Took.Round(time.Millisecond))
	}})
	fmt.Fprintf(w, "Done in %s. MAU above counts the days computed so far; read the final figures with:\n"+
		"  pulse query 'SELECT * FROM GOLD_DAU_MAU ORDER BY DAY'   and   'SELECT * FROM GOLD_SESSION_STATS ORDER BY DAY'\n",
		time.Since(start).Round(time.Millisecond))
	results, terr := datatest.Run(ctx, wh, datatest.Group("gold"), time.Now())
	for _, r := range datatest.Failed(results) {
		fmt.Fprintf(w, "  data test %s\n", r)
	}
	if terr == nil && len(datatest.Failed(results)) == 0 {
		fmt.Fprintf(w, "Gold data tests: %d passed\n", len(results))
	}
	return errors.Join(err, terr)
}

// coverage says which days the warehouse has app interactions for.
func coverage(ctx context.Context, wh port.Warehouse) string {
	first, last, ok, err := gold.PresentRange(ctx, wh)
	switch {
	case err != nil:
		return "the days with data are unknown: " + err.Error()
	case !ok:
		return "the warehouse has no app interactions at all"
	}
	return "the data covers " + first.Format(gold.DateLayout) + ".." + last.Format(gold.DateLayout)
}

// backfillRange parses the flags; a missing end defaults to the first or
// last day with app interactions.
func backfillRange(ctx context.Context, wh port.Warehouse, fromS, toS string) (from, to time.Time, err error) {
	if fromS == "" || toS == "" {
		first, last, ok, err := gold.PresentRange(ctx, wh)
		if err != nil {
			return from, to, err
		}
		if !ok {
			return from, to, errors.New("no app interactions in the warehouse: give --from and --to")
		}
		from, to = first, last
	}
	if fromS != "" {
		if from, err = gold.ParseDate(fromS); err != nil {
			return from, to, fmt.Errorf("--from: %w", err)
		}
	}
	if toS != "" {
		if to, err = gold.ParseDate(toS); err != nil {
			return from, to, fmt.Errorf("--to: %w", err)
		}
	}
	return from, to, nil
}
