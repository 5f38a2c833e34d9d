// Package snowflakelocal is a Snowflake-protocol endpoint that executes
// Pulse's Snowflake statements on DuckDB, for the local cloud
// (localstack/cloud): the load, datatests, gold and stream functions connect
// to it with gosnowflake exactly as they connect to Snowflake (key-pair JWT
// login checked against the user's public key, the query API, PUT to a stage,
// COPY INTO, MERGE, transactions on a session), and the test reads the rows
// back from the same DuckDB database.
//
// What runs where: the protocol (login, sessions, bindings, result sets with
// Snowflake's column types, MERGE's and DML's row counts, errors) is this
// package; the statements run on DuckDB after Translate rewrites the parts of
// the Snowflake dialect DuckDB spells differently (dialect.go lists them).
// PUT uses a LOCAL_FS stage: the driver itself copies the file into the
// stage folder, as it uploads it to S3 for a real Snowflake stage.
// Concurrency: writes are serialized (a session's explicit transaction holds
// the write lock from BEGIN to COMMIT or ROLLBACK), reads run in parallel;
// Snowflake would run non-conflicting DML concurrently.
package snowflakelocal

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pulse-analytics/pulse/shared/adapters/sqldb"
)

// Options configure a Server.
type Options struct {
	// Addr is the listen address ("" = 127.0.0.1:0).
	Addr string
	// Account is the account name clients must log in to (any case).
	Account string
	// Users maps each user name (any case) to the public key of its key pair.
	Users map[string]*rsa.PublicKey
	// Dir holds the stage folders and, with File, the database ("" = a
	// temporary folder removed on Close).
	Dir string
	// File names the DuckDB database file under Dir ("" = in memory).
	File string
	// LockTimeout bounds how long a write waits for another session's
	// transaction (default 2 minutes); then it fails as a lock timeout.
	LockTimeout time.Duration
	// MemoryLimit caps DuckDB's memory in bytes (0: duckdb's own default).
	MemoryLimit int64
	Log         *slog.Logger
}

// Server is a running endpoint. Close it.
type Server struct {
	opts    Options
	db      *sql.DB
	ln      net.Listener
	srv     *http.Server
	dir     string
	tempDir bool
	write   chan struct{} // the write lock: a token in the channel means free

	mu       sync.Mutex
	sessions map[string]*session
	logins   int
	stmts    []Statement
}

// Statement is one statement a client sent, as received.
type Statement struct {
	SQL     string
	Session int    // which login sent it (1, 2, ...)
	User    string // the session's user
	Err     string // the error returned, "" on success
}

// Start opens the database and serves the protocol.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Account == "" || len(opts.Users) == 0 {
		return nil, errors.New("starting snowflake stand-in: an account and at least one user are required")
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{opts: opts, sessions: map[string]*session{}, write: make(chan struct{}, 1)}
	s.write <- struct{}{}
	s.dir = opts.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "pulse-snowflake-")
		if err != nil {
			return nil, fmt.Errorf("starting snowflake stand-in: %w", err)
		}
		s.dir, s.tempDir = d, true
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("starting snowflake stand-in: %w", err)
	}
	path := ""
	if opts.File != "" {
		path = filepath.Join(s.dir, opts.File)
	}
	if opts.MemoryLimit > 0 {
		path += fmt.Sprintf("?memory_limit=%dKiB", max(opts.MemoryLimit>>10, 1))
	}
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("starting snowflake stand-in: opening duckdb: %w", err)
	}
	s.db = sql.OpenDB(connector)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		s.cleanup()
		return nil, fmt.Errorf("starting snowflake stand-in: opening duckdb: %w", err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.db.Close()
		s.cleanup()
		return nil, fmt.Errorf("starting snowflake stand-in on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("snowflakelocal: the server stopped", "err", err)
		}
	}()
	return s, nil
}

func (s *Server) cleanup() {
	if s.tempDir {
		os.RemoveAll(s.dir)
	}
}

// Addr is the host:port clients connect to (SNOWFLAKE_HOST and _PORT, with
// SNOWFLAKE_PROTOCOL=http).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// DB is the DuckDB database the statements run on, for reading results
// back; do not write through it while clients run.
func (s *Server) DB() *sql.DB { return s.db }

// Statements returns every statement received so far, in order.
func (s *Server) Statements() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Statement(nil), s.stmts...)
}

