package snowpipe_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

// assertPermanent checks that err is final for port.Retryable and
// names each of want.
func assertPermanent(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if port.Retryable(err) || !errors.Is(err, port.ErrPermanent) {
		t.Errorf("%v: retryable, want permanent", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
}

func TestNonRetryableErrorsAreNotRetriedAndNameTheCause(t *testing.T) {
	t.Run("bad request on append", func(t *testing.T) {
		f := newFixture(t)
		ch := f.open(t, f.client(t))
		f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpAppend, Status: http.StatusBadRequest,
			Code: "ERR_INVALID_PAYLOAD", Message: "row 3 is not valid JSON"})
		_, err := ch.Append(context.Background(), eventRows(0, 9), 9)
		assertPermanent(t, err, "append rows", "HTTP 400", "ERR_INVALID_PAYLOAD", "row 3 is not valid JSON", "requestId")
		if n := f.srv.Requests(snowpipetest.OpAppend); n != 1 {
			t.Errorf("%d append requests, want 1 (not retried)", n)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		f := newFixture(t)
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.client(t, func(c *snowpipe.Config) { c.Key = other }).
			OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: events, Name: channelName})
		assertPermanent(t, err, "get hostname", "HTTP 401", "JWT token is invalid", "RSA_PUBLIC_KEY_FP")
		if n := f.srv.Requests(snowpipetest.OpHostname); n != 1 {
			t.Errorf("%d hostname requests, want 1 (not retried)", n)
		}
	})
	t.Run("wrong user", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.client(t, func(c *snowpipe.Config) { c.User = "someone_else" }).
			OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: events, Name: channelName})
		assertPermanent(t, err, "HTTP 401", "SOMEONE_ELSE")
	})
	t.Run("missing pipe", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.client(t).OpenChannel(context.Background(),
			snowpipe.ChannelSpec{Table: table.Schema{Name: "NO_SUCH_TABLE", Columns: events.Columns}, Name: channelName})
		assertPermanent(t, err, "open channel", "NO_SUCH_TABLE-STREAMING", "HTTP 404", "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED")
		if n := f.srv.Requests(snowpipetest.OpOpen); n != 1 {
			t.Errorf("%d open requests, want 1", n)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		f := newFixture(t)
		f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpOpen, Status: http.StatusForbidden, Code: "ERR_NOT_AUTHORIZED", Message: "role lacks OPERATE"})
		_, err := f.client(t).OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: events, Name: channelName})
		assertPermanent(t, err, "HTTP 403", "role lacks OPERATE", "OPERATE on the pipe")
		if n := f.srv.Requests(snowpipetest.OpOpen); n != 1 {
			t.Errorf("%d open requests, want 1", n)
		}
	})
}

func TestBadRowsAreRefusedBeforeAnyRequest(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	ctx := context.Background()
	rows := eventRows(0, 2)
	rows[1], rows[2] = rows[2], rows[1]
	_, err := ch.Append(ctx, rows, 2)
	assertPermanent(t, err, "rows[2].Offset 1 is below rows[1].Offset 2")
	_, err = ch.Append(ctx, eventRows(0, 5), 4)
	assertPermanent(t, err, "rows[5].Offset 5 is above lastOffset 4")
	nan := table.Schema{Name: events.Name, Columns: append(append([]table.Column(nil), events.Columns...), table.Column{Name: "SCORE", Type: table.Float})}
	ch2, err := f.client(t).OpenChannel(ctx, snowpipe.ChannelSpec{Table: nan, Name: "other-0"})
	if err != nil {
		t.Fatal(err)
	}
	r := eventRows(3, 3)[0]
	r.Cells = append(r.Cells, table.Float64(math.NaN()))
	_, err = ch2.Append(ctx, []snowpipe.Row{r}, 3)
	assertPermanent(t, err, "offset 3", "CONSUMER_EVENTS", "column SCORE", "NaN")
	_, err = ch.Append(ctx, []snowpipe.Row{{Offset: 7, Cells: table.Row{table.Str("short")}}}, 7)
	assertPermanent(t, err, "offset 7", "1 cells", "6 columns")
	if n := f.srv.Requests(snowpipetest.OpAppend); n != 0 {
		t.Errorf("%d append requests, want 0", n)
	}
}

