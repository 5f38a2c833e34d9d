package snowpipe_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/table"
)

func TestAppendLoadsEveryRowOnceWithEachCompression(t *testing.T) {
	for _, comp := range []snowpipe.Compression{snowpipe.Zstd, snowpipe.Gzip, snowpipe.None} {
		t.Run(string(comp), func(t *testing.T) {
			f := newFixture(t)
			ch := f.open(t, f.client(t, func(c *snowpipe.Config) { c.Compression = comp }))
			if _, ok := ch.Committed(); ok {
				t.Fatal("a new channel has a committed offset")
			}
			res := mustAppend(t, ch, eventRows(0, 99), 99)
			if res.Sent != 100 || res.Skipped != 0 || res.Requests != 1 || res.Commit.Committed != 99 || res.Reopens != 0 {
				t.Errorf("result %+v, want 100 sent in 1 request, committed 99", res)
			}
			assertExactlyOnce(t, f.srv, 0, 99)
			if tok, _ := f.srv.Committed("CONSUMER_EVENTS-STREAMING", channelName); tok != "99" {
				t.Errorf("server's committed offset token %q, want 99", tok)
			}
			wire, raw := f.srv.AppendBytes()
			if raw != res.RawBytes || wire != res.WireBytes {
				t.Errorf("client counted %d/%d bytes (wire/raw), server received %d/%d", res.WireBytes, res.RawBytes, wire, raw)
			}
			if comp == snowpipe.None && wire != raw || comp != snowpipe.None && wire >= raw/2 {
				t.Errorf("%s: %d bytes on the wire for %d of NDJSON", comp, wire, raw)
			}
			// offset 7: user 7%7 = 0, 09:00:07
			for _, r := range f.srv.Rows(events.Name) {
				if r["EVENT_ID"] != "e-7" {
					continue
				}
				want := map[string]any{"EVENT_ID": "e-7", "EVENT_NAME": "sign_in", "USER_ID": json.Number("0"),
					"EVENT_TIME": "2024-03-01 09:00:07.000000", "INGESTION_TIMESTAMP": nil, "SOURCE": "kafka"}
				for k, v := range want {
					if r[k] != v {
						t.Errorf("row e-7 %s = %#v, want %#v", k, r[k], v)
					}
				}
			}
		})
	}
}

func TestBareHostnameAndTokenAnswersAreRead(t *testing.T) {
	f := newFixture(t, func(o *snowpipetest.Options) { o.PlainText = true })
	mustAppend(t, f.open(t, f.client(t)), eventRows(0, 9), 9)
	assertExactlyOnce(t, f.srv, 0, 9)
}

func TestRedeliveredBatchAppendsNothing(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	mustAppend(t, ch, eventRows(0, 49), 49)
	res := mustAppend(t, ch, eventRows(0, 49), 49)
	if res.Sent != 0 || res.Skipped != 50 || res.Requests != 0 {
		t.Errorf("redelivery: %+v, want all 50 skipped and no request", res)
	}
	if n := f.srv.Requests(snowpipetest.OpAppend); n != 1 {
		t.Errorf("%d append requests, want 1", n)
	}
	// A batch overlapping the committed offset: only the new half goes.
	res = mustAppend(t, ch, eventRows(25, 99), 99)
	if res.Sent != 50 || res.Skipped != 25 {
		t.Errorf("overlap: %+v, want 50 sent, 25 skipped", res)
	}
	assertExactlyOnce(t, f.srv, 0, 99)
}

// A batch whose last messages were rejected or duplicates: the offset
// token still reaches the batch's last offset.
func TestLastOffsetBeyondLastRowIsCommitted(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	res := mustAppend(t, ch, eventRows(0, 9), 14)
	if res.Commit.Committed != 14 {
		t.Errorf("committed %d, want 14", res.Commit.Committed)
	}
	// Offsets 10-14 redelivered (they had no row): nothing to send.
	if res := mustAppend(t, ch, nil, 14); res.Requests != 0 {
		t.Errorf("%+v", res)
	}
	assertExactlyOnce(t, f.srv, 0, 9)
}

