package snowpipe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// Client talks to one account's Snowpipe Streaming REST API: it holds the
// key-pair JWT, the scoped token and the ingest host, and opens channels.
// It is safe for concurrent use; keep one per process (a warm Lambda keeps
// it, and its channels, across invocations).
type Client struct {
	cfg Config
	fp  string

	authMu     sync.Mutex
	ingestHost string
	scoped     string
	scopedExp  time.Time

	sleep func(ctx context.Context, d time.Duration) error
}

// New checks cfg and returns a client. It makes no network call: the
// ingest host and the scoped token are fetched by the first call that
// needs them.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	fp, err := KeyFingerprint(&cfg.Key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("snowpipe config: %w", err)
	}
	return &Client{cfg: cfg, fp: fp, sleep: sleepCtx}, nil
}

// DefaultPipe is the pipe Snowflake provides for every table:
// "<TABLE>-STREAMING".
func DefaultPipe(table string) string { return table + "-STREAMING" }

// ChannelName names the channel of one Kafka topic partition: the offset
// tokens of a channel are that partition's offsets.
func ChannelName(topic string, partition int32) string {
	return fmt.Sprintf("%s-%d", topic, partition)
}

// response is one HTTP exchange's outcome.
type response struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
}

func (r *response) apiError(op, target, requestID string) *APIError {
	e := &APIError{Op: op, Target: target, Status: r.status, RequestID: requestID, RetryAfter: retryAfter(r.header)}
	var doc struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(r.body, &doc) == nil && (doc.Code != nil || doc.Message != "") {
		if doc.Code != nil {
			e.Code = fmt.Sprint(doc.Code)
		}
		e.Message = doc.Message
	} else {
		e.Message = strings.TrimSpace(string(r.body))
	}
	if len(e.Message) > 500 {
		e.Message = e.Message[:500] + "…"
	}
	return e
}

// roundTrip sends one request and reads the whole response. A transport
// error is returned as is (retryable unless ctx ended).
func (c *Client) roundTrip(ctx context.Context, method, rawURL string, h http.Header, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, permanent(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}, nil
}

// permanentErr marks a failure retrying cannot fix.
type permanentErr struct{ err error }

func (p permanentErr) Error() string   { return p.err.Error() }
func (p permanentErr) Unwrap() []error { return []error{p.err, port.ErrPermanent} }
func permanent(err error) error        { return permanentErr{err} }
func isPermanent(err error) bool       { return errors.Is(err, port.ErrPermanent) }
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the wait before retry number attempt (0-based).
func (c *Client) backoff(attempt int, err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return min(ae.RetryAfter, c.cfg.Retry.Max)
	}
	d := c.cfg.Retry.Base << min(attempt, 20)
	if d <= 0 || d > c.cfg.Retry.Max {
		d = c.cfg.Retry.Max
	}
	return time.Duration(mrand.Int64N(int64(d)) + 1)
}

// retry runs fn until it succeeds, fails permanently, ctx ends or the
// attempts are used up.
func (c *Client) retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || isPermanent(err) || ctx.Err() != nil || attempt+1 >= c.cfg.Retry.Attempts {
			return err
		}
		if serr := c.sleep(ctx, c.backoff(attempt, err)); serr != nil {
			return err
		}
	}
}

