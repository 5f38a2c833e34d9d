package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/port"
)

// printStep is the stack's progress callback for a terminal.
func printStep(w io.Writer) func(stack.StepEvent) {
	return func(e stack.StepEvent) {
		status := "ok"
		if e.Err != nil {
			status = "FAILED: " + e.Err.Error()
		}
		extra := ""
		if e.Err == nil && e.Manifest != nil {
			switch e.Step {
			case "Clean":
				extra = e.Manifest.Counts.String()
			case "Model":
				extra = fmt.Sprintf("%d curated files", len(e.Manifest.Curated))
			case "Load":
				n := 0
				for _, v := range e.Manifest.Inserted {
					n += v
				}
				extra = fmt.Sprintf("%d new warehouse rows", n)
			}
		}
		attempt := ""
		if e.Attempt > 1 {
			attempt = fmt.Sprintf(" (attempt %d)", e.Attempt)
		}
		fmt.Fprintf(w, "    %-10s %-4s %6s%s  %s\n", e.Step, status, e.Took.Round(time.Millisecond), attempt, extra)
	}
}

// printAccounting prints one line per run: the manifest's counts.
func printAccounting(w io.Writer, runs []stack.Run) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tdataset\treceived\tloaded\trejected\tduplicate\tbalanced\tstatus\t")
	for _, r := range runs {
		if r.Manifest == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\tquarantined: %v\t\n", r.Drop.Key, r.Err)
			continue
		}
		c := r.Manifest.Counts
		status := r.Manifest.Status
		if r.Err != nil {
			status = "failed: " + r.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\t%s\t\n", strings.TrimPrefix(r.Drop.Key, "raw/"), r.Manifest.Dataset,
			c.Received, c.Loaded, c.Rejected, c.Duplicate, c.Balanced(), status)
	}
	tw.Flush()
}

// printQuery runs a query and prints it as a table.
func printQuery(ctx context.Context, w io.Writer, wh port.Warehouse, title, sql string) error {
	cols, rows, err := wh.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("%s: %w", title, err)
	}
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for _, r := range rows {
		var cells []string
		for _, v := range r {
			switch x := v.(type) {
			case float64:
				cells = append(cells, fmt.Sprintf("%.2f", x))
			case time.Time:
				if x.Equal(x.Truncate(24 * time.Hour)) {
					cells = append(cells, x.UTC().Format("2006-01-02"))
				} else {
					cells = append(cells, x.UTC().Format("2006-01-02 15:04:05"))
				}
			case nil:
				cells = append(cells, "NULL")
			default:
				cells = append(cells, fmt.Sprint(x))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}
