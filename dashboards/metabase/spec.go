// Package metabase keeps Pulse's Metabase dashboards as code and pushes
// them through Metabase's REST API.
//
// Each file in dashboards/ is one dashboard: native SQL cards over the
// views of dashboards/views (one card per seed dashboard panel), filters
// (dashboard parameters wired to the cards' {{template tags}}; a tag
// inside [[...]] is optional, one outside must have a default), and a
// refresh interval of 60 seconds. Metabase keeps auto-refresh in the
// dashboard URL rather than in the dashboard, so Push returns each
// dashboard's URL with #refresh=60 and writes the interval into its
// description.
//
// Push is idempotent: cards and dashboards are found by name and updated
// in place (same ids, same dashcards), created when missing.
package metabase

import (
	"crypto/md5"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

//go:embed dashboards/*.json
var specFS embed.FS

// Dashboard is one dashboard as code.
type Dashboard struct {
	Key            string   `json:"key"` // stable id: the file name
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	RefreshSeconds int      `json:"refresh_seconds"`
	Filters        []Filter `json:"filters"`
	Cards          []Card   `json:"cards"`
}

// Filter is a dashboard text filter, wired to every card whose query has
// the template tag {{Slug}}.
type Filter struct {
	Slug    string   `json:"slug"`
	Name    string   `json:"name"`
	Values  []string `json:"values"`  // the choices offered
	Default string   `json:"default"` // "" = none (the tag must then be optional)
}

// Card is one native SQL question over a view.
type Card struct {
	Key     string         `json:"key"`
	View    string         `json:"view"` // the view it reads
	Name    string         `json:"name"` // default: the view's title
	Display string         `json:"display"`
	Query   string         `json:"query"`
	Width   int            `json:"width"`  // grid columns of 24 (default 12)
	Height  int            `json:"height"` // grid rows (default 6)
	Viz     map[string]any `json:"viz"`    // visualization_settings
}

// GridWidth is Metabase's dashboard grid width.
const GridWidth = 24

var tagRe = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}`)

// Tags are the template tags of a card's query, sorted.
func (c Card) Tags() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range tagRe.FindAllStringSubmatch(c.Query, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// Dashboards loads every dashboard spec, in file-name order.
func Dashboards() ([]Dashboard, error) {
	names, err := fs.Glob(specFS, "dashboards/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Dashboard
	for _, n := range names {
		b, err := specFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading dashboard spec %s: %w", n, err)
		}
		var d Dashboard
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("decoding dashboard spec %s: %w", n, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Validate checks a dashboard against the views it reads: titles holds
// every view name with its title. It fills in defaults (card names from
// view titles, sizes).
func (d *Dashboard) Validate(titles map[string]string) error {
	if d.Key == "" || d.Name == "" {
		return fmt.Errorf("dashboard %q: key and name are required", d.Key)
	}
	if d.RefreshSeconds <= 0 {
		return fmt.Errorf("dashboard %s: refresh_seconds must be positive", d.Key)
	}
	filters := map[string]Filter{}
	for _, f := range d.Filters {
		if f.Slug == "" || f.Name == "" {
			return fmt.Errorf("dashboard %s: a filter needs a slug and a name", d.Key)
		}
		filters[f.Slug] = f
	}
	used := map[string]bool{}
	keys := map[string]bool{}
	for i := range d.Cards {
		c := &d.Cards[i]
		title, ok := titles[c.View]
		switch {
		case c.Key == "" || keys[c.Key]:
			return fmt.Errorf("dashboard %s: card %d has no key or a repeated one (%q)", d.Key, i, c.Key)
		case !ok:
			return fmt.Errorf("dashboard %s card %s: %q is not a view", d.Key, c.Key, c.View)
		case !strings.Contains(c.Query, c.View):
			return fmt.Errorf("dashboard %s card %s: the query does not read %s", d.Key, c.Key, c.View)
		}
		keys[c.Key] = true
		if c.Name == "" {
			c.Name = title
		}
		if c.Display == "" {
			c.Display = "table"
		}
		if c.Width == 0 {
			c.Width = GridWidth / 2
		}
		if c.Height == 0 {
			c.Height = 6
		}
		if c.Width > GridWidth {
			return fmt.Errorf("dashboard %s card %s: width %d is more than %d", d.Key, c.Key, c.Width, GridWidth)
		}
		for _, tag := range c.Tags() {
			f, ok := filters[tag]
			if !ok {
				return fmt.Errorf("dashboard %s card %s: template tag {{%s}} is no filter of the dashboard", d.Key, c.Key, tag)
			}
			if f.Default == "" && !optionalTag(c.Query, tag) {
				return fmt.Errorf("dashboard %s card %s: {{%s}} is required but filter %s has no default", d.Key, c.Key, tag, tag)
			}
			used[tag] = true
		}
	}
	for slug := range filters {
		if !used[slug] {
			return fmt.Errorf("dashboard %s: filter %s is wired to no card", d.Key, slug)
		}
	}
	return nil
}

var optionalRe = regexp.MustCompile(`\[\[[^\]]*\]\]`)

// optionalTag says whether every use of tag sits inside [[...]].
func optionalTag(query, tag string) bool {
	rest := optionalRe.ReplaceAllString(query, "")
	for _, m := range tagRe.FindAllStringSubmatch(rest, -1) {
		if m[1] == tag {
			return false
		}
	}
	return true
}

// Layout places the cards left to right, top to bottom, on the 24-column
// grid: it returns each card's (row, col).
func (d Dashboard) Layout() [][2]int {
	out := make([][2]int, len(d.Cards))
	row, col, rowHeight := 0, 0, 0
	for i, c := range d.Cards {
		if col+c.Width > GridWidth {
			row, col, rowHeight = row+rowHeight, 0, 0
		}
		out[i] = [2]int{row, col}
		col += c.Width
		rowHeight = max(rowHeight, c.Height)
	}
	return out
}

// stableID is a deterministic id for a dashboard's parts (parameter and
// template-tag ids), so pushing again sends identical definitions.
func stableID(parts ...string) string {
	sum := md5.Sum([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

// uuid formats a stable id as a UUID (template tag ids are UUIDs).
func uuid(parts ...string) string {
	h := stableID(parts...)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// RenderSQL is the card's query as Metabase would run it with the given
// filter values: an optional clause [[...]] stays (brackets removed) when
// all its tags have values and goes otherwise; a tag becomes its value as
// a SQL string literal, or the filter's default. For checking the queries
// against a warehouse.
func (d Dashboard) RenderSQL(c Card, values map[string]string) string {
	defaults := map[string]string{}
	for _, f := range d.Filters {
		defaults[f.Slug] = f.Default
	}
	literal := func(tag string) (string, bool) {
		v, ok := values[tag]
		if !ok || v == "" {
			v = defaults[tag]
		}
		if v == "" {
			return "", false
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'", true
	}
	q := optionalRe.ReplaceAllStringFunc(c.Query, func(clause string) string {
		inner := clause[2 : len(clause)-2]
		for _, m := range tagRe.FindAllStringSubmatch(inner, -1) {
			if v, ok := values[m[1]]; !ok || v == "" {
				return ""
			}
		}
		return inner
	})
	return tagRe.ReplaceAllStringFunc(q, func(tag string) string {
		lit, _ := literal(tagRe.FindStringSubmatch(tag)[1])
		return lit
	})
}
