// Package catalog reads Movies.txt files (seed 003) into
// movies_catalog_enriched events: one Movie per line, its ListPrice parsed
// ("4999USD$49.99" -> 49.99 USD, see dataset.ParseListPrice), bad lines
// rejected with the field and the reason while the rest goes on.
//
// Publish streams a file through a Producer (the port an adapter such as
// shared/adapters/msk implements), so memory does not grow with the file.
// The movie-catalog workflow (infra/stacks/catalog.go) runs it through
// handlers.Catalog; it replaces the seed's Airflow DAG.
package catalog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
)

// Reject is a line that is not a movie.
type Reject struct {
	Line   int64  // 1-based line number in the file (the header is line 1)
	Field  string // the field at fault ("" for the whole line)
	Reason string
	Text   string // the line as found
}

func (r Reject) Error() string {
	if r.Field == "" {
		return fmt.Sprintf("line %d: %s", r.Line, r.Reason)
	}
	return fmt.Sprintf("line %d: field %s: %s", r.Line, r.Field, r.Reason)
}

// Counts account for one file: Received = Produced + Rejected.
type Counts struct {
	Received int64 `json:"received"`
	Produced int64 `json:"produced"`
	Rejected int64 `json:"rejected"`
}

// ErrNotACatalog marks a file that is not a Movies.txt: no header with
// item_id, title, genre and ListPrice.
var ErrNotACatalog = errors.New("not a movie catalog")

// DefaultGenre fills an empty genre (a non-critical field).
const DefaultGenre = "Unknown"

// maxLine bounds one line; a longer one is rejected unread.
const maxLine = 1 << 20

// columns are the header names (case-insensitive, with or without "_") and
// the field each fills.
var columns = []string{"item_id", "title", "genre", "listprice"}

// Reader reads a Movies.txt file: UTF-8, tab-separated, a header line
// naming the columns (item_id, title, genre, ListPrice, in any order; other
// columns are ignored), then one movie per line. Blank lines are skipped.
// Strings are trimmed; an empty genre becomes DefaultGenre; a missing
// item_id or title, a wrong number of fields, or a ListPrice that does not
// parse rejects the line.
type Reader struct {
	sc    *bufio.Scanner
	line  int64
	index [4]int // field of each of columns
	width int
}

// NewReader reads the header of r.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	rd := &Reader{sc: sc}
	for {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, fmt.Errorf("reading the catalog header: %w", err)
			}
			return nil, fmt.Errorf("%w: the file has no header line", ErrNotACatalog)
		}
		rd.line++
		if strings.TrimSpace(sc.Text()) != "" {
			break
		}
	}
	header := strings.Split(strings.TrimPrefix(strings.TrimRight(sc.Text(), "\r"), "\ufeff"), "\t")
	rd.width = len(header)
	for i := range rd.index {
		rd.index[i] = -1
	}
	for j, h := range header {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(h), " ", ""))
		for i, c := range columns {
			if name == c || strings.ReplaceAll(name, "_", "") == strings.ReplaceAll(c, "_", "") {
				rd.index[i] = j
			}
		}
	}
	var missing []string
	for i, c := range columns {
		if rd.index[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: header %q has no %s column", ErrNotACatalog, clip(sc.Text()), strings.Join(missing, ", "))
	}
	return rd, nil
}

// Next returns the next movie, a Reject for a bad line (call Next again
// for the one after), io.EOF after the last line, or another error that
// ends the read.
func (rd *Reader) Next() (port.Movie, error) {
	for rd.sc.Scan() {
		rd.line++
		text := strings.TrimRight(rd.sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		return rd.parse(text)
	}
	if err := rd.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return port.Movie{}, fmt.Errorf("reading catalog line %d: longer than %d bytes", rd.line+1, maxLine)
		}
		return port.Movie{}, fmt.Errorf("reading catalog line %d: %w", rd.line+1, err)
	}
	return port.Movie{}, io.EOF
}

func (rd *Reader) parse(text string) (port.Movie, error) {
	fields := strings.Split(text, "\t")
	reject := func(field, reason string) (port.Movie, error) {
		return port.Movie{}, Reject{Line: rd.line, Field: field, Reason: reason, Text: text}
	}
	if len(fields) != rd.width {
		return reject("", "has "+strconv.Itoa(len(fields))+" fields, the header has "+strconv.Itoa(rd.width))
	}
	get := func(i int) string { return strings.TrimSpace(fields[rd.index[i]]) }
	m := port.Movie{ItemID: get(0), Title: get(1), Genre: get(2), ListPriceRaw: fields[rd.index[3]]}
	if m.ItemID == "" {
		return reject("item_id", "missing critical field")
	}
	if m.Title == "" {
		return reject("title", "missing critical field")
	}
	if m.Genre == "" {
		m.Genre = DefaultGenre
	}
	p, err := dataset.ParseListPrice(m.ListPriceRaw)
	if err != nil {
		return reject("ListPrice", err.Error())
	}
	m.ListPriceRaw = strings.TrimSpace(m.ListPriceRaw)
	m.Price, m.Currency = p.Dollars(), p.Currency
	return m, nil
}

// AsReject reports whether err is a rejected line.
func AsReject(err error) (Reject, bool) {
	var r Reject
	ok := errors.As(err, &r)
	return r, ok
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
