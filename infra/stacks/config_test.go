package stacks_test

import (
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/infra/stacks"
)

// TestLoadConfigRequiresInputs: synth without the Snowflake secret or the
// MSK cluster fails with a message naming each missing key, unless
// placeholders=true asks for an app that cannot be deployed.
func TestLoadConfigRequiresInputs(t *testing.T) {
	t.Setenv("PULSE_LAMBDA_DIR", testCfg.LambdaDir)
	const cluster = "arn:aws:kafka:eu-west-1:111122223333:cluster/pulse/0123abcd-0123-0123-0123-0123456789ab-1"
	for _, c := range []struct {
		name    string
		ctx     map[string]string
		wantErr []string // substrings of the error; nil: no error
		secret  string
		msk     string
	}{
		{name: "nothing", ctx: map[string]string{},
			wantErr: []string{"missing context", "snowflakeSecretArn (the complete ARN", "mskClusterArn (an existing MSK cluster", "mskServerless=true", "-c placeholders=true"}},
		{name: "no secret", ctx: map[string]string{"mskClusterArn": cluster},
			wantErr: []string{"snowflakeSecretArn"}},
		{name: "no cluster", ctx: map[string]string{"snowflakeSecretArn": testSecretARN},
			wantErr: []string{"mskClusterArn", "mskServerless=true"}},
		{name: "both cluster choices", ctx: map[string]string{"snowflakeSecretArn": testSecretARN, "mskClusterArn": cluster, "mskServerless": "true"},
			wantErr: []string{"both name the MSK cluster"}},
		{name: "existing cluster", ctx: map[string]string{"snowflakeSecretArn": testSecretARN, "mskClusterArn": cluster},
			secret: testSecretARN, msk: cluster},
		{name: "new serverless cluster", ctx: map[string]string{"snowflakeSecretArn": testSecretARN, "mskServerless": "true"},
			secret: testSecretARN},
		{name: "placeholders", ctx: map[string]string{"placeholders": "true"},
			secret: stacks.PlaceholderSecretARN},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := stacks.LoadConfig(func(k string) string { return c.ctx[k] })
			if c.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want one naming %v", c.wantErr)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				if c.name == "no secret" && strings.Contains(err.Error(), "mskClusterArn (") {
					t.Errorf("error %q names the cluster, which was given", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SnowflakeSecretARN != c.secret || cfg.MSKClusterARN != c.msk {
				t.Errorf("secret %q, cluster %q; want %q, %q", cfg.SnowflakeSecretARN, cfg.MSKClusterARN, c.secret, c.msk)
			}
		})
	}
}
