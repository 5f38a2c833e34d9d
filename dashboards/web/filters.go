package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ParseFilters reads filters from a query string: platform and age_group
// (repeatable), from and to (YYYY-MM-DD, inclusive days in UTC).
func ParseFilters(q url.Values) (Filters, error) {
	var f Filters
	list := func(name string) ([]string, error) {
		var out []string
		for _, v := range q[name] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if len(v) > 200 {
				return nil, fmt.Errorf("%s: value longer than 200 characters", name)
			}
			out = append(out, v)
		}
		if len(out) > 100 {
			return nil, fmt.Errorf("%s: more than 100 values", name)
		}
		return out, nil
	}
	var err error
	if f.Platforms, err = list("platform"); err != nil {
		return f, err
	}
	if f.AgeGroups, err = list("age_group"); err != nil {
		return f, err
	}
	day := func(name string) (time.Time, error) {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: want a day as YYYY-MM-DD, got %q", name, v)
		}
		return t, nil
	}
	if f.From, err = day("from"); err != nil {
		return f, err
	}
	if f.To, err = day("to"); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, fmt.Errorf("to: %s is before from %s", f.To.Format(time.DateOnly), f.From.Format(time.DateOnly))
	}
	return f, nil
}

// optionSources are where the filters find the values they offer: a
// column, or for age groups the buckets of an age column; a relation not
// in the warehouse is skipped. The date range spans every source of the
// panels' times: the batch facts, the stream's event tables and the gold
// days; each source belongs to a section (group), whose span the page
// shows, per path (kind: batch or stream; a table with a SOURCE column
// tells its stream rows by their kafka:// source).
var optionSources = []struct{ filter, table, column, age, group, kind string }{
	{filter: FilterPlatform, table: "DIM_PLATFORM", column: "PLATFORM"},
	{filter: FilterPlatform, table: "FACT_SOCIAL_SALES", column: "PLATFORM"},
	{filter: FilterAgeGroup, table: "DIM_USER", column: "AGE_GROUP"},
	{filter: FilterAgeGroup, table: "CLEANED_USERS", column: "AGE", age: ageGroupOf("AGE")},
	{filter: FilterAgeGroup, table: "CONSUMER_USERS", column: "AGE", age: ageGroupOf("AGE")},
	{filter: FilterDate, table: "FACT_COMMUNITY_INTERACTIONS", column: "EVENT_TIME", group: "engagement", kind: SpanBatch},
	{filter: FilterDate, table: "FACT_LIVE_STREAMING_INTERACTIONS", column: "EVENT_TIME", group: "engagement", kind: SpanBatch},
	{filter: FilterDate, table: "FACT_VIDEO_INTERACTIONS", column: "EVENT_TIME", group: "engagement", kind: SpanBatch},
	{filter: FilterDate, table: "FACT_SOCIAL_SALES", column: "EVENT_TIME", group: "social", kind: SpanStream},
	{filter: FilterDate, table: "PAGEVIEWS", column: "EVENT_TIME", group: "pageviews", kind: SpanStream},
	{filter: FilterDate, table: "CONSUMER_EVENTS", column: "EVENT_TIME", group: "consumer", kind: SpanStream},
	{filter: FilterDate, table: "ITEM_VIEW_EVENTS", column: "EVENT_TIME", group: "consumer", kind: SpanStream},
	{filter: FilterDate, table: "CART_EVENTS", column: "EVENT_TIME", group: "consumer", kind: SpanStream},
	{filter: FilterDate, table: "GOLD_DAILY", column: "DAY", group: "app", kind: SpanBatch},
}

// Span kinds: where a section's rows came from.
const (
	SpanBatch  = "batch"  // batch files (and what is computed from them)
	SpanStream = "stream" // stream messages
)

// Span is the first and last day (UTC) of a section's data along one path.
type Span struct {
	Kind   string `json:"kind"` // SpanBatch or SpanStream
	MinDay string `json:"minDay"`
	MaxDay string `json:"maxDay"`
}