// Close stops serving and closes the database.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.mu.Lock()
	for _, ss := range s.sessions {
		ss.close()
	}
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	s.cleanup()
	return err
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/session/v1/login-request":
		s.login(w, r)
	case "/queries/v1/query-request":
		s.query(w, r)
	case "/session":
		if r.URL.Query().Get("delete") == "true" {
			s.logout(r)
		}
		writeJSON(w, map[string]any{"success": true, "data": nil, "code": nil, "message": nil})
	case "/session/heartbeat":
		writeJSON(w, map[string]any{"success": true, "data": nil, "code": nil, "message": nil})
	default:
		s.opts.Log.Warn("snowflake stand-in: unsupported request", "method", r.Method, "path", r.URL.Path)
		writeJSON(w, map[string]any{"success": false, "code": "390400", "message": "unsupported request " + r.URL.Path, "data": nil})
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			AccountName   string `json:"ACCOUNT_NAME"`
			LoginName     string `json:"LOGIN_NAME"`
			Authenticator string `json:"AUTHENTICATOR"`
			Token         string `json:"TOKEN"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, map[string]any{"success": false, "code": "390100", "message": "reading login request: " + err.Error(), "data": nil})
		return
	}
	d := req.Data
	user, err := s.checkJWT(d.AccountName, d.Authenticator, d.Token)
	if err != nil {
		writeJSON(w, map[string]any{"success": false, "code": "390144", "message": "JWT token is invalid: " + err.Error(), "data": nil})
		return
	}
	q := r.URL.Query()
	conn, err := s.db.Conn(r.Context())
	if err != nil {
		writeJSON(w, map[string]any{"success": false, "code": "390100", "message": "opening a session: " + err.Error(), "data": nil})
		return
	}
	s.mu.Lock()
	s.logins++
	n := s.logins
	token := fmt.Sprintf("session-%d-%d", n, time.Now().UnixNano())
	s.sessions[token] = &session{srv: s, n: n, user: user, conn: conn, temp: map[string]bool{}}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": map[string]any{
		"token": token, "masterToken": "master-" + token, "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
		"sessionId": 1000 + n, "parameters": []map[string]any{{"name": "TIMEZONE", "value": "UTC"}},
		"sessionInfo": map[string]any{"databaseName": strings.ToUpper(q.Get("databaseName")), "schemaName": strings.ToUpper(q.Get("schemaName")),
			"warehouseName": strings.ToUpper(q.Get("warehouse")), "roleName": strings.ToUpper(q.Get("roleName"))},
	}})
}

func (s *Server) logout(r *http.Request) {
	token := sessionToken(r)
	s.mu.Lock()
	ss := s.sessions[token]
	delete(s.sessions, token)
	s.mu.Unlock()
	if ss != nil {
		ss.close()
	}
}

func sessionToken(r *http.Request) string {
	return strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Authorization"), `Snowflake Token="`), `"`)
}

// checkJWT verifies Snowflake's key-pair JWT and returns the user: RS256
// over the user's public key, iss = ACCOUNT.USER.SHA256:<base64 SHA-256 of
// the public key>, sub = ACCOUNT.USER, not expired.
func (s *Server) checkJWT(account, authenticator, token string) (string, error) {
	if authenticator != "SNOWFLAKE_JWT" {
		return "", fmt.Errorf("authenticator %q is not SNOWFLAKE_JWT (key pair)", authenticator)
	}
	if !strings.EqualFold(account, s.opts.Account) {
		return "", fmt.Errorf("account %q is not %q", account, s.opts.Account)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("JWT payload: %w", err)
	}
	var claims struct {
		Iss, Sub string
		Exp      int64
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("JWT claims: %w", err)
	}
	acct := strings.ToUpper(account)
	user := strings.TrimPrefix(claims.Sub, acct+".")
	var pub *rsa.PublicKey
	for name, k := range s.opts.Users {
		if strings.EqualFold(name, user) {
			pub, user = k, strings.ToUpper(name)
		}
	}
	if pub == nil {
		return "", fmt.Errorf("user %q (sub %q) is not known", user, claims.Sub)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", fmt.Errorf("JWT signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return "", fmt.Errorf("signature does not verify with %s's public key: %w", user, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	fp := sha256.Sum256(der)
	who := acct + "." + user
	if want := who + ".SHA256:" + base64.StdEncoding.EncodeToString(fp[:]); claims.Iss != want {
		return "", fmt.Errorf("iss %q, want %q", claims.Iss, want)
	}
	if claims.Sub != who {
		return "", fmt.Errorf("sub %q, want %q", claims.Sub, who)
	}
	if claims.Exp != 0 && time.Unix(claims.Exp, 0).Before(time.Now()) {
		return "", errors.New("expired")
	}
	return user, nil
}

type binding struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ss := s.sessions[sessionToken(r)]
	s.mu.Unlock()
	if ss == nil {
		writeJSON(w, map[string]any{"success": false, "code": "390112", "message": "Your session has expired. Please login again.", "data": nil})
		return
	}
	var req struct {
		SQLText  string             `json:"sqlText"`
		Bindings map[string]binding `json:"bindings"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, "000900", "reading query request: "+err.Error())
		return
	}
	args, err := bindArgs(req.Bindings)
	if err != nil {
		writeError(w, "002049", err.Error())
		return
	}
	res, err := ss.exec(r.Context(), req.SQLText, args)
	st := Statement{SQL: req.SQLText, Session: ss.n, User: ss.user}
	if err != nil {
		st.Err = err.Error()
	}
	s.mu.Lock()
	s.stmts = append(s.stmts, st)
	s.mu.Unlock()
	if err != nil {
		s.opts.Log.Debug("snowflake stand-in: statement failed", "sql", clip(req.SQLText), "error", err)
		writeError(w, "002003", err.Error())
		return
	}
	if res.upload != nil {
		writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": res.upload})
		return
	}
	writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": map[string]any{
		"parameters": []any{}, "rowtype": res.rowtype(), "rowset": res.rows, "total": len(res.rows), "returned": len(res.rows),
		"queryId": fmt.Sprintf("local-%d-%d", ss.n, len(s.Statements())), "statementTypeId": res.typ, "queryResultFormat": "json",
	}})
}

