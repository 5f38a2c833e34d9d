package metabase

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeMetabase is a Metabase REST API stand-in for tests: it keeps cards
// and dashboards in memory, checks every request the way Metabase would
// reject a bad one (authentication, required fields, the database id,
// template tags matching the query, dashcards pointing at existing cards,
// filter mappings pointing at the dashboard's parameters and the card's
// tags, cards inside the 24-column grid and not overlapping), and records
// the requests in order.
type fakeMetabase struct {
	t   *testing.T
	srv *httptest.Server

	user, password, apiKey string

	mu         sync.Mutex
	requests   []string
	session    string
	nextID     int
	cards      map[int]map[string]any
	dashboards map[int]*fakeDashboard
}

type fakeDashboard struct {
	name       string
	collection *int
	params     []map[string]any
	dashcards  []map[string]any
}

var tagInQuery = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}`)

func newFakeMetabase(t *testing.T) *fakeMetabase {
	f := &fakeMetabase{t: t, user: "admin@pulse.local", password: "correct horse", apiKey: "mb_key",
		nextID: 100, cards: map[int]map[string]any{}, dashboards: map[int]*fakeDashboard{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMetabase) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeMetabase) fail(w http.ResponseWriter, code int, format string, args ...any) {
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":%q}`, fmt.Sprintf(format, args...))
}

func (f *fakeMetabase) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	var body map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		if r.Header.Get("Content-Type") != "application/json" {
			f.fail(w, 400, "content type %q", r.Header.Get("Content-Type"))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.fail(w, 400, "bad JSON: %v", err)
			return
		}
	}
	if r.URL.Path == "/api/session" && r.Method == http.MethodPost {
		if body["username"] != f.user || body["password"] != f.password {
			f.fail(w, 401, "Password did not match stored password.")
			return
		}
		f.session = "session-" + strconv.Itoa(len(f.requests))
		writeJSON(w, map[string]any{"id": f.session})
		return
	}
	if s := r.Header.Get("X-Metabase-Session"); (s == "" || s != f.session) && r.Header.Get("X-Api-Key") != f.apiKey {
		f.fail(w, 401, "Unauthenticated")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	id := 0
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		if n, err := strconv.Atoi(path[i+1:]); err == nil {
			id, path = n, path[:i]
		}
	}
	switch r.Method + " " + path {
	case "GET /api/database":
		writeJSON(w, map[string]any{"data": []map[string]any{{"id": 1, "name": "Sample Database"}, {"id": 2, "name": "Pulse Snowflake"}}, "total": 2})
	case "GET /api/card":
		var list []map[string]any
		for cid, c := range f.cards {
			list = append(list, map[string]any{"id": cid, "name": c["name"], "collection_id": c["collection_id"], "archived": false})
		}
		writeJSON(w, list)
	case "POST /api/card", "PUT /api/card":
		if r.Method == http.MethodPut && f.cards[id] == nil {
			f.fail(w, 404, "Not found.")
			return
		}
		if msg := checkCard(body); msg != "" {
			f.fail(w, 400, "%s", msg)
			return
		}
		if r.Method == http.MethodPost {
			f.nextID++
			id = f.nextID
		}
		f.cards[id] = body
		writeJSON(w, map[string]any{"id": id, "name": body["name"]})
	case "GET /api/search":
		q := strings.ToLower(r.URL.Query().Get("q"))
		if r.URL.Query().Get("models") != "dashboard" {
			f.fail(w, 400, "models")
			return
		}
		data := []map[string]any{}
		for did, d := range f.dashboards {
			if strings.Contains(strings.ToLower(d.name), q) {
				data = append(data, map[string]any{"id": did, "name": d.name, "model": "dashboard", "collection_id": d.collection})
			}
		}
		writeJSON(w, map[string]any{"data": data, "total": len(data)})
	case "POST /api/dashboard":
		name, _ := body["name"].(string)
		if name == "" {
			f.fail(w, 400, "name: value must be a non-blank string")
			return
		}
		f.nextID++
		d := &fakeDashboard{name: name}
		if c, ok := body["collection_id"].(float64); ok {
			n := int(c)
			d.collection = &n
		}
		f.dashboards[f.nextID] = d
		writeJSON(w, map[string]any{"id": f.nextID, "name": name})
	case "GET /api/dashboard":
		d := f.dashboards[id]
		if d == nil {
			f.fail(w, 404, "Not found.")
			return
		}
		writeJSON(w, map[string]any{"id": id, "name": d.name, "parameters": d.params, "dashcards": d.dashcards})
	case "PUT /api/dashboard":
		d := f.dashboards[id]
		if d == nil {
			f.fail(w, 404, "Not found.")
			return
		}
		if msg := f.putDashboard(d, body); msg != "" {
			f.fail(w, 400, "%s", msg)
			return
		}
		writeJSON(w, map[string]any{"id": id})
	default:
		f.fail(w, 404, "no route %s %s", r.Method, r.URL.Path)
	}
}

