// Package web is Pulse's own dashboard: an http.Handler over a
// port.Warehouse (DuckDB locally, Snowflake on AWS) serving a JSON API
// and a dependency-free page drawn with ECharts.
//
// The page shows one chart per seed dashboard view that exists in the
// warehouse (the Catalog, 21 panels over the batch, stream, mart and gold
// views), with filters for platform, age group and date range and an
// auto-refresh per section at its seed's rate (social sales 5 s, page
// views 15 s, engagement 60 s; the user can change it), and a
// pipeline-health page:
// freshness and record accounting per dataset, per-topic stream accounting,
// late events per dataset and window, rejects, and the data-test results
// (DATA_TEST_RESULTS), and, given a profile source, the data profiles of
// the newest staged file of each dataset (profiles.go).
//
// Filters never reach the SQL as text: a filtered panel re-aggregates the
// rows beneath its view (Panel.Detail, whose SQL carries a token where each
// filter applies) with a parameterized WHERE, or filters the view's own
// group-key, age or time columns, again by parameter; with no filter it
// reads the named view itself.
//
// API:
//
//	GET /api/config            title, refresh interval, whether ECharts is installed
//	GET /api/panels            the panels whose views exist, and the filters each takes
//	GET /api/panels/{view}     one panel's rows and chart, under ?platform=&age_group=&from=YYYY-MM-DD&to=YYYY-MM-DD
//	GET /api/filters           the values the filters offer
//	GET /api/health            the pipeline-health page's data
//	GET /api/profiles          the newest data profile of each dataset (when Options.Profiles is set)
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/port"
)

//go:embed static
var static embed.FS

// EChartsEnv names the environment variable that overrides where
// echarts.min.js is read from.
const EChartsEnv = "PULSE_ECHARTS"

// EChartsRel is where `make tools` (localstack/tools/web.sh) installs
// ECharts, relative to the repository root.
const EChartsRel = ".tools/web/node_modules/echarts/dist/echarts.min.js"

// MinRefresh is the shortest auto-refresh interval the page allows.
const MinRefresh = 5 * time.Second

// Options configure the dashboard. The zero value is usable.
type Options struct {
	Title string // page title (default "Pulse")
	// Refresh, when set, is every section's default auto-refresh interval
	// (at least MinRefresh) instead of its seed's rate (Group.RefreshSeconds),
	// and the pipeline page's (default 60 s). The page can change it, per
	// section or for all; ?refresh=N sets all, ?refresh.<section>=N one.
	Refresh time.Duration
	// EChartsPath is the echarts.min.js file to serve. Default: $PULSE_ECHARTS,
	// else EChartsRel under the first folder upward from the working
	// directory that has it.
	EChartsPath string
	// FreshWithin is how recent a dataset's newest load must be to count as
	// fresh on the health page (default 15 min).
	FreshWithin time.Duration
	// Profiles, when set, gives the data profiles the pipeline page shows
	// (usually batch.LatestProfiles over the staging bucket); nil: the
	// page has no profiles panel.
	Profiles func(ctx context.Context) ([]batch.Profile, error)
	Panels   []Panel          // default Catalog
	Now      func() time.Time // default time.Now
	Log      *slog.Logger     // default slog.Default()
	Timeout  time.Duration    // per API request (default 30 s)
}

// identifier is what a panel's view name must look like: it is written
// into SQL as is (it comes from the catalog, never from a request).
var identifier = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func knownGroup(id string) bool {
	for _, g := range Groups {
		if g.ID == id {
			return true
		}
	}
	return false
}

type server struct {
	wh      port.Warehouse
	o       Options
	echarts string // resolved path; "" if not found
	panels  map[string]Panel
	mux     *http.ServeMux
}

