package e2e

import (
	"context"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// TestKcatSocialSales produces a seed 001 record with Debian's kcat, a
// Kafka client Pulse did not write, to the local broker and checks it
// reaches FACT_SOCIAL_SALES with its rates.
func TestKcatSocialSales(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (apt-get install kcat, or make tools): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	st := startStack(t, stack.Options{})
	ss, err := st.StartStream(ctx, stack.StreamOptions{BatchWindow: 50 * time.Millisecond, TickEvery: -1, Config: stream.Config{IdleTimeout: -1}})
	if err != nil {
		t.Fatal(err)
	}
	brokers, err := ss.Brokers()
	if err != nil {
		t.Fatal(err)
	}
	record := `{"ID": "4bc50707-5676-4dbf-9d5b-e21c3699d860", "Kota": "Depok", "Sosial_Media": "Instagram", "Usage_Count": 986, "Sales": 141, "Visitors": 570, "PageVisitors": 79, "Conversion": 132, "Ts": 1706980353}`
	cmd := exec.CommandContext(ctx, kcat, "-b", brokers[0], "-t", "social_sales", "-P", "-k", "4bc50707")
	cmd.Stdin = strings.NewReader(record + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	if err := ss.WaitCommitted(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, rows, err := st.Warehouse.Query(ctx, "SELECT CITY, PLATFORM, VISITORS, CONVERSION_RATE, BOUNCE_RATE, EVENT_TIME FROM FACT_SOCIAL_SALES WHERE RECORD_ID = ?", "4bc50707-5676-4dbf-9d5b-e21c3699d860")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("FACT_SOCIAL_SALES rows for the kcat record: %v", rows)
	}
	r := rows[0]
	wantConv, wantBounce := 132.0/570*100, 79.0/570*100
	if r[0] != "Depok" || r[1] != "Instagram" || r[2] != int64(570) || math.Abs(r[3].(float64)-wantConv) > 1e-9 ||
		math.Abs(r[4].(float64)-wantBounce) > 1e-9 || !r[5].(time.Time).Equal(time.Unix(1706980353, 0)) {
		t.Fatalf("row %v; want Depok Instagram 570 %v %v 2024-02-03T17:12:33Z", r, wantConv, wantBounce)
	}
	if n := count(t, st, "SELECT SUM(LOADED) FROM PULSE_MANIFESTS WHERE DATASET = 'social_sales'"); n != 1 {
		t.Fatalf("manifest loaded = %d", n)
	}
}
