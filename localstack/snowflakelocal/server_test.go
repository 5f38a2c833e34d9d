package snowflakelocal

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// open starts a stand-in and connects Pulse's Snowflake adapter to it, the
// private key read through the adapter's EnvSecrets.
func open(t *testing.T) (*Server, *snowflake.Warehouse) {
	t.Helper()
	k := key(t)
	srv, err := Start(context.Background(), Options{Account: "xy12345", Users: map[string]*rsa.PublicKey{"pulse_loader": &k.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	wh := connect(t, srv, k, "pulse_loader")
	return srv, wh
}

func connect(t *testing.T, srv *Server, k *rsa.PrivateKey, user string) *snowflake.Warehouse {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	host, port, _ := net.SplitHostPort(srv.Addr())
	env := map[string]string{
		"SNOWFLAKE_ACCOUNT": "xy12345", "SNOWFLAKE_USER": user, "SNOWFLAKE_ROLE": "PULSE_LOADER", "SNOWFLAKE_WAREHOUSE": "PULSE_WH",
		"SNOWFLAKE_DATABASE": "PULSE", "SNOWFLAKE_SCHEMA": "PUBLIC", "SNOWFLAKE_PRIVATE_KEY_SECRET": "PULSE_KEY",
		"SNOWFLAKE_PROTOCOL": "http", "SNOWFLAKE_HOST": host, "SNOWFLAKE_PORT": port, "PULSE_KEY": keyPEM,
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := snowflake.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := snowflake.Open(context.Background(), cfg, snowflake.EnvSecrets{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

var events = table.Schema{
	Name: "EVENTS",
	Columns: []table.Column{
		{Name: "EVENT_ID", Type: table.String}, {Name: "USER_ID", Type: table.Int}, {Name: "SCORE", Type: table.Float},
		{Name: "ACTIVE", Type: table.Bool}, {Name: "EVENT_TIME", Type: table.Timestamp}, {Name: "EVENT_DATE", Type: table.Date},
		{Name: "COMMENT", Type: table.String},
	},
	Key: []string{"EVENT_ID"},
}

func row(id string, user int64, score float64, active bool, micros int64, day int64, comment table.Cell) table.Row {
	return table.Row{table.Str(id), table.Int64(user), table.Float64(score), table.Boolean(active), table.Int64(micros), table.Int64(day), comment}
}

// TestAdapterAgainstStandIn: Pulse's Snowflake adapter, through the real
// gosnowflake driver, migrates, merges (PUT, COPY INTO, MERGE), loads in a
// transaction and queries; the rows read back equal what was written, with
// the types the adapter promises.
func TestAdapterAgainstStandIn(t *testing.T) {
	ctx := context.Background()
	srv, wh := open(t)
	if err := wh.Migrate(ctx, []table.Schema{events}); err != nil {
		t.Fatal(err)
	}
	if err := wh.Migrate(ctx, []table.Schema{events}); err != nil { // a second run is a no-op
		t.Fatal(err)
	}
	_, rows, err := wh.Query(ctx, "SELECT COUNT(*) FROM PULSE_MIGRATIONS WHERE TABLE_NAME = ?", "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != int64(1) {
		t.Fatalf("PULSE_MIGRATIONS holds %v rows for EVENTS, want 1", rows[0][0])
	}
	t0 := time.Date(2024, 2, 3, 10, 11, 12, 345678000, time.UTC)
	day := int64(19756) // 2024-02-03
	n, err := wh.Merge(ctx, events, []table.Row{
		row("a", 1, 1.5, true, t0.UnixMicro(), day, table.Str(`it's a \ test`)),
		row("b", 2, -2.25, false, t0.Add(time.Hour).UnixMicro(), day+1, table.Null()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("first merge inserted %d, want 2", n)
	}
	n, err = wh.Merge(ctx, events, []table.Row{
		row("b", 20, 3, true, t0.UnixMicro(), day, table.Str("changed")),
		row("c", 3, 0, false, t0.UnixMicro(), day, table.Str("new")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("second merge inserted %d, want 1 (b updated)", n)
	}
	// A load: two Stage calls of the same table (the later row of a key
	// wins) and a statement, committed together.
	l, err := wh.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Stage(ctx, events, []table.Row{row("d", 4, 4, true, t0.UnixMicro(), day, table.Str("first"))}); err != nil {
		t.Fatal(err)
	}
	if err := l.Stage(ctx, events, []table.Row{row("d", 5, 5, true, t0.UnixMicro(), day, table.Str("second"))}); err != nil {
		t.Fatal(err)
	}
	l.Exec("DELETE FROM EVENTS WHERE EVENT_ID = 'c'")
	ins, err := l.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if ins["EVENTS"] != 1 {
		t.Fatalf("load inserted %v, want EVENTS 1", ins)
	}
	cols, got, err := wh.Query(ctx, "SELECT EVENT_ID, USER_ID, SCORE, ACTIVE, EVENT_TIME, EVENT_DATE, COMMENT FROM EVENTS ORDER BY EVENT_ID")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"EVENT_ID", "USER_ID", "SCORE", "ACTIVE", "EVENT_TIME", "EVENT_DATE", "COMMENT"}; !reflect.DeepEqual(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	date := func(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }
	want := [][]any{
		{"a", int64(1), 1.5, true, t0, date(day), `it's a \ test`},
		{"b", int64(20), 3.0, true, t0, date(day), "changed"},
		{"d", int64(5), 5.0, true, t0, date(day), "second"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	// The statements went through the protocol, in the Snowflake dialect.
	var puts, copies, merges int
	for _, s := range srv.Statements() {
		switch {
		case strings.HasPrefix(s.SQL, "PUT 'file://"):
			puts++
		case strings.HasPrefix(s.SQL, "COPY INTO "):
			copies++
		case strings.HasPrefix(s.SQL, "MERGE INTO "):
			merges++
		}
		if s.Err != "" {
			t.Errorf("statement %q failed: %s", s.SQL, s.Err)
		}
	}
	if puts != 4 || copies != 4 || merges != 3 {
		t.Errorf("PUT %d, COPY %d, MERGE %d; want 4, 4, 3", puts, copies, merges)
	}
}

// TestBadKeyRefused: a key pair the stand-in does not know cannot log in.
func TestBadKeyRefused(t *testing.T) {
	srv, _ := open(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	cfg := snowflake.Config{Account: "xy12345", User: "pulse_loader", PrivateKeySecret: "K", Protocol: "http", Host: host, Port: p}
	_, err = snowflake.Open(context.Background(), cfg, snowflake.EnvSecrets{Getenv: func(string) string { return keyPEM }})
	if err == nil || !strings.Contains(err.Error(), "JWT token is invalid") {
		t.Fatalf("login with an unknown key: %v, want JWT token is invalid", err)
	}
}

// TestDialectMatchesDuckDB: each expression sqlgen writes for Snowflake,
// run through the stand-in, gives the value the DuckDB spelling of the
// same expression gives on DuckDB itself.
func TestDialectMatchesDuckDB(t *testing.T) {
	ctx := context.Background()
	_, wh := open(t)
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	duck := sql.OpenDB(connector)
	defer duck.Close()
	ts := "CAST('2024-02-03 10:11:12.345678' AS TIMESTAMP)"
	ts2 := "CAST('2024-02-05 01:02:03' AS TIMESTAMP)"
	type pair struct{ sf, dk string }
	both := func(f func(d sqlmodel.Dialect) (string, error)) pair {
		a, err := f(sqlmodel.Snowflake)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f(sqlmodel.DuckDB)
		if err != nil {
			t.Fatal(err)
		}
		return pair{a, b}
	}
	exprs := map[string]pair{
		"iff":        both(func(d sqlmodel.Dialect) (string, error) { return d.IfExpr("1 < 2", "'yes'", "'no'"), nil }),
		"md5":        both(func(d sqlmodel.Dialect) (string, error) { return d.MD5("'pulse|' || 42"), nil }),
		"date_trunc": both(func(d sqlmodel.Dialect) (string, error) { return d.DateTrunc("hour", ts) }),
		"epoch":      both(func(d sqlmodel.Dialect) (string, error) { return d.EpochToTimestamp("1706955072345678"), nil }),
		"dateadd":    both(func(d sqlmodel.Dialect) (string, error) { return d.DateAdd("day", "-3", ts) }),
		"diff":       both(func(d sqlmodel.Dialect) (string, error) { return d.DiffMicros(ts, ts2), nil }),
		"micros":     both(func(d sqlmodel.Dialect) (string, error) { return d.EpochMicros(ts), nil }),
		"literal":    both(func(d sqlmodel.Dialect) (string, error) { return d.StringLiteral(`a'b\c`), nil }),
		"cast_float": {"CAST(1.25 AS FLOAT) * 3", "CAST(1.25 AS DOUBLE) * 3"},
	}
	for name, p := range exprs {
		_, got, err := wh.Query(ctx, "SELECT "+p.sf)
		if err != nil {
			t.Errorf("%s: %s: %v", name, p.sf, err)
			continue
		}
		var want any
		if err := duck.QueryRow("SELECT " + p.dk).Scan(&want); err != nil {
			t.Fatalf("%s on duckdb: %s: %v", name, p.dk, err)
		}
		if tm, ok := want.(time.Time); ok {
			want = tm.UTC()
		}
		if i, ok := want.(int64); ok {
			want = i
		}
		if fmt.Sprint(got[0][0]) != fmt.Sprint(want) {
			t.Errorf("%s: stand-in %s = %v (%T); duckdb %s = %v (%T)", name, p.sf, got[0][0], got[0][0], p.dk, want, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE TABLE IF NOT EXISTS T (A VARCHAR, B NUMBER(38,0), C FLOAT, D TIMESTAMP_NTZ, E DATE, F BOOLEAN)",
			"CREATE TABLE IF NOT EXISTS T (A VARCHAR, B BIGINT, C DOUBLE, D TIMESTAMP, E DATE, F BOOLEAN)"},
		{"ALTER TABLE T ADD COLUMN IF NOT EXISTS X NUMBER(38,0)", "ALTER TABLE T ADD COLUMN IF NOT EXISTS X BIGINT"},
		{"SELECT IFF(A > 1, MD5(B), 'x\\'y') FROM T", "SELECT (CASE WHEN A > 1 THEN md5(CAST(B AS VARCHAR)) ELSE 'x''y' END) FROM T"},
		{"SELECT DATEADD(DAY, -1, D) FROM T WHERE DATEDIFF(MICROSECOND, A, B) > 0",
			"SELECT (D + (-1) * INTERVAL 1 DAY) FROM T WHERE date_diff('microsecond', A, B) > 0"},
		{"SELECT \"TEXT\", TEXT, T.IFF(1) FROM T", "SELECT \"TEXT\", TEXT, T.IFF(1) FROM T"},
		{"SELECT CAST(X AS NUMBER(10,2)), TO_TIMESTAMP_NTZ(X, 6), SYSDATE()",
			"SELECT CAST(X AS DECIMAL(10, 2)), make_timestamp(X), CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"},
	} {
		got, err := Translate(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Translate(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	if _, err := Translate("SELECT DATEADD(FORTNIGHT, 1, D)"); err == nil || !strings.Contains(err.Error(), "FORTNIGHT") {
		t.Errorf("an unknown date part: %v, want an error naming it", err)
	}
}

// TestTransactionsSerializeWrites: a session's open transaction holds writes
// of other sessions until it commits; reads go on meanwhile.
func TestTransactionsSerializeWrites(t *testing.T) {
	ctx := context.Background()
	srv, wh := open(t)
	if err := wh.Exec(ctx, "CREATE TABLE COUNTER (N NUMBER(38,0))"); err != nil {
		t.Fatal(err)
	}
	other := connect(t, srv, key(t), "pulse_loader")
	l, err := wh.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Exec("INSERT INTO COUNTER VALUES (1)")
	// Commit runs BEGIN ... COMMIT; meanwhile another session reads and writes.
	done := make(chan error, 1)
	go func() { _, err := l.Commit(ctx); done <- err }()
	if err := other.Exec(ctx, "INSERT INTO COUNTER VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, rows, err := other.Query(ctx, "SELECT SUM(N), COUNT(*) FROM COUNTER")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != int64(3) || rows[0][1] != int64(2) {
		t.Fatalf("COUNTER sum %v count %v, want 3 and 2", rows[0][0], rows[0][1])
	}
}