// FilterOptions are the values the page's filters offer.
type FilterOptions struct {
	Platforms []string `json:"platform"`
	AgeGroups []string `json:"age_group"`
	MinDay    string   `json:"minDay,omitempty"` // the first and last day with events, over every section
	MaxDay    string   `json:"maxDay,omitempty"`
	// Spans are each section's days with data, per path (batch before
	// stream): batch files from 2024 and today's stream are not one range.
	Spans map[string][]Span `json:"spans"`
}

func readFilterOptions(ctx context.Context, s *server) (*FilterOptions, error) {
	var tables []string
	for _, o := range optionSources {
		tables = append(tables, o.table)
	}
	cols, err := discover(ctx, s.wh, tables)
	if err != nil {
		return nil, err
	}
	out := &FilterOptions{Platforms: []string{}, AgeGroups: []string{}, Spans: map[string][]Span{}}
	seen := map[string]bool{}
	var minT, maxT time.Time
	type bounds struct{ min, max time.Time }
	spans := map[string]map[string]*bounds{} // group -> kind -> days
	widen := func(b *bounds, lo, hi time.Time) {
		if b.min.IsZero() || lo.Before(b.min) {
			b.min = lo
		}
		if b.max.IsZero() || hi.After(b.max) {
			b.max = hi
		}
	}
	for _, o := range optionSources {
		if index(cols[o.table], o.column) < 0 {
			continue
		}
		if o.filter == FilterDate {
			kind := "'" + o.kind + "'"
			if index(cols[o.table], "SOURCE") >= 0 {
				kind = "CASE WHEN SOURCE LIKE '" + streamSource + "%' THEN '" + SpanStream + "' ELSE '" + SpanBatch + "' END"
			}
			_, rows, err := s.wh.Query(ctx, "SELECT "+kind+" AS KIND, MIN("+o.column+"), MAX("+o.column+") FROM "+o.table+
				" WHERE "+o.column+" IS NOT NULL GROUP BY 1")
			if err != nil {
				return nil, fmt.Errorf("reading the date range of %s: %w", o.table, err)
			}
			for _, r := range rows {
				lo, ok1 := r[1].(time.Time)
				hi, ok2 := r[2].(time.Time)
				if !ok1 || !ok2 {
					continue
				}
				all := bounds{minT, maxT}
				widen(&all, lo, hi)
				minT, maxT = all.min, all.max
				if spans[o.group] == nil {
					spans[o.group] = map[string]*bounds{}
				}
				k := str(r[0])
				if spans[o.group][k] == nil {
					spans[o.group][k] = &bounds{}
				}
				widen(spans[o.group][k], lo, hi)
			}
			continue
		}
		expr := o.column
		if o.age != "" {
			expr = o.age
		}
		_, rows, err := s.wh.Query(ctx, "SELECT DISTINCT "+expr+" FROM "+o.table+" WHERE "+o.column+" IS NOT NULL")
		if err != nil {
			return nil, fmt.Errorf("reading the values of %s.%s: %w", o.table, o.column, err)
		}
		for _, r := range rows {
			v := str(r[0])
			if v == "" || seen[o.filter+"\x00"+v] {
				continue
			}
			seen[o.filter+"\x00"+v] = true
			if o.filter == FilterPlatform {
				out.Platforms = append(out.Platforms, v)
			} else {
				out.AgeGroups = append(out.AgeGroups, v)
			}
		}
	}
	sort.Strings(out.Platforms)
	sort.Strings(out.AgeGroups)
	if !minT.IsZero() {
		out.MinDay, out.MaxDay = minT.UTC().Format(time.DateOnly), maxT.UTC().Format(time.DateOnly)
	}
	for g, kinds := range spans {
		for _, k := range []string{SpanBatch, SpanStream} {
			if b := kinds[k]; b != nil {
				out.Spans[g] = append(out.Spans[g], Span{Kind: k, MinDay: b.min.UTC().Format(time.DateOnly), MaxDay: b.max.UTC().Format(time.DateOnly)})
			}
		}
	}
	return out, nil
}

func (s *server) filterOptions(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	o, err := readFilterOptions(ctx, s)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}
