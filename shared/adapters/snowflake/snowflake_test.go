package snowflake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/pulse-analytics/pulse/shared/table"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// key is one RSA key for the whole test binary (generating one is slow).
func key(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func pkcs8PEM(t *testing.T, k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// fakeSecretsManager serves GetSecretValue (the AWS JSON 1.1 protocol) for
// one secret, so the real aws-sdk-go-v2 client reads the key from it.
func fakeSecretsManager(t *testing.T, name string, value []byte) *secretsmanager.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || req.SecretId != name ||
			!strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret %s."}`, req.SecretId)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:eu-west-1:000000000000:secret:" + name,
			"Name": name, "SecretString": string(value), "VersionId": "v1"})
	}))
	t.Cleanup(srv.Close)
	return secretsmanager.NewFromConfig(aws.Config{Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")},
		func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// openFake opens a Warehouse on a fake Snowflake, the key coming from a
// fake Secrets Manager; the statements of Open itself are cleared.
func openFake(t *testing.T) (*Warehouse, *fakeSnowflake) {
	t.Helper()
	k := key(t)
	f := newFakeSnowflake(t, "xy12345", "pulse_loader", &k.PublicKey)
	cfg := f.config()
	sm := NewSecretsManager(fakeSecretsManager(t, cfg.PrivateKeySecret, pkcs8PEM(t, k)))
	wh, err := Open(context.Background(), cfg, sm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	n := 0
	wh.newID = func() string { n++; return fmt.Sprintf("b%d", n) }
	wh.tempDir = t.TempDir()
	f.reset()
	return wh, f
}

func sqls(ss []stmt) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.SQL
	}
	return out
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %d statements:\n  %s\nwant %d:\n  %s", what, len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

func TestOpenKeyPairFromSecretsManager(t *testing.T) {
	k := key(t)
	f := newFakeSnowflake(t, "xy12345", "pulse_loader", &k.PublicKey)
	cfg := f.config()
	wh, err := Open(context.Background(), cfg, NewSecretsManager(fakeSecretsManager(t, cfg.PrivateKeySecret, pkcs8PEM(t, k))))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Open", sqls(f.statements()), []string{"SELECT 1"}) // the ping
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
	if f.logins != 1 || f.closed != 1 {
		t.Errorf("%d logins, %d session closes; want 1 and 1", f.logins, f.closed)
	}

	// A key that is not the registered one: the JWT does not verify.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), cfg, EnvSecrets{Getenv: func(name string) string {
		if name == cfg.PrivateKeySecret {
			return string(pkcs8PEM(t, other))
		}
		return ""
	}})
	if err == nil || !strings.Contains(err.Error(), "JWT token is invalid") {
		t.Errorf("wrong key: error %v", err)
	}
	// A missing secret names it.
	_, err = Open(context.Background(), cfg, NewSecretsManager(fakeSecretsManager(t, "another/secret", nil)))
	if err == nil || !strings.Contains(err.Error(), "pulse/snowflake/key") {
		t.Errorf("missing secret: error %v", err)
	}
}

var events = table.Schema{
	Name: "FACT_EVENTS",
	Columns: []table.Column{
		{Name: "EVENT_ID", Type: table.String}, {Name: "SEQ", Type: table.Int}, {Name: "SCORE", Type: table.Float},
		{Name: "EVENT_TS", Type: table.Timestamp}, {Name: "ORDER", Type: table.String},
	},
	Key: []string{"EVENT_ID"},
}

