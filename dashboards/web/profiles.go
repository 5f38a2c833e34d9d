package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

// ProfilesPage is /api/profiles: the newest data profile of each dataset
// (seed 002's data profiling reports), as Options.Profiles gives them, and
// what could not be read.
type ProfilesPage struct {
	Profiles []batch.Profile `json:"profiles"`
	// Problems name the profiles that could not be read (the rest are
	// still shown).
	Problems []string `json:"problems"`
	// Personal lists, per dataset, the columns its spec marks Personal:
	// their values are shown masked whole.
	Personal map[string][]string `json:"personal"`
}

func (s *server) profiles(w http.ResponseWriter, r *http.Request) {
	if s.o.Profiles == nil {
		s.fail(w, r, http.StatusNotFound, errNoProfiles)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	ps, err := s.o.Profiles(ctx)
	page := ProfilesPage{Profiles: []batch.Profile{}, Problems: []string{}, Personal: map[string][]string{}}
	if err != nil {
		s.o.Log.Warn("web dashboard: reading data profiles", "err", err)
		page.Problems = append(page.Problems, strings.Split(err.Error(), "\n")...)
	}
	for _, p := range ps {
		page.Profiles = append(page.Profiles, masked(p))
		for c := range personalColumns(p.Dataset) {
			page.Personal[p.Dataset] = append(page.Personal[p.Dataset], c)
		}
		slices.Sort(page.Personal[p.Dataset])
	}
	writeJSON(w, http.StatusOK, page)
}

var errNoProfiles = errors.New("this dashboard was started without a data-profile source (pulse dashboard and pulse demo give it the staging bucket)")

// masked returns a profile whose values are certain to be masked. Clean
// profiles the staging rows, which are masked already (DESIGN.md 4.6), so
// this changes nothing on a profile Clean wrote; it guards what the page
// shows against any other writer: a column the dataset's spec marks
// Personal shows only masked values (MaskPersonal) or the field's default
// (what a missing value became), and an e-mail address
// in any other value keeps only its domain, a key field's pseudonym
// (****<16 hex digits>@domain) staying as it is.
func masked(p batch.Profile) batch.Profile {
	personal := personalColumns(p.Dataset)
	cols := make([]batch.ColumnProfile, len(p.Columns))
	for i, c := range p.Columns {
		mask := maskText
		if def, ok := personal[c.Name]; ok {
			mask = func(v string) string {
				if v == def {
					return v // no one's value: the field was missing
				}
				return dataset.MaskPersonal(v)
			}
		}
		if c.Min != nil {
			v := mask(*c.Min)
			c.Min = &v
		}
		if c.Max != nil {
			v := mask(*c.Max)
			c.Max = &v
		}
		var top []batch.ValueCount
		at := map[string]int{}
		for _, vc := range c.Top {
			v := mask(vc.Value)
			if j, ok := at[v]; ok { // values that mask alike count together
				top[j].Count += vc.Count
				continue
			}
			at[v] = len(top)
			top = append(top, batch.ValueCount{Value: v, Count: vc.Count})
		}
		c.Top = top
		cols[i] = c
	}
	p.Columns = cols
	return p
}

// personalColumns maps the columns a dataset's spec marks Personal to the
// default a missing value takes (a text field's: its Default, else
// "Unknown", as dataset's defaultCell).
func personalColumns(name string) map[string]string {
	out := map[string]string{}
	if spec, err := dataset.Lookup(name); err == nil {
		for _, f := range spec.Fields {
			if f.Personal {
				out[f.Name] = cmp.Or(f.Default, "Unknown")
			}
		}
	}
	return out
}

// pseudonym is a key field's masked address: its digest is kept.
var pseudonym = regexp.MustCompile(`\*\*\*\*[0-9a-f]{16}@`)

// maskText masks the e-mail addresses in a value, leaving one already
// masked (plainly or as a key's pseudonym) as it is.
func maskText(v string) string {
	if !strings.Contains(v, "@") {
		return v
	}
	if plain := pseudonym.ReplaceAllString(v, "****@"); dataset.MaskEmails(plain) == plain {
		return v
	}
	return dataset.MaskEmails(v)
}
