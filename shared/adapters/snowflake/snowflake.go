package snowflake

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"sync"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/pulse-analytics/pulse/shared/adapters/sqldb"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
)

var (
	_ port.Warehouse = (*Warehouse)(nil)
	_ port.TxExecer  = (*Warehouse)(nil)
)

const dialect = sqlmodel.Snowflake

// Warehouse is a Snowflake database and schema. Writes are serialised;
// queries run in parallel.
type Warehouse struct {
	db    *sql.DB
	stage string
	mu    sync.Mutex

	tempDir  string        // where batch files are written before PUT; "" = os.TempDir()
	newID    func() string // names batch files
	fileRows int           // rows per batch file
}

// Open fetches the private key named by cfg.PrivateKeySecret from
// secrets, connects with key-pair authentication and checks the
// connection.
func Open(ctx context.Context, cfg Config, secrets SecretSource) (*Warehouse, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	pemBytes, err := secrets.Secret(ctx, cfg.PrivateKeySecret)
	if err != nil {
		return nil, fmt.Errorf("opening snowflake: %w", err)
	}
	key, err := ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("opening snowflake: secret %s: %w", cfg.PrivateKeySecret, err)
	}
	sfc := sf.Config{
		Account:          cfg.Account,
		User:             cfg.User,
		Role:             cfg.Role,
		Warehouse:        cfg.Warehouse,
		Database:         cfg.Database,
		Schema:           cfg.Schema,
		Authenticator:    sf.AuthTypeJwt,
		PrivateKey:       key,
		Protocol:         cfg.Protocol,
		Host:             cfg.Host,
		Port:             cfg.Port,
		Application:      "pulse",
		DisableTelemetry: true, //nolint:staticcheck // SA1019: still honoured by the pinned gosnowflake v1.19.1; the session parameter that replaces it is a change to test on its own
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sfc))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to snowflake account %s as %s: %w", cfg.Account, cfg.User, err)
	}
	return &Warehouse{db: db, stage: cfg.stage(), newID: randomID, fileRows: 1_000_000}, nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Close closes the connections (and their sessions).
func (w *Warehouse) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("closing snowflake: %w", err)
	}
	return nil
}

// Exec runs one statement in the Snowflake dialect.
func (w *Warehouse) Exec(ctx context.Context, query string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("executing %s: %w", sqldb.Abbrev(query), err)
	}
	return nil
}

// Query runs a read-only query. Values come back as string, int64,
// float64, bool, time.Time (UTC) or nil: NUMBER with scale 0 as int64
// (text if it does not fit), other NUMBER and FLOAT as float64.
func (w *Warehouse) Query(ctx context.Context, q string, args ...any) ([]string, [][]any, error) {
	return sqldb.Query(ctx, w.db, convert, q, args...)
}

// convert narrows a gosnowflake value (text in the JSON result format,
// typed in Arrow) to the types Query promises.
func convert(t *sql.ColumnType, v any) any {
	switch x := v.(type) {
	case nil, int64, float64, bool:
		return x
	case time.Time:
		return x.UTC()
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case *big.Float:
		f, _ := x.Float64()
		return f
	case []byte:
		return string(x)
	case string:
		switch t.DatabaseTypeName() {
		case "FIXED":
			if _, scale, ok := t.DecimalSize(); ok && scale > 0 {
				if f, err := strconv.ParseFloat(x, 64); err == nil {
					return f
				}
				return x
			}
			if i, err := strconv.ParseInt(x, 10, 64); err == nil {
				return i
			}
		case "REAL":
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		case "BOOLEAN":
			if b, err := strconv.ParseBool(x); err == nil {
				return b
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

func (w *Warehouse) dir() string {
	if w.tempDir != "" {
		return w.tempDir
	}
	return os.TempDir()
}

// Dialect says the warehouse speaks Snowflake SQL (sqlmodel.Speaker).
func (w *Warehouse) Dialect() sqlmodel.Dialect { return dialect }

// ExecTx runs statements in order in one explicit transaction on one
// session (BEGIN ... COMMIT, or ROLLBACK on the first error): all of them
// take effect or none does. DDL would commit implicitly in Snowflake, so
// pass DML only.
func (w *Warehouse) ExecTx(ctx context.Context, stmts []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return sqldb.ExecTx(ctx, w.db, stmts)
}