// checkCard validates a card body as Metabase would.
func checkCard(body map[string]any) string {
	if s, _ := body["name"].(string); s == "" {
		return "name: value must be a non-blank string"
	}
	if s, _ := body["display"].(string); s == "" {
		return "display: value must be a non-blank string"
	}
	dq, _ := body["dataset_query"].(map[string]any)
	if dq == nil || dq["type"] != "native" || dq["database"] != float64(2) {
		return fmt.Sprintf("dataset_query: want a native query on database 2, got %v", dq)
	}
	native, _ := dq["native"].(map[string]any)
	query, _ := native["query"].(string)
	tags, _ := native["template-tags"].(map[string]any)
	if query == "" {
		return "dataset_query.native.query is empty"
	}
	inQuery := map[string]bool{}
	for _, m := range tagInQuery.FindAllStringSubmatch(query, -1) {
		inQuery[m[1]] = true
		tag, _ := tags[m[1]].(map[string]any)
		if tag == nil || tag["name"] != m[1] || tag["type"] != "text" || tag["id"] == "" || tag["display-name"] == "" {
			return fmt.Sprintf("template tag %s: missing or incomplete (%v)", m[1], tag)
		}
	}
	if len(tags) != len(inQuery) {
		return fmt.Sprintf("template-tags %v do not match the query's tags %v", tags, inQuery)
	}
	if _, ok := body["visualization_settings"].(map[string]any); !ok {
		return "visualization_settings: value must be a map"
	}
	return ""
}

// putDashboard replaces a dashboard's parameters and dashcards.
func (f *fakeMetabase) putDashboard(d *fakeDashboard, body map[string]any) string {
	params := map[string]bool{}
	raw, _ := body["parameters"].([]any)
	var plist []map[string]any
	for _, p := range raw {
		pm := p.(map[string]any)
		if pm["id"] == "" || pm["slug"] == "" || pm["type"] != "string/=" {
			return fmt.Sprintf("parameter %v: needs id, slug and a known type", pm)
		}
		params[pm["id"].(string)] = true
		plist = append(plist, pm)
	}
	have := map[float64]bool{}
	for _, dc := range d.dashcards {
		have[dc["id"].(float64)] = true
	}
	cards, _ := body["dashcards"].([]any)
	var out []map[string]any
	var boxes [][4]float64
	for _, c := range cards {
		dc := c.(map[string]any)
		cardID := int(dc["card_id"].(float64))
		card := f.cards[cardID]
		if card == nil {
			return fmt.Sprintf("dashcard: card %d does not exist", cardID)
		}
		id := dc["id"].(float64)
		if id < 0 {
			f.nextID++
			id = float64(f.nextID)
		} else if !have[id] {
			return fmt.Sprintf("dashcard %v is not on this dashboard", id)
		}
		row, col, w, h := dc["row"].(float64), dc["col"].(float64), dc["size_x"].(float64), dc["size_y"].(float64)
		if col < 0 || w <= 0 || h <= 0 || col+w > 24 {
			return fmt.Sprintf("dashcard for card %d is outside the grid", cardID)
		}
		for _, b := range boxes {
			if row < b[0]+b[3] && b[0] < row+h && col < b[1]+b[2] && b[1] < col+w {
				return fmt.Sprintf("dashcard for card %d overlaps another", cardID)
			}
		}
		boxes = append(boxes, [4]float64{row, col, w, h})
		tags := card["dataset_query"].(map[string]any)["native"].(map[string]any)["template-tags"].(map[string]any)
		maps, _ := dc["parameter_mappings"].([]any)
		for _, m := range maps {
			mm := m.(map[string]any)
			target, _ := json.Marshal(mm["target"])
			var tgt []any
			_ = json.Unmarshal(target, &tgt)
			if !params[mm["parameter_id"].(string)] || int(mm["card_id"].(float64)) != cardID || len(tgt) != 2 || tgt[0] != "variable" {
				return fmt.Sprintf("parameter mapping %v of card %d is broken", mm, cardID)
			}
			tt := tgt[1].([]any)
			if tt[0] != "template-tag" || tags[tt[1].(string)] == nil {
				return fmt.Sprintf("parameter mapping %v targets no tag of card %d", mm, cardID)
			}
		}
		dc["id"] = id
		out = append(out, dc)
	}
	d.name = body["name"].(string)
	d.params = plist
	d.dashcards = out
	return ""
}

// snapshot is the fake's whole state, for comparing pushes.
func (f *fakeMetabase) snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int
	for id := range f.dashboards {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	state := map[string]any{"cards": f.cards}
	var ds []any
	for _, id := range ids {
		d := f.dashboards[id]
		ds = append(ds, map[string]any{"id": id, "name": d.name, "params": d.params, "dashcards": d.dashcards})
	}
	state["dashboards"] = ds
	b, _ := json.Marshal(state)
	return string(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
