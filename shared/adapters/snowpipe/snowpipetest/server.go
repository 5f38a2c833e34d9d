// Package snowpipetest is a local stand-in for Snowflake's Snowpipe
// Streaming REST API (high-performance architecture) that checks every
// request against the published reference and keeps tables, channels and
// committed offset tokens the way the reference describes them, with
// knobs to fail on purpose: errors and throttling, lost responses,
// invalidated channels, a restart of the service, commits held back.
//
// Two listeners, as in Snowflake: the control plane (the account URL:
// Get Hostname, Exchange Scoped Token, which check the key-pair JWT) and
// the ingest host it names (channels and rows, which check the scoped
// token). Appended rows are buffered per channel and committed when
// the channel's status has been polled Options.CommitAfterPolls times
// (then the rows are in the table and the channel's committed offset
// token is the last append's end offset token); opening a channel bumps
// its client sequencer, which voids its continuation token and discards
// what was not committed.
//
// A request that breaks the protocol (a missing or wrong header, a bad
// body, an expired token, a row the table has no column for...) is
// answered 400 with code FAKE_PROTOCOL_VIOLATION and recorded; tests
// assert Violations is empty. It is a fake: what real Snowflake does where
// the reference is silent is a guess here, named in the package doc of
// shared/adapters/snowpipe.
package snowpipetest

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Options configure a Server.
type Options struct {
	Account   string // as the client is configured (the JWT names JWTAccount of it)
	User      string
	PublicKey *rsa.PublicKey
	Database  string
	Schema    string
	// Tables, each with its default pipe <NAME>-STREAMING.
	Tables []table.Schema
	// CommitAfterPolls: a channel's buffered rows commit when its status
	// has been polled this many times since its last append (default 1).
	CommitAfterPolls int
	// PlainText answers Get Hostname and Exchange Scoped Token with the
	// bare value, as Snowflake's tutorial reads them, instead of the JSON
	// object of the reference.
	PlainText bool
	// CountOnly keeps no committed rows, only their count (Rows returns
	// nil, Count the number): for benchmarks.
	CountOnly bool
	// Now is the service's clock (default time.Now); share it with the
	// client to expire tokens.
	Now func() time.Time
}

// Op names an endpoint, for faults and request counts.
type Op string

const (
	OpHostname Op = "hostname"
	OpToken    Op = "token"
	OpOpen     Op = "open"
	OpAppend   Op = "append"
	OpStatus   Op = "status"
	OpDrop     Op = "drop"
)

// Fault makes the next Times requests to Op fail (default once).
type Fault struct {
	Op Op
	// Status, Code, Message: answer this error without processing the
	// request. RetryAfter sets the Retry-After header.
	Status     int
	Code       string
	Message    string
	RetryAfter string
	// Lose processes the request, then closes the connection without an
	// answer (the client never hears). With CommitFirst, an append's rows
	// are committed before that.
	Lose        bool
	CommitFirst bool
	Times       int
}

// Server is the stand-in. Close it when done.
type Server struct {
	opts    Options
	fp      string
	control *httptest.Server
	ingest  *httptest.Server

	mu           sync.Mutex
	tokens       map[string]time.Time // scoped token -> expiry
	revoked      map[string]bool
	tokenSeq     int
	tables       map[string]*tableData // upper-case table name
	pipes        map[string]*tableData // upper-case pipe name
	channels     map[string]*channel   // PIPE/CHANNEL, upper-case
	faults       map[Op][]*Fault
	requests     map[Op]int
	violations   []string
	holdCommits  bool
	appendBodies int64 // compressed bytes received
	appendRaw    int64 // NDJSON bytes received
}

type tableData struct {
	schema table.Schema
	rows   []map[string]any
	count  int
}

type channel struct {
	pipe, name      string
	seq, rowSeq     int
	committed       *string
	pending         []pendingAppend
	polls           int
	rowsInserted    int64
	rowsParsed      int64
	rowsErrors      int64
	lastError       *string
	lastErrorOffset *string
	appends         []Append
}

// Append is one Append Rows request the service accepted.
type Append struct {
	Start, End int64 // its offset tokens
	Rows       int   // NDJSON lines
	RawBytes   int   // NDJSON bytes
	WireBytes  int   // body bytes
}

