package snowpipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

// ChannelSpec names a channel: the table it loads, the pipe (default
// DefaultPipe(Table.Name)) and the channel's name (ChannelName(topic,
// partition) for a Kafka partition).
type ChannelSpec struct {
	Table table.Schema
	Pipe  string
	Name  string
}

// Channel is an open channel: one writer's ordered stream of rows into
// one table, whose offset token is the source's offset. Its methods
// serialize; use one Channel per topic partition and table.
//
// The exactly-once contract: Send skips every row at or below the
// committed offset token (and below what it already sent), so a
// redelivered batch appends nothing twice, whatever the crash, restart,
// lost response or invalidation before it.
type Channel struct {
	c     *Client
	spec  ChannelSpec
	comp  *compressor
	scrat []byte // compression output, reused

	mu         sync.Mutex
	cont       string
	committed  int64 // -1: no committed offset token
	errRows    int64 // the service's error-row count last seen
	pending    []*chunk
	needReopen bool
	reopenWhy  error
}

// chunk is one Append Rows request: NDJSON lines and their offsets, and
// the end offset token it commits.
type chunk struct {
	raw   []byte
	lines []line
	end   int64
	sent  bool
}

type line struct {
	end    int // raw[:end] holds this line and those before it
	offset int64
}

// OpenChannel opens the channel (creating it on first use) and reads its
// committed offset token.
func (c *Client) OpenChannel(ctx context.Context, spec ChannelSpec) (*Channel, error) {
	if spec.Name == "" || len(spec.Table.Columns) == 0 {
		return nil, fmt.Errorf("snowpipe open channel: spec needs Name and Table columns (got %q, %d columns)", spec.Name, len(spec.Table.Columns))
	}
	if spec.Pipe == "" {
		spec.Pipe = DefaultPipe(spec.Table.Name)
	}
	comp, err := compressorFor(c.cfg.Compression)
	if err != nil {
		return nil, err
	}
	ch := &Channel{c: c, spec: spec, comp: comp, committed: -1}
	if err := ch.reopen(ctx); err != nil {
		return nil, err
	}
	return ch, nil
}

// Name is the channel's name; Pipe its pipe.
func (ch *Channel) Name() string { return ch.spec.Name }
func (ch *Channel) Pipe() string { return ch.spec.Pipe }

// Committed returns the committed offset token as last read (ok false when
// the channel has none yet).
func (ch *Channel) Committed() (offset int64, ok bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.committed, ch.committed >= 0
}

func parseOffsetToken(tok *string) (int64, error) {
	if tok == nil || *tok == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(*tok, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("committed offset token %q is not a Kafka offset (was the channel written by another producer?)", *tok)
	}
	return n, nil
}

// reopen opens the channel anew: a fresh continuation token, the committed
// offset token read back, and every row above it queued to be sent again
// (the service discarded what was in flight).
func (ch *Channel) reopen(ctx context.Context) error {
	cont, st, err := ch.c.openChannel(ctx, ch.spec.Pipe, ch.spec.Name)
	if err != nil {
		return err
	}
	tok, err := parseOffsetToken(st.LastCommittedOffsetToken)
	if err != nil {
		return permanent(fmt.Errorf("snowpipe open channel %s/%s: %w", ch.spec.Pipe, ch.spec.Name, err))
	}
	ch.cont, ch.committed = cont, tok
	ch.errRows = max(ch.errRows, st.errorRows())
	ch.trim()
	for _, ck := range ch.pending {
		ck.sent = false
	}
	ch.needReopen, ch.reopenWhy = false, nil
	return nil
}

// trim drops the pending rows at or below the committed offset token.
func (ch *Channel) trim() {
	keep := ch.pending[:0]
	for _, ck := range ch.pending {
		k := 0
		for k < len(ck.lines) && ck.lines[k].offset <= ch.committed {
			k++
		}
		if k == len(ck.lines) {
			continue
		}
		if k > 0 {
			cut := ck.lines[k-1].end
			ck.raw = ck.raw[cut:]
			ck.lines = append([]line(nil), ck.lines[k:]...)
			for i := range ck.lines {
				ck.lines[i].end -= cut
			}
		}
		keep = append(keep, ck)
	}
	clear(ch.pending[len(keep):])
	ch.pending = keep
}

