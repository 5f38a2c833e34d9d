package snowpipe_test

import (
	"context"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/port"
)

func appendRows(rows []snowpipe.Row) []port.AppendRow {
	out := make([]port.AppendRow, len(rows))
	for i, r := range rows {
		out[i] = port.AppendRow{Token: r.Offset, Cells: r.Cells}
	}
	return out
}

// TestAppenderRedeliveryAndRestart is the port.Appender contract on
// the stand-in: a redelivery in other boundaries after a lost response
// appends nothing twice, and a new process (a new Client) reads the
// committed token back.
func TestAppenderRedeliveryAndRestart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := snowpipe.NewAppender(f.client(t), nil)
	if tok, err := a.Open(ctx, events, channelName); err != nil || tok != -1 {
		t.Fatalf("a new channel: token %d, %v; want -1", tok, err)
	}
	if err := a.Append(ctx, events, channelName, appendRows(eventRows(0, 9)), 9); err != nil {
		t.Fatal(err)
	}
	// The next batch's response is lost after the rows committed: the
	// batch fails, and is redelivered from 5 to 24 in another process.
	f.srv.Inject(snowpipetest.Fault{Op: snowpipetest.OpAppend, Lose: true, CommitFirst: true, Times: 1})
	f.clock.Advance(0)
	_ = a.Append(ctx, events, channelName, appendRows(eventRows(10, 19)), 19)
	f.srv.Restart()
	b := snowpipe.NewAppender(f.client(t), nil)
	if tok, err := b.Open(ctx, events, channelName); err != nil || tok != 19 {
		t.Fatalf("the new process opens the channel: token %d, %v; want 19", tok, err)
	}
	if err := b.Append(ctx, events, channelName, appendRows(eventRows(5, 24)), 24); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, f.srv, 0, 24)
}

// TestAppenderOpenReadsTheServiceToken: Open asks the service, not this
// process's last view, so a version token taken as Open + 1 is above what
// another process appended meanwhile (the stream's staging channels).
func TestAppenderOpenReadsTheServiceToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := snowpipe.NewAppender(f.client(t), nil)
	b := snowpipe.NewAppender(f.client(t), nil)
	rows := eventRows(0, 2)
	for i, ap := range []*snowpipe.Appender{a, b, a} {
		tok, err := ap.Open(ctx, events, channelName)
		if err != nil {
			t.Fatal(err)
		}
		if tok != int64(i)-1 {
			t.Fatalf("open %d: token %d; want %d", i, tok, i-1)
		}
		r := rows[i]
		r.Offset = tok + 1
		if err := ap.Append(ctx, events, channelName, appendRows([]snowpipe.Row{r}), tok+1); err != nil {
			t.Fatal(err)
		}
	}
	assertExactlyOnce(t, f.srv, 0, 2)
}
