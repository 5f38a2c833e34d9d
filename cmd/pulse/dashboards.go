package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pulse-analytics/pulse/dashboards/metabase"
	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/batch"
)

func init() {
	register("dashboards", "Metabase dashboards as code: pulse dashboards push|check|list", runDashboards)
	describe("dashboards", "push|check|list [flags]",
		"pulse dashboards push --url http://localhost:3000 --user admin@example.com --password-env METABASE_PASSWORD",
		dashboardsUsage+"\n\n'pulse dashboards SUBCOMMAND --help' lists a subcommand's flags.")
}

const dashboardsUsage = `subcommands:
  pulse dashboards push  --url URL (--user USER | --session TOKEN | --api-key-env VAR) [--database NAME] [--collection ID] [--only KEYS]
  pulse dashboards check [--dir demo-data]   run every card's SQL on the local warehouse
  pulse dashboards list                      the dashboards and their cards`

func runDashboards(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("dashboards", "no subcommand: push, check or list")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		return flag.ErrHelp
	}
	ds, err := loadDashboards()
	if err != nil {
		return err
	}
	switch args[0] {
	case "push":
		return dashboardsPush(ctx, ds, args[1:])
	case "check":
		return dashboardsCheck(ctx, ds, args[1:])
	case "list":
		return dashboardsList(os.Stdout, ds)
	}
	return usagef("dashboards", "unknown subcommand %q: push, check or list", args[0])
}

func loadDashboards() ([]metabase.Dashboard, error) {
	ds, err := metabase.Dashboards()
	if err != nil {
		return nil, err
	}
	titles := map[string]string{}
	for _, v := range views.All() {
		titles[v.Name] = v.Title
	}
	for i := range ds {
		if err := ds[i].Validate(titles); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

func dashboardsPush(ctx context.Context, ds []metabase.Dashboard, args []string) error {
	fs := newFlags("dashboards push")
	base := fs.String("url", "http://localhost:3000", "Metabase base URL")
	user := fs.String("user", "", "log in as this user; the password is read from the variable named by --password-env")
	passwordEnv := fs.String("password-env", "METABASE_PASSWORD", "environment variable holding --user's password")
	session := fs.String("session", "", "an existing Metabase session token (instead of --user)")
	apiKeyEnv := fs.String("api-key-env", "", "environment variable holding a Metabase API key (instead of --user)")
	database := fs.String("database", "Pulse", "the Metabase database (Admin > Databases) connected to the Snowflake schema with the views")
	collection := fs.Int("collection", 0, "collection id to put the cards and dashboards in (0 = the root collection)")
	only := fs.String("only", "", "comma-separated dashboard keys to push (default: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	auth := metabase.Auth{Session: *session, User: *user}
	if *user != "" {
		auth.Password = os.Getenv(*passwordEnv)
		if auth.Password == "" {
			return fmt.Errorf("--user %s: set the password in $%s", *user, *passwordEnv)
		}
	}
	if *apiKeyEnv != "" {
		if auth.APIKey = os.Getenv(*apiKeyEnv); auth.APIKey == "" {
			return fmt.Errorf("--api-key-env: $%s is empty", *apiKeyEnv)
		}
	}
	if *only != "" {
		var keep []metabase.Dashboard
		for _, k := range strings.Split(*only, ",") {
			found := false
			for _, d := range ds {
				if d.Key == strings.TrimSpace(k) {
					keep, found = append(keep, d), true
				}
			}
			if !found {
				return fmt.Errorf("--only: no dashboard %q", k)
			}
		}
		ds = keep
	}
	opts := metabase.PushOptions{Database: *database}
	if *collection > 0 {
		opts.CollectionID = collection
	}
	c, err := metabase.NewClient(ctx, *base, auth, nil)
	if err != nil {
		return err
	}
	fmt.Printf("Pushing %d dashboards to %s (database %q)\n", len(ds), *base, *database)
	res, err := c.Push(ctx, ds, opts)
	for _, r := range res {
		verb := "updated"
		if r.Created {
			verb = "created"
		}
		fmt.Printf("  %-12s %s: %d cards created, %d updated  %s\n", r.Key, verb, r.CardsCreated, r.CardsUpdated, r.URL)
	}
	return err
}

func dashboardsCheck(ctx context.Context, ds []metabase.Dashboard, args []string) error {
	fs := newFlags("dashboards check")
	dir := fs.String("dir", "demo-data", "data folder of the local warehouse (warehouse.duckdb), as pulse demo made it")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait while another pulse process holds the warehouse")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	abs, err := dataFolder("dashboards check", *dir)
	if err != nil {
		return err
	}
	wh, err := openWarehouse(ctx, abs, true, *wait)
	if err != nil {
		return err
	}
	defer wh.Close()
	if err := wh.Migrate(ctx, batch.Schemas()); err != nil {
		return err
	}
	if err := views.Setup(ctx, wh); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "dashboard\tcard\tview\trows\t")
	var errs []error
	for _, d := range ds {
		for _, c := range d.Cards {
			_, rows, err := wh.Query(ctx, d.RenderSQL(c, nil))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", d.Key, c.Key, err))
				fmt.Fprintf(tw, "%s\t%s\t%s\tFAILED\t\n", d.Key, c.Key, c.View)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t\n", d.Key, c.Key, c.View, len(rows))
		}
	}
	tw.Flush()
	return errors.Join(errs...)
}

func dashboardsList(w io.Writer, ds []metabase.Dashboard) error {
	for _, d := range ds {
		var filters []string
		for _, f := range d.Filters {
			filters = append(filters, f.Slug)
		}
		fmt.Fprintf(w, "%s  %q  refresh %ds  filters: %s\n", d.Key, d.Name, d.RefreshSeconds, strings.Join(filters, ", "))
		for _, c := range d.Cards {
			fmt.Fprintf(w, "  %-34s %-10s %-32s %s\n", c.Key, c.Display, c.View, c.Name)
		}
	}
	return nil
}
