package snowflake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeSnowflake is a Snowflake-protocol HTTP endpoint for tests: the real
// gosnowflake driver logs in to it (key-pair JWT, verified against the
// public key) and sends it statements, which it records in order with
// their bindings and session, answering each from a responder. PUT
// commands get a LOCAL_FS stage, so the driver itself copies the file into
// stageDir, as it would upload it to S3.
type fakeSnowflake struct {
	t        *testing.T
	srv      *httptest.Server
	account  string
	user     string
	pub      *rsa.PublicKey
	stageDir string

	mu       sync.Mutex
	stmts    []stmt
	logins   int
	closed   int
	respond  func(sql string) fakeResult // nil: the default answers
	sessions map[string]int              // token -> session number
}

// stmt is one statement the driver sent.
type stmt struct {
	SQL      string
	Bindings []string // values in binding order
	Session  int      // which login sent it (1, 2, ...)
}

// fakeResult is the answer to one statement.
type fakeResult struct {
	cols []fakeCol
	rows [][]*string
	typ  int64 // statementTypeId; 0 = derived from the statement
	err  string
}

type fakeCol struct {
	name, typ string
	scale     int64
}

func str(s string) *string { return &s }

func newFakeSnowflake(t *testing.T, account, user string, pub *rsa.PublicKey) *fakeSnowflake {
	f := &fakeSnowflake{t: t, account: account, user: user, pub: pub, stageDir: t.TempDir(), sessions: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// config is a Config pointing at the fake.
func (f *fakeSnowflake) config() Config {
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "http://"))
	p, _ := strconv.Atoi(port)
	return Config{Account: f.account, User: f.user, Role: "PULSE_LOADER", Warehouse: "PULSE_WH", Database: "PULSE", Schema: "PUBLIC",
		PrivateKeySecret: "pulse/snowflake/key", Protocol: "http", Host: host, Port: p}
}

func (f *fakeSnowflake) statements() []stmt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stmt(nil), f.stmts...)
}

func (f *fakeSnowflake) reset() {
	f.mu.Lock()
	f.stmts = nil
	f.mu.Unlock()
}