type pendingAppend struct {
	end     string
	rows    []map[string]any
	errRows int64
	errMsg  string
}

// New starts the server on two loopback listeners.
func New(opts Options) (*Server, error) {
	if opts.PublicKey == nil || opts.Account == "" || opts.User == "" || opts.Database == "" || opts.Schema == "" {
		return nil, errors.New("snowpipetest: Options need PublicKey, Account, User, Database and Schema")
	}
	if opts.CommitAfterPolls <= 0 {
		opts.CommitAfterPolls = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	der, err := x509.MarshalPKIXPublicKey(opts.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("snowpipetest: %w", err)
	}
	sum := sha256.Sum256(der)
	s := &Server{
		opts:     opts,
		fp:       "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]),
		tokens:   map[string]time.Time{},
		revoked:  map[string]bool{},
		tables:   map[string]*tableData{},
		pipes:    map[string]*tableData{},
		channels: map[string]*channel{},
		faults:   map[Op][]*Fault{},
		requests: map[Op]int{},
	}
	for _, t := range opts.Tables {
		td := &tableData{schema: t}
		s.tables[strings.ToUpper(t.Name)] = td
		s.pipes[strings.ToUpper(t.Name)+"-STREAMING"] = td
	}
	cm := http.NewServeMux()
	cm.HandleFunc("GET /v2/streaming/hostname", s.hostname)
	cm.HandleFunc("POST /oauth/token", s.token)
	cm.HandleFunc("/", s.wrongHost)
	im := http.NewServeMux()
	im.HandleFunc("PUT /v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}", s.open)
	im.HandleFunc("DELETE /v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}", s.drop)
	im.HandleFunc("POST /v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}/rows", s.appendRows)
	im.HandleFunc("POST /v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipeAction}", s.status)
	im.HandleFunc("/", s.wrongHost)
	s.control = httptest.NewServer(cm)
	s.ingest = httptest.NewServer(im)
	return s, nil
}

// Close stops both listeners.
func (s *Server) Close() {
	s.control.Close()
	s.ingest.Close()
}

// AccountURL is the control plane's URL (the client's Config.AccountURL).
func (s *Server) AccountURL() string { return s.control.URL }

// IngestHost is the host Get Hostname names.
func (s *Server) IngestHost() string { return strings.TrimPrefix(s.ingest.URL, "http://") }

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults[f.Op] = append(s.faults[f.Op], &f)
}

// HoldCommits stops (true) or resumes (false) committing.
func (s *Server) HoldCommits(hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdCommits = hold
}

// CommitAll commits every channel's buffered rows now.
func (s *Server) CommitAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.channels {
		s.commit(ch)
	}
}

// Invalidate does what another client's Open Channel does: bumps the
// channel's client sequencer (its continuation token is now stale) and
// discards what it had not committed.
func (s *Server) Invalidate(pipe, channelName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[key(pipe, channelName)]; ch != nil {
		ch.seq++
		ch.rowSeq = 0
		ch.pending = nil
	}
}

// Restart loses what the service held in memory: buffered rows, every
// channel's continuation token and every scoped token. Tables and
// committed offset tokens stay.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.revoked[t] = true
	}
	s.tokens = map[string]time.Time{}
	for _, ch := range s.channels {
		ch.seq++
		ch.rowSeq = 0
		ch.pending = nil
		ch.polls = 0
	}
}

// Rows returns the table's committed rows, decoded (numbers as json.Number).
func (s *Server) Rows(tableName string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	td := s.tables[strings.ToUpper(tableName)]
	if td == nil {
		return nil
	}
	return append([]map[string]any(nil), td.rows...)
}

// Count returns how many rows the table holds.
func (s *Server) Count(tableName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if td := s.tables[strings.ToUpper(tableName)]; td != nil {
		return td.count
	}
	return 0
}

// Committed returns a channel's committed offset token.
func (s *Server) Committed(pipe, channelName string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[key(pipe, channelName)]
	if ch == nil || ch.committed == nil {
		return "", false
	}
	return *ch.committed, true
}