// SendResult says what Send did.
type SendResult struct {
	Rows      int   // rows given
	Skipped   int   // at or below the committed offset token, or already sent
	Sent      int   // rows queued and sent
	Requests  int   // Append Rows requests that succeeded
	RawBytes  int64 // NDJSON bytes sent (what Snowflake bills)
	WireBytes int64 // request body bytes after compression
	Reopens   int
}

// Send appends the rows above the committed offset token, in requests of
// at most Config.MaxRequestBytes of NDJSON; the last request's end offset
// token is lastOffset (the batch's last offset on the partition, which a
// row need not have: a rejected or duplicate message has none). Rows must
// be in offset order, none above lastOffset. It returns once the service
// accepted them, before they are committed: WaitCommitted waits for that.
// A batch with no row above the committed offset sends nothing.
func (ch *Channel) Send(ctx context.Context, rows []Row, lastOffset int64) (SendResult, error) {
	res := SendResult{Rows: len(rows)}
	for i, r := range rows {
		switch {
		case r.Offset < 0:
			return res, permanent(fmt.Errorf("snowpipe send to %s: rows[%d].Offset %d is negative", ch.spec.Name, i, r.Offset))
		case r.Offset > lastOffset:
			return res, permanent(fmt.Errorf("snowpipe send to %s: rows[%d].Offset %d is above lastOffset %d", ch.spec.Name, i, r.Offset, lastOffset))
		case i > 0 && r.Offset < rows[i-1].Offset:
			return res, permanent(fmt.Errorf("snowpipe send to %s: rows[%d].Offset %d is below rows[%d].Offset %d: rows must be in offset order",
				ch.spec.Name, i, r.Offset, i-1, rows[i-1].Offset))
		}
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	floor := ch.committed
	if n := len(ch.pending); n > 0 {
		floor = max(floor, ch.pending[n-1].end)
	}
	start := 0
	for start < len(rows) && rows[start].Offset <= floor {
		start++
	}
	res.Skipped = start
	chunks, err := ch.encode(rows[start:], lastOffset)
	if err != nil {
		return res, err
	}
	ch.pending = append(ch.pending, chunks...)
	for _, ck := range chunks {
		res.Sent += len(ck.lines)
	}
	err = ch.flush(ctx, &res)
	return res, err
}

// encode cuts rows into chunks of at most MaxRequestBytes of NDJSON,
// never splitting the rows of one offset. Rows are written straight into
// the chunk; a group that overflows it moves to the next one.
func (ch *Channel) encode(rows []Row, lastOffset int64) ([]*chunk, error) {
	limit := ch.c.cfg.MaxRequestBytes
	var chunks []*chunk
	newChunk := func(sizeHint int) *chunk {
		return &chunk{raw: make([]byte, 0, min(limit, sizeHint)), lines: make([]line, 0, len(rows))}
	}
	cur := newChunk(512 * len(rows))
	for i := 0; i < len(rows); {
		off, groupStart, linesStart := rows[i].Offset, len(cur.raw), len(cur.lines)
		for ; i < len(rows) && rows[i].Offset == off; i++ {
			var err error
			cur.raw, err = appendRowJSON(cur.raw, &ch.spec.Table, rows[i].Cells)
			if err != nil {
				return nil, permanent(fmt.Errorf("snowpipe encoding row at offset %d for %s: %w", off, ch.spec.Table.Name, err))
			}
			cur.lines = append(cur.lines, line{end: len(cur.raw), offset: off})
		}
		if len(cur.raw) <= limit {
			continue
		}
		size := len(cur.raw) - groupStart
		if size > limit {
			return nil, permanent(fmt.Errorf("snowpipe encoding for %s: the rows at offset %d take %d bytes, over the %d-byte request limit",
				ch.spec.Table.Name, off, size, limit))
		}
		// the group moves to a new chunk; the full one ends before it
		next := newChunk(len(cur.raw) / max(1, len(cur.lines)) * (len(rows) - linesStart))
		next.raw = append(next.raw, cur.raw[groupStart:]...)
		for _, l := range cur.lines[linesStart:] {
			next.lines = append(next.lines, line{end: l.end - groupStart, offset: l.offset})
		}
		cur.raw, cur.lines = cur.raw[:groupStart], cur.lines[:linesStart]
		cur.end = cur.lines[linesStart-1].offset
		chunks = append(chunks, cur)
		cur = next
	}
	if len(cur.lines) > 0 {
		cur.end = lastOffset
		chunks = append(chunks, cur)
	}
	return chunks, nil
}

// errNoToken: a 2xx Append Rows response without a continuation token; the
// channel's state is unknown, so it is reopened.
var errNoToken = errors.New("append response has no next_continuation_token")

// flush sends every pending chunk not yet sent, in order. A failure whose
// request may have landed (a lost response, a 5xx) or that voids the
// continuation token reopens the channel, which reads the committed offset
// back and sends again only what is above it; throttling (429, 408) sends
// the same request again after the backoff; anything else is returned.
func (ch *Channel) flush(ctx context.Context, res *SendResult) error {
	cfg := &ch.c.cfg
	attempt, reopens := 0, 0
	for {
		if ch.needReopen {
			if reopens >= cfg.MaxReopens {
				return fmt.Errorf("snowpipe channel %s/%s: %w (last: %w)", ch.spec.Pipe, ch.spec.Name, ErrInvalidated, ch.reopenWhy)
			}
			slog.Warn("snowpipe: reopening channel", "pipe", ch.spec.Pipe, "channel", ch.spec.Name, "reason", ch.reopenWhy)
			if err := ch.reopen(ctx); err != nil {
				return err
			}
			reopens++
			res.Reopens++
		}
		var failed error
		for _, ck := range ch.pending {
			if ck.sent {
				continue
			}
			if failed = ch.appendOnce(ctx, ck, res); failed != nil {
				break
			}
			ck.sent = true
		}
		if failed == nil {
			return nil
		}
		if ctx.Err() != nil || isPermanent(failed) {
			return failed
		}
		var ae *APIError
		switch {
		case errors.As(failed, &ae) && ae.invalidates():
			ch.needReopen, ch.reopenWhy = true, failed
			continue // the reopen is the remedy; MaxReopens bounds it
		case errors.As(failed, &ae) && (ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusRequestTimeout):
			// not processed: the same request, same continuation token
		default: // 5xx, a lost response, no token: it may have landed
			ch.needReopen, ch.reopenWhy = true, failed
		}
		attempt++
		if attempt >= cfg.Retry.Attempts {
			return failed
		}
		if err := ch.c.sleep(ctx, ch.c.backoff(attempt-1, failed)); err != nil {
			return failed
		}
	}
}

// appendOnce sends one chunk with the current continuation token.
func (ch *Channel) appendOnce(ctx context.Context, ck *chunk, res *SendResult) error {
	target := ch.spec.Pipe + "/" + ch.spec.Name
	body, err := ch.comp.compress(ch.scrat, ck.raw)
	if err != nil {
		return permanent(fmt.Errorf("snowpipe append rows %s: %w", target, err))
	}
	ch.scrat = body
	h := http.Header{"Content-Type": {"application/x-ndjson"}}
	if enc := ch.comp.contentEncoding(); enc != "" {
		h.Set("Content-Encoding", enc)
	}
	q := url.Values{
		"continuationToken": {ch.cont},
		"startOffsetToken":  {strconv.FormatInt(ck.lines[0].offset, 10)},
		"endOffsetToken":    {strconv.FormatInt(ck.end, 10)},
	}
	r, err := ch.c.ingestCall(ctx, http.MethodPost, ch.c.rowsPath(ch.spec.Pipe, ch.spec.Name), q, true, h, body)
	if err != nil {
		return fmt.Errorf("snowpipe append rows %s (offsets %d-%d): %w", target, ck.lines[0].offset, ck.end, err)
	}
	if r.status/100 != 2 {
		return r.apiError("append rows", target, r.requestID)
	}
	var doc struct {
		Next string `json:"next_continuation_token"`
	}
	if json.Unmarshal(r.body, &doc) != nil || doc.Next == "" {
		return fmt.Errorf("snowpipe append rows %s: %w: %.200s", target, errNoToken, r.body)
	}
	ch.cont = doc.Next
	res.Requests++
	res.RawBytes += int64(len(ck.raw))
	res.WireBytes += int64(len(body))
	return nil
}

// CommitResult says what WaitCommitted saw.
type CommitResult struct {
	Committed int64 // the committed offset token (-1: none)
	Polls     int
	Reopens   int
	// RowErrors is how many rows the service rejected (its error-row count
	// grew) while waiting; those rows are not in the table although their
	// offsets are committed. LastRowError is its last error message.
	RowErrors    int64
	LastRowError string
}

// WaitCommitted polls the channel's status until every row sent is
// committed, and returns the committed offset token. A channel that the
// service no longer knows, or whose committed offset stands still for
// Config.ReopenAfter, is reopened and the rows above its committed offset
// sent again. After Config.CommitTimeout it returns ErrCommitTimeout.
func (ch *Channel) WaitCommitted(ctx context.Context) (CommitResult, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	cfg := &ch.c.cfg
	res := CommitResult{Committed: ch.committed}
	deadline := time.Now().Add(cfg.CommitTimeout)
	lastProgress := time.Now()
	var sres SendResult
	if ch.needReopen || (len(ch.pending) > 0 && !ch.pending[len(ch.pending)-1].sent) {
		// a Send that failed left rows unsent: send them first
		if err := ch.flush(ctx, &sres); err != nil {
			return res, err
		}
		res.Reopens = sres.Reopens
	}
	for len(ch.pending) > 0 {
		st, found, err := ch.c.channelStatus(ctx, ch.spec.Pipe, ch.spec.Name)
		res.Polls++
		if err != nil {
			return res, err
		}
		if !found {
			ch.needReopen, ch.reopenWhy = true, fmt.Errorf("channel status: the service does not know channel %s", ch.spec.Name)
		} else {
			tok, err := parseOffsetToken(st.LastCommittedOffsetToken)
			if err != nil {
				return res, permanent(fmt.Errorf("snowpipe channel status %s/%s: %w", ch.spec.Pipe, ch.spec.Name, err))
			}
			if n := st.errorRows(); n > ch.errRows {
				res.RowErrors += n - ch.errRows
				ch.errRows = n
				if st.LastErrorMessage != nil {
					res.LastRowError = *st.LastErrorMessage
				}
				slog.Warn("snowpipe: the service rejected rows", "pipe", ch.spec.Pipe, "channel", ch.spec.Name,
					"rows", res.RowErrors, "error", res.LastRowError)
			}
			if tok > ch.committed {
				ch.committed = tok
				lastProgress = time.Now()
				if ch.trim(); len(ch.pending) == 0 {
					break
				}
			} else if time.Since(lastProgress) > cfg.ReopenAfter {
				ch.needReopen, ch.reopenWhy = true, fmt.Errorf("committed offset token stood at %d for %v", ch.committed, cfg.ReopenAfter)
			}
		}
		if ch.needReopen {
			if res.Reopens >= cfg.MaxReopens {
				return res, fmt.Errorf("snowpipe channel %s/%s: %w (last: %w)", ch.spec.Pipe, ch.spec.Name, ErrInvalidated, ch.reopenWhy)
			}
			before := sres.Reopens
			if err := ch.flush(ctx, &sres); err != nil {
				return res, err
			}
			res.Reopens += sres.Reopens - before
			lastProgress = time.Now()
			continue
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("snowpipe channel %s/%s: %w: at %d after %v, rows sent up to %d",
				ch.spec.Pipe, ch.spec.Name, ErrCommitTimeout, ch.committed, cfg.CommitTimeout, ch.pending[len(ch.pending)-1].end)
		}
		if err := ch.c.sleep(ctx, cfg.CommitPoll); err != nil {
			return res, fmt.Errorf("snowpipe waiting for commit on %s/%s: %w", ch.spec.Pipe, ch.spec.Name, err)
		}
	}
	res.Committed = ch.committed
	return res, nil
}

// AppendResult is Send's and WaitCommitted's results together.
type AppendResult struct {
	SendResult
	Commit CommitResult
}

// Append is the exactly-once append: Send the rows above the committed
// offset token, then WaitCommitted. When it returns nil, every row given
// is in the table once (or counted in Commit.RowErrors); when it returns
// an error, calling it again with the same rows (the redelivered batch)
// appends only those not yet committed. port.Retryable sorts its
// errors: bad rows, authentication and missing objects are permanent.
func (ch *Channel) Append(ctx context.Context, rows []Row, lastOffset int64) (AppendResult, error) {
	var res AppendResult
	s, err := ch.Send(ctx, rows, lastOffset)
	res.SendResult = s
	if err != nil {
		return res, err
	}
	res.Commit, err = ch.WaitCommitted(ctx)
	return res, err
}
