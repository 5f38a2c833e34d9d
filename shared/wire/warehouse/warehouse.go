// Package warehouse opens the Snowflake warehouse of the load, datatests
// and gold functions from their environment: SNOWFLAKE_ACCOUNT, _USER,
// _ROLE, _WAREHOUSE, _DATABASE, _SCHEMA, _STAGE (see
// snowflake.ConfigFromEnv) and SNOWFLAKE_PRIVATE_KEY_SECRET, the ARN of the
// Secrets Manager secret holding the PEM private key. It is apart from
// package wire so that only these functions link gosnowflake.
package warehouse

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pulse-analytics/pulse/shared/adapters/snowflake"
)

// Open connects to Snowflake with the key pair read from Secrets Manager.
func Open(ctx context.Context, getenv func(string) string) (*snowflake.Warehouse, error) {
	cfg, err := snowflake.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading aws config for secrets manager: %w", err)
	}
	return snowflake.Open(ctx, cfg, snowflake.NewSecretsManager(secretsmanager.NewFromConfig(awsCfg)))
}