// Appends lists the Append Rows requests a channel accepted, in order
// (those whose answer was lost included).
func (s *Server) Appends(pipe, channelName string) []Append {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[key(pipe, channelName)]; ch != nil {
		return append([]Append(nil), ch.appends...)
	}
	return nil
}

// Requests counts the requests made to op (faults included).
func (s *Server) Requests(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Violations lists the requests that broke the protocol.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// AppendBytes returns the Append Rows body bytes received, compressed
// and as NDJSON.
func (s *Server) AppendBytes() (wire, raw int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendBodies, s.appendRaw
}

func key(pipe, ch string) string { return strings.ToUpper(pipe) + "/" + strings.ToUpper(ch) }

// violation records a protocol violation and answers 400. Call with s.mu held.
func (s *Server) violation(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	msg := r.Method + " " + r.URL.Path + ": " + fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	writeError(w, http.StatusBadRequest, "FAKE_PROTOCOL_VIOLATION", msg)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fault pops the next fault for op; it answers a Status fault itself and
// returns (nil, true). Call with s.mu held.
func (s *Server) fault(w http.ResponseWriter, op Op) (lose *Fault, answered bool) {
	s.requests[op]++
	q := s.faults[op]
	if len(q) == 0 {
		return nil, false
	}
	f := q[0]
	if f.Times--; f.Times <= 0 {
		s.faults[op] = q[1:]
	}
	if f.Lose {
		return f, false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	writeError(w, f.Status, f.Code, f.Message)
	return nil, true
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) wrongHost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violation(w, r, "no such endpoint on this host (control: hostname, oauth/token; ingest: channels, rows, status)")
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkJWT verifies a key-pair JWT: RS256 with the registered key,
// iss ACCOUNT.USER.SHA256:fp, sub ACCOUNT.USER, unexpired, at most 1 h.
func (s *Server) checkJWT(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errors.New("Authorization is not a Bearer token")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the JWT has not three parts")
	}
	var hdr struct{ Alg, Typ string }
	var claims struct {
		Iss, Sub string
		Iat, Exp int64
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("JWT is not base64url: %w", err)
	}
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != "RS256" {
		return fmt.Errorf("JWT header %s: want alg RS256", hb)
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		return fmt.Errorf("JWT claims %s: %w", cb, err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.opts.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("JWT signature does not verify with the user's public key")
	}
	acct := strings.ToUpper(s.opts.Account)
	if i := strings.IndexByte(acct, '.'); i > 0 {
		acct = acct[:i]
	}
	sub := acct + "." + strings.ToUpper(s.opts.User)
	if claims.Sub != sub || claims.Iss != sub+"."+s.fp {
		return fmt.Errorf("JWT iss %q sub %q: want %q and %q", claims.Iss, claims.Sub, sub+"."+s.fp, sub)
	}
	now := s.opts.Now().Unix()
	switch {
	case claims.Exp <= now:
		return fmt.Errorf("JWT expired at %d (now %d)", claims.Exp, now)
	case claims.Iat > now+60:
		return fmt.Errorf("JWT issued in the future (%d, now %d)", claims.Iat, now)
	case claims.Exp-claims.Iat > 3600:
		return fmt.Errorf("JWT lifetime %d s is over one hour", claims.Exp-claims.Iat)
	}
	return nil
}

func (s *Server) hostname(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, answered := s.fault(w, OpHostname); answered {
		return
	}
	if got := r.Header.Get("X-Snowflake-Authorization-Token-Type"); got != "KEYPAIR_JWT" {
		s.violation(w, r, "X-Snowflake-Authorization-Token-Type %q, want KEYPAIR_JWT", got)
		return
	}
	if err := s.checkJWT(r); err != nil {
		writeError(w, http.StatusUnauthorized, "390144", "JWT token is invalid: "+err.Error())
		return
	}
	if s.opts.PlainText {
		_, _ = io.WriteString(w, s.IngestHost())
		return
	}
	writeJSON(w, map[string]string{"hostname": s.IngestHost()})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, answered := s.fault(w, OpToken); answered {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.violation(w, r, "Content-Type %q, want application/x-www-form-urlencoded", ct)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.violation(w, r, "form body: %v", err)
		return
	}
	if g := form.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		s.violation(w, r, "grant_type %q", g)
		return
	}
	if sc := form.Get("scope"); sc != s.IngestHost() {
		s.violation(w, r, "scope %q, want the ingest host %q", sc, s.IngestHost())
		return
	}
	if err := s.checkJWT(r); err != nil {
		writeError(w, http.StatusUnauthorized, "390144", "JWT token is invalid: "+err.Error())
		return
	}
	// The scoped token lives as long as the JWT it came from (a guess: the
	// reference does not say).
	cb, _ := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ".")[1])
	var claims struct{ Exp int64 }
	_ = json.Unmarshal(cb, &claims)
	s.tokenSeq++
	tok := fmt.Sprintf("scoped-%d", s.tokenSeq)
	s.tokens[tok] = time.Unix(claims.Exp, 0)
	if s.opts.PlainText {
		_, _ = io.WriteString(w, tok)
		return
	}
	writeJSON(w, map[string]string{"token": tok})
}