// Process restart: a new client on the same channel reads the committed
// offset token and skips what the old process loaded, whether its last
// append had committed or not.
func TestProcessRestartResumesAtCommittedOffset(t *testing.T) {
	for _, committedBeforeCrash := range []bool{false, true} {
		name := map[bool]string{false: "last append not committed", true: "last append committed"}[committedBeforeCrash]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			old := f.open(t, f.client(t))
			mustAppend(t, old, eventRows(0, 99), 99)
			f.srv.HoldCommits(true)
			if _, err := old.Send(ctx, eventRows(100, 199), 199); err != nil {
				t.Fatal(err)
			}
			if committedBeforeCrash {
				f.srv.CommitAll()
			}
			f.srv.HoldCommits(false)
			// The process dies here; the event-source mapping redelivers
			// both batches (the Kafka offset commit had not happened).
			appends := f.srv.Requests(snowpipetest.OpAppend)
			ch := f.open(t, f.client(t))
			wantCommitted := map[bool]int64{false: 99, true: 199}[committedBeforeCrash]
			if got, _ := ch.Committed(); got != wantCommitted {
				t.Fatalf("reopened at %d, want %d", got, wantCommitted)
			}
			r1 := mustAppend(t, ch, eventRows(0, 99), 99)
			r2 := mustAppend(t, ch, eventRows(100, 199), 199)
			if r1.Sent != 0 {
				t.Errorf("first batch sent %d rows again", r1.Sent)
			}
			wantSent := map[bool]int{false: 100, true: 0}[committedBeforeCrash]
			if r2.Sent != wantSent || f.srv.Requests(snowpipetest.OpAppend)-appends != min(wantSent, 1) {
				t.Errorf("second batch sent %d rows in %d requests, want %d", r2.Sent, f.srv.Requests(snowpipetest.OpAppend)-appends, wantSent)
			}
			assertExactlyOnce(t, f.srv, 0, 199)
			// The old process's channel wakes up (a Lambda that outlived its
			// timeout): waiting finds its rows committed and sends nothing.
			if _, err := old.WaitCommitted(ctx); err != nil {
				t.Fatal(err)
			}
			assertExactlyOnce(t, f.srv, 0, 199)
		})
	}
}

// Lost response: the append reached the service but the client never
// heard. It reopens the channel (which discards what was not committed)
// and sends again only what is above the committed offset.
func TestLostAppendResponse(t *testing.T) {
	for _, commitFirst := range []bool{false, true} {
		name := map[bool]string{false: "landed uncommitted", true: "landed and committed"}[commitFirst]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			ch := f.open(t, f.client(t))
			mustAppend(t, ch, eventRows(0, 9), 9)
			f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpAppend, Lose: true, CommitFirst: commitFirst})
			res := mustAppend(t, ch, eventRows(10, 59), 59)
			assertExactlyOnce(t, f.srv, 0, 59)
			wantAppends := map[bool]int{false: 3, true: 2}[commitFirst] // a resend only if it had not committed
			if n := f.srv.Requests(snowpipetest.OpAppend); n != wantAppends || res.Reopens != 1 || f.srv.Requests(snowpipetest.OpOpen) != 2 {
				t.Errorf("%d appends, %d reopens, %d opens; want %d, 1, 2", n, res.Reopens, f.srv.Requests(snowpipetest.OpOpen), wantAppends)
			}
		})
	}
}

func TestLostOpenAndStatusResponsesAreRetried(t *testing.T) {
	f := newFixture(t)
	f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpOpen, Lose: true})
	f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpStatus, Lose: true})
	mustAppend(t, f.open(t, f.client(t)), eventRows(0, 19), 19)
	assertExactlyOnce(t, f.srv, 0, 19)
	if n := f.srv.Requests(snowpipetest.OpOpen); n != 2 {
		t.Errorf("%d opens, want 2", n)
	}
}

// Invalidation with an error: the service answers the append with
// STALE_CONTINUATION_TOKEN_SEQUENCER; the client reopens at the committed
// offset and resumes.
func TestInvalidatedChannelIsReopened(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	mustAppend(t, ch, eventRows(0, 49), 49)
	f.srv.Invalidate("CONSUMER_EVENTS-STREAMING", channelName)
	res := mustAppend(t, ch, eventRows(50, 99), 99)
	if res.Reopens != 1 || res.Requests != 1 {
		t.Errorf("%+v, want 1 reopen and 1 successful request", res)
	}
	assertExactlyOnce(t, f.srv, 0, 99)
}

// Invalidation without an error reaching the client: its rows in flight
// were discarded and the committed offset stands still; after ReopenAfter
// it reopens and sends them again.
func TestSilentlyInvalidatedChannelIsReopenedWhenCommitsStall(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t, func(c *snowpipe.Config) { c.ReopenAfter = 30 * time.Millisecond }))
	ctx := context.Background()
	mustAppend(t, ch, eventRows(0, 49), 49)
	f.srv.HoldCommits(true)
	if _, err := ch.Send(ctx, eventRows(50, 99), 99); err != nil {
		t.Fatal(err)
	}
	f.srv.Invalidate("CONSUMER_EVENTS-STREAMING", channelName)
	f.srv.HoldCommits(false)
	res, err := ch.WaitCommitted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reopens != 1 || res.Committed != 99 {
		t.Errorf("%+v, want 1 reopen, committed 99", res)
	}
	assertExactlyOnce(t, f.srv, 0, 99)
}

// The service restarts: scoped tokens and continuation tokens are void,
// buffered rows lost, committed offsets kept.
func TestServiceRestart(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t))
	ctx := context.Background()
	mustAppend(t, ch, eventRows(0, 49), 49)
	f.srv.HoldCommits(true)
	if _, err := ch.Send(ctx, eventRows(50, 99), 99); err != nil {
		t.Fatal(err)
	}
	f.srv.Restart()
	f.srv.HoldCommits(false)
	mustAppend(t, ch, eventRows(50, 149), 149) // the redelivered batch and the next one
	assertExactlyOnce(t, f.srv, 0, 149)
	if n := f.srv.Requests(snowpipetest.OpToken); n != 2 {
		t.Errorf("%d token exchanges, want 2 (the restart voided the first)", n)
	}
}

