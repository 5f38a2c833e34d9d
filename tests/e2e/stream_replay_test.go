package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestStreamReplayAcrossRuns is `pulse replay` for stream records, as a
// user runs it: the stream side quarantines social_sales and
// live_streaming messages with an unknown platform (some JSON, some Avro
// through the schema registry) and stops; then the pulse command, in its
// own process on the same data folder, replays them with --add-platform
// Myspace; a second replay changes nothing; then the stream starts again
// on the folder and goes on where it was.
//
// social_sales, lateness 5 min, 5-minute tumbling windows, in offset order:
//
//	0 JSON a Instagram 12:01  loaded                          watermark 11:56
//	1 Avro b Myspace   12:02  rejected; replayed: loaded, late: [12:00, 12:05) closed
//	2 JSON c Instagram 12:12  loaded                          watermark 12:07: [12:00, 12:05) closes
//	3 Avro d Myspace   12:11  rejected; replayed: loaded, [12:10, 12:15) is open
//	4 JSON a Myspace   12:13  rejected; replayed: duplicate of offset 0 (ID a)
//	5 JSON e Myspace   12:14  Visitors 0: rejected; replayed: still rejected, for ConversionRate
//
// so the replay is received 4 = loaded 2 (1 late) + rejected 1 + duplicate 1,
// with one PULSE_LATE_EVENTS row and b in FACT_SOCIAL_SALES. live_streaming has no windows: its Myspace
// record is loaded. After the restart, f Myspace 12:14 (offset 6) joins
// [12:10, 12:15), which the flush closes with d and f.
func TestStreamReplayAcrossRuns(t *testing.T) {
	pulse := buildPulse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	opts := stack.StreamOptions{BatchWindow: 20 * time.Millisecond, TickEvery: -1, Config: stream.Config{IdleTimeout: -1}}

	// Run 1: the stream quarantines the Myspace records.
	st, err := stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
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
	socialJSON := func(id, platform string, minute, visitors int) []byte {
		return []byte(fmt.Sprintf(`{"ID": %q, "Kota": "Depok", "Sosial_Media": %q, "Usage_Count": 10, "Sales": 5, "Visitors": %d, "PageVisitors": 3, "Conversion": 2, "Ts": %d}`,
			id, platform, visitors, at(minute).Unix()))
	}
	socialAvro := func(id, platform string, minute int) []byte {
		return avroValue(t, ids["social_sales"], map[string]any{"ID": id, "Kota": "Depok", "Sosial_Media": platform, "Usage_Count": 10,
			"Sales": 5, "Visitors": 100, "PageVisitors": 3, "Conversion": 2, "Ts": at(minute).Unix()})
	}
	live := func(user int, platform string) []byte {
		return []byte(fmt.Sprintf(`{"UserID": %d, "EventID": %d, "EventType": "Stream", "StreamDuration": 30, "DeviceType": "Mobile", "Platform": %q, `+
			`"LiveEngagement": 12.5, "ViewerCount": 100, "AddictionLevel": 3.5, "WatchTime": "12:01 PM", "Age": 30, "Gender": "Female", "Location": "Brazil", "EventTime": %q}`,
			user, 1000+user, platform, at(1).Format(time.RFC3339)))
	}
	produceValues(ctx, t, ss, "social_sales", socialJSON("a", "Instagram", 1, 100), socialAvro("b", "Myspace", 2), socialJSON("c", "Instagram", 12, 100),
		socialAvro("d", "Myspace", 11), socialJSON("a", "Myspace", 13, 100), socialJSON("e", "Myspace", 14, 0))
	produceValues(ctx, t, ss, "live_streaming", live(7, "Myspace"), live(8, "Instagram"))
	if err := ss.WaitCommitted(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ss.Counts()["social_sales"], " | ", ss.Counts()["live_streaming"]); got !=
		"received 6 = loaded 2 + rejected 4 + duplicate 0 | received 2 = loaded 1 + rejected 1 + duplicate 0" {
		t.Fatalf("run 1 accounting: %s", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2 and 3: the command line, in its own process.
	replay := func(ds string) string {
		cmd := exec.CommandContext(ctx, pulse, "replay", "--dir", data, "--dataset", ds, "--add-platform", "Myspace")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pulse replay --dataset %s: %v\n%s", ds, err, out)
		}
		return string(out)
	}
	out := replay("social_sales")
	if !strings.Contains(out, "stream social_sales: replayed received 4 = loaded 2 (1 late) + rejected 1 + duplicate 1\n") ||
		!strings.Contains(out, "1 of the loaded records arrived after their windows had closed: in the fact table, not in those windows (PULSE_LATE_EVENTS: 1 rows") {
		t.Fatalf("pulse replay social_sales printed:\n%s", out)
	}
	out += replay("live_streaming")
	if !strings.Contains(out, "stream live_streaming: replayed received 1 = loaded 1 + rejected 0 + duplicate 0\n") {
		t.Fatalf("pulse replay live_streaming printed:\n%s", out)
	}
	want := map[string]string{
		"facts":                     "[[a Instagram] [b Myspace] [c Instagram] [d Myspace]]",
		"live":                      "[[7 Myspace] [8 Instagram]]",
		"late":                      "[[social_sales tumbling 2024-02-03 12:00:00 +0000 UTC social_sales/0/1]]",
		"metrics":                   "[[Instagram 2024-02-03 12:00:00 +0000 UTC 1 true] [Instagram 2024-02-03 12:10:00 +0000 UTC 1 false] [Myspace 2024-02-03 12:10:00 +0000 UTC 1 false]]",
		"rejects":                   "[[live_streaming 0 true] [social_sales 1 true] [social_sales 3 true] [social_sales 4 true] [social_sales 5 false]]",
		"replayed":                  "[[live_streaming 1 1 0 0 0] [social_sales 4 2 1 1 1]]",
		"quarantine social_sales":   "[5 ConversionRate]",
		"quarantine live_streaming": "[]",
	}
	check := func(run string) {
		t.Helper()
		st, err := stack.Start(ctx, stack.Options{Dir: data})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got := map[string]string{
			"facts":    fmt.Sprint(query(t, st, "SELECT RECORD_ID, PLATFORM FROM FACT_SOCIAL_SALES ORDER BY RECORD_ID")),
			"live":     fmt.Sprint(query(t, st, "SELECT u.USER_ID, p.PLATFORM FROM FACT_LIVE_STREAMING_INTERACTIONS f JOIN DIM_USER u ON u.USER_S_ID = f.USER_S_ID JOIN DIM_PLATFORM p ON p.PLATFORM_ID = f.PLATFORM_ID ORDER BY 1")),
			"late":     fmt.Sprint(query(t, st, "SELECT DATASET, WINDOW_TYPE, WINDOW_START, ORIGIN FROM PULSE_LATE_EVENTS")),
			"metrics":  fmt.Sprint(query(t, st, "SELECT PLATFORM, WINDOW_START, EVENTS, FINAL FROM SOCIAL_PLATFORM_METRICS ORDER BY PLATFORM, WINDOW_START")),
			"rejects":  fmt.Sprint(query(t, st, "SELECT DATASET, ROW_POS, REPLAYED FROM PULSE_REJECTS ORDER BY DATASET, ROW_POS")),
			"replayed": fmt.Sprint(query(t, st, "SELECT DATASET, RECEIVED, LOADED, REJECTED, DUPLICATE, LATE FROM PULSE_MANIFESTS WHERE STATUS = 'replayed' ORDER BY DATASET")),
		}
		for _, ds := range []string{"social_sales", "live_streaming"} {
			got["quarantine "+ds] = fmt.Sprint(quarantined(ctx, t, st, ds))
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s, %s:\n got  %s\n want %s", run, k, got[k], w)
			}
		}
	}
	t.Logf("pulse replay printed:\n%s", out)
	check("after the replay")
	out = replay("social_sales")
	if !strings.Contains(out, "nothing passes yet (1 still rejected)") || strings.Contains(out, "loaded 1") {
		t.Fatalf("the second pulse replay printed:\n%s", out)
	}
	check("after a second replay")

	// Run 4: the stream starts again on the folder and goes on.
	defer dataset.AddPlatform("Myspace")()
	st, err = stack.Start(ctx, stack.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ss, err = st.StartStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	produceValues(ctx, t, ss, "social_sales", socialAvro("f", "Myspace", 14))
	if err := ss.WaitCommitted(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(query(t, st, "SELECT SOURCE, RECEIVED, LOADED FROM PULSE_MANIFESTS WHERE DATASET = 'social_sales' AND STATUS = 'loaded' ORDER BY SOURCE")); got !=
		"[[kafka://social_sales/0@0-5 6 2] [kafka://social_sales/0@6-6 1 1]]" {
		t.Errorf("social_sales batch manifests after the restart: %s", got)
	}
	if got := fmt.Sprint(query(t, st, "SELECT PLATFORM, EVENTS, VISITORS, FINAL FROM SOCIAL_PLATFORM_METRICS WHERE WINDOW_START = TIMESTAMP '2024-02-03 12:10:00' ORDER BY PLATFORM")); got !=
		"[[Instagram 1 100 true] [Myspace 2 200 true]]" {
		t.Errorf("[12:10, 12:15) after the restart and the flush: %s", got)
	}
}

// at is 12:mm on 2024-02-03 UTC.
func at(minute int) time.Time { return time.Date(2024, 2, 3, 12, minute, 0, 0, time.UTC) }

// avroValue encodes rec with the topic schema registered as id, in the
// Confluent wire format (magic byte 0, the id, the Avro body).
func avroValue(t *testing.T, id int, rec map[string]any) []byte {
	t.Helper()
	text, err := events.Schema("social_sales")
	if err != nil {
		t.Fatal(err)
	}
	s, err := havro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	body, err := havro.Marshal(s, rec)
	if err != nil {
		t.Fatal(err)
	}
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(id))
	return append(v, body...)
}

// produceValues sends values to topic, in order.
func produceValues(ctx context.Context, t *testing.T, ss *stack.Stream, topic string, values ...[]byte) {
	t.Helper()
	brokers, err := ss.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Value: v}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// quarantined lists the offsets and fields of a dataset's stream quarantine.
func quarantined(ctx context.Context, t *testing.T, st *stack.Stack, ds string) []string {
	t.Helper()
	objs, err := st.Env.Store.List(ctx, stack.Buckets.Quarantine, stream.QuarantinePrefix(ds))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, o := range objs {
		body, _, err := st.Env.Store.Get(ctx, stack.Buckets.Quarantine, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range decodeQuarantine(t, body) {
			out = append(out, fmt.Sprintf("%d %s", q.Pos, q.Field))
		}
		body.Close()
	}
	return out
}

var (
	pulseOnce sync.Once
	binDir    string // removed by TestMain
	pulseBin  string
	pulseErr  error
)

// buildPulse builds the pulse command once per test binary.
func buildPulse(t *testing.T) string {
	t.Helper()
	pulseOnce.Do(func() {
		binDir, pulseErr = os.MkdirTemp("", "pulse-e2e-bin-*")
		if pulseErr != nil {
			return
		}
		pulseBin = filepath.Join(binDir, "pulse")
		cmd := exec.Command("go", "build", "-tags", "minicore_disabled", "-o", pulseBin, "github.com/pulse-analytics/pulse/cmd/pulse")
		if out, err := cmd.CombinedOutput(); err != nil {
			pulseErr = fmt.Errorf("go build ./cmd/pulse: %w\n%s", err, out)
		}
	})
	if pulseErr != nil {
		t.Fatal(pulseErr)
	}
	return pulseBin
}

func decodeQuarantine(t *testing.T, body io.Reader) []port.QuarantineRecord {
	t.Helper()
	var out []port.QuarantineRecord
	dec := json.NewDecoder(body)
	for {
		var q port.QuarantineRecord
		if err := dec.Decode(&q); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
}