func (f *fakeSnowflake) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/session/v1/login-request":
		f.login(w, r)
	case "/queries/v1/query-request":
		f.query(w, r)
	case "/session":
		f.mu.Lock()
		f.closed++
		f.mu.Unlock()
		writeJSON(w, map[string]any{"success": true, "data": nil})
	default:
		f.t.Errorf("fake snowflake: unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

func (f *fakeSnowflake) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			AccountName   string `json:"ACCOUNT_NAME"`
			LoginName     string `json:"LOGIN_NAME"`
			Authenticator string `json:"AUTHENTICATOR"`
			Token         string `json:"TOKEN"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("login body: %v", err)
	}
	d := req.Data
	// Key-pair logins carry no LOGIN_NAME: the JWT's subject names the user.
	if err := f.checkJWT(d.Token); d.Authenticator != "SNOWFLAKE_JWT" || d.AccountName != f.account || err != nil {
		writeJSON(w, map[string]any{"success": false, "code": "390144", "message": fmt.Sprintf("JWT token is invalid (%s %s %s: %v)",
			d.Authenticator, d.AccountName, d.LoginName, err), "data": nil})
		return
	}
	f.mu.Lock()
	f.logins++
	token := fmt.Sprintf("session-token-%d", f.logins)
	f.sessions[token] = f.logins
	f.mu.Unlock()
	writeJSON(w, map[string]any{"success": true, "data": map[string]any{
		"token": token, "masterToken": "master-" + token, "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
		"sessionId": 1000 + f.logins, "parameters": []map[string]any{{"name": "TIMEZONE", "value": "UTC"}},
		"sessionInfo": map[string]any{"databaseName": "PULSE", "schemaName": "PUBLIC", "warehouseName": "PULSE_WH", "roleName": "PULSE_LOADER"},
	}})
}

// checkJWT verifies Snowflake's key-pair JWT: RS256 over the public key,
// iss = ACCOUNT.USER.SHA256:<base64 of the public key's SHA-256>, sub =
// ACCOUNT.USER.
func (f *fakeSnowflake) checkJWT(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct{ Iss, Sub string }
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	der, _ := x509.MarshalPKIXPublicKey(f.pub)
	fp := sha256.Sum256(der)
	who := strings.ToUpper(f.account) + "." + strings.ToUpper(f.user)
	if want := who + ".SHA256:" + base64.StdEncoding.EncodeToString(fp[:]); claims.Iss != want {
		return fmt.Errorf("iss %q, want %q", claims.Iss, want)
	}
	if claims.Sub != who {
		return fmt.Errorf("sub %q, want %q", claims.Sub, who)
	}
	return nil
}

var putRe = regexp.MustCompile(`^PUT 'file://(.*)' (\S+)`)

func (f *fakeSnowflake) query(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Authorization"), `Snowflake Token="`), `"`)
	f.mu.Lock()
	session, ok := f.sessions[token]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"success": false, "code": "390101", "message": "session not found", "data": nil})
		return
	}
	var req struct {
		SQLText  string `json:"sqlText"`
		Bindings map[string]struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"bindings"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("query body: %v", err)
	}
	keys := make([]int, 0, len(req.Bindings))
	for k := range req.Bindings {
		n, _ := strconv.Atoi(k)
		keys = append(keys, n)
	}
	sort.Ints(keys)
	var binds []string
	for _, k := range keys {
		binds = append(binds, fmt.Sprint(req.Bindings[strconv.Itoa(k)].Value))
	}
	f.mu.Lock()
	f.stmts = append(f.stmts, stmt{SQL: req.SQLText, Bindings: binds, Session: session})
	respond := f.respond
	f.mu.Unlock()

	if m := putRe.FindStringSubmatch(req.SQLText); m != nil {
		src := strings.ReplaceAll(m[1], `\'`, `'`)
		writeJSON(w, map[string]any{"success": true, "data": map[string]any{
			"command": "UPLOAD", "src_locations": []string{src}, "autoCompress": false, "overwrite": true,
			"sourceCompression": "auto_detect", "parallel": 1, "queryId": "q-put",
			"stageInfo": map[string]any{"locationType": "LOCAL_FS", "location": filepath.Join(f.stageDir, m[2]) + "/"},
		}})
		return
	}
	var res fakeResult
	if respond != nil {
		res = respond(req.SQLText)
	} else {
		res = defaultResult(req.SQLText)
	}
	if res.err != "" {
		writeJSON(w, map[string]any{"success": false, "code": "002003", "message": res.err,
			"data": map[string]any{"queryId": "q-err", "sqlState": "42S02"}})
		return
	}
	if res.cols == nil {
		res = defaultResult(req.SQLText)
	}
	typ := res.typ
	if typ == 0 {
		typ = statementType(req.SQLText)
	}
	rowtype := make([]map[string]any, len(res.cols))
	for i, c := range res.cols {
		rowtype[i] = map[string]any{"name": c.name, "type": c.typ, "scale": c.scale, "precision": 38, "nullable": true, "length": 0}
	}
	rows := res.rows
	if rows == nil {
		rows = [][]*string{}
	}
	writeJSON(w, map[string]any{"success": true, "data": map[string]any{
		"parameters": []any{}, "rowtype": rowtype, "rowset": rows, "total": len(rows), "returned": len(rows),
		"queryId": fmt.Sprintf("q-%d", len(f.statements())), "statementTypeId": typ, "queryResultFormat": "json",
	}})
}

// statementType is Snowflake's statementTypeId family for a statement.
func statementType(sql string) int64 {
	switch strings.ToUpper(strings.Fields(sql)[0]) {
	case "SELECT", "WITH":
		return 0x1000
	case "INSERT":
		return 0x3100
	case "UPDATE":
		return 0x3200
	case "DELETE":
		return 0x3300
	case "MERGE":
		return 0x3400
	}
	return 0x6000 // DDL, transactions
}

// defaultResult answers as Snowflake does: DML with row counts, SELECT
// with one row "1", anything else with a status.
func defaultResult(sql string) fakeResult {
	fixed := func(name string) fakeCol { return fakeCol{name: name, typ: "fixed"} }
	switch statementType(sql) {
	case 0x1000:
		return fakeResult{cols: []fakeCol{fixed("1")}, rows: [][]*string{{str("1")}}}
	case 0x3100:
		return fakeResult{cols: []fakeCol{fixed("number of rows inserted")}, rows: [][]*string{{str("1")}}}
	case 0x3300:
		return fakeResult{cols: []fakeCol{fixed("number of rows deleted")}, rows: [][]*string{{str("0")}}}
	case 0x3400:
		return fakeResult{cols: []fakeCol{fixed("number of rows inserted"), fixed("number of rows updated")}, rows: [][]*string{{str("0"), str("0")}}}
	}
	return fakeResult{cols: []fakeCol{{name: "status", typ: "text"}}, rows: [][]*string{{str("Statement executed successfully.")}}}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
