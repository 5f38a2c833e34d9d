package oracle

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// The fixed stream: two seeded simulator runs, the second 39 days after
// the first, each at 0.5 events per second, so the users of the first are inactive by the 30-day rule at
// the end of the second. The first crosses midnight into a Monday (daily
// and weekly sales windows end together), the second into a Friday (a
// daily window alone). Seeds and start times are ones where late
// checkouts straddle those midnights and a few users reach the
// frequent-browser threshold (see the reach check at the end of the test).
//
// The second run's sign_in and sign_out messages are not produced: a
// 39-day jump in the session metrics would be cut to the last day of
// minutes (session.Tracker's bound), at a point that depends on how the
// two topics' batches interleave, so the rows would not be reproducible.
var streamRuns = []struct {
	seed   int64
	events int
	start  time.Time
	signs  bool
}{
	{29, 1000, time.Date(2024, 2, 4, 23, 50, 0, 0, time.UTC), true},
	{65, 2400, time.Date(2024, 3, 14, 23, 32, 0, 0, time.UTC), false},
}

// TestStreamOracle produces the fixed stream (duplicates, late events and
// malformed messages; seed 003 topics in Avro through the schema registry,
// the others JSON) to the local stack's Kafka, lets the event-source
// mappings run the real stream path, flushes, and compares every row and
// column of the stream-fed views with the oracle (stream_expect_test.go,
// stream_views_test.go), an independent computation over the produced
// events.
//
// The with-crashes variant fails the stream handler after one step of
// every third invocation (each step in turn) and uses smaller batches;
// the event-source mapping retries each failed batch whole, and every
// number must come out the same (DESIGN.md 4.1).
func TestStreamOracle(t *testing.T) {
	t.Run("clean", func(t *testing.T) { streamOracle(t, false) })
	t.Run("with-crashes", func(t *testing.T) { streamOracle(t, true) })
}

