package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

func everyRow(token int64) port.AppendRow {
	return port.AppendRow{Token: token, Cells: table.Row{{S: "e"}, {I: token}, {F: 0.5}, {B: true},
		{I: time.Date(2024, 2, 3, 10, 0, 0, 0, time.UTC).UnixMicro()}, {I: 19756}, {S: "o"}}}
}

// TestAppenderExactlyOncePerToken: rows at or below a channel's committed
// token are skipped, across a restart of the process (a new Appender on
// the reopened file), and a failed append leaves rows and token as they were.
func TestAppenderExactlyOncePerToken(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	w := open(t, path)
	if err := w.Migrate(ctx, []table.Schema{every}); err != nil {
		t.Fatal(err)
	}
	a, err := NewAppender(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := a.Open(ctx, every, "topic-0"); err != nil || tok != -1 {
		t.Fatalf("a new channel: token %d, %v; want -1", tok, err)
	}
	// Offsets 10-12 make rows; 13 was a duplicate (no row) and ends the batch.
	batch := []port.AppendRow{everyRow(10), everyRow(11), everyRow(12)}
	if err := a.Append(ctx, every, "topic-0", batch, 13); err != nil {
		t.Fatal(err)
	}
	// The redelivery in other boundaries: 11-15.
	if err := a.Append(ctx, every, "topic-0", []port.AppendRow{everyRow(11), everyRow(12), everyRow(14), everyRow(15)}, 15); err != nil {
		t.Fatal(err)
	}
	// Another channel of the same table keeps its own token.
	if err := a.Append(ctx, every, "topic-1", []port.AppendRow{everyRow(10)}, 10); err != nil {
		t.Fatal(err)
	}
	// A failing append (the table lacks a column) changes nothing.
	bad := every
	bad.Columns = append(append([]table.Column(nil), every.Columns...), table.Column{Name: "MISSING", Type: table.Int})
	row := everyRow(16)
	row.Cells = append(row.Cells, table.Cell{I: 1})
	if err := a.Append(ctx, bad, "topic-0", []port.AppendRow{row}, 16); err == nil || !strings.Contains(err.Error(), "channel topic-0") {
		t.Fatalf("append to a missing column: %v", err)
	}
	w.Close()

	w = open(t, path) // the process restarted
	defer w.Close()
	a, err = NewAppender(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	for ch, want := range map[string]int64{"topic-0": 15, "topic-1": 10} {
		if tok, err := a.Open(ctx, every, ch); err != nil || tok != want {
			t.Fatalf("channel %s after a restart: token %d, %v; want %d", ch, tok, err, want)
		}
	}
	if err := a.Append(ctx, every, "topic-0", batch, 13); err != nil { // the first batch once more
		t.Fatal(err)
	}
	_, rows, err := w.Query(ctx, "SELECT N, COUNT(*) FROM FACT_EVERY GROUP BY N ORDER BY N")
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, r := range rows {
		got += fmt.Sprintf(" %vx%v", r[0], r[1])
	}
	// 10 twice: once per channel.
	if want := " 10x2 11x1 12x1 14x1 15x1"; got != want {
		t.Fatalf("rows by N:%s; want%s", got, want)
	}
}
