package metabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one Metabase through its REST API, authenticated by a
// session token (X-Metabase-Session) or an API key (X-Api-Key).
type Client struct {
	base    string
	http    *http.Client
	session string
	apiKey  string
}

// Auth says how to authenticate: a session token, an API key, or a user
// and password to log in with (POST /api/session).
type Auth struct {
	Session  string
	APIKey   string
	User     string
	Password string
}

// NewClient connects to the Metabase at baseURL (for example
// http://localhost:3000), logging in when auth has a user.
func NewClient(ctx context.Context, baseURL string, auth Auth, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("metabase url %q: want http(s)://host[:port]", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), http: hc, session: auth.Session, apiKey: auth.APIKey}
	switch {
	case auth.User != "":
		var out struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/session", map[string]string{"username": auth.User, "password": auth.Password}, &out); err != nil {
			return nil, fmt.Errorf("logging in to metabase as %s: %w", auth.User, err)
		}
		if out.ID == "" {
			return nil, fmt.Errorf("logging in to metabase as %s: no session id in the answer", auth.User)
		}
		c.session = out.ID
	case auth.Session == "" && auth.APIKey == "":
		return nil, errors.New("metabase: give a session token, an API key, or a user and password")
	}
	return c, nil
}

// do sends one request with a JSON body (nil for none) and decodes the
// JSON answer into out (nil to discard it).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.session != "" {
		req.Header.Set("X-Metabase-Session", c.session)
	}
	if c.apiKey != "" {
		req.Header.Set("X-Api-Key", c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(b))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, msg)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// DatabaseID finds a database (as named in Metabase's admin) by name.
func (c *Client) DatabaseID(ctx context.Context, name string) (int, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/api/database", nil, &raw); err != nil {
		return 0, err
	}
	var dbs []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	var wrapped struct {
		Data *[]struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	// Metabase 0.45+ wraps the list in {"data": [...]}; older ones do not.
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Data != nil {
		dbs = *wrapped.Data
	} else if err := json.Unmarshal(raw, &dbs); err != nil {
		return 0, fmt.Errorf("GET /api/database: unexpected answer: %w", err)
	}
	var names []string
	for _, d := range dbs {
		if d.Name == name {
			return d.ID, nil
		}
		names = append(names, d.Name)
	}
	return 0, fmt.Errorf("metabase has no database %q (it has: %s); add the Snowflake connection in Admin > Databases first", name, strings.Join(names, ", "))
}

// PushOptions say where dashboards go.
type PushOptions struct {
	Database     string // the Metabase database the views live in
	CollectionID *int   // nil: the root collection
}

// PushResult is one pushed dashboard.
type PushResult struct {
	Key          string
	DashboardID  int
	URL          string // with #refresh=<seconds>
	Created      bool   // the dashboard was new
	CardsCreated int
	CardsUpdated int
}

type apiCard struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	CollectionID *int   `json:"collection_id"`
	Archived     bool   `json:"archived"`
}

type apiDashcard struct {
	ID     int  `json:"id"`
	CardID *int `json:"card_id"`
}

// Push creates or updates each dashboard and its cards (see the package
// comment). Dashboards must be validated.
func (c *Client) Push(ctx context.Context, dashboards []Dashboard, opts PushOptions) ([]PushResult, error) {
	dbID, err := c.DatabaseID(ctx, opts.Database)
	if err != nil {
		return nil, err
	}
	var cards []apiCard
	if err := c.do(ctx, http.MethodGet, "/api/card?f=all", nil, &cards); err != nil {
		return nil, err
	}
	byName := map[string]int{}
	for _, cd := range cards {
		if !cd.Archived && sameCollection(cd.CollectionID, opts.CollectionID) {
			if _, dup := byName[cd.Name]; !dup {
				byName[cd.Name] = cd.ID
			}
		}
	}
	var out []PushResult
	for _, d := range dashboards {
		res, err := c.pushOne(ctx, d, dbID, byName, opts)
		if err != nil {
			return out, fmt.Errorf("pushing dashboard %s: %w", d.Key, err)
		}
		out = append(out, res)
	}
	return out, nil
}

