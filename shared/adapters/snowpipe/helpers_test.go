package snowpipe_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/table"
)

// events is CONSUMER_EVENTS' shape (shared/star), spelled out so the test
// does not move when the star schema does.
var events = table.Schema{
	Name: "CONSUMER_EVENTS",
	Key:  []string{"EVENT_ID"},
	Columns: []table.Column{
		{Name: "EVENT_ID", Type: table.String},
		{Name: "EVENT_NAME", Type: table.String},
		{Name: "USER_ID", Type: table.Int},
		{Name: "EVENT_TIME", Type: table.Timestamp},
		{Name: "INGESTION_TIMESTAMP", Type: table.Timestamp},
		{Name: "SOURCE", Type: table.String},
	},
}

var (
	keyOnce sync.Once
	keyPEM  []byte
)

// userKey is the test user's key, as the stream function gets it: a PKCS#8
// PEM (from Secrets Manager) through snowflake.ParsePrivateKey.
func userKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	})
	k, err := snowflake.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable clock shared by client and server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	srv   *snowpipetest.Server
	key   *rsa.PrivateKey
	clock *clock
	// wantViolations is how many protocol violations the test provokes
	// on purpose (checked by the test itself).
	wantViolations int
}

func newFixture(t testing.TB, mod ...func(*snowpipetest.Options)) *fixture {
	t.Helper()
	f := &fixture{key: userKey(t), clock: &clock{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}}
	opts := snowpipetest.Options{
		Account: "myorg-pulse", User: "pulse_loader", PublicKey: &f.key.PublicKey,
		Database: "PULSE", Schema: "PUBLIC", Tables: []table.Schema{events}, Now: f.clock.Now,
	}
	for _, m := range mod {
		m(&opts)
	}
	srv, err := snowpipetest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f.srv = srv
	t.Cleanup(func() {
		if v := srv.Violations(); len(v) != f.wantViolations {
			t.Errorf("protocol violations: %q", v)
		}
	})
	return f
}

// config is a client's config against the fixture: fast retries and polls.
func (f *fixture) config(mod ...func(*snowpipe.Config)) snowpipe.Config {
	cfg := snowpipe.Config{
		Account: "myorg-pulse", User: "pulse_loader", Key: f.key,
		Database: "pulse", Schema: "public", AccountURL: f.srv.AccountURL(),
		Retry:      snowpipe.Backoff{Attempts: 6, Base: time.Millisecond, Max: 5 * time.Millisecond},
		CommitPoll: time.Millisecond, CommitTimeout: 5 * time.Second, ReopenAfter: 2 * time.Second,
		Now: f.clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	return cfg
}

func (f *fixture) client(t testing.TB, mod ...func(*snowpipe.Config)) *snowpipe.Client {
	t.Helper()
	c, err := snowpipe.New(f.config(mod...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const channelName = "consumer_registration-0"

func (f *fixture) open(t testing.TB, c *snowpipe.Client) *snowpipe.Channel {
	t.Helper()
	ch, err := c.OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: events, Name: channelName})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// base is the event time of offset 0; offset n is n seconds later.
var base = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// eventRows returns one row per offset in [from, to]: EVENT_ID e-<offset>.
func eventRows(from, to int64) []snowpipe.Row {
	var rows []snowpipe.Row
	for o := from; o <= to; o++ {
		rows = append(rows, snowpipe.Row{Offset: o, Cells: table.Row{
			table.Str(fmt.Sprintf("e-%d", o)), table.Str("sign_in"), table.Int64(o % 7),
			table.Int64(base.Add(time.Duration(o) * time.Second).UnixMicro()), table.Null(), table.Str("kafka"),
		}})
	}
	return rows
}

// assertExactlyOnce checks that the table holds e-<from> to e-<to>, each
// exactly once, and nothing else.
func assertExactlyOnce(t *testing.T, srv *snowpipetest.Server, from, to int64) {
	t.Helper()
	count := map[string]int{}
	for _, r := range srv.Rows(events.Name) {
		count[fmt.Sprint(r["EVENT_ID"])]++
	}
	var bad []string
	for o := from; o <= to; o++ {
		id := fmt.Sprintf("e-%d", o)
		if count[id] != 1 {
			bad = append(bad, fmt.Sprintf("%s x%d", id, count[id]))
		}
		delete(count, id)
	}
	for id, n := range count {
		bad = append(bad, fmt.Sprintf("unexpected %s x%d", id, n))
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("table is not e-%d..e-%d exactly once: %v", from, to, bad)
	}
}

func mustAppend(t *testing.T, ch *snowpipe.Channel, rows []snowpipe.Row, last int64) snowpipe.AppendResult {
	t.Helper()
	res, err := ch.Append(context.Background(), rows, last)
	if err != nil {
		t.Fatalf("append up to %d: %v", last, err)
	}
	return res
}

func TestMain(m *testing.M) {
	// The client warns on every reopen and row error; the tests provoke
	// them on purpose.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
