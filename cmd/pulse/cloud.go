package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/localstack/cloud"
)

func init() {
	register("cloud", "run what `cdk deploy` ships on local stand-ins", runCloud)
	describe("cloud", "", "pulse cloud --dir cloud-data --duration 10m --enforce",
		"Builds every function for this host and synthesizes the CDK app (or takes --assembly), then brings the cloud\n"+
			"assembly up on local stand-ins: the functions under AWS's Lambda emulator with their template environment,\n"+
			"the deployment's custom resources (warehouse schema, Kafka topics), S3 notifications, Kafka mappings, rules\n"+
			"and state machines. On exit it prints every AWS call the functions made, judged against their IAM roles.")
}

// runCloud brings a cloud assembly up on the local stand-ins (localstack/cloud)
// and keeps it up until interrupted (or for --duration), then prints the IAM
// check of every AWS call the functions made.
func runCloud(ctx context.Context, args []string) error {
	fs := newFlags("cloud")
	assembly := fs.String("assembly", "", "a cdk.out synthesized for the local cloud (default: build the functions for this host and synth into --dir)")
	dir := fs.String("dir", "cloud-data", "the run's folder: the functions' logs, the warehouse, S3 objects, the built assembly")
	duration := fs.Duration("duration", 0, "stop after this long (0: on Ctrl-C)")
	schedules := fs.Bool("schedules", true, "run the rate(...) schedules of the EventBridge rules (the idle tick)")
	enforce := fs.Bool("enforce", false, "answer calls the caller's role does not allow with AccessDenied, as IAM would")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	if *assembly == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		fmt.Printf("building the functions for this host and synthesizing the app into %s ...\n", filepath.Join(abs, "cdk.out"))
		p, err := cloud.Prepare(ctx, root, abs, nil)
		if err != nil {
			return err
		}
		fmt.Printf("built in %s, synthesized in %s\n", p.Build.Round(time.Second), p.Synth.Round(time.Second))
		*assembly = p.Assembly
	}
	c, err := cloud.Start(ctx, cloud.Options{Assembly: *assembly, Dir: filepath.Join(abs, "run"), Persist: true, Schedules: *schedules, Enforce: *enforce})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("local cloud of %s is up:\n", *assembly)
	fmt.Printf("  AWS endpoint     %s (AWS_ENDPOINT_URL; access key %s)\n", c.Endpoint(), cloud.TestAccessKey)
	fmt.Printf("  Kafka            %s\n", strings.Join(c.Kafka.Brokers(), ","))
	if c.Snowflake != nil {
		fmt.Printf("  warehouse        %s (DuckDB file %s)\n", c.Snowflake.Addr(), filepath.Join(abs, "run", "warehouse", "warehouse.duckdb"))
	}
	if c.Registry != nil {
		fmt.Printf("  schema registry  %s\n", c.Registry.URL())
	}
	for _, name := range []string{"PulseStorage/Raw", "PulseStorage/Staging", "PulseStorage/Curated", "PulseStorage/Quarantine"} {
		if b := c.BucketName(name); b != "" {
			fmt.Printf("  bucket %-10s %s\n", strings.TrimPrefix(name, "PulseStorage/"), b)
		}
	}
	for _, f := range c.Functions() {
		fmt.Printf("  function %-9s %s (log %s)\n", f.Label, f.Name, filepath.Join(abs, "run", "logs", f.Label+".log"))
	}
	for _, s := range c.Skipped() {
		fmt.Printf("  not run: %s\n", s)
	}
	fmt.Println("drop files with: aws --endpoint-url", c.Endpoint(), "s3 cp FILE s3://"+c.BucketName("PulseStorage/Raw")+"/raw/<dataset>/")
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	<-ctx.Done()
	idle, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = c.Idle(idle)
	rep, err := c.CheckIAM()
	if err != nil {
		return err
	}
	printIAM(rep)
	return nil
}

// printIAM prints the calls made per function and what IAM would say.
func printIAM(rep *cloud.Report) {
	var who []string
	for w := range rep.Calls {
		who = append(who, w)
	}
	sort.Strings(who)
	fmt.Println("\nAWS calls per function (IAM actions on resources):")
	for _, w := range who {
		fmt.Printf("  %s\n", w)
		for _, c := range rep.Calls[w] {
			fmt.Printf("    %s\n", c)
		}
	}
	if len(rep.Denied) == 0 {
		fmt.Println("every call is allowed by its caller's role")
	}
	for _, d := range rep.Denied {
		fmt.Printf("DENIED: %s (%s): %s on %s: %s\n", d.Call.Function, d.Call.Principal, d.Call.Action, d.Call.Resource, d.Reason)
	}
	if len(rep.Unused) > 0 {
		fmt.Println("granted but not used in this run:")
		for _, g := range rep.Unused {
			fmt.Printf("  %s\n", g)
		}
	}
}

// repoRoot is the folder above the working directory holding go.mod.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run pulse cloud from the repository, or pass --assembly", wd)
		}
	}
}