func sameCollection(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (c *Client) pushOne(ctx context.Context, d Dashboard, dbID int, byName map[string]int, opts PushOptions) (PushResult, error) {
	res := PushResult{Key: d.Key}
	cardIDs := make([]int, len(d.Cards))
	for i, card := range d.Cards {
		body := d.cardBody(card, dbID, opts.CollectionID)
		if id, ok := byName[card.Name]; ok {
			if err := c.do(ctx, http.MethodPut, "/api/card/"+strconv.Itoa(id), body, nil); err != nil {
				return res, fmt.Errorf("updating card %s: %w", card.Key, err)
			}
			cardIDs[i] = id
			res.CardsUpdated++
			continue
		}
		var created apiCard
		if err := c.do(ctx, http.MethodPost, "/api/card", body, &created); err != nil {
			return res, fmt.Errorf("creating card %s: %w", card.Key, err)
		}
		if created.ID == 0 {
			return res, fmt.Errorf("creating card %s: no id in the answer", card.Key)
		}
		byName[card.Name] = created.ID
		cardIDs[i] = created.ID
		res.CardsCreated++
	}
	id, err := c.findDashboard(ctx, d.Name, opts.CollectionID)
	if err != nil {
		return res, err
	}
	existing := map[int]int{} // card id -> dashcard id
	if id == 0 {
		var created struct {
			ID int `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/dashboard", map[string]any{"name": d.Name, "description": d.description(),
			"collection_id": opts.CollectionID, "parameters": d.parameters()}, &created); err != nil {
			return res, fmt.Errorf("creating the dashboard: %w", err)
		}
		if created.ID == 0 {
			return res, errors.New("creating the dashboard: no id in the answer")
		}
		id, res.Created = created.ID, true
	} else {
		var cur struct {
			Dashcards    []apiDashcard `json:"dashcards"`
			OrderedCards []apiDashcard `json:"ordered_cards"` // before Metabase 0.47
		}
		if err := c.do(ctx, http.MethodGet, "/api/dashboard/"+strconv.Itoa(id), nil, &cur); err != nil {
			return res, err
		}
		for _, dc := range append(cur.Dashcards, cur.OrderedCards...) {
			if dc.CardID != nil {
				existing[*dc.CardID] = dc.ID
			}
		}
	}
	if err := c.do(ctx, http.MethodPut, "/api/dashboard/"+strconv.Itoa(id), d.dashboardBody(cardIDs, existing), nil); err != nil {
		return res, fmt.Errorf("updating the dashboard's cards and filters: %w", err)
	}
	res.DashboardID = id
	res.URL = fmt.Sprintf("%s/dashboard/%d#refresh=%d", c.base, id, d.RefreshSeconds)
	return res, nil
}

// findDashboard returns the id of the dashboard named name in the
// collection, or 0.
func (c *Client) findDashboard(ctx context.Context, name string, collection *int) (int, error) {
	var found struct {
		Data []struct {
			ID           int    `json:"id"`
			Name         string `json:"name"`
			Model        string `json:"model"`
			CollectionID *int   `json:"collection_id"`
			Collection   *struct {
				ID *int `json:"id"`
			} `json:"collection"`
		} `json:"data"`
	}
	q := url.Values{"models": {"dashboard"}, "q": {name}}
	if err := c.do(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &found); err != nil {
		return 0, err
	}
	for _, r := range found.Data {
		coll := r.CollectionID
		if coll == nil && r.Collection != nil {
			coll = r.Collection.ID
		}
		if r.Model == "dashboard" && r.Name == name && sameCollection(coll, collection) {
			return r.ID, nil
		}
	}
	return 0, nil
}

func (d Dashboard) description() string {
	return fmt.Sprintf("%s Auto-refresh: every %d s (open it with #refresh=%d). Managed as code by Pulse (dashboards/metabase/dashboards/%s.json): edits here are overwritten by `pulse dashboards push`.",
		d.Description, d.RefreshSeconds, d.RefreshSeconds, d.Key)
}

func (d Dashboard) parameterID(slug string) string { return stableID(d.Key, "filter", slug)[:8] }

// parameters are the dashboard's filters as Metabase parameters.
func (d Dashboard) parameters() []map[string]any {
	out := []map[string]any{}
	for _, f := range d.Filters {
		p := map[string]any{"id": d.parameterID(f.Slug), "name": f.Name, "slug": f.Slug, "type": "string/=", "sectionId": "string"}
		if len(f.Values) > 0 {
			p["values_source_type"] = "static-list"
			p["values_source_config"] = map[string]any{"values": f.Values}
		}
		if f.Default != "" {
			p["default"] = []string{f.Default}
		}
		out = append(out, p)
	}
	return out
}

// cardBody is the POST/PUT /api/card body of a card: a native query with
// one text template tag per filter it uses.
func (d Dashboard) cardBody(c Card, dbID int, collection *int) map[string]any {
	filters := map[string]Filter{}
	for _, f := range d.Filters {
		filters[f.Slug] = f
	}
	tags := map[string]any{}
	for _, t := range c.Tags() {
		tag := map[string]any{"id": uuid(d.Key, c.Key, t), "name": t, "display-name": filters[t].Name, "type": "text"}
		if def := filters[t].Default; def != "" {
			tag["default"] = def
			tag["required"] = true
		}
		tags[t] = tag
	}
	viz := c.Viz
	if viz == nil {
		viz = map[string]any{}
	}
	return map[string]any{
		"name":        c.Name,
		"description": fmt.Sprintf("Reads the view %s. Managed as code by Pulse (dashboard %s, card %s).", c.View, d.Key, c.Key),
		"display":     c.Display,
		"dataset_query": map[string]any{"type": "native", "database": dbID,
			"native": map[string]any{"query": c.Query, "template-tags": tags}},
		"visualization_settings": viz,
		"collection_id":          collection,
	}
}

// dashboardBody is the PUT /api/dashboard/:id body: filters, and the
// dashcards laid out on the grid with their filter wiring. A card already
// on the dashboard keeps its dashcard id; new ones get negative ids (which
// Metabase creates); dashcards not listed are removed.
func (d Dashboard) dashboardBody(cardIDs []int, existing map[int]int) map[string]any {
	pos := d.Layout()
	var dashcards []map[string]any
	for i, c := range d.Cards {
		id, ok := existing[cardIDs[i]]
		if !ok {
			id = -(i + 1)
		}
		mappings := []map[string]any{}
		for _, t := range c.Tags() {
			mappings = append(mappings, map[string]any{"parameter_id": d.parameterID(t), "card_id": cardIDs[i],
				"target": []any{"variable", []any{"template-tag", t}}})
		}
		dashcards = append(dashcards, map[string]any{"id": id, "card_id": cardIDs[i], "row": pos[i][0], "col": pos[i][1],
			"size_x": c.Width, "size_y": c.Height, "parameter_mappings": mappings, "visualization_settings": map[string]any{}})
	}
	return map[string]any{"name": d.Name, "description": d.description(), "parameters": d.parameters(), "dashcards": dashcards}
}