func TestMigrate(t *testing.T) {
	wh, f := openFake(t)
	ctx := context.Background()
	applied := false
	f.respond = func(sql string) fakeResult {
		switch {
		case strings.HasPrefix(sql, "SELECT COUNT(*) FROM PULSE_MIGRATIONS"):
			n := "0"
			if applied {
				n = "1"
			}
			return fakeResult{cols: []fakeCol{{name: "COUNT(*)", typ: "fixed"}}, rows: [][]*string{{str(n)}}}
		case strings.HasPrefix(sql, "SELECT COLUMN_NAME"): // the table exists with its first three columns
			return fakeResult{cols: []fakeCol{{name: "COLUMN_NAME", typ: "text"}},
				rows: [][]*string{{str("EVENT_ID")}, {str("SEQ")}, {str("SCORE")}}}
		}
		return fakeResult{}
	}
	if err := wh.Migrate(ctx, []table.Schema{events}); err != nil {
		t.Fatal(err)
	}
	columns := "EVENT_ID STRING,SEQ INT,SCORE FLOAT,EVENT_TS TIMESTAMP,ORDER STRING;KEY EVENT_ID"
	sum := sha256.Sum256([]byte(columns)) // the version: the first 8 bytes of the column list's SHA-256
	hash := hex.EncodeToString(sum[:8])
	got := f.statements()
	diff(t, "first Migrate", sqls(got), []string{
		"CREATE TABLE IF NOT EXISTS PULSE_MIGRATIONS (TABLE_NAME VARCHAR, COLUMNS_HASH VARCHAR, COLUMNS VARCHAR, APPLIED_AT TIMESTAMP_NTZ)",
		"SELECT COUNT(*) FROM PULSE_MIGRATIONS WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?",
		`CREATE TABLE IF NOT EXISTS FACT_EVENTS (EVENT_ID VARCHAR, SEQ NUMBER(38,0), SCORE FLOAT, EVENT_TS TIMESTAMP_NTZ, "ORDER" VARCHAR)`,
		"SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = CURRENT_SCHEMA() AND TABLE_NAME = ?",
		"ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS EVENT_TS TIMESTAMP_NTZ",
		`ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS "ORDER" VARCHAR`,
		"INSERT INTO PULSE_MIGRATIONS (TABLE_NAME, COLUMNS_HASH, COLUMNS, APPLIED_AT) SELECT ?, ?, ?, SYSDATE() WHERE NOT EXISTS" +
			" (SELECT 1 FROM PULSE_MIGRATIONS WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?)",
	})
	if len(got) == 7 {
		for i, want := range map[int][]string{
			1: {"FACT_EVENTS", hash},
			3: {"FACT_EVENTS"},
			6: {"FACT_EVENTS", hash, columns, "FACT_EVENTS", hash},
		} {
			if !reflect.DeepEqual(got[i].Bindings, want) {
				t.Errorf("statement %d bindings %q, want %q", i, got[i].Bindings, want)
			}
		}
	}
	// The version is recorded: a second Migrate only checks.
	f.reset()
	applied = true
	if err := wh.Migrate(ctx, []table.Schema{events}); err != nil {
		t.Fatal(err)
	}
	diff(t, "second Migrate", sqls(f.statements()), []string{
		"CREATE TABLE IF NOT EXISTS PULSE_MIGRATIONS (TABLE_NAME VARCHAR, COLUMNS_HASH VARCHAR, COLUMNS VARCHAR, APPLIED_AT TIMESTAMP_NTZ)",
		"SELECT COUNT(*) FROM PULSE_MIGRATIONS WHERE TABLE_NAME = ? AND COLUMNS_HASH = ?",
	})
}

func eventRow(id string, seq int64, score float64) table.Row {
	return table.Row{table.Str(id), table.Int64(seq), table.Float64(score), table.Int64(time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC).UnixMicro()), table.Str("o")}
}