func streamOracle(t *testing.T, crash bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := views.Setup(ctx, st.Warehouse); err != nil {
		t.Fatal(err)
	}
	opts := stack.StreamOptions{BatchSize: 250, BatchWindow: 20 * time.Millisecond, TickEvery: -1,
		Config: stream.Config{IdleTimeout: -1}, Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	crashes := &stream.RotatingCrashes{}
	if crash {
		opts.BatchSize = 100
		crashes.Every = 3 // every third invocation fails after one step, each step in turn
		opts.Failpoint = crashes.Failpoint
	}
	ss, err := st.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := sim.RegisterSchemas(ctx, reg, events.Topics())
	if err != nil {
		t.Fatal(err)
	}
	var msgs []smsg
	offsets := map[string]int64{}
	for _, run := range streamRuns {
		g := sim.NewGenerator(sim.Config{Seed: run.seed, Rate: 0.5, MaxEvents: run.events, DuplicatePct: 3, LatePct: 8, MalformedPct: 2,
			Format: sim.FormatMixed, SchemaIDs: ids, Start: run.start})
		var last time.Time
		for {
			ev, ok := g.Next()
			if !ok {
				break
			}
			if !run.signs && (ev.Topic == events.TopicSignIn || ev.Topic == events.TopicSignOut) {
				continue
			}
			msgs = append(msgs, smsg{topic: ev.Topic, offset: offsets[ev.Topic], ev: ev})
			offsets[ev.Topic]++
			if ev.EventTime.After(last) {
				last = ev.EventTime
			}
		}
		if err := g.Err(); err != nil {
			t.Fatal(err)
		}
		edges := shopEdges(last.Add(time.Second).Truncate(time.Second))
		if run.signs {
			edges = signEdges(last.Add(time.Second).Truncate(time.Second))
		}
		evs, err := edgeMessages(edges)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			msgs = append(msgs, smsg{topic: ev.Topic, offset: offsets[ev.Topic], ev: ev})
			offsets[ev.Topic]++
		}
	}

	brokers, err := ss.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The catalog first, loaded before the shop opens (the catalog
	// workflow's job), so every checkout finds its prices; then the rest,
	// each topic in order.
	catalog := len(sim.Movies())
	for _, m := range msgs[:catalog] {
		if m.topic != events.TopicMoviesCatalog {
			t.Fatalf("message %s/%d comes before the catalog is complete", m.topic, m.offset)
		}
	}
	done := int64(0)
	for _, phase := range [][]smsg{msgs[:catalog], msgs[catalog:]} {
		rs := make([]*kgo.Record, len(phase))
		for i, m := range phase {
			rs[i] = &kgo.Record{Topic: m.topic, Key: m.ev.Key, Value: m.ev.Value}
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		done += int64(len(phase))
		if err := ss.WaitCommitted(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	want := computeStream(msgs)
	q := func(t *testing.T, sql string) ([]string, [][]any) {
		t.Helper()
		cols, rows, err := st.Warehouse.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return cols, rows
	}
	var sizes []string
	for _, v := range want.allViews() {
		sizes = append(sizes, fmt.Sprintf("%s %d", v.name, len(v.rows)))
		t.Run(v.name, func(t *testing.T) {
			cols, _ := q(t, "SELECT * FROM "+v.name+" LIMIT 0")
			if doc := documented[v.name]; !slices.Equal(cols, doc) {
				t.Errorf("%s has columns %v; its doc comment lists %v", v.name, cols, doc)
			}
			_, rows := q(t, "SELECT "+strings.Join(v.cols, ", ")+" FROM "+v.name)
			compareView(t, v, rows)
			if len(v.rows) == 0 {
				t.Errorf("%s: the oracle expects no rows: the stream is too thin", v.name)
			}
		})
	}

	// The data set must reach the rules it is meant to check.
	var figures []string
	for k, n := range want.reach {
		figures = append(figures, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(figures)
	if crash {
		t.Logf("%d injected crashes, %d retried invocations", crashes.Crashed.Load(), ss.Retries())
		if crashes.Crashed.Load() < int64(len(stream.Steps)) || ss.Retries() != crashes.Crashed.Load() {
			t.Errorf("%d crashes, %d retries: want at least one crash per step, each retried", crashes.Crashed.Load(), ss.Retries())
		}
		return
	}
	t.Logf("%d messages; rows checked: %s", len(msgs), strings.Join(sizes, ", "))
	t.Logf("rules reached: %s", strings.Join(figures, ", "))
	checkEdges(t, want)
	for _, rule := range []string{"malformed", "duplicate", "users row rejected", "late social_sales", "registrations late for some windows",
		"late sign_in", "late sign_out", "orphan sign-outs", "timed-out sessions", "completed sessions", "late added_to_cart",
		"late checkout_to_cart", "checkouts late for their day only", "purchases without a price", "repeated sign-ins", "late pageviews",
		"pageview sessions of several views", "pageviews late for some windows", "pageviews joining two sessions",
		"segment inactive", "segment high_value", "segment frequent_browser", "segment regular"} {
		if want.reach[rule] == 0 {
			t.Errorf("the stream never reaches %q: the oracle proves nothing about it", rule)
		}
	}
}

// documented are the columns each view's doc comment lists.
var documented = map[string][]string{
	"SOCIAL_RATES_BY_PLATFORM": {"PLATFORM", "AVG_CONVERSION_RATE", "AVG_BOUNCE_RATE", "EVENTS", "VISITORS", "PAGE_VISITORS",
		"CONVERSIONS", "SALES", "OVERALL_CONVERSION_RATE", "OVERALL_BOUNCE_RATE"},
	"SOCIAL_TOTAL_USAGE": {"TOTAL_USAGE", "TOTAL_SALES", "TOTAL_VISITORS", "EVENTS", "PLATFORMS", "CITIES", "FIRST_EVENT_AT",
		"LAST_EVENT_AT"},
	"SOCIAL_VISITORS_LAST_5_MIN": {"PLATFORM", "VISITORS", "VISITOR_RANK", "EVENTS", "PAGE_VISITORS", "SALES", "WINDOW_START",
		"WINDOW_END", "FINAL", "UPDATED_AT"},
	"SOCIAL_TOP_CITY_BY_USERS": {"PLATFORM", "CITY", "USERS", "EVENTS"},
	"SOCIAL_TOP_CITY_BY_SALES": {"PLATFORM", "CITY", "SALES", "EVENTS"},
	"PAGEVIEWS_BY_SOURCE_WINDOW": {"WINDOW_TYPE", "PAGE_SOURCE", "WINDOW_START", "WINDOW_END", "PAGEVIEWS", "USERS", "FINAL",
		"UPDATED_AT"},
	"PAGEVIEW_USERS_BY_COUNTRY": {"COUNTRY", "USERS", "AVG_AGE", "PAGEVIEWS"},
	"USER_REGISTRATIONS":        {"WINDOW_TYPE", "WINDOW_START", "WINDOW_END", "REGISTRATION_COUNT", "FINAL", "UPDATED_AT"},
	"SESSION_ACTIVITY": {"METRIC_TIME", "ACTIVE_SESSIONS_COUNT", "AVERAGE_SESSION_DURATION", "AVG_ACTIVE_AGE_SECONDS",
		"COMPLETED_SESSIONS", "TIMED_OUT_SESSIONS", "UPDATED_AT"},
	"MOVIE_SALES": {"MOVIE_ID", "TITLE", "GENRE", "WINDOW_TYPE", "WINDOW_START", "WINDOW_END", "TOTAL_SALES", "PURCHASES", "FINAL",
		"UPDATED_AT"},
	"MART_USER_ACTIVITY": {"USER_ID", "DAY", "ITEMS_VIEWED", "ITEMS_ADDED_TO_CART", "CHECKOUTS", "ITEMS_PURCHASED",
		"PURCHASE_AMOUNT", "SIGN_INS"},
	"MART_MOVIE_STATS": {"ITEM_ID", "TITLE", "GENRE", "PRICE", "VIEWS", "VIEWERS", "ADDS_TO_CART", "PURCHASES", "TOTAL_SALES",
		"AVG_PRICE", "PURCHASES_PER_VIEW"},
	"MART_USER_SEGMENTS": {"USER_ID", "AGE", "PREFERRED_LANGUAGE", "REGISTERED_AT", "ITEMS_VIEWED", "ITEMS_ADDED_TO_CART",
		"CHECKOUTS", "ITEMS_PURCHASED", "TOTAL_SPENT", "LAST_ACTIVE_AT", "ACTIVITY_REFERENCE_AT", "SEGMENT"},
}

// cellText renders a cell for keys and messages.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func rowKey(r []any, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = cellText(r[i])
	}
	return strings.Join(parts, " ")
}

// sameCell compares a warehouse cell with the oracle's exactly, type
// included; with approx, floats within near's relative 1e-9.
func sameCell(got, want any, approx bool) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || approx && near(g, w))
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case nil:
		return got == nil
	}
	return got == want
}

// compareView reports every row the view lacks or has too many, and every
// column that differs, naming the view, the row's key and the column.
func compareView(t *testing.T, v viewWant, rows [][]any) {
	t.Helper()
	got := map[string][]any{}
	for _, r := range rows {
		k := rowKey(r, v.nKey)
		if _, dup := got[k]; dup {
			t.Errorf("%s: two rows for %s", v.name, keyText(v, r))
		}
		got[k] = r
	}
	want := map[string][]any{}
	var keys []string
	for _, r := range v.rows {
		k := rowKey(r, v.nKey)
		want[k] = r
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	report := func(format string, args ...any) {
		if bad < 12 {
			t.Errorf(format, args...)
		}
		bad++
	}
	for _, k := range keys {
		g, w := got[k], want[k]
		switch {
		case w == nil:
			report("%s: unexpected row %s: %s", v.name, keyText(v, g), rowText(v, g))
		case g == nil:
			report("%s: missing row %s: want %s", v.name, keyText(v, w), rowText(v, w))
		default:
			for i := v.nKey; i < len(v.cols); i++ {
				if !sameCell(g[i], w[i], slices.Contains(v.approx, v.cols[i])) {
					report("%s row %s: %s = %s (%T), want %s (%T)", v.name, keyText(v, w), v.cols[i], cellText(g[i]), g[i],
						cellText(w[i]), w[i])
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d differences over %d rows expected and %d found", v.name, bad, len(v.rows), len(rows))
	}
}

func keyText(v viewWant, r []any) string {
	if v.nKey == 0 {
		return "(the only row)"
	}
	parts := make([]string, v.nKey)
	for i := range parts {
		parts[i] = v.cols[i] + "=" + cellText(r[i])
	}
	return strings.Join(parts, " ")
}

func rowText(v viewWant, r []any) string {
	parts := make([]string, 0, len(v.cols)-v.nKey)
	for i := v.nKey; i < len(v.cols); i++ {
		parts = append(parts, v.cols[i]+"="+cellText(r[i]))
	}
	return strings.Join(parts, " ")
}
