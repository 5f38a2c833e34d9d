package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/datatest"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// demoStreamFlags are the demo's stream-side flags.
type demoStreamFlags struct {
	on           *bool
	kafkaPort    *int
	registryPort *int
	batchSize    *int
	sim          simFlags
}

func addDemoStreamFlags(fs *flag.FlagSet) demoStreamFlags {
	return demoStreamFlags{
		on:           fs.Bool("stream", true, "run the stream path (Kafka, the simulator, the stream handler) beside the batch path"),
		kafkaPort:    fs.Int("kafka-port", 9092, "port of the local Kafka cluster on 127.0.0.1 (kcat -b 127.0.0.1:9092 works)"),
		registryPort: fs.Int("registry-port", 0, "port of the local schema registry (0: a free port, printed)"),
		// Each topic's mapping holds up to a batch in memory, and 13
		// topics' worth at once while they wait for the stream pipeline:
		// 2,000 records lets the mappings keep up at thousands of events
		// a second without that growing past a few tens of MB. At the
		// default rate the 500 ms window closes batches long before.
		batchSize: fs.Int("batch-size", 2000, "records per stream invocation at most (Lambda allows 1 to 10,000 for MSK)"),
		sim:       addSimFlags(fs, "sim-", 50, sim.FormatMixed, 0),
	}
}

// demoStream is the stream side of the demo: the simulator producing to
// the local Kafka cluster while the event-source mappings run the handler.
type demoStream struct {
	st     *stack.Stack
	ss     *stack.Stream
	client *kgo.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	stats  sim.Stats
	err    error

	// What the mappings gave up on, read at the stop.
	gaps   []stream.Gap
	failed []handlers.StoredBatch
}

func startDemoStream(ctx context.Context, st *stack.Stack, f demoStreamFlags) (*demoStream, error) {
	ss, err := st.StartStream(ctx, stack.StreamOptions{KafkaPort: *f.kafkaPort, RegistryPort: *f.registryPort,
		BatchSize: *f.batchSize, BatchWindow: 500 * time.Millisecond, TickEvery: 5 * time.Second, DataTestsEvery: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("starting the stream side (is port %d free? --kafka-port picks another): %w", *f.kafkaPort, err)
	}
	brokers, err := ss.Brokers()
	if err != nil {
		return nil, err
	}
	fmt.Printf("  Kafka (kfake): %s, %d topics; produce yourself with: kcat -b %s -t social_sales -P\n", brokers[0], len(ss.Topics), brokers[0])
	fmt.Printf("  schema registry (srfake): %s\n", ss.Registry.URL())
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("connecting the simulator: %w", err)
	}
	reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
	if err != nil {
		client.Close()
		return nil, err
	}
	cfg := f.sim.config()
	if cfg.Seed == 0 {
		// A new stream each run: the dedupe store in --dir remembers every
		// earlier run's keys, and the same seed would resend the same ids.
		cfg.Seed = time.Now().UnixNano()
	}
	runCtx, cancel := context.WithCancel(ctx)
	d := &demoStream{st: st, ss: ss, client: client, cancel: cancel}
	fmt.Printf("  simulator: %s events at %g/s (duplicates %g%%, late %g%%, malformed %g%%, seed %d), event time = now\n",
		cfg.Format, cfg.Rate, cfg.DuplicatePct, cfg.LatePct, cfg.MalformedPct, cfg.Seed)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		s, err := sim.Run(runCtx, cfg, client, reg, func(s sim.Stats) {
			d.mu.Lock()
			d.stats = s
			d.mu.Unlock()
		})
		d.mu.Lock()
		d.stats, d.err = s, err
		d.mu.Unlock()
	}()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				d.progress()
			}
		}
	}()
	return d, nil
}

