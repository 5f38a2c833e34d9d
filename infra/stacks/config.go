package stacks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/jsii-runtime-go"
)

// FunctionNames lists every Lambda function the app deploys. Each is built into
// <LambdaDir>/<name>/bootstrap (GOOS=linux GOARCH=arm64, -tags lambda.norpc).
var FunctionNames = []string{"trigger", "clean", "model", "load", "datatests", "stream", "catalog", "gold", "schema", "topics"}

// DefaultLambdaDir is where the build puts the function binaries, relative to the repository root.
const DefaultLambdaDir = ".build/lambda"

// Context keys read by LoadConfig (pass with `cdk synth -c key=value` or in cdk.json).
const (
	ContextSnowflakeSecretARN = "snowflakeSecretArn"
	ContextMSKClusterARN      = "mskClusterArn"
	ContextVPCID              = "vpcId"
	// ContextSnowflakePrefix prefixes the warehouse connection settings:
	// snowflakeAccount, snowflakeUser, snowflakeRole, snowflakeWarehouse,
	// snowflakeDatabase, snowflakeSchema, snowflakeStage, and the endpoint
	// overrides snowflakeProtocol, snowflakeHost, snowflakePort (a private
	// link, or the local cloud's warehouse) (see SnowflakeSettings).
	ContextSnowflakePrefix = "snowflake"
	// ContextSchemaRegistryURL, when set, makes the catalog function produce
	// Avro through that Confluent-compatible registry (JSON otherwise).
	ContextSchemaRegistryURL = "schemaRegistryUrl"
	// ContextLambdaArchitecture is arm64 (the default) or x86_64 (LocalStack
	// on an x86 host).
	ContextLambdaArchitecture = "lambdaArchitecture"
	// ContextMSKServerless "true" asks for a new MSK Serverless cluster (in
	// vpcId, or a new VPC) instead of an existing mskClusterArn.
	ContextMSKServerless = "mskServerless"
	// ContextPlaceholders "true" lets synth go on without a deployment's
	// inputs (the Snowflake secret, the MSK cluster): a placeholder secret
	// ARN and a new MSK Serverless cluster are used, and the app cannot be
	// deployed as it is. Tests and `make synth` use it.
	ContextPlaceholders = "placeholders"
)

// SnowflakeSettings are the connection settings passed to the warehouse
// functions as SNOWFLAKE_<NAME> (context key "snowflake" + Name). The key
// pair's private key stays in the secret (SnowflakeSecretARN).
var SnowflakeSettings = []string{"Account", "User", "Role", "Warehouse", "Database", "Schema", "Stage", "Protocol", "Host", "Port"}

// PlaceholderSecretARN is used when no snowflakeSecretArn is given and placeholders=true, so that a
// synth without a deployment's inputs works. Deploying with it grants read on a secret that does not
// exist; pass the real ARN.
const PlaceholderSecretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:pulse/snowflake-AbCdEf"