// checkIngest checks the scoped token, the database and schema, the
// requestId and the pipe; it answers and returns nil on failure. Call with
// s.mu held.
func (s *Server) checkIngest(w http.ResponseWriter, r *http.Request, pipe string, requestID bool) *tableData {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	exp, ok := s.tokens[tok]
	switch {
	case s.revoked[tok]:
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "scoped token no longer valid")
		return nil
	case !ok:
		s.violation(w, r, "Authorization %q is not a scoped token this service issued", r.Header.Get("Authorization"))
		return nil
	case !s.opts.Now().Before(exp):
		s.violation(w, r, "scoped token expired at %v (now %v): the client did not refresh it", exp, s.opts.Now())
		return nil
	}
	if db, sc := r.PathValue("db"), r.PathValue("schema"); !strings.EqualFold(db, s.opts.Database) || !strings.EqualFold(sc, s.opts.Schema) {
		writeError(w, http.StatusNotFound, "ERR_SCHEMA_DOES_NOT_EXIST_OR_NOT_AUTHORIZED", fmt.Sprintf("database %s schema %s", db, sc))
		return nil
	}
	if rid := r.URL.Query().Get("requestId"); requestID && rid != "" && !uuidRE.MatchString(rid) {
		s.violation(w, r, "requestId %q is not a UUID", rid)
		return nil
	}
	td := s.pipes[strings.ToUpper(pipe)]
	if td == nil {
		writeError(w, http.StatusNotFound, "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED", "pipe "+pipe+" does not exist or is not authorized")
		return nil
	}
	return td
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, answered := s.fault(w, OpStatus); answered {
		return
	}
	pipe, ok := strings.CutSuffix(r.PathValue("pipeAction"), ":bulk-channel-status")
	if !ok {
		s.violation(w, r, "POST on a pipe is only :bulk-channel-status")
		return
	}
	if s.checkIngest(w, r, pipe, false) == nil {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.violation(w, r, "Content-Type %q, want application/json", ct)
		return
	}
	var req struct {
		ChannelNames []string `json:"channel_names"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.ChannelNames) == 0 {
		s.violation(w, r, "body must be {\"channel_names\": [...]} (%v)", err)
		return
	}
	out := map[string]any{}
	for _, name := range req.ChannelNames {
		ch := s.channels[key(pipe, name)]
		if ch == nil {
			continue // the reference: no entry for a channel not found
		}
		ch.polls++
		if !s.holdCommits && len(ch.pending) > 0 && ch.polls >= s.opts.CommitAfterPolls {
			s.commit(ch)
		}
		// Keys upper-cased: exercises the client's case-insensitive lookup.
		out[strings.ToUpper(name)] = map[string]any{
			"channel_status_code":                 "ACTIVE",
			"last_committed_offset_token":         ch.committed,
			"database_name":                       strings.ToUpper(s.opts.Database),
			"schema_name":                         strings.ToUpper(s.opts.Schema),
			"pipe_name":                           strings.ToUpper(ch.pipe),
			"channel_name":                        strings.ToUpper(ch.name),
			"rows_inserted":                       ch.rowsInserted,
			"rows_parsed":                         ch.rowsParsed,
			"rows_errors":                         ch.rowsErrors,
			"last_error_offset_upper_bound":       ch.lastErrorOffset,
			"last_error_message":                  ch.lastError,
			"last_error_timestamp":                nil,
			"snowflake_avg_processing_latency_ms": 0,
		}
	}
	writeJSON(w, map[string]any{"channel_statuses": out})
}

// commit moves a channel's buffered rows into the table. Call with s.mu held.
func (s *Server) commit(ch *channel) {
	if len(ch.pending) == 0 {
		return
	}
	td := s.pipes[strings.ToUpper(ch.pipe)]
	for _, p := range ch.pending {
		td.count += len(p.rows)
		if !s.opts.CountOnly {
			td.rows = append(td.rows, p.rows...)
		}
		ch.rowsInserted += int64(len(p.rows))
		if p.errRows > 0 {
			ch.rowsErrors += p.errRows
			msg, off := p.errMsg, p.end
			ch.lastError, ch.lastErrorOffset = &msg, &off
		}
		end := p.end
		ch.committed = &end
	}
	ch.pending = nil
}

func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lose, answered := s.fault(w, OpOpen)
	if answered {
		return
	}
	pipe, name := r.PathValue("pipe"), r.PathValue("channel")
	if s.checkIngest(w, r, pipe, true) == nil {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.violation(w, r, "Content-Type %q, want application/json", ct)
		return
	}
	var req struct {
		OffsetToken           *string `json:"offset_token"`
		FailOnUncommittedRows bool    `json:"fail_on_uncommitted_rows"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.violation(w, r, "body: %v", err)
		return
	}
	ch := s.channels[key(pipe, name)]
	if ch == nil {
		ch = &channel{pipe: pipe, name: name}
		s.channels[key(pipe, name)] = ch
	}
	if req.FailOnUncommittedRows && len(ch.pending) > 0 {
		writeError(w, http.StatusConflict, "ERR_CHANNEL_HAS_UNCOMMITTED_DATA", "channel has uncommitted data")
		return
	}
	ch.seq++
	ch.rowSeq = 0
	ch.pending = nil
	ch.polls = 0
	if req.OffsetToken != nil {
		tok := *req.OffsetToken
		ch.committed = &tok
	}
	if lose != nil {
		hangUp(w)
		return
	}
	writeJSON(w, map[string]any{
		"next_continuation_token": fmt.Sprintf("%d_%d", ch.seq, ch.rowSeq),
		"channel_status": map[string]any{
			"database_name":               strings.ToUpper(s.opts.Database),
			"schema_name":                 strings.ToUpper(s.opts.Schema),
			"pipe_name":                   strings.ToUpper(pipe),
			"channel_name":                strings.ToUpper(name),
			"channel_status_code":         "ACTIVE",
			"last_committed_offset_token": ch.committed,
			"created_on_ms":               s.opts.Now().UnixMilli(),
			"rows_inserted":               ch.rowsInserted,
			"rows_parsed":                 ch.rowsParsed,
			"rows_error_count":            ch.rowsErrors,
		},
	})
}

