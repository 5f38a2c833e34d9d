// Command pulse-cdk is Pulse's CDK app: `cdk synth` (cdk.json at the repository root) runs it.
// Inputs: context snowflakeSecretArn, mskClusterArn, vpcId; env PULSE_LAMBDA_DIR (default
// .build/lambda); CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION when set.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/pulse-analytics/pulse/infra/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stacks.LoadConfig(func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulse-cdk:", err)
		os.Exit(1)
	}
	var env *awscdk.Environment
	if acct, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); acct != "" && region != "" {
		env = &awscdk.Environment{Account: jsii.String(acct), Region: jsii.String(region)}
	}
	stacks.NewPulse(app, cfg, env)
	app.Synth(nil)
}