// Config holds the inputs of the app.
type Config struct {
	// LambdaDir holds one folder per function, each with a bootstrap binary.
	LambdaDir string
	// SnowflakeSecretARN is the complete ARN of the Secrets Manager secret with the warehouse key pair.
	SnowflakeSecretARN string
	// MSKClusterARN names an existing MSK cluster (IAM auth). Empty: a new MSK Serverless cluster is made.
	MSKClusterARN string
	// VPCID names an existing VPC for the new MSK Serverless cluster (looked up at synth time, which
	// needs an account/region environment). Empty: a new VPC is made. Unused when MSKClusterARN is set.
	VPCID string
	// LargeFileBytes is the size above which the batch workflow splits a file and cleans the chunks
	// in a Distributed Map. Zero means DefaultLargeFileBytes.
	LargeFileBytes int64
	// ChunkBytes is the size of one chunk of a split file. Zero means DefaultChunkBytes.
	ChunkBytes int64
	// TopicPartitions and TopicReplicationFactor are how the deployment creates the Kafka topics
	// (topics.go; context topicPartitions, topicReplicationFactor). Zero means seed 004's 5 and 3.
	TopicPartitions, TopicReplicationFactor int
	// TopicGroups are the Kafka topics the stream function consumes, with their mapping settings.
	// Nil means DefaultTopicGroups.
	TopicGroups []TopicGroup
	// Snowflake holds the warehouse connection settings by name (SnowflakeSettings); missing ones
	// are left out of the functions' environment (the warehouse adapter then names them).
	Snowflake map[string]string
	// SchemaRegistryURL, when set, makes the catalog function produce Avro through it.
	SchemaRegistryURL string
	// LambdaArchitecture is "arm64" (default) or "x86_64".
	LambdaArchitecture string
	// DedupeCapacity is the state tables' capacity mode: CapacityOnDemand
	// (default) or CapacityProvisioned (capacity.go).
	DedupeCapacity string
	// StreamDedupeTTL is how long stream dedupe claims live. Zero means
	// DefaultStreamDedupeTTL.
	StreamDedupeTTL time.Duration
	// LoadMode is the stream function's load mode: LoadModeMerge ("" too)
	// or LoadModeSnowpipe; MergeEvery the snowpipe mode's cadence merge
	// (zero: 15 minutes). See loadmode.go.
	LoadMode   string
	MergeEvery time.Duration
	// QuickSight configures the optional QuickSight stack (quicksight.go).
	QuickSight QuickSightConfig
}

// DefaultLargeFileBytes is the split threshold of the batch workflow (128 MiB).
const DefaultLargeFileBytes = 128 << 20

// DefaultChunkBytes is the chunk size of a split file (64 MiB, as batch.DefaultChunkBytes).
const DefaultChunkBytes = 64 << 20