func TestMerge(t *testing.T) {
	wh, f := openFake(t)
	wh.fileRows = 2 // three distinct keys: two files
	f.respond = func(sql string) fakeResult {
		if strings.HasPrefix(sql, "MERGE") {
			return fakeResult{cols: []fakeCol{{name: "number of rows inserted", typ: "fixed"}, {name: "number of rows updated", typ: "fixed"}},
				rows: [][]*string{{str("2"), str("1")}}}
		}
		return fakeResult{}
	}
	rows := []table.Row{eventRow("a", 1, 0.5), eventRow("b", 2, 1.5), eventRow("a", 3, 2.5), eventRow("c", 4, 3.5)}
	n, err := wh.Merge(context.Background(), events, rows)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Merge = %d inserted, want 2 (Snowflake's \"number of rows inserted\")", n)
	}
	dir := filepath.ToSlash(wh.tempDir)
	got := f.statements()
	diff(t, "Merge", sqls(got), []string{
		`CREATE OR REPLACE TEMPORARY TABLE PULSE_STAGE_FACT_EVENTS (EVENT_ID VARCHAR, SEQ NUMBER(38,0), SCORE FLOAT, EVENT_TS TIMESTAMP_NTZ, "ORDER" VARCHAR)`,
		"PUT 'file://" + dir + "/FACT_EVENTS-b1.parquet' @~/pulse/FACT_EVENTS/ AUTO_COMPRESS=FALSE OVERWRITE=TRUE",
		"PUT 'file://" + dir + "/FACT_EVENTS-b2.parquet' @~/pulse/FACT_EVENTS/ AUTO_COMPRESS=FALSE OVERWRITE=TRUE",
		"COPY INTO PULSE_STAGE_FACT_EVENTS FROM @~/pulse/FACT_EVENTS/ FILES=('FACT_EVENTS-b1.parquet', 'FACT_EVENTS-b2.parquet')" +
			" FILE_FORMAT=(TYPE=PARQUET) MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE PURGE=TRUE",
		`MERGE INTO FACT_EVENTS AS tgt USING PULSE_STAGE_FACT_EVENTS AS src ON tgt.EVENT_ID = src.EVENT_ID` +
			` WHEN MATCHED THEN UPDATE SET SEQ = src.SEQ, SCORE = src.SCORE, EVENT_TS = src.EVENT_TS, "ORDER" = src."ORDER"` +
			` WHEN NOT MATCHED THEN INSERT (EVENT_ID, SEQ, SCORE, EVENT_TS, "ORDER") VALUES (src.EVENT_ID, src.SEQ, src.SCORE, src.EVENT_TS, src."ORDER")`,
		"DROP TABLE IF EXISTS PULSE_STAGE_FACT_EVENTS",
	})
	for _, s := range got {
		if s.Session != got[0].Session {
			t.Errorf("%q ran in session %d, the stage table lives in session %d", s.SQL, s.Session, got[0].Session)
		}
	}
	// The driver uploaded the batch files to the stage (LOCAL_FS here): the
	// last row per key, in first-appearance order, split two per file.
	var staged []string
	for _, name := range []string{"FACT_EVENTS-b1.parquet", "FACT_EVENTS-b2.parquet"} {
		fh, err := os.Open(filepath.Join(f.stageDir, "@~/pulse/FACT_EVENTS", name))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		rd, err := table.OpenParquetRows(fh, st.Size(), events)
		if err != nil {
			t.Fatal(err)
		}
		buf := []table.Row{make(table.Row, 5), make(table.Row, 5), make(table.Row, 5)}
		k, err := rd.Read(buf)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		for _, r := range buf[:k] {
			staged = append(staged, fmt.Sprintf("%s/%d/%g", r[0].S, r[1].I, r[2].F))
		}
		fh.Close()
	}
	if want := []string{"a/3/2.5", "b/2/1.5", "c/4/3.5"}; !reflect.DeepEqual(staged, want) {
		t.Errorf("staged rows %v, want %v", staged, want)
	}
	if left, _ := os.ReadDir(wh.tempDir); len(left) != 0 {
		t.Errorf("local batch files left behind: %v", left)
	}
}

func TestMergeFailureDropsStage(t *testing.T) {
	wh, f := openFake(t)
	f.respond = func(sql string) fakeResult {
		if strings.HasPrefix(sql, "COPY INTO") {
			return fakeResult{err: "Number of columns in file (4) does not match that of the corresponding table (5)"}
		}
		return fakeResult{}
	}
	_, err := wh.Merge(context.Background(), events, []table.Row{eventRow("a", 1, 0)})
	if err == nil || !strings.Contains(err.Error(), "merging into FACT_EVENTS: copying 1 files into the stage table") ||
		!strings.Contains(err.Error(), "does not match") {
		t.Errorf("error %v", err)
	}
	got := sqls(f.statements())
	if len(got) != 4 || !strings.HasPrefix(got[2], "COPY INTO") || got[3] != "DROP TABLE IF EXISTS PULSE_STAGE_FACT_EVENTS" {
		t.Errorf("statements after a failed COPY (no MERGE, stage dropped):\n  %s", strings.Join(got, "\n  "))
	}
}

