package cloud

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDeployScriptDeploysEveryStack: localstack/deploy.sh (LocalStack, for
// users with Docker; not run here) deploys every stack of the app, not a
// list that falls behind it, with the inputs synth refuses to go without:
// the Snowflake secret and an MSK cluster (a new serverless one).
func TestDeployScriptDeploysEveryStack(t *testing.T) {
	b, err := os.ReadFile("../deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	var cmd []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); !strings.HasPrefix(l, "#") {
			cmd = append(cmd, l)
		}
	}
	script := strings.ReplaceAll(strings.Join(cmd, "\n"), "\\\n", " ")
	deploy := regexp.MustCompile(`"\$cdklocal" deploy ([^\n]*)`).FindStringSubmatch(script)
	if deploy == nil {
		t.Fatal("deploy.sh runs no cdklocal deploy")
	}
	args := strings.Fields(deploy[1])
	has := func(a string) bool {
		for _, x := range args {
			if x == a || strings.HasPrefix(x, a) {
				return true
			}
		}
		return false
	}
	if !has("--all") {
		t.Errorf("deploy.sh deploys %v, not --all", args)
	}
	for _, ctx := range []string{"snowflakeSecretArn=", "mskServerless=true", "lambdaArchitecture="} {
		if !has(ctx) {
			t.Errorf("deploy.sh passes no --context %s (synth refuses to go without the deployment's inputs)", ctx)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "Pulse") {
			t.Errorf("deploy.sh names stack %s: deploy --all, so that a new stack is deployed too", a)
		}
	}
}
