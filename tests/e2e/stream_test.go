package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/esm"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/table"
)

// TestStreamEndToEnd produces a fixed seeded stream (every topic, with
// duplicates, late and malformed messages; Avro through the schema
// registry) to the local Kafka cluster, lets the event-source mappings
// run the stream handler, flushes the windows, and checks every metric
// table, the late events and the per-topic accounting against the oracle
// (oracle_test.go), an independent computation over the produced events.
//
// The crashes variant fails the handler after a step of every few batches
// (each step in turn); the event-source mapping retries the whole batch,
// and the result must be the same.
func TestStreamEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		crashes      bool
		partitions   int
	}{
		{"avro", sim.FormatAvro, false, 1}, {"json", sim.FormatJSON, false, 1}, {"json-with-crashes", sim.FormatJSON, true, 1},
		{"avro-3-partitions", sim.FormatAvro, false, 3}, {"json-5-partitions-with-crashes", sim.FormatJSON, true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) { streamEndToEnd(t, tc.format, tc.crashes, tc.partitions) })
	}
}

// streamEndToEnd runs the seeded stream through topics of the given
// number of partitions, produced with the generator's keys (Kafka's
// partitioner puts each key in one partition), and compares the outcome
// with the oracle over the partitions and offsets the broker gave.
func streamEndToEnd(t *testing.T, format string, crash bool, partitions int) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	st := startStack(t, stack.Options{})
	opts := stack.StreamOptions{BatchSize: 300, BatchWindow: 20 * time.Millisecond, TickEvery: -1, Partitions: partitions,
		Config: stream.Config{IdleTimeout: -1}, Retry: esm.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	crashes := &stream.RotatingCrashes{}
	if crash {
		crashes.Every = 3 // every third invocation fails after one step, each step in turn
		opts.Failpoint = crashes.Failpoint
	}
	ss, err := st.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.Config{Seed: 21, Rate: 0.2, MaxEvents: 2500, DuplicatePct: 3, LatePct: 5, MalformedPct: 2, Format: format,
		Start: time.Date(2024, 2, 3, 8, 0, 0, 0, time.UTC)}
	msgs := generateStream(ctx, t, ss, cfg)
	brokers, _ := ss.Brokers()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The catalog first and loaded, as the catalog workflow would have done
	// before the shop opened, so every checkout finds its prices; then the
	// users table (a relational snapshot in seed 004), so the page-view join
	// does not depend on which topic is consumed first. Each partition keeps
	// its order, which is all the oracle depends on.
	catalog := len(sim.Movies())
	done := int64(0)
	for _, phase := range streamPhases(msgs, catalog) {
		produceKeyed(ctx, t, cl, msgs, phase)
		done += int64(len(phase))
		if err := ss.WaitCommitted(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	checkPartitioned(t, msgs, partitions)
	if partitions > 1 {
		lateByPartition(t, msgs)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows := func(q string, args ...any) [][]any { return query(t, st, q, args...) }
	lateTotal, sizes, _ := checkStream(t, rows, msgs, catalog, nil)
	// Seed 000's silver layer: every loaded stream record is staged once,
	// cleaned and masked, partitioned by ingestion time.
	staged := map[string]int64{}
	objs, err := st.Env.Store.List(ctx, stack.Buckets.Staging, "stream/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		parts := strings.Split(o.Key, "/") // stream/<dataset>/ingest_date=D/ingest_hour=H/<file id>.parquet
		if len(parts) != 5 || !strings.HasPrefix(parts[2], "ingest_date=") || !strings.HasPrefix(parts[3], "ingest_hour=") {
			t.Errorf("staged object %s is not under stream/<dataset>/ingest_date=/ingest_hour=", o.Key)
			continue
		}
		body, _, err := st.Env.Store.Get(ctx, stack.Buckets.Staging, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			t.Fatal(err)
		}
		spec, err := dataset.Lookup(parts[1])
		if err != nil {
			t.Fatalf("staged object %s: %v", o.Key, err)
		}
		cl, err := dataset.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := table.OpenParquetRows(bytes.NewReader(data), int64(len(data)), cl.Schema())
		if err != nil {
			t.Fatalf("staged object %s: %v", o.Key, err)
		}
		staged[parts[1]] += pr.NumRows()
	}
	wantStaged := map[string]int64{}
	for _, r := range query(t, st, "SELECT DATASET, SUM(LOADED) FROM PULSE_MANIFESTS WHERE FILE_ID LIKE 'kafka-%' GROUP BY 1") {
		if n := r[1].(int64); n > 0 {
			wantStaged[r[0].(string)] = n
		}
	}
	if fmt.Sprint(staged) != fmt.Sprint(wantStaged) {
		t.Errorf("staged stream records per dataset %v, loaded %v", staged, wantStaged)
	}
	t.Logf("%s, %d partitions: %d messages (late %d), %d injected crashes, %d retried invocations; rows checked: %s", format, partitions, len(msgs), lateTotal,
		crashes.Crashed.Load(), ss.Retries(), strings.Join(sizes, ", "))
	if crash && (crashes.Crashed.Load() < int64(len(stream.Steps)) || ss.Retries() != crashes.Crashed.Load()) {
		t.Fatalf("%d crashes, %d retries: want at least one per step, each retried", crashes.Crashed.Load(), ss.Retries())
	}
}

// streamPhases splits the produced stream into the phases the end-to-end
// tests produce one after the other (indexes into msgs): the catalog (its
// first catalog messages), the users table, the rest.
func streamPhases(msgs []produced, catalog int) [][]int {
	phases := make([][]int, 3)
	for i, m := range msgs {
		switch {
		case i < catalog:
			phases[0] = append(phases[0], i)
		case m.topic == "users":
			phases[1] = append(phases[1], i)
		default:
			phases[2] = append(phases[2], i)
		}
	}
	return phases
}

// produceKeyed produces msgs[i] for each i, in order, with the
// generator's keys, and records the partition and offset the broker gave
// each.
func produceKeyed(ctx context.Context, t *testing.T, cl *kgo.Client, msgs []produced, idx []int) {
	t.Helper()
	rs := make([]*kgo.Record, len(idx))
	for j, i := range idx {
		rs[j] = &kgo.Record{Topic: msgs[i].topic, Key: msgs[i].ev.Key, Value: msgs[i].ev.Value}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for j, i := range idx {
		msgs[i].partition, msgs[i].offset = rs[j].Partition, rs[j].Offset
	}
}

// checkPartitioned fails unless every topic with at least as many keys as
// partitions went to all of them (the test would prove little otherwise).
func checkPartitioned(t *testing.T, msgs []produced, partitions int) {
	t.Helper()
	used, keys := map[string]map[int32]bool{}, map[string]map[string]bool{}
	for _, m := range msgs {
		if used[m.topic] == nil {
			used[m.topic], keys[m.topic] = map[int32]bool{}, map[string]bool{}
		}
		used[m.topic][m.partition] = true
		keys[m.topic][string(m.ev.Key)] = true
		if m.partition < 0 || int(m.partition) >= partitions {
			t.Fatalf("%s went to partition %d of %d", m.topic, m.partition, partitions)
		}
	}
	for topic, ps := range used {
		if len(keys[topic]) >= 10*partitions && len(ps) != partitions {
			t.Errorf("%s (%d keys) went to %d of %d partitions", topic, len(keys[topic]), len(ps), partitions)
		}
	}
}

// lateByPartition compares, for events that are not duplicates or
// malformed, the one-partition rule (behind the largest event time sent
// before it on its topic, minus the lateness) with the rule of several
// partitions (the same on its own partition). Everything else in a run is
// the same with any number of partitions: the accounting (received,
// loaded, rejected, duplicate) and the dedupe do not depend on event
// time, and an event on time under both rules counts in the same windows.
// An event late on its partition is late on its topic (a partition's
// largest time is at most the topic's); the converse fails for an event
// whose lateness comes from another partition's message alone. Kafka does
// not keep the order between partitions, so whether that message was
// produced before the event is not in what the consumer gets: no rule
// over partitions can give the one-partition answer for it. They are
// counted and logged; the oracle applies the partition rule to them.
func lateByPartition(t *testing.T, msgs []produced) {
	t.Helper()
	topicMax, partMax := map[string]int64{}, map[string]int64{}
	byTopic, byPart, seen := 0, 0, map[string]bool{}
	for _, m := range msgs {
		if m.ev.Kind == sim.KindMalformed || m.topic == "users" || m.topic == "movies_catalog_enriched" {
			continue
		}
		if k := m.topic + "#" + string(m.ev.Value); seen[k] {
			continue // a duplicate (sent again verbatim)
		} else {
			seen[k] = true
		}
		tm := m.ev.EventTime.UnixMicro()
		tMax, tok := topicMax[m.topic]
		pMax, pok := partMax[m.input()]
		lt, lp := tok && tm < tMax-lateness, pok && tm < pMax-lateness
		if lp && !lt {
			t.Errorf("%s at %s is late on its partition and not on its topic", m.input(), micro(tm))
		}
		if lt {
			byTopic++
		}
		if lp {
			byPart++
		}
		topicMax[m.topic], partMax[m.input()] = max(tMax, tm), max(pMax, tm)
		if !tok {
			topicMax[m.topic] = tm
		}
		if !pok {
			partMax[m.input()] = tm
		}
	}
	t.Logf("events behind their topic's watermark (one partition): %d; behind their partition's: %d; the other %d are on time here: "+
		"their own partition had nothing 5 minutes newer before them", byTopic, byPart, byTopic-byPart)
}

// checkStream compares what a stream run left in the warehouse (read with
// rows) with the oracle over the produced messages msgs, whose first
// catalog messages are the movie catalog: the joins, the accounting per
// topic, the fact tables, every metric table row by row and the late
// events. It returns the late total and the metric tables' sizes.
// Tables in notFlushed are not compared (the run ended with something
// other than a flush, the oracle's end of input); their reason is logged.
func checkStream(t *testing.T, rows func(q string, args ...any) [][]any, msgs []produced, catalog int, notFlushed map[string]string) (int64, []string, *want) {
	t.Helper()

	// The one input that depends on how topics interleave: whether a page
	// view found its user in CLEANED_USERS. Read it, and check each joined
	// value is the user's (country and age never change once known).
	joinedRows := rows("SELECT PAGEVIEW_ID, COUNTRY, AGE FROM PAGEVIEWS WHERE COUNTRY IS NOT NULL")
	joined := map[string][2]any{}
	for _, r := range joinedRows {
		joined[r[0].(string)] = [2]any{r[1], r[2]}
	}
	users := map[string][2]any{}
	for _, r := range rows("SELECT USER_ID, COUNTRY, AGE FROM CLEANED_USERS") {
		users[r[0].(string)] = [2]any{r[1], r[2]}
	}
	o := buildOracle(msgs, func(key string) (string, int64, bool) {
		j, ok := joined[star.MD5Hex([]byte("pageviews|"+key))]
		if !ok {
			return "", 0, false
		}
		return j[0].(string), j[1].(int64), true
	})
	for _, r := range joinedRows {
		pv := rows("SELECT USER_ID FROM PAGEVIEWS WHERE PAGEVIEW_ID = ?", r[0])[0][0].(string)
		if u := users[pv]; u[0] != r[1] || u[1] != r[2] {
			t.Fatalf("page view %s joined %v %v; the user's cleaned row has %v", r[0], r[1], r[2], u)
		}
	}
	if len(joinedRows) == 0 {
		t.Fatal("no page view was joined with a user")
	}

	// Accounting per topic.
	for topic, c := range o.counts {
		rows := rows("SELECT SUM(RECEIVED), SUM(LOADED), SUM(REJECTED), SUM(DUPLICATE), SUM(LATE) FROM PULSE_MANIFESTS WHERE DATASET = ?", topic)
		got := fmt.Sprint(rows[0]...)
		want := fmt.Sprint(c[0], c[1], c[2], c[3], c[4])
		if topic == "live_streaming" || topic == "video_interactions" {
			// Their cleaning rejects the generator's deliberate dirt; only
			// received and late are the oracle's business here.
			if rows[0][0] != c[0] || rows[0][4] != int64(0) {
				t.Errorf("%s manifests %s; want received %d, late 0", topic, got, c[0])
			}
			continue
		}
		if got != want {
			t.Errorf("%s manifests (received loaded rejected duplicate late) = %s; want %s", topic, got, want)
		}
	}
	lateTotal := int64(0)
	for _, c := range o.counts {
		lateTotal += c[4]
	}
	if lateTotal == 0 {
		t.Fatal("the stream has no late events: the test would prove little")
	}

	// Facts hold exactly the loaded records.
	loaded := func(topics ...string) int64 {
		var n int64
		for _, tp := range topics {
			n += o.counts[tp][1]
		}
		return n
	}
	for table, want := range map[string]int64{
		"FACT_SOCIAL_SALES": loaded("social_sales"), "CONSUMER_EVENTS": loaded("consumer_registration", "sign_in", "sign_out"),
		"CONSUMER_USERS": loaded("consumer_registration"), "ITEM_VIEW_EVENTS": loaded("item_view"),
		"CART_EVENTS": loaded("added_to_cart", "checkout_to_cart"), "PAGEVIEWS": loaded("pageviews"),
		"USER_SESSIONS": loaded("user_sessions"), "MOVIES": int64(catalog),
	} {
		if n := rows("SELECT COUNT(*) FROM " + table)[0][0].(int64); n != want {
			t.Errorf("%s has %d rows; want %d", table, n, want)
		}
	}

	// Every metric table, row by row; after the flush every window is final.
	renders := metricRenders
	for table, q := range renders {
		if why, ok := notFlushed[table]; ok {
			t.Logf("%s not compared with the oracle: %s", table, why)
			continue
		}
		got := map[string]string{}
		for _, r := range rows(q) {
			if r[len(r)-1] != true {
				t.Errorf("%s: row %v not final after the flush", table, r)
			}
			key, row := render(table, r[:len(r)-1])
			if _, dup := got[key]; dup {
				t.Errorf("%s: two rows for %s", table, key)
			}
			got[key] = row
		}
		want := o.tables[table]
		if len(want) == 0 {
			t.Errorf("%s: the oracle expects no rows: the stream is too small", table)
		}
		compareRows(t, table, got, want)
	}

	// Late events: one row per event and window it missed. Which sessions
	// of a session window a late event missed depends, with several
	// partitions, on whether another partition's events had merged two of
	// them into one by then (the event misses one session or two): that
	// window type is compared by the events that missed it.
	partitioned := false
	for _, m := range msgs {
		partitioned = partitioned || m.partition > 0
	}
	gotLate := map[string]string{}
	for _, r := range rows("SELECT DATASET || '|' || WINDOW_TYPE, COUNT(*), COUNT(DISTINCT ORIGIN) FROM PULSE_LATE_EVENTS GROUP BY 1") {
		n := r[1]
		if partitioned && strings.HasSuffix(r[0].(string), "|session") {
			n = r[2]
		}
		gotLate[r[0].(string)] = fmt.Sprint(n)
	}
	wantLate := map[string]string{}
	for k, n := range o.late {
		if partitioned && strings.HasSuffix(k, "|session") {
			n = o.lateEvents[k]
		}
		wantLate[k] = fmt.Sprint(n)
	}
	compareRows(t, "PULSE_LATE_EVENTS", gotLate, wantLate)
	// Seed 003 names the metric tables' columns: each table carries them
	// (TIMESTAMP the window's start or the minute), beside Pulse's own.
	for table, ts := range map[string]string{"USER_REGISTRATION_METRICS": "WINDOW_START", "SESSION_METRICS": "METRIC_TIME", "MOVIE_SALES_METRICS": "WINDOW_START"} {
		cols := map[string]string{"USER_REGISTRATION_METRICS": "WINDOW_TYPE, REGISTRATION_COUNT",
			"SESSION_METRICS": "ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION", "MOVIE_SALES_METRICS": "MOVIE_ID, TOTAL_SALES"}[table]
		r := rows(fmt.Sprintf(`SELECT COUNT(*), COUNT(*) FILTER (WHERE "TIMESTAMP" IS DISTINCT FROM %s) FROM (SELECT "TIMESTAMP", %s, %s FROM %s)`, ts, ts, cols, table))
		if n, bad := r[0][0].(int64), r[0][1].(int64); n == 0 || bad != 0 {
			t.Errorf("%s: %d rows, %d whose TIMESTAMP is not %s", table, n, bad, ts)
		}
	}
	var sizes []string
	for table := range renders {
		sizes = append(sizes, fmt.Sprintf("%s %d", table, len(o.tables[table])))
	}
	sort.Strings(sizes)
	return lateTotal, sizes, o
}

// metricRenders selects, per metric table, the columns that do not depend
// on processing time, the FINAL flag last.
var metricRenders = map[string]string{
	"USER_REGISTRATION_METRICS": "SELECT WINDOW_TYPE, WINDOW_START, WINDOW_END, REGISTRATION_COUNT, FINAL FROM USER_REGISTRATION_METRICS",
	"SOCIAL_PLATFORM_METRICS": "SELECT PLATFORM, WINDOW_START, EVENTS, VISITORS, PAGE_VISITORS, SALES, USAGE_COUNT, AVG_CONVERSION_RATE, AVG_BOUNCE_RATE, " +
		"TOP_CITY_BY_USERS, TOP_CITY_USERS, TOP_CITY_BY_SALES, TOP_CITY_SALES, FINAL FROM SOCIAL_PLATFORM_METRICS",
	"SOCIAL_CITY_METRICS":      "SELECT PLATFORM || '|' || CITY, WINDOW_START, EVENTS, USAGE_COUNT, SALES, VISITORS, FINAL FROM SOCIAL_CITY_METRICS",
	"PAGEVIEW_WINDOW_METRICS":  "SELECT WINDOW_TYPE || ' ' || PAGE_SOURCE, WINDOW_START, WINDOW_END, PAGEVIEWS, USERS, FINAL FROM PAGEVIEW_WINDOW_METRICS",
	"PAGEVIEW_COUNTRY_METRICS": "SELECT COUNTRY, WINDOW_START, PAGEVIEWS, USERS, AVG_AGE, FINAL FROM PAGEVIEW_COUNTRY_METRICS",
	"SESSION_METRICS":          "SELECT METRIC_TIME, ACTIVE_SESSIONS_COUNT, AVERAGE_SESSION_DURATION, AVG_ACTIVE_AGE_SECONDS, COMPLETED_SESSIONS, TIMED_OUT_SESSIONS, ORPHAN_SIGN_OUTS, TRUE FROM SESSION_METRICS",
	"CONSUMER_SESSIONS":        "SELECT SESSION_ID, SIGN_OUT_TIME, DURATION_SECONDS, TIMED_OUT, TRUE FROM CONSUMER_SESSIONS",
	"MOVIE_SALES_METRICS":      "SELECT WINDOW_TYPE || ' ' || MOVIE_ID, WINDOW_START, WINDOW_END, TOTAL_SALES, PURCHASES, FINAL FROM MOVIE_SALES_METRICS",
}

// render turns a warehouse row into the oracle's key and row text.
func render(table string, r []any) (string, string) {
	var parts []string
	for _, v := range r {
		switch x := v.(type) {
		case time.Time:
			parts = append(parts, x.UTC().Format(time.RFC3339Nano))
		case float64:
			parts = append(parts, fnum(x))
		case nil:
			parts = append(parts, "")
		default:
			parts = append(parts, fmt.Sprint(x))
		}
	}
	switch table {
	case "USER_REGISTRATION_METRICS", "PAGEVIEW_WINDOW_METRICS", "MOVIE_SALES_METRICS":
		return parts[0] + " " + parts[1], strings.Join(parts[2:], " ")
	case "SESSION_METRICS", "CONSUMER_SESSIONS":
		return parts[0], strings.Join(parts[1:], " ")
	}
	return parts[0] + " " + parts[1], strings.Join(parts[2:], " ")
}

func compareRows(t *testing.T, table string, got, want map[string]string) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		if got[k] != want[k] {
			if bad < 5 {
				t.Errorf("%s %s:\n got  %q\n want %q", table, k, got[k], want[k])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d rows differ", table, bad, len(keys))
	}
}

func query(t *testing.T, st *stack.Stack, q string, args ...any) [][]any {
	t.Helper()
	_, rows, err := st.Warehouse.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}