func TestQueryConvertsTypes(t *testing.T) {
	wh, f := openFake(t)
	f.respond = func(string) fakeResult {
		return fakeResult{cols: []fakeCol{{name: "N", typ: "fixed"}, {name: "AVG", typ: "fixed", scale: 2}, {name: "F", typ: "real"},
			{name: "S", typ: "text"}, {name: "B", typ: "boolean"}, {name: "TS", typ: "timestamp_ntz"}, {name: "D", typ: "date"}, {name: "X", typ: "text"}},
			rows: [][]*string{{str("42"), str("1.25"), str("2.5"), str("Jakarta"), str("1"), str("1706933106.500000000"), str("19756"), nil}}}
	}
	cols, rows, err := wh.Query(context.Background(), "SELECT * FROM SOCIAL_TOTAL_USAGE WHERE PLATFORM = ?", "X")
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(42), 1.25, 2.5, "Jakarta", true, time.Date(2024, 2, 3, 4, 5, 6, 5e8, time.UTC), time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), nil}
	if strings.Join(cols, ",") != "N,AVG,F,S,B,TS,D,X" || len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Errorf("Query = %v %v, want %v", cols, rows, want)
	}
	if s := f.statements(); len(s) != 1 || !reflect.DeepEqual(s[0].Bindings, []string{"X"}) {
		t.Errorf("statements %+v", s)
	}
}

func TestExecTx(t *testing.T) {
	wh, f := openFake(t)
	ctx := context.Background()
	if err := wh.ExecTx(ctx, []string{"DELETE FROM T WHERE DAY = DATE '2024-02-03'", "INSERT INTO T SELECT 1"}); err != nil {
		t.Fatal(err)
	}
	got := f.statements()
	diff(t, "ExecTx", sqls(got), []string{"BEGIN", "DELETE FROM T WHERE DAY = DATE '2024-02-03'", "INSERT INTO T SELECT 1", "COMMIT"})
	for _, s := range got {
		if s.Session != got[0].Session {
			t.Errorf("%q ran outside the transaction's session", s.SQL)
		}
	}
	f.reset()
	f.respond = func(sql string) fakeResult {
		if strings.HasPrefix(sql, "INSERT") {
			return fakeResult{err: "Table 'T' does not exist"}
		}
		return fakeResult{}
	}
	err := wh.ExecTx(ctx, []string{"DELETE FROM T", "INSERT INTO T SELECT 1", "MERGE INTO U"})
	if err == nil || !strings.Contains(err.Error(), "executing INSERT INTO T SELECT 1") {
		t.Errorf("error %v", err)
	}
	diff(t, "failed ExecTx", sqls(f.statements()), []string{"BEGIN", "DELETE FROM T", "INSERT INTO T SELECT 1", "ROLLBACK"})
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"SNOWFLAKE_ACCOUNT": "xy12345", "SNOWFLAKE_USER": "pulse", "SNOWFLAKE_PRIVATE_KEY_SECRET": "arn:secret",
		"SNOWFLAKE_PORT": "8443", "SNOWFLAKE_STAGE": "@PULSE.PUBLIC.LOADS/"}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Port != 8443 || c.stage() != "@PULSE.PUBLIC.LOADS" {
		t.Errorf("ConfigFromEnv = %+v, %v", c, err)
	}
	_, err = ConfigFromEnv(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "account (SNOWFLAKE_ACCOUNT), user (SNOWFLAKE_USER), private key secret") {
		t.Errorf("missing config error %v", err)
	}
	if (Config{}).stage() != "@~/pulse" {
		t.Error("default stage")
	}
}

func TestParsePrivateKey(t *testing.T) {
	k := key(t)
	if got, err := ParsePrivateKey(pkcs8PEM(t, k)); err != nil || !got.Equal(k) {
		t.Errorf("ParsePrivateKey: %v", err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	for name, in := range map[string][]byte{"not pem": []byte("hello"), "pkcs1": pkcs1} {
		if _, err := ParsePrivateKey(in); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestMain(m *testing.M) {
	// The driver logs failed logins itself; the tests provoke some on purpose.
	_ = sf.GetLogger().SetLogLevel("fatal")
	os.Exit(m.Run())
}