func TestPersistentServerErrorsEndRetryable(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t, func(c *snowpipe.Config) { c.Retry.Attempts = 3 }))
	f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpAppend, Status: 503, Message: "overloaded", Times: 3})
	_, err := ch.Append(context.Background(), eventRows(0, 9), 9)
	var ae *snowpipe.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || !port.Retryable(err) {
		t.Fatalf("err %v: want a retryable 503 APIError", err)
	}
	if n := f.srv.Requests(snowpipetest.OpAppend); n != 3 {
		t.Errorf("%d append requests, want 3 (Attempts)", n)
	}
	// The event-source mapping retries the batch: it lands once.
	mustAppend(t, ch, eventRows(0, 9), 9)
	assertExactlyOnce(t, f.srv, 0, 9)
}

func TestCommitTimeoutIsRetryable(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t, func(c *snowpipe.Config) { c.CommitTimeout = 20 * time.Millisecond }))
	f.srv.HoldCommits(true)
	_, err := ch.Append(context.Background(), eventRows(0, 9), 9)
	if !errors.Is(err, snowpipe.ErrCommitTimeout) || !port.Retryable(err) {
		t.Fatalf("err %v: want retryable ErrCommitTimeout", err)
	}
	f.srv.HoldCommits(false)
	if res := mustAppend(t, ch, eventRows(0, 9), 9); res.Sent != 0 {
		t.Errorf("retry sent %d rows again, want 0 (they were in flight)", res.Sent)
	}
	assertExactlyOnce(t, f.srv, 0, 9)
}

// The scoped token is renewed before it expires (the server flags a
// request with an expired token as a violation), and after the service
// forgets it (401).
func TestScopedTokenIsRefreshed(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	mustAppend(t, ch, eventRows(0, 9), 9)
	f.clock.Advance(56 * time.Minute) // within 5 min of the 1 h lifetime
	mustAppend(t, ch, eventRows(10, 19), 19)
	f.clock.Advance(3 * time.Hour)
	mustAppend(t, ch, eventRows(20, 29), 29)
	if n := f.srv.Requests(snowpipetest.OpToken); n != 3 {
		t.Errorf("%d token exchanges, want 3", n)
	}
	if n := f.srv.Requests(snowpipetest.OpHostname); n != 1 {
		t.Errorf("%d hostname requests, want 1 (the host is kept)", n)
	}
	assertExactlyOnce(t, f.srv, 0, 29)
}

// The server's token check can fail: a request with an expired scoped
// token is a violation.
func TestServerFlagsExpiredScopedToken(t *testing.T) {
	f := newFixture(t)
	f.open(t, f.client(t)) // issues scoped-1, valid 1 h
	f.clock.Advance(2 * time.Hour)
	req, _ := http.NewRequest(http.MethodPost, "http://"+f.srv.IngestHost()+
		"/v2/streaming/databases/PULSE/schemas/PUBLIC/pipes/CONSUMER_EVENTS-STREAMING:bulk-channel-status",
		strings.NewReader(`{"channel_names":["x"]}`))
	req.Header.Set("Authorization", "Bearer scoped-1")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v := f.srv.Violations(); res.StatusCode != 400 || len(v) != 1 || !strings.Contains(v[0], "expired") {
		t.Errorf("status %d, violations %q: want 400 and one 'expired' violation", res.StatusCode, v)
	}
	f.wantViolations = 1
}

func TestConfigNamesWhatIsMissingOrWrong(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  snowpipe.Config
		want string
	}{
		{"empty", snowpipe.Config{}, "missing Account, User, Key, Database, Schema"},
		{"compression", snowpipe.Config{Account: "a", User: "u", Key: userKey(t), Database: "d", Schema: "s", Compression: "lz4"}, `Compression "lz4"`},
		{"url", snowpipe.Config{Account: "a", User: "u", Key: userKey(t), Database: "d", Schema: "s", AccountURL: "ftp://x"}, `AccountURL "ftp://x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := snowpipe.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	env := map[string]string{"SNOWFLAKE_ACCOUNT": "myorg-pulse", "SNOWFLAKE_USER": "loader", "SNOWFLAKE_DATABASE": "PULSE",
		"SNOWFLAKE_SCHEMA": "PUBLIC", "SNOWFLAKE_PROTOCOL": "http", "SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": "8085",
		"SNOWPIPE_COMPRESSION": "GZIP"}
	cfg, err := snowpipe.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccountURL != "http://127.0.0.1:8085" || cfg.Compression != snowpipe.Gzip || cfg.Account != "myorg-pulse" || cfg.Schema != "PUBLIC" {
		t.Errorf("%+v", cfg)
	}
	env["SNOWPIPE_COMPRESSION"] = "brotli"
	if _, err := snowpipe.ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "SNOWPIPE_COMPRESSION") {
		t.Errorf("err %v, want one naming SNOWPIPE_COMPRESSION", err)
	}
}
