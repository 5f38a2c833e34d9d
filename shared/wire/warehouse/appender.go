package warehouse

import (
	"context"
	"fmt"
	"sync"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Appender is the stream's Snowpipe Streaming appender (the snowpipe load
// mode), made on first use like the warehouse: the key is read from
// Secrets Manager by the first Open or Append, and an error then is that
// call's error.
type Appender struct {
	cfg     snowpipe.Config
	secret  string
	secrets func(ctx context.Context) (snowflake.SecretSource, error)

	mu  sync.Mutex
	app *snowpipe.Appender
}

var _ port.Appender = (*Appender)(nil)

// OpenAppender checks the Snowpipe Streaming configuration in getenv
// (snowpipe.ConfigFromEnv: SNOWFLAKE_ACCOUNT, _USER, _DATABASE, _SCHEMA,
// _HOST/_PORT/_PROTOCOL, SNOWPIPE_COMPRESSION; the key from
// SNOWFLAKE_PRIVATE_KEY_SECRET) and returns the appender, not yet
// connected. It makes no network call.
func OpenAppender(getenv func(string) string) (*Appender, error) {
	cfg, err := snowpipe.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	secret := getenv("SNOWFLAKE_PRIVATE_KEY_SECRET")
	switch {
	case cfg.Account == "", cfg.User == "", cfg.Database == "", cfg.Schema == "", secret == "":
		return nil, fmt.Errorf("snowpipe load mode: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA and SNOWFLAKE_PRIVATE_KEY_SECRET are required")
	}
	return &Appender{cfg: cfg, secret: secret, secrets: secretsManager}, nil
}

func (a *Appender) get(ctx context.Context) (*snowpipe.Appender, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.app != nil {
		return a.app, nil
	}
	src, err := a.secrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to snowpipe streaming: %w", err)
	}
	pemBytes, err := src.Secret(ctx, a.secret)
	if err != nil {
		return nil, fmt.Errorf("connecting to snowpipe streaming: reading the key: %w", err)
	}
	key, err := snowflake.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("connecting to snowpipe streaming: %w", err)
	}
	cfg := a.cfg
	cfg.Key = key
	c, err := snowpipe.New(cfg)
	if err != nil {
		return nil, err
	}
	a.app = snowpipe.NewAppender(c, nil)
	return a.app, nil
}

// Open implements port.Appender.
func (a *Appender) Open(ctx context.Context, t table.Schema, channel string) (int64, error) {
	app, err := a.get(ctx)
	if err != nil {
		return 0, err
	}
	return app.Open(ctx, t, channel)
}

// Append implements port.Appender.
func (a *Appender) Append(ctx context.Context, t table.Schema, channel string, rows []port.AppendRow, end int64) error {
	app, err := a.get(ctx)
	if err != nil {
		return err
	}
	return app.Append(ctx, t, channel, rows, end)
}
