package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/port"
)

// collect is an in-memory Producer.
type collect struct {
	movies []port.Movie
	calls  int
	fail   error
}

func (c *collect) Produce(_ context.Context, ms []port.Movie) error {
	if c.fail != nil {
		return c.fail
	}
	c.calls++
	c.movies = append(c.movies, ms...)
	return nil
}

// TestSimulatorCatalog: every movie of the simulator's Movies.txt comes
// out with the dollar price the simulator chose (in cents, not parsed).
func TestSimulatorCatalog(t *testing.T) {
	var p collect
	var rejects []catalog.Reject
	c, err := catalog.Publish(context.Background(), bytes.NewReader(sim.MoviesTxt()), &p, func(r catalog.Reject) error {
		rejects = append(rejects, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sim.Movies()
	if c != (catalog.Counts{Received: int64(len(want)), Produced: int64(len(want))}) || len(rejects) != 0 {
		t.Fatalf("counts %+v, rejects %v; want %d produced", c, rejects, len(want))
	}
	for i, m := range p.movies {
		w := want[i]
		if m.ItemID != w.ItemID || m.Title != w.Title || m.Genre != w.Genre || m.Price != w.Price || m.Currency != "USD" ||
			m.ListPriceRaw != strings.TrimSpace(w.ListPrice) {
			t.Errorf("movie %d = %+v, want %+v", i, m, w)
		}
	}
	if p.movies[0].ListPriceRaw != "4999USD$49.99" && !strings.Contains(p.movies[0].ListPriceRaw, "USD$") {
		t.Errorf("first movie's raw price %q is not in the combined form", p.movies[0].ListPriceRaw)
	}
}

func TestBadLines(t *testing.T) {
	file := "\ufeffListPrice\tgenre\tTitle\titem_id\r\n" + // columns in another order, BOM, CRLF
		"4999USD$49.99\tDrama\tGood One\tB1\r\n" +
		"\n" +
		"$5\t\tNo Genre\tB2\n" +
		"$5\tDrama\tMissing Id\t\n" +
		"$5\tDrama\t\tB3\n" +
		"4999USD$49.98\tDrama\tCents Disagree\tB4\n" +
		"49.999\tDrama\tThree Decimals\tB5\n" +
		"$5\tDrama\tToo Many\tB6\textra\n" +
		"USD 12.5\tComedy\tLast\tB7"
	var p collect
	var rejects []string
	c, err := catalog.Publish(context.Background(), strings.NewReader(file), &p, func(r catalog.Reject) error {
		rejects = append(rejects, r.Error())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c != (catalog.Counts{Received: 8, Produced: 3, Rejected: 5}) {
		t.Errorf("counts %+v", c)
	}
	wantRejects := []string{
		"line 5: field item_id: missing critical field",
		"line 6: field title: missing critical field",
		`line 7: field ListPrice: list price "4999USD$49.98": cents prefix 4999 disagrees with the dollar value 49.98`,
		`line 8: field ListPrice: list price "49.999": amount "49.999" is not a non-negative number with at most two decimals`,
		"line 9: has 5 fields, the header has 4",
	}
	if strings.Join(rejects, "\n") != strings.Join(wantRejects, "\n") {
		t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(rejects, "\n"), strings.Join(wantRejects, "\n"))
	}
	want := []port.Movie{
		{ItemID: "B1", Title: "Good One", Genre: "Drama", ListPriceRaw: "4999USD$49.99", Price: 49.99, Currency: "USD"},
		{ItemID: "B2", Title: "No Genre", Genre: catalog.DefaultGenre, ListPriceRaw: "$5", Price: 5, Currency: "USD"},
		{ItemID: "B7", Title: "Last", Genre: "Comedy", ListPriceRaw: "USD 12.5", Price: 12.5, Currency: "USD"},
	}
	if len(p.movies) != len(want) {
		t.Fatalf("produced %+v", p.movies)
	}
	for i := range want {
		if p.movies[i] != want[i] {
			t.Errorf("movie %d = %+v, want %+v", i, p.movies[i], want[i])
		}
	}
}

func TestNotACatalog(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"empty", ""},
		{"blank", "\n\n"},
		{"csv", "item_id,title,genre,ListPrice\nB1,x,y,$1\n"},
		{"no price column", "item_id\ttitle\tgenre\nB1\tx\ty\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p collect
			_, err := catalog.Publish(context.Background(), strings.NewReader(tc.file), &p, func(catalog.Reject) error { return nil })
			if !errors.Is(err, catalog.ErrNotACatalog) {
				t.Errorf("err = %v, want ErrNotACatalog", err)
			}
		})
	}
}

// TestBatchesAndProducerFailure: events go out in batches of BatchSize,
// and a producer failure stops the file with the error.
func TestBatchesAndProducerFailure(t *testing.T) {
	var b strings.Builder
	b.WriteString("item_id\ttitle\tgenre\tListPrice\n")
	for i := 0; i < catalog.BatchSize*2+7; i++ {
		b.WriteString("B" + strings.Repeat("x", i%5) + "\tT\tG\t$1.00\n")
	}
	var p collect
	c, err := catalog.Publish(context.Background(), strings.NewReader(b.String()), &p, func(catalog.Reject) error { return nil })
	if err != nil || p.calls != 3 || c.Produced != int64(catalog.BatchSize*2+7) {
		t.Errorf("calls %d, counts %+v, err %v", p.calls, c, err)
	}
	boom := errors.New("broker down")
	_, err = catalog.Publish(context.Background(), strings.NewReader(b.String()), &collect{fail: boom}, func(catalog.Reject) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the producer's", err)
	}
	rd, err := catalog.NewReader(io.MultiReader(strings.NewReader("item_id\ttitle\tgenre\tListPrice\n"), strings.NewReader(strings.Repeat("x", 2<<20))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err == nil || !strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("a 2 MiB line: %v", err)
	}
}
