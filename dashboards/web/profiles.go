package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/pipeline"
)

// ProfilesPage is /api/profiles: the newest data profile of each dataset
// (seed 002's data profiling reports), as Options.Profiles gives them, and
// what could not be read.
type ProfilesPage struct {
	Profiles []pipeline.Profile `json:"profiles"`
	// Problems name the profiles that could not be read (the rest are
	// still shown).
	Problems []string `json:"problems"`
}

func (s *server) profiles(w http.ResponseWriter, r *http.Request) {
	if s.o.Profiles == nil {
		s.fail(w, r, http.StatusNotFound, errNoProfiles)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	ps, err := s.o.Profiles(ctx)
	page := ProfilesPage{Profiles: []pipeline.Profile{}, Problems: []string{}}
	if err != nil {
		s.o.Log.Warn("web dashboard: reading data profiles", "err", err)
		page.Problems = append(page.Problems, strings.Split(err.Error(), "\n")...)
	}
	for _, p := range ps {
		page.Profiles = append(page.Profiles, masked(p))
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
func masked(p pipeline.Profile) pipeline.Profile {
	personal := map[string]string{} // Personal column -> the default of a missing value
	if spec, err := dataset.Lookup(p.Dataset); err == nil {
		for _, f := range spec.Fields {
			if f.Personal {
				personal[f.Name] = cmp.Or(f.Default, "Unknown") // a text field's default (dataset's defaultCell)
			}
		}
	}
	cols := make([]pipeline.ColumnProfile, len(p.Columns))
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
		var top []pipeline.ValueCount
		at := map[string]int{}
		for _, vc := range c.Top {
			v := mask(vc.Value)
			if j, ok := at[v]; ok { // values that mask alike count together
				top[j].Count += vc.Count
				continue
			}
			at[v] = len(top)
			top = append(top, pipeline.ValueCount{Value: v, Count: vc.Count})
		}
		c.Top = top
		cols[i] = c
	}
	p.Columns = cols
	return p
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