func (s *Server) drop(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, answered := s.fault(w, OpDrop); answered {
		return
	}
	pipe, name := r.PathValue("pipe"), r.PathValue("channel")
	if s.checkIngest(w, r, pipe, true) == nil {
		return
	}
	if s.channels[key(pipe, name)] == nil {
		writeError(w, http.StatusNotFound, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED", "channel "+name)
		return
	}
	delete(s.channels, key(pipe, name))
	w.WriteHeader(http.StatusOK)
}

const (
	maxRequest = 16 << 20 // the reference: a request payload is at most 16 MB
	maxRows    = 4 << 20  // and the rows of an Append Rows at most 4 MB (taken as uncompressed)
)

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))

func (s *Server) appendRows(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lose, answered := s.fault(w, OpAppend)
	if answered {
		return
	}
	pipe, name := r.PathValue("pipe"), r.PathValue("channel")
	td := s.checkIngest(w, r, pipe, true)
	if td == nil {
		return
	}
	q := r.URL.Query()
	ch := s.channels[key(pipe, name)]
	if ch == nil {
		writeError(w, http.StatusNotFound, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED", "channel "+name+" is not open")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		s.violation(w, r, "Content-Type %q, want application/x-ndjson", ct)
		return
	}
	cont := q.Get("continuationToken")
	if cont == "" {
		s.violation(w, r, "continuationToken missing")
		return
	}
	if cont != fmt.Sprintf("%d_%d", ch.seq, ch.rowSeq) {
		writeError(w, http.StatusBadRequest, "STALE_CONTINUATION_TOKEN_SEQUENCER",
			"Channel sequencer in the continuation token is stale. Please reopen the channel")
		return
	}
	start, end := q.Get("startOffsetToken"), q.Get("endOffsetToken")
	si, err1 := strconv.ParseInt(start, 10, 64)
	ei, err2 := strconv.ParseInt(end, 10, 64)
	if err1 != nil || err2 != nil || si > ei {
		s.violation(w, r, "startOffsetToken %q and endOffsetToken %q must be offsets, start <= end", start, end)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest {
		s.violation(w, r, "request body over %d bytes or unreadable (%v)", maxRequest, err)
		return
	}
	raw, err := decompress(r.Header.Get("Content-Encoding"), body)
	if err != nil {
		s.violation(w, r, "%v", err)
		return
	}
	if len(raw) == 0 || len(raw) > maxRows || raw[len(raw)-1] != '\n' {
		s.violation(w, r, "rows must be 1 to %d bytes of NDJSON, each line ending in \\n (got %d bytes)", maxRows, len(raw))
		return
	}
	s.appendBodies += int64(len(body))
	s.appendRaw += int64(len(raw))
	p := pendingAppend{end: end}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, maxRows)
	lines := 0
	for n := 1; sc.Scan(); n++ {
		lines++
		ch.rowsParsed++
		ln := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		dec := json.NewDecoder(bytes.NewReader(ln))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil || dec.More() {
			s.violation(w, r, "line %d is not one JSON object: %v: %.100s", n, err, ln)
			return
		}
		if err := checkRow(&td.schema, row); err != nil {
			p.errRows++
			p.errMsg = fmt.Sprintf("line %d: %v", n, err)
			continue
		}
		p.rows = append(p.rows, row)
	}
	ch.pending = append(ch.pending, p)
	ch.appends = append(ch.appends, Append{Start: si, End: ei, Rows: int(lines), RawBytes: len(raw), WireBytes: len(body)})
	ch.rowSeq++
	ch.polls = 0
	if lose != nil {
		if lose.CommitFirst {
			s.commit(ch)
		}
		hangUp(w)
		return
	}
	writeJSON(w, map[string]string{"next_continuation_token": fmt.Sprintf("%d_%d", ch.seq, ch.rowSeq)})
}

func decompress(encoding string, body []byte) ([]byte, error) {
	switch encoding {
	case "":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding gzip: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, maxRows+1))
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding gzip: %w", err)
		}
		return b, nil
	case "zstd":
		b, err := zstdDecoder.DecodeAll(body, nil)
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding zstd: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("Content-Encoding %q: supported are gzip and zstd", encoding)
}

