package cost

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
)

// Rate is one price or billing rule of the table: value per unit, with
// where it was read.
type Rate struct {
	Key     string  `json:"key"`
	Service string  `json:"service"`
	What    string  `json:"what"`
	Unit    string  `json:"unit"`
	Value   float64 `json:"value"`
	Source  string  `json:"source"`          // the public page the rate belongs to
	Also    string  `json:"also,omitempty"`  // where the figure was read when the source's stored copy lacks it
	Read    string  `json:"read"`            // date the page was read, YYYY-MM-DD
	AsOf    string  `json:"as_of,omitempty"` // date the page gives for its prices
	Note    string  `json:"note,omitempty"`
}

// Peer is a comparable pipeline's published monthly cost at one event rate.
type Peer struct {
	Name            string  `json:"name"`
	Source          string  `json:"source"`
	Commit          string  `json:"commit,omitempty"`
	Read            string  `json:"read"`
	AsOf            string  `json:"as_of,omitempty"`
	EventsPerSecond float64 `json:"events_per_second"`
	EventsPerMonth  float64 `json:"events_per_month"` // as the page counts them
	MonthlyUSD      float64 `json:"monthly_usd"`
	Includes        string  `json:"includes"`
	Excludes        string  `json:"excludes"`
}

// PerMillion is the peer's USD per million events.
func (p Peer) PerMillion() float64 { return p.MonthlyUSD / (p.EventsPerMonth / 1e6) }

// Prices is the price table: rates by key, and the peers' figures.
type Prices struct {
	Currency string   `json:"currency"`
	Region   string   `json:"region"`
	Notes    []string `json:"notes"`
	Rates    []Rate   `json:"rates"`
	Peers    []Peer   `json:"peers"`

	byKey map[string]Rate
}

//go:embed prices.json
var pricesJSON []byte

// DefaultPrices returns the committed price table (prices.json).
func DefaultPrices() (*Prices, error) {
	p, err := ReadPrices(strings.NewReader(string(pricesJSON)))
	if err != nil {
		return nil, fmt.Errorf("reading the committed price table: %w", err)
	}
	return p, nil
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ReadPrices decodes and checks a price table: every rate needs a unique
// key, a unit, a value >= 0, an http(s) source and the date it was read.
func ReadPrices(r io.Reader) (*Prices, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Prices
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding the price table: %w", err)
	}
	if p.Currency != "USD" {
		return nil, fmt.Errorf("price table: currency %q: only USD is modeled", p.Currency)
	}
	var errs []error
	p.byKey = make(map[string]Rate, len(p.Rates))
	for i, r := range p.Rates {
		where := fmt.Sprintf("price table: rate %d (%s)", i, r.Key)
		switch {
		case r.Key == "":
			errs = append(errs, fmt.Errorf("%s: key is empty", where))
		case p.byKey[r.Key].Key != "":
			errs = append(errs, fmt.Errorf("%s: key appears twice", where))
		}
		if r.Unit == "" {
			errs = append(errs, fmt.Errorf("%s: unit is empty", where))
		}
		if r.Value < 0 {
			errs = append(errs, fmt.Errorf("%s: value %v is negative", where, r.Value))
		}
		if err := checkURL(r.Source); err != nil {
			errs = append(errs, fmt.Errorf("%s: source: %w", where, err))
		}
		if r.Also != "" {
			if err := checkURL(r.Also); err != nil {
				errs = append(errs, fmt.Errorf("%s: also: %w", where, err))
			}
		}
		if !datePattern.MatchString(r.Read) {
			errs = append(errs, fmt.Errorf("%s: read %q is not a YYYY-MM-DD date", where, r.Read))
		}
		if r.AsOf != "" && !datePattern.MatchString(r.AsOf) {
			errs = append(errs, fmt.Errorf("%s: as_of %q is not a YYYY-MM-DD date", where, r.AsOf))
		}
		p.byKey[r.Key] = r
	}
	for i, pe := range p.Peers {
		where := fmt.Sprintf("price table: peer %d (%s)", i, pe.Name)
		if err := checkURL(pe.Source); err != nil {
			errs = append(errs, fmt.Errorf("%s: source: %w", where, err))
		}
		if pe.EventsPerMonth <= 0 || pe.EventsPerSecond <= 0 || pe.MonthlyUSD <= 0 {
			errs = append(errs, fmt.Errorf("%s: events_per_second, events_per_month and monthly_usd must be positive", where))
		}
		if !datePattern.MatchString(pe.Read) {
			errs = append(errs, fmt.Errorf("%s: read %q is not a YYYY-MM-DD date", where, pe.Read))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) address", s)
	}
	return nil
}

// Rate returns the rate under key.
func (p *Prices) Rate(key string) (Rate, error) {
	r, ok := p.byKey[key]
	if !ok {
		return Rate{}, fmt.Errorf("price table: no rate %q", key)
	}
	return r, nil
}

// value returns the rate's value; a missing key is a programming error
// caught by the tests (every key the model reads is in prices.json), so
// it records the error on the pricer instead of panicking.
type pricer struct {
	p    *Prices
	errs []error
}

func (pr *pricer) get(key string) Rate {
	r, err := pr.p.Rate(key)
	if err != nil {
		pr.errs = append(pr.errs, err)
	}
	return r
}