// LoadConfig builds a Config from the CDK context (lookup returns "" for a missing key) and the
// environment: PULSE_LAMBDA_DIR overrides DefaultLambdaDir. It checks that every function's bootstrap
// exists, so a missing build is reported before CDK starts copying assets.
func LoadConfig(lookup func(key string) string) (Config, error) {
	cfg := Config{
		LambdaDir:          os.Getenv("PULSE_LAMBDA_DIR"),
		SnowflakeSecretARN: lookup(ContextSnowflakeSecretARN),
		MSKClusterARN:      lookup(ContextMSKClusterARN),
		VPCID:              lookup(ContextVPCID),
		SchemaRegistryURL:  lookup(ContextSchemaRegistryURL),
		LambdaArchitecture: lookup(ContextLambdaArchitecture),
		Snowflake:          map[string]string{},
	}
	for _, name := range SnowflakeSettings {
		if v := lookup(ContextSnowflakePrefix + name); v != "" {
			cfg.Snowflake[name] = v
		}
	}
	if err := cfg.loadCapacity(lookup); err != nil {
		return Config{}, err
	}
	if err := cfg.loadLoadMode(lookup); err != nil {
		return Config{}, err
	}
	var err error
	if cfg.QuickSight, err = loadQuickSight(lookup); err != nil {
		return Config{}, err
	}
	if cfg.LambdaDir == "" {
		cfg.LambdaDir = DefaultLambdaDir
	}
	if err := cfg.loadTopicSettings(lookup); err != nil {
		return Config{}, err
	}
	var missing []string
	if cfg.SnowflakeSecretARN == "" {
		missing = append(missing, ContextSnowflakeSecretARN+" (the complete ARN of the Secrets Manager secret holding the Snowflake key pair's private key)")
	}
	serverless := lookup(ContextMSKServerless) == "true"
	if serverless && cfg.MSKClusterARN != "" {
		return Config{}, fmt.Errorf("checking the context: %s and %s=true both name the MSK cluster; give one", ContextMSKClusterARN, ContextMSKServerless)
	}
	if cfg.MSKClusterARN == "" && !serverless {
		missing = append(missing, ContextMSKClusterARN+" (an existing MSK cluster with IAM client authentication) or "+
			ContextMSKServerless+"=true (a new MSK Serverless cluster, in "+ContextVPCID+" or a new VPC)")
	}
	if len(missing) > 0 {
		if lookup(ContextPlaceholders) != "true" {
			return Config{}, fmt.Errorf("synth needs the deployment's inputs; missing context: %s. Pass each with -c key=value "+
				"(or in cdk.json), or -c %s=true for an app with placeholders that cannot be deployed",
				strings.Join(missing, "; "), ContextPlaceholders)
		}
		if cfg.SnowflakeSecretARN == "" {
			cfg.SnowflakeSecretARN = PlaceholderSecretARN
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports the first problem with the configuration.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.SnowflakeSecretARN, "arn:") || !strings.Contains(c.SnowflakeSecretARN, ":secretsmanager:") {
		return fmt.Errorf("checking %s: %q is not a Secrets Manager ARN", ContextSnowflakeSecretARN, c.SnowflakeSecretARN)
	}
	if c.MSKClusterARN != "" && (!strings.Contains(c.MSKClusterARN, ":kafka:") || len(strings.Split(c.MSKClusterARN, "/")) != 3) {
		return fmt.Errorf("checking %s: %q is not an MSK cluster ARN (arn:aws:kafka:region:account:cluster/name/uuid)", ContextMSKClusterARN, c.MSKClusterARN)
	}
	if a := c.LambdaArchitecture; a != "" && a != "arm64" && a != "x86_64" {
		return fmt.Errorf("checking %s: %q is not arm64 or x86_64", ContextLambdaArchitecture, a)
	}
	if err := c.validateCapacity(); err != nil {
		return err
	}
	if err := c.validateLoadMode(); err != nil {
		return err
	}
	if err := c.validateQuickSight(); err != nil {
		return err
	}
	var missing []string
	for _, name := range FunctionNames {
		if _, err := os.Stat(filepath.Join(c.LambdaDir, name, "bootstrap")); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("checking lambda binaries in %s: no bootstrap for %s (build them, or set PULSE_LAMBDA_DIR)",
			c.LambdaDir, strings.Join(missing, ", "))
	}
	for _, g := range c.topicGroups() {
		if err := g.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) largeFileBytes() int64 {
	if c.LargeFileBytes > 0 {
		return c.LargeFileBytes
	}
	return DefaultLargeFileBytes
}

func (c Config) chunkBytes() int64 {
	if c.ChunkBytes > 0 {
		return c.ChunkBytes
	}
	return DefaultChunkBytes
}

// snowflakeEnv is the warehouse functions' SNOWFLAKE_* environment.
func (c Config) snowflakeEnv() map[string]*string {
	env := map[string]*string{"SNOWFLAKE_PRIVATE_KEY_SECRET": jsii.String(c.SnowflakeSecretARN)}
	for _, name := range SnowflakeSettings {
		if v, ok := c.Snowflake[name]; ok {
			env["SNOWFLAKE_"+strings.ToUpper(name)] = jsii.String(v)
		}
	}
	return env
}

func (c Config) topicGroups() []TopicGroup {
	if c.TopicGroups != nil {
		return c.TopicGroups
	}
	return DefaultTopicGroups()
}

// WritePlaceholderBootstraps writes an empty bootstrap file for every function under dir, so that
// tests and `cdk synth` can run without building the functions.
func WritePlaceholderBootstraps(dir string) error {
	for _, name := range FunctionNames {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
		if err := os.WriteFile(filepath.Join(d, "bootstrap"), []byte("placeholder "+name+"\n"), 0o755); err != nil {
			return fmt.Errorf("writing placeholder bootstrap for %s: %w", name, err)
		}
	}
	return nil
}

var errNoTopics = errors.New("topic group has no topics")
