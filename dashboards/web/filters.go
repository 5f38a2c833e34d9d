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
// days.
var optionSources = []struct{ filter, table, column, age string }{
	{FilterPlatform, "DIM_PLATFORM", "PLATFORM", ""},
	{FilterPlatform, "FACT_SOCIAL_SALES", "PLATFORM", ""},
	{FilterAgeGroup, "DIM_USER", "AGE_GROUP", ""},
	{FilterAgeGroup, "CLEANED_USERS", "AGE", ageGroupOf("AGE")},
	{FilterAgeGroup, "CONSUMER_USERS", "AGE", ageGroupOf("AGE")},
	{FilterDate, "V_ENGAGEMENT", "EVENT_TIME", ""},
	{FilterDate, "FACT_SOCIAL_SALES", "EVENT_TIME", ""},
	{FilterDate, "PAGEVIEWS", "EVENT_TIME", ""},
	{FilterDate, "CONSUMER_EVENTS", "EVENT_TIME", ""},
	{FilterDate, "ITEM_VIEW_EVENTS", "EVENT_TIME", ""},
	{FilterDate, "CART_EVENTS", "EVENT_TIME", ""},
	{FilterDate, "GOLD_DAILY", "DAY", ""},
}

// FilterOptions are the values the page's filters offer.
type FilterOptions struct {
	Platforms []string `json:"platform"`
	AgeGroups []string `json:"age_group"`
	MinDay    string   `json:"minDay,omitempty"` // the first and last day with events
	MaxDay    string   `json:"maxDay,omitempty"`
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
	out := &FilterOptions{Platforms: []string{}, AgeGroups: []string{}}
	seen := map[string]bool{}
	var minT, maxT time.Time
	for _, o := range optionSources {
		if index(cols[o.table], o.column) < 0 {
			continue
		}
		if o.filter == FilterDate {
			_, rows, err := s.wh.Query(ctx, "SELECT MIN("+o.column+"), MAX("+o.column+") FROM "+o.table)
			if err != nil {
				return nil, fmt.Errorf("reading the date range of %s: %w", o.table, err)
			}
			for i, t := range []*time.Time{&minT, &maxT} {
				if v, ok := rows[0][i].(time.Time); ok && (t.IsZero() || (i == 0 && v.Before(*t)) || (i == 1 && v.After(*t))) {
					*t = v
				}
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