// New returns the dashboard's handler over wh. A missing ECharts file is
// not an error here: the page then explains how to install it (make tools)
// and the API still works.
func New(wh port.Warehouse, o Options) (http.Handler, error) {
	if wh == nil {
		return nil, errors.New("web dashboard: no warehouse")
	}
	if o.Title == "" {
		o.Title = "Pulse"
	}
	if o.Refresh != 0 && o.Refresh < MinRefresh {
		return nil, fmt.Errorf("web dashboard: refresh %s is below the minimum %s", o.Refresh, MinRefresh)
	}
	if o.FreshWithin == 0 {
		o.FreshWithin = 15 * time.Minute
	}
	if o.Panels == nil {
		o.Panels = Catalog
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	s := &server{wh: wh, o: o, panels: map[string]Panel{}, mux: http.NewServeMux()}
	for _, p := range o.Panels {
		if _, dup := s.panels[p.View]; dup {
			return nil, fmt.Errorf("web dashboard: panel %s declared twice", p.View)
		}
		if !identifier.MatchString(p.View) {
			return nil, fmt.Errorf("web dashboard: panel view %q must be an upper-case identifier", p.View)
		}
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("web dashboard: panel %s: %w", p.View, err)
		}
		s.panels[p.View] = p
	}
	s.echarts = resolveECharts(o.EChartsPath)
	if s.echarts == "" {
		o.Log.Warn("web dashboard: echarts.min.js not found; the page will ask for `make tools`", "looked_for", echartsWhere(o.EChartsPath))
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("web dashboard: reading embedded files: %w", err)
	}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /pipeline", s.page)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	s.mux.HandleFunc("GET /vendor/echarts.min.js", s.echartsJS)
	s.mux.HandleFunc("GET /api/config", s.config)
	s.mux.HandleFunc("GET /api/panels", s.listPanels)
	s.mux.HandleFunc("GET /api/panels/{view}", s.panelData)
	s.mux.HandleFunc("GET /api/filters", s.filterOptions)
	s.mux.HandleFunc("GET /api/health", s.health)
	s.mux.HandleFunc("GET /api/profiles", s.profiles)
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// resolveECharts finds echarts.min.js: the option, $PULSE_ECHARTS, or
// EChartsRel upward from the working directory. "" if none exists.
func resolveECharts(opt string) string {
	for _, p := range []string{opt, os.Getenv(EChartsEnv)} {
		if p != "" {
			if fileExists(p) {
				return p
			}
			return ""
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if p := filepath.Join(dir, EChartsRel); fileExists(p) {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// echartsWhere says where ECharts was looked for, for error messages.
func echartsWhere(opt string) string {
	switch {
	case opt != "":
		return opt
	case os.Getenv(EChartsEnv) != "":
		return os.Getenv(EChartsEnv) + " (from $" + EChartsEnv + ")"
	}
	return EChartsRel + " in the working directory or a parent"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// page serves the dashboard (/) and the pipeline-health page (/pipeline):
// one HTML file whose script picks the view by path.
func (s *server) page(w http.ResponseWriter, r *http.Request) {
	if s.echarts == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, missingEChartsPage, htmlEscape(echartsWhere(s.o.EChartsPath)), EChartsEnv)
		return
	}
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, "reading the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(strings.ReplaceAll(string(b), "{{TITLE}}", htmlEscape(s.o.Title))))
}

const missingEChartsPage = `<!doctype html><html><head><meta charset="utf-8"><title>Pulse: charts library missing</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}h1{font-size:1.4rem}</style></head><body>
<h1>The dashboard needs ECharts, which is not installed</h1>
<p>Pulse serves <code>echarts.min.js</code> from npm at run time and never commits it. It was looked for at
<code>%s</code> and is not there.</p>
<p>Install it with <code>make tools</code> (it runs <code>localstack/tools/web.sh</code>), or point
<code>$%s</code> at an <code>echarts.min.js</code>, then reload this page.</p>
<p>The JSON API (<a href="/api/panels">/api/panels</a>, <a href="/api/health">/api/health</a>) works without it.</p>
</body></html>`

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

func (s *server) echartsJS(w http.ResponseWriter, r *http.Request) {
	if s.echarts == "" {
		http.Error(w, "echarts.min.js is not installed: run `make tools` (looked for "+echartsWhere(s.o.EChartsPath)+")", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFile(w, r, s.echarts)
}

// DefaultRefresh is the pipeline page's auto-refresh interval, and every
// section's when Options.Refresh is not set and the section has no rate.
const DefaultRefresh = 60 * time.Second

// groups are the sections with the refresh interval each starts with.
func (s *server) groups() []Group {
	out := make([]Group, len(Groups))
	copy(out, Groups)
	for i := range out {
		switch {
		case s.o.Refresh != 0:
			out[i].RefreshSeconds = int(s.o.Refresh / time.Second)
			out[i].RefreshNote = "set for every section when the dashboard was started"
		case out[i].RefreshSeconds == 0:
			out[i].RefreshSeconds = int(DefaultRefresh / time.Second)
		}
	}
	return out
}

func (s *server) config(w http.ResponseWriter, r *http.Request) {
	refresh := DefaultRefresh
	if s.o.Refresh != 0 {
		refresh = s.o.Refresh
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"title":             s.o.Title,
		"refreshSeconds":    int(refresh / time.Second), // the pipeline page's
		"seedRates":         s.o.Refresh == 0,           // the sections refresh at their seeds' rates
		"minRefreshSeconds": int(MinRefresh / time.Second),
		"echarts":           s.echarts != "",
		"groups":            s.groups(),
		"filters":           allFilters,
		"profiles":          s.o.Profiles != nil, // the pipeline page has a profiles panel
	})
}

// PanelInfo lists one panel the page can show.
type PanelInfo struct {
	View    string   `json:"view"`
	Title   string   `json:"title"`
	Group   string   `json:"group"`
	Note    string   `json:"note,omitempty"`
	Filters []string `json:"filters"` // the filters that apply to it
	Columns []Column `json:"columns"` // the view's
}

// available returns the panels whose views exist, in catalog order, and
// the views still missing.
func (s *server) available(ctx context.Context) ([]PanelInfo, []string, error) {
	var names []string
	for _, p := range s.o.Panels {
		names = append(names, p.View)
	}
	cols, err := discover(ctx, s.wh, names)
	if err != nil {
		return nil, nil, err
	}
	out, missing := []PanelInfo{}, []string{}
	for _, p := range s.o.Panels {
		c, ok := cols[p.View]
		if !ok {
			missing = append(missing, p.View)
			continue
		}
		out = append(out, PanelInfo{View: p.View, Title: p.Title, Group: p.Group, Note: p.Note, Filters: applies(p, c), Columns: c})
	}
	return out, missing, nil
}

func (s *server) listPanels(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	ps, missing, err := s.available(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"panels": ps, "missing": missing})
}

func (s *server) panelData(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	view := r.PathValue("view")
	p, ok := s.panels[view]
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("no panel reads a view named %q", view))
		return
	}
	f, err := ParseFilters(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	cols, err := discover(ctx, s.wh, []string{view})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if _, ok := cols[view]; !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("view %s is not in the warehouse yet", view))
		return
	}
	d, err := readPanel(ctx, s.wh, p, cols[view], f, s.o.Now())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
	defer cancel()
	h, err := readHealth(ctx, s.wh, s.o.Now(), s.o.FreshWithin)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// fail answers with a JSON error; server-side failures are logged.
func (s *server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if code >= 500 {
		s.o.Log.Error("web dashboard", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// Server is a running dashboard server.
type Server struct {
	URL  string // http://host:port/
	srv  *http.Server
	stop func() bool
}

// Serve listens on addr ("127.0.0.1:0" picks a free port) and serves h
// until ctx is done or Close is called.
func Serve(ctx context.Context, addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for the dashboard: %w", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String() + "/", srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("web dashboard: serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// Close stops the server, letting requests in flight finish for up to 5 s.
func (s *Server) Close() error {
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("stopping the dashboard server: %w", err)
	}
	return nil
}
