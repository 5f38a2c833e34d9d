package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/pulse-analytics/pulse/infra/stacks"
)

// The app is synthesized once per test binary (with the cdk-nag AwsSolutions aspect) and shared.
var (
	pulse     *stacks.Pulse
	templates = map[string]assertions.Template{}
	testCfg   stacks.Config
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "setting up the synth:", err)
		code = 1
	}
	jsii.Close()
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "pulse-lambda-")
	if err != nil {
		return 0, fmt.Errorf("creating lambda dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := stacks.WritePlaceholderBootstraps(dir); err != nil {
		return 0, err
	}
	testCfg = stacks.Config{LambdaDir: dir, SnowflakeSecretARN: testSecretARN,
		Snowflake: map[string]string{"Account": "xy12345", "User": "PULSE_LOADER", "Database": "PULSE", "Schema": "PUBLIC"}}
	if err := testCfg.Validate(); err != nil {
		return 0, err
	}
	ctx, err := cdkJSONContext()
	if err != nil {
		return 0, err
	}
	ctx["aws:cdk:enable-path-metadata"] = true // as the CLI sets it: resources carry aws:cdk:path
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	pulse = stacks.NewPulse(app, testCfg, nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	stacks.AddNagSuppressions(pulse)
	for id, st := range pulse.StacksByID() {
		templates[id] = assertions.Template_FromStack(st, nil)
	}
	return m.Run(), nil
}

const testSecretARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:pulse/snowflake-AbCdEf"

// cdkJSONContext reads the feature flags of the repository's cdk.json, so the tests synthesize
// what `cdk synth` does.
func cdkJSONContext() (map[string]interface{}, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("reading cdk.json: %w", err)
	}
	var doc struct {
		Context map[string]interface{} `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("decoding cdk.json: %w", err)
	}
	return doc.Context, nil
}

func tmpl(t *testing.T, id string) assertions.Template {
	t.Helper()
	tp, ok := templates[id]
	if !ok {
		t.Fatalf("no template for stack %s", id)
	}
	return tp
}