// bindArgs turns gosnowflake's numbered bindings into query arguments.
func bindArgs(bs map[string]binding) ([]any, error) {
	keys := make([]int, 0, len(bs))
	for k := range bs {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("binding %q is not numbered (named bindings are not supported here)", k)
		}
		keys = append(keys, n)
	}
	sort.Ints(keys)
	args := make([]any, len(keys))
	for i, k := range keys {
		b := bs[strconv.Itoa(k)]
		if b.Value == nil {
			continue
		}
		text, ok := b.Value.(string)
		if !ok {
			return nil, fmt.Errorf("binding %d: %T values (array binding) are not supported here", k, b.Value)
		}
		var err error
		switch strings.ToUpper(b.Type) {
		case "TEXT", "":
			args[i] = text
		case "FIXED":
			args[i], err = strconv.ParseInt(text, 10, 64)
		case "REAL":
			args[i], err = strconv.ParseFloat(text, 64)
		case "BOOLEAN":
			args[i], err = strconv.ParseBool(text)
		case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
			var ns int64
			ns, err = strconv.ParseInt(strings.Fields(text)[0], 10, 64)
			args[i] = time.Unix(0, ns).UTC()
		case "DATE":
			var ms int64
			ms, err = strconv.ParseInt(text, 10, 64)
			args[i] = time.UnixMilli(ms).UTC()
		default:
			return nil, fmt.Errorf("binding %d: type %s is not supported here", k, b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("binding %d (%s %q): %w", k, b.Type, text, err)
		}
	}
	return args, nil
}

func writeError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, map[string]any{"success": false, "code": code, "message": msg,
		"data": map[string]any{"queryId": "local-error", "sqlState": "42000", "errorCode": code}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Query reads the database directly (not a recorded statement). Values come
// back as the warehouse adapters return them: string, int64, float64, bool,
// time.Time (UTC) or nil.
func (s *Server) Query(ctx context.Context, q string, args ...any) ([]string, [][]any, error) {
	return sqldb.Query(ctx, s.db, convert, q, args...)
}

// convert narrows a DuckDB value to the adapters' types.
func convert(_ *sql.ColumnType, v any) any {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return x
	case time.Time:
		return x.UTC()
	case int8, int16, int32, int, uint8, uint16, uint32:
		n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64)
		return n
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return fmt.Sprint(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