// ingestCall sends one request to the ingest host with the scoped token.
// A 401 drops the token and tries once more with a fresh one; a second 401
// is returned (permanent). Query parameters in query are added to path;
// withRequestID adds a fresh requestId.
func (c *Client) ingestCall(ctx context.Context, method, path string, query url.Values, withRequestID bool, h http.Header, body []byte) (*response, error) {
	for reauth := 0; ; reauth++ {
		host, tok, err := c.ingest(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		rid := ""
		if withRequestID {
			rid = newUUID()
			q.Set("requestId", rid)
		}
		u := c.scheme() + "://" + host + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		hh := http.Header{}
		for k, v := range h {
			hh[k] = v
		}
		hh.Set("Authorization", "Bearer "+tok)
		res, err := c.roundTrip(ctx, method, u, hh, body)
		if err != nil {
			return nil, err
		}
		res.requestID = rid
		if res.status == http.StatusUnauthorized && reauth == 0 {
			c.dropToken(tok)
			continue
		}
		return res, nil
	}
}

func (c *Client) scheme() string {
	if strings.HasPrefix(c.cfg.AccountURL, "http://") {
		return "http"
	}
	return "https"
}

func (c *Client) pipePath(pipe string) string {
	return "/v2/streaming/databases/" + url.PathEscape(c.cfg.Database) + "/schemas/" + url.PathEscape(c.cfg.Schema) +
		"/pipes/" + url.PathEscape(pipe)
}

func (c *Client) channelPath(pipe, channel string) string {
	return c.pipePath(pipe) + "/channels/" + url.PathEscape(channel)
}

func (c *Client) rowsPath(pipe, channel string) string {
	return "/v2/streaming/data/databases/" + url.PathEscape(c.cfg.Database) + "/schemas/" + url.PathEscape(c.cfg.Schema) +
		"/pipes/" + url.PathEscape(pipe) + "/channels/" + url.PathEscape(channel) + "/rows"
}

// ChannelStatus is a channel's state as the service reports it.
type ChannelStatus struct {
	StatusCode               string  `json:"channel_status_code"`
	LastCommittedOffsetToken *string `json:"last_committed_offset_token"`
	RowsInserted             int64   `json:"rows_inserted"`
	RowsParsed               int64   `json:"rows_parsed"`
	// RowsErrorCount is "rows_error_count" in the Open Channel response and
	// "rows_errors" in Bulk Get Channel Status (the reference names them
	// differently); either is read into it.
	RowsErrorCount            int64   `json:"rows_error_count"`
	RowsErrors                *int64  `json:"rows_errors"`
	LastErrorOffsetUpperBound *string `json:"last_error_offset_upper_bound"`
	LastErrorMessage          *string `json:"last_error_message"`
}

func (s *ChannelStatus) errorRows() int64 {
	if s.RowsErrors != nil && *s.RowsErrors > s.RowsErrorCount {
		return *s.RowsErrors
	}
	return s.RowsErrorCount
}

// openChannel opens (or reopens) a channel: the service bumps its client
// sequencer, discards what was sent and not committed, and returns the
// next continuation token and the last committed offset token.
func (c *Client) openChannel(ctx context.Context, pipe, channel string) (cont string, st ChannelStatus, err error) {
	target := pipe + "/" + channel
	h := http.Header{"Content-Type": {"application/json"}}
	err = c.retry(ctx, func() error {
		res, err := c.ingestCall(ctx, http.MethodPut, c.channelPath(pipe, channel), nil, true, h, []byte("{}"))
		if err != nil {
			return fmt.Errorf("snowpipe open channel %s: %w", target, err)
		}
		if res.status/100 != 2 {
			return res.apiError("open channel", target, res.requestID)
		}
		var doc struct {
			Next          string        `json:"next_continuation_token"`
			ChannelStatus ChannelStatus `json:"channel_status"`
		}
		if err := json.Unmarshal(res.body, &doc); err != nil || doc.Next == "" {
			return permanent(fmt.Errorf("snowpipe open channel %s: response has no next_continuation_token: %.200s", target, res.body))
		}
		cont, st = doc.Next, doc.ChannelStatus
		return nil
	})
	return cont, st, err
}

// channelStatus reads one channel's status; found is false when the
// service does not know the channel (dropped).
func (c *Client) channelStatus(ctx context.Context, pipe, channel string) (st ChannelStatus, found bool, err error) {
	target := pipe + "/" + channel
	body, _ := json.Marshal(map[string][]string{"channel_names": {channel}})
	h := http.Header{"Content-Type": {"application/json"}}
	err = c.retry(ctx, func() error {
		res, err := c.ingestCall(ctx, http.MethodPost, c.pipePath(pipe)+":bulk-channel-status", nil, false, h, body)
		if err != nil {
			return fmt.Errorf("snowpipe channel status %s: %w", target, err)
		}
		if res.status/100 != 2 {
			return res.apiError("channel status", target, res.requestID)
		}
		var doc struct {
			Statuses map[string]ChannelStatus `json:"channel_statuses"`
		}
		if err := json.Unmarshal(res.body, &doc); err != nil {
			return permanent(fmt.Errorf("snowpipe channel status %s: decoding response: %w", target, err))
		}
		st, found = doc.Statuses[channel]
		if !found { // names are documented case-sensitive here, case-insensitive elsewhere
			for k, v := range doc.Statuses {
				if strings.EqualFold(k, channel) {
					st, found = v, true
					break
				}
			}
		}
		return nil
	})
	return st, found, err
}

// DropChannel drops a channel and its offset token on the server. Its
// rows stay in the table; the next OpenChannel starts with no committed
// offset, so drop only a channel whose partition is gone.
func (c *Client) DropChannel(ctx context.Context, pipe, channel string) error {
	target := pipe + "/" + channel
	return c.retry(ctx, func() error {
		res, err := c.ingestCall(ctx, http.MethodDelete, c.channelPath(pipe, channel), nil, true, nil, nil)
		if err != nil {
			return fmt.Errorf("snowpipe drop channel %s: %w", target, err)
		}
		if res.status/100 != 2 {
			return res.apiError("drop channel", target, res.requestID)
		}
		return nil
	})
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