func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name             string
		faults           []snowpipetest.Fault
		appends, opens   int
		wantCommittedEnd int64
	}{
		{"429 on append, same request again", []snowpipetest.Fault{{Op: snowpipetest.OpAppend, Status: 429, Code: "TOO_MANY_REQUESTS", RetryAfter: "1", Times: 2}}, 3, 1, 59},
		{"503 on append, reopen and resend", []snowpipetest.Fault{{Op: snowpipetest.OpAppend, Status: 503, Times: 2}}, 3, 3, 59},
		{"500 on channel status", []snowpipetest.Fault{{Op: snowpipetest.OpStatus, Status: 500, Times: 2}}, 1, 1, 59},
		{"502 on open, 503 on token, 504 on hostname", []snowpipetest.Fault{
			{Op: snowpipetest.OpOpen, Status: 502}, {Op: snowpipetest.OpToken, Status: 503}, {Op: snowpipetest.OpHostname, Status: 504}}, 1, 2, 59},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, fl := range tc.faults {
				f.srv.Inject(fl)
			}
			res := mustAppend(t, f.open(t, f.client(t)), eventRows(0, 59), 59)
			assertExactlyOnce(t, f.srv, 0, 59)
			if a, o := f.srv.Requests(snowpipetest.OpAppend), f.srv.Requests(snowpipetest.OpOpen); a != tc.appends || o != tc.opens || res.Commit.Committed != tc.wantCommittedEnd {
				t.Errorf("%d appends, %d opens, committed %d; want %d, %d, %d", a, o, res.Commit.Committed, tc.appends, tc.opens, tc.wantCommittedEnd)
			}
		})
	}
}

// A batch over MaxRequestBytes goes in several requests, each within the
// limit, never splitting the rows of one offset; a request lost midway
// (after it committed) resumes after it.
func TestLargeBatchIsSplitAtOffsetBoundaries(t *testing.T) {
	f := newFixture(t)
	ch := f.open(t, f.client(t, func(c *snowpipe.Config) { c.MaxRequestBytes = 1000 }))
	// three rows per offset (one message, three events)
	var rows []snowpipe.Row
	for _, r := range eventRows(0, 119) {
		r.Offset /= 3
		rows = append(rows, r)
	}
	f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpAppend, Lose: true, CommitFirst: true, Times: 1})
	res := mustAppend(t, ch, rows, 39)
	assertExactlyOnce(t, f.srv, 0, 119)
	// An offset's 3 rows take 395-405 bytes: 2 offsets fit in 1000, 3 do
	// not, so 40 offsets make 20 requests; the lost one is not resent.
	appends := f.srv.Appends("CONSUMER_EVENTS-STREAMING", channelName)
	if len(appends) != 20 || res.Requests != 19 || res.Commit.Committed != 39 {
		t.Errorf("%+v, %d appends: want 20 appends, 19 answered, committed 39", res, len(appends))
	}
	for _, a := range appends {
		if a.RawBytes > 1000 || a.Rows%3 != 0 || a.Rows != 3*int(a.End-a.Start+1) {
			t.Errorf("append %+v: over 1000 bytes, or an offset's rows split", a)
		}
	}
}

// A row the table cannot take is rejected by the service (the pipe's
// schema validation), not by the request: Append reports it.
func TestRowErrorsAreReported(t *testing.T) {
	f := newFixture(t)
	wrong := events
	wrong.Columns = append([]table.Column(nil), events.Columns...)
	wrong.Columns[2].Type = table.String // USER_ID is a NUMBER in the table
	ch, err := f.client(t).OpenChannel(context.Background(), snowpipe.ChannelSpec{Table: wrong, Name: channelName})
	if err != nil {
		t.Fatal(err)
	}
	var rows []snowpipe.Row
	for _, r := range eventRows(0, 4) {
		r.Cells[2] = table.Str("seven")
		rows = append(rows, r)
	}
	res, err := ch.Append(context.Background(), rows, 4)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit.RowErrors != 5 || res.Commit.Committed != 4 || res.Commit.LastRowError == "" {
		t.Errorf("%+v, want 5 row errors and the offset committed", res.Commit)
	}
	if n := len(f.srv.Rows(events.Name)); n != 0 {
		t.Errorf("%d rows in the table, want 0", n)
	}
}

func TestDroppedChannelStartsOver(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	mustAppend(t, f.open(t, c), eventRows(0, 9), 9)
	if err := c.DropChannel(context.Background(), "CONSUMER_EVENTS-STREAMING", channelName); err != nil {
		t.Fatal(err)
	}
	if off, ok := f.open(t, c).Committed(); ok {
		t.Errorf("dropped channel reopened at %d", off)
	}
}
