// Package warehouse opens the Snowflake warehouse of the load, datatests,
// gold and stream functions from their environment: SNOWFLAKE_ACCOUNT,
// _USER, _ROLE, _WAREHOUSE, _DATABASE, _SCHEMA, _STAGE (see
// snowflake.ConfigFromEnv) and SNOWFLAKE_PRIVATE_KEY_SECRET, the ARN of the
// Secrets Manager secret holding the PEM private key. It is apart from
// package wire so that only these functions link gosnowflake.
//
// Open makes no network call (Lambda bills the init phase, and an init
// that fails is retried by Lambda with no error reaching the caller): the
// key is fetched and the session opened by the first call that needs the
// warehouse, and an error then is that call's error.
package warehouse

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/sqlmodel"
	"github.com/pulse-analytics/pulse/shared/table"
)

// disablePlatformDetection is gosnowflake's switch for the cloud-platform
// detection it runs before its first login (an EC2 metadata request, an
// STS GetCallerIdentity, Azure and GCP metadata requests, up to 200 ms,
// for a field of the login's client environment). Open turns it off unless
// the environment sets it.
const disablePlatformDetection = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"

// Warehouse is the Snowflake warehouse, connected on first use. It
// implements port.Warehouse, port.TxExecer (gold runs its statements in
// one transaction) and sqlmodel.Speaker.
type Warehouse struct {
	cfg     snowflake.Config
	secrets func(ctx context.Context) (snowflake.SecretSource, error)

	mu sync.Mutex
	wh *snowflake.Warehouse // nil until a call connected
}

// Open checks the Snowflake configuration in getenv and returns the
// warehouse, not yet connected (as sql.Open): the first call that needs it
// reads the key from Secrets Manager and logs in, once; a call that fails
// to connect returns the error and the next call tries again.
func Open(ctx context.Context, getenv func(string) string) (*Warehouse, error) {
	cfg, err := snowflake.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return &Warehouse{cfg: cfg, secrets: secretsManager}, nil
}

// secretsManager is the Secrets Manager client of the default AWS
// configuration (no network call: credentials are resolved on first request).
func secretsManager(ctx context.Context) (snowflake.SecretSource, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading aws config for secrets manager: %w", err)
	}
	return snowflake.NewSecretsManager(secretsmanager.NewFromConfig(awsCfg)), nil
}

// Connected reports whether a call has connected the warehouse.
func (w *Warehouse) Connected() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wh != nil
}

// get returns the connected warehouse, connecting it on the first call.
func (w *Warehouse) get(ctx context.Context) (*snowflake.Warehouse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wh != nil {
		return w.wh, nil
	}
	if _, set := os.LookupEnv(disablePlatformDetection); !set {
		os.Setenv(disablePlatformDetection, "true")
	}
	src, err := w.secrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to snowflake: %w", err)
	}
	wh, err := snowflake.Open(ctx, w.cfg, src)
	if err != nil {
		return nil, err
	}
	w.wh = wh
	return wh, nil
}

// Migrate implements port.Warehouse.
func (w *Warehouse) Migrate(ctx context.Context, tables []table.Schema) error {
	wh, err := w.get(ctx)
	if err != nil {
		return err
	}
	return wh.Migrate(ctx, tables)
}

// Merge implements port.Warehouse.
func (w *Warehouse) Merge(ctx context.Context, t table.Schema, rows []table.Row) (int, error) {
	wh, err := w.get(ctx)
	if err != nil {
		return 0, err
	}
	return wh.Merge(ctx, t, rows)
}

// BeginLoad implements port.Warehouse.
func (w *Warehouse) BeginLoad(ctx context.Context) (port.Loader, error) {
	wh, err := w.get(ctx)
	if err != nil {
		return nil, err
	}
	return wh.BeginLoad(ctx)
}

// Exec implements port.Warehouse.
func (w *Warehouse) Exec(ctx context.Context, query string) error {
	wh, err := w.get(ctx)
	if err != nil {
		return err
	}
	return wh.Exec(ctx, query)
}

// Query implements port.Warehouse.
func (w *Warehouse) Query(ctx context.Context, q string, args ...any) ([]string, [][]any, error) {
	wh, err := w.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return wh.Query(ctx, q, args...)
}

// ExecTx runs stmts in one transaction (gold.Compute).
func (w *Warehouse) ExecTx(ctx context.Context, stmts []string) error {
	wh, err := w.get(ctx)
	if err != nil {
		return err
	}
	return wh.ExecTx(ctx, stmts)
}

// Dialect implements sqlmodel.Speaker (without connecting).
func (w *Warehouse) Dialect() sqlmodel.Dialect { return sqlmodel.Snowflake }

// Close closes the connection, if a call made one.
func (w *Warehouse) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wh == nil {
		return nil
	}
	err := w.wh.Close()
	w.wh = nil
	return err
}