// progress prints one line about the stream side.
func (d *demoStream) progress() {
	d.mu.Lock()
	produced := d.stats.Events
	d.mu.Unlock()
	var total port.Counts
	for _, c := range d.ss.Counts() {
		total.Received += c.Received
		total.Loaded += c.Loaded
		total.Rejected += c.Rejected
		total.Duplicate += c.Duplicate
		total.Late += c.Late
	}
	q, n := d.ss.Latency(0.5, 0.99)
	fmt.Printf("  stream: produced %d, %s; produce-to-warehouse p50 %s p99 %s (%d records)\n",
		produced, total, q[0].Round(time.Millisecond), q[1].Round(time.Millisecond), n)
}

// stop ends the simulator, lets the mappings finish what was produced,
// and stops them.
func (d *demoStream) stop(wait time.Duration) error {
	d.cancel()
	d.wg.Wait()
	d.client.Close()
	d.mu.Lock()
	produced, err := int64(d.stats.Events), d.err
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if werr := d.ss.WaitCommitted(ctx, produced); werr != nil {
		fmt.Printf("  stream: not everything produced was handled in %s: %v\n", wait, werr)
	}
	d.progress()
	// Close the windows the clock has passed; the ones still open stay open
	// (their rows are partial, FINAL false) in the data folder, with Kafka's
	// records and offsets, and the next `pulse demo` on it goes on with
	// them: flushing here would close windows that events of the next run
	// belong in.
	if _, terr := d.ss.Pipeline.Tick(ctx); terr != nil {
		fmt.Printf("  stream: closing the windows the clock passed: %v\n", terr)
	}
	var gerr error
	if d.gaps, gerr = d.ss.Pipeline.Gaps(ctx); gerr != nil {
		fmt.Printf("  stream: reading the offsets not processed: %v\n", gerr)
	}
	if d.failed, gerr = d.st.FailedBatches().List(ctx); gerr != nil {
		fmt.Printf("  stream: listing the failed batches: %v\n", gerr)
	}
	d.ss.Close()
	fmt.Printf("  stream: Kafka, window and session state kept in %s; open windows go on in the next run on this folder\n",
		filepath.Join(d.st.Dir, "stream"))
	return err
}

