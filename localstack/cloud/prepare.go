package cloud

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"
)

// Local deployment inputs: the Snowflake secret and MSK cluster of the
// local account, as a deployment names them.
const (
	LocalSecretARN  = "arn:aws:secretsmanager:us-east-1:000000000000:secret:pulse/snowflake-AbCdEf"
	LocalClusterARN = "arn:aws:kafka:us-east-1:000000000000:cluster/pulse/5a6b7c8d-1234-4e5f-9a8b-0c1d2e3f4a5b-3"
)

// LocalContext is the synth context of a local cloud: the deployment's
// inputs (a Snowflake secret, an existing MSK cluster, the connection
// settings) with the warehouse and the schema registry on loopback ports
// the cloud then serves, and the host's architecture.
func LocalContext(snowflakePort, registryPort int) map[string]string {
	arch := "arm64"
	if runtime.GOARCH == "amd64" {
		arch = "x86_64"
	}
	return map[string]string{
		"snowflakeSecretArn": LocalSecretARN,
		"mskClusterArn":      LocalClusterARN,
		"lambdaArchitecture": arch,
		"snowflakeAccount":   "XY12345", "snowflakeUser": "PULSE_LOADER", "snowflakeRole": "PULSE_LOADER",
		"snowflakeWarehouse": "PULSE_WH", "snowflakeDatabase": "PULSE", "snowflakeSchema": "PUBLIC",
		"snowflakeProtocol": "http", "snowflakeHost": "127.0.0.1", "snowflakePort": strconv.Itoa(snowflakePort),
		"schemaRegistryUrl": "http://127.0.0.1:" + strconv.Itoa(registryPort),
	}
}

// Prepared is a cloud assembly built for the local cloud.
type Prepared struct {
	Assembly string        // the cdk.out folder
	Build    time.Duration // building the functions
	Synth    time.Duration // cdk synth
}

// Prepare builds every function for this host (infra/build-lambdas.sh) into
// dir/lambda and synthesizes the CDK app of the repository at root with the
// CDK CLI (from root/.tools, `make tools`) into dir/cdk.out with
// LocalContext on two free ports (plus extra context).
func Prepare(ctx context.Context, root, dir string, extra map[string]string) (*Prepared, error) {
	cdk := filepath.Join(root, ".tools", "cdk", "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		return nil, fmt.Errorf("the CDK CLI is missing: run `make tools` (localstack/tools/cdk.sh): %w", err)
	}
	p := &Prepared{Assembly: filepath.Join(dir, "cdk.out")}
	lambdaDir := filepath.Join(dir, "lambda")
	t0 := time.Now()
	build := exec.CommandContext(ctx, "bash", filepath.Join(root, "infra", "build-lambdas.sh"))
	build.Dir = root
	build.Env = append(os.Environ(), "PULSE_LAMBDA_DIR="+lambdaDir, "PULSE_LAMBDA_ARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the functions: %w\n%s", err, out)
	}
	p.Build = time.Since(t0)
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	context := LocalContext(ports[0], ports[1])
	for k, v := range extra {
		context[k] = v
	}
	args := []string{"synth", "--quiet", "--no-notices", "--no-version-reporting", "--ci", "--output", p.Assembly}
	keys := make([]string, 0, len(context))
	for k := range context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--context", k+"="+context[k])
	}
	t0 = time.Now()
	synth := exec.CommandContext(ctx, cdk, args...)
	synth.Dir = root
	synth.Env = append(os.Environ(), "PULSE_LAMBDA_DIR="+lambdaDir, "CDK_DISABLE_CLI_TELEMETRY=1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20", "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1")
	if out, err := synth.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cdk synth: %w\n%s", err, out)
	}
	p.Synth = time.Since(t0)
	return p, nil
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var out []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