// checkRow checks a row against the table, the way a pipe's schema
// validation rejects a row (a row error, not a bad request).
func checkRow(s *table.Schema, row map[string]any) error {
	for k, v := range row {
		i := -1
		for j, c := range s.Columns {
			if strings.EqualFold(c.Name, k) {
				i = j
				break
			}
		}
		if i < 0 {
			return fmt.Errorf("table %s has no column %s", s.Name, k)
		}
		if v == nil {
			continue
		}
		col := s.Columns[i]
		ok := false
		switch col.Type {
		case table.String:
			_, ok = v.(string)
		case table.Int:
			n, isNum := v.(json.Number)
			_, err := n.Int64()
			ok = isNum && err == nil
		case table.Float:
			n, isNum := v.(json.Number)
			_, err := n.Float64()
			ok = isNum && err == nil
		case table.Bool:
			_, ok = v.(bool)
		case table.Timestamp:
			str, isStr := v.(string)
			_, err := time.Parse("2006-01-02 15:04:05.999999", str)
			ok = isStr && err == nil
		case table.Date:
			str, isStr := v.(string)
			_, err := time.Parse("2006-01-02", str)
			ok = isStr && err == nil
		}
		if !ok {
			return fmt.Errorf("column %s (%v): %v is not of its type", col.Name, col.Type, v)
		}
	}
	return nil
}