// printStreamSummary prints the stream side's accounting and a taste of
// each metric table.
func printStreamSummary(ctx context.Context, w io.Writer, d *demoStream) error {
	fmt.Fprintln(w, "\nPer-topic accounting of the stream path (received = loaded + rejected + duplicate; late: of the loaded, arrived after")
	fmt.Fprintln(w, "their windows had closed, in the fact tables and in PULSE_LATE_EVENTS with the windows they missed):")
	counts := d.ss.Counts()
	topics := make([]string, 0, len(counts))
	for t := range counts {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "topic\treceived\tloaded\tof which late\trejected\tduplicate\tbalanced\t")
	for _, t := range topics {
		c := counts[t]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%v\t\n", t, c.Received, c.Loaded, c.Late, c.Rejected, c.Duplicate, c.Balanced())
	}
	tw.Flush()
	q, n := d.ss.Latency(0.5, 0.99)
	fmt.Fprintf(w, "Produce-to-warehouse latency over %d records: p50 %s, p99 %s (batching window 500 ms)\n", n, q[0].Round(time.Millisecond), q[1].Round(time.Millisecond))
	fmt.Fprintf(w, "Rejected stream messages are in s3://%s/stream/<topic>/ and PULSE_REJECTS; after a fix, replay them with: pulse replay --dir %s --dataset TOPIC\n",
		stack.Buckets.Quarantine, d.st.Dir)
	printFailedBatches(w, d.gaps, d.failed, d.st.Dir)
	wh := d.st.Warehouse
	for _, qq := range []struct{ title, sql, empty string }{
		{"Visitors, conversion and bounce per platform, last 5-minute windows (SOCIAL_PLATFORM_METRICS)",
			"SELECT PLATFORM, WINDOW_START, VISITORS, AVG_CONVERSION_RATE, AVG_BOUNCE_RATE, TOP_CITY_BY_USERS, TOP_CITY_BY_SALES, FINAL FROM SOCIAL_PLATFORM_METRICS ORDER BY WINDOW_START DESC, PLATFORM LIMIT 5", ""},
		{"User registrations per hour, tumbling and sliding (USER_REGISTRATION_METRICS)",
			"SELECT WINDOW_TYPE, WINDOW_START, WINDOW_END, REGISTRATION_COUNT, FINAL FROM USER_REGISTRATION_METRICS ORDER BY WINDOW_START DESC, WINDOW_TYPE LIMIT 5", ""},
		{"Active sessions and mean session duration (SESSION_METRICS, latest minutes)",
			"SELECT METRIC_TIME, ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION, COMPLETED_SESSIONS, TIMED_OUT_SESSIONS FROM SESSION_METRICS ORDER BY METRIC_TIME DESC LIMIT 3",
			"none yet: sign-ins and sign-outs come on two topics and are paired in event-time order once both topics are 5 minutes (the allowed lateness) past them; run the demo longer, or again on this folder"},
		{"Top movies by sales today (MOVIE_SALES_METRICS, daily)",
			"SELECT m.TITLE, s.TOTAL_SALES, s.PURCHASES FROM MOVIE_SALES_METRICS s JOIN MOVIES m ON m.ITEM_ID = s.MOVIE_ID WHERE s.WINDOW_TYPE = 'daily' ORDER BY s.WINDOW_START DESC, s.TOTAL_SALES DESC LIMIT 5",
			"none yet: checkouts are joined to their carts in event-time order once both topics are 5 minutes (the allowed lateness) past them; run the demo longer, or again on this folder"},
		{"Page views per source, 1-minute tumbling windows (PAGEVIEW_WINDOW_METRICS)",
			"SELECT PAGE_SOURCE, WINDOW_START, PAGEVIEWS, USERS, FINAL FROM PAGEVIEW_WINDOW_METRICS WHERE WINDOW_TYPE = 'tumbling' ORDER BY WINDOW_START DESC, PAGE_SOURCE LIMIT 3", ""},
		{"Late events by dataset and window (PULSE_LATE_EVENTS)",
			"SELECT DATASET, WINDOW_TYPE, COUNT(*) AS EVENTS FROM PULSE_LATE_EVENTS GROUP BY DATASET, WINDOW_TYPE ORDER BY EVENTS DESC LIMIT 8",
			"none yet: the simulator holds late events back 6-20 minutes before sending them"},
	} {
		if qq.empty != "" {
			n, err := datatest.Count(ctx, wh, "SELECT COUNT(*) FROM ("+qq.sql+")")
			if err != nil {
				return err
			}
			if n == 0 {
				fmt.Fprintf(w, "\n%s\n  %s\n", qq.title, qq.empty)
				continue
			}
		}
		if err := printQuery(ctx, w, wh, qq.title, qq.sql); err != nil {
			return err
		}
	}
	return nil
}

// printFailedBatches prints the stream batches the mappings gave up on and
// the offsets later batches went past without them.
func printFailedBatches(w io.Writer, gaps []stream.Gap, failed []handlers.StoredBatch, dir string) {
	if len(gaps) == 0 && len(failed) == 0 {
		fmt.Fprintln(w, "Every stream batch was processed: none failed until the on-failure destination, no offsets were skipped.")
		return
	}
	for _, g := range gaps {
		fmt.Fprintf(w, "%s: pulse replay --dir %s --failed\n", g, dir)
	}
	for _, b := range failed {
		fmt.Fprintf(w, "kept in s3://%s/%s: %s\n", stack.Buckets.Raw, b.Key, b)
	}
	if len(gaps) == 0 {
		fmt.Fprintf(w, "%d stream batches failed until the on-failure destination: pulse replay --dir %s --failed\n", len(failed), dir)
	}
}
