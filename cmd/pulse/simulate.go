package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events/sim"
)

func init() {
	register("simulate", "produce realistic event streams to Kafka (JSON, or Avro through a schema registry)", runSimulate)
	describe("simulate", "",
		"pulse simulate --rate 200 --duration 30s --format json --brokers 127.0.0.1:9092",
		"Produces all 13 topics of the seeds (social_sales, pageviews, consumer events, ...) at --rate events per second,\n"+
			"with duplicates, late and malformed events in the given percentages, to the brokers (the demo's by default:\n"+
			"run it beside pulse demo). It checks the brokers answer before producing, and stops after --duration or\n"+
			"--events, or on Ctrl-C.")
}

// simFlags are the simulator's flags, shared with the demo.
type simFlags struct {
	rate, dup, late, malformed *float64
	seed                       *int64
	format                     *string
}

// addSimFlags registers the simulator's flags, each name prefixed. The
// demo passes seed 0: a new seed from the clock each run.
func addSimFlags(fs *flag.FlagSet, prefix string, rate float64, format string, seed int64) simFlags {
	return simFlags{
		rate:      fs.Float64(prefix+"rate", rate, "events per second over all topics"),
		dup:       fs.Float64(prefix+"dup", 2, "percent of events re-sent verbatim (duplicates)"),
		late:      fs.Float64(prefix+"late", 2, "percent of events delivered 6-20 minutes after their event time"),
		malformed: fs.Float64(prefix+"malformed", 1, "percent of events with broken bytes"),
		seed:      fs.Int64(prefix+"seed", seed, "seed: the same seed and start give the same events (0: from the clock)"),
		format:    fs.String(prefix+"format", format, "json, avro (Confluent wire format through the registry) or mixed (seed 003 topics Avro, the rest JSON)"),
	}
}

func (f simFlags) config() sim.Config {
	return sim.Config{Seed: *f.seed, Rate: *f.rate, DuplicatePct: *f.dup, LatePct: *f.late, MalformedPct: *f.malformed, Format: *f.format}
}

func runSimulate(ctx context.Context, args []string) error {
	fs := newFlags("simulate")
	brokers := fs.String("brokers", "127.0.0.1:9092", "Kafka bootstrap servers, comma separated (the demo's cluster by default)")
	registry := fs.String("registry", "", "schema registry URL (needed for avro and mixed; the demo prints it)")
	duration := fs.Duration("duration", 0, "stop after this much time (0: until --events or Ctrl-C)")
	events := fs.Int("events", 0, "stop after this many events (0: no limit)")
	start := fs.String("start", "", "event time of the first event, RFC 3339 (default: now)")
	sf := addSimFlags(fs, "", 100, sim.FormatJSON, 1)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("simulate", "unexpected arguments %q (every setting is a flag)", fs.Args())
	}
	switch *sf.format {
	case sim.FormatJSON, sim.FormatAvro, sim.FormatMixed:
	default:
		return usagef("simulate", "--format %q: want json, avro or mixed", *sf.format)
	}
	if *sf.rate <= 0 {
		return usagef("simulate", "--rate %g: want events per second above 0", *sf.rate)
	}
	if *duration < 0 || *events < 0 {
		return usagef("simulate", "--duration and --events cannot be negative")
	}
	if *sf.format != sim.FormatJSON && *registry == "" {
		return usagef("simulate", "--format %s needs --registry URL (the demo prints its schema registry's URL)", *sf.format)
	}
	cfg := sf.config()
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	cfg.Duration, cfg.MaxEvents = *duration, *events
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return fmt.Errorf("--start %q: %w", *start, err)
		}
		cfg.Start = t
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("connecting to Kafka at %s: %w", *brokers, err)
	}
	defer client.Close()
	// A broker that does not answer fails now, not after a silent wait.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = client.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("no Kafka broker answers at %s within 5s (is pulse demo running? it serves 127.0.0.1:9092): %w", *brokers, err)
	}
	if *duration > 0 {
		// --duration bounds the wall time too, whatever the brokers do.
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, *duration+2*time.Second)
		defer stop()
	}
	var reg *sr.Client
	if cfg.Format != sim.FormatJSON {
		if reg, err = sr.NewClient(sr.URLs(*registry)); err != nil {
			return fmt.Errorf("schema registry %s: %w", *registry, err)
		}
	}
	fmt.Printf("Simulating %s events at %g/s to %s (duplicates %g%%, late %g%%, malformed %g%%, seed %d); Ctrl-C stops\n",
		cfg.Format, cfg.Rate, *brokers, cfg.DuplicatePct, cfg.LatePct, cfg.MalformedPct, cfg.Seed)
	stats, err := sim.Run(ctx, cfg, client, reg, simProgress(os.Stdout))
	fmt.Println()
	printSimStats(os.Stdout, stats)
	return err
}

// simProgress prints one line a second with the acknowledged events.
func simProgress(w io.Writer) func(sim.Stats) {
	return func(s sim.Stats) {
		rate := 0.0
		if s.Elapsed > 0 {
			rate = float64(s.Events) / s.Elapsed.Seconds()
		}
		fmt.Fprintf(w, "\r  %6s  %8d events  %7.1f/s  %6d KB  dup %d  late %d  malformed %d   ", s.Elapsed.Round(time.Second),
			s.Events, rate, s.Bytes/1024, s.ByKind[sim.KindDuplicate], s.ByKind[sim.KindLate], s.ByKind[sim.KindMalformed])
	}
}

func printSimStats(w io.Writer, s sim.Stats) {
	topics := make([]string, 0, len(s.ByTopic))
	for t := range s.ByTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var parts []string
	for _, t := range topics {
		parts = append(parts, fmt.Sprintf("%s %d", t, s.ByTopic[t]))
	}
	fmt.Fprintf(w, "Produced %d events (%d KB) in %s: %s\n", s.Events, s.Bytes/1024, s.Elapsed.Round(time.Millisecond), strings.Join(parts, ", "))
}
