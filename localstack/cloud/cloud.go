package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/localstack/ddblocal"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/snowflakelocal"
)

// Options configure a local cloud.
type Options struct {
	// Assembly is the cdk.out folder to bring up.
	Assembly string
	// Dir holds the run's files: function logs, the warehouse stage, S3
	// objects with Persist ("" = a temporary folder, removed on Close).
	Dir string
	// Persist keeps S3 objects under Dir (s3local.StartDir) instead of in
	// memory.
	Persist bool
	// Region and Account are what AWS::Region and AWS::AccountId resolve to
	// (default us-east-1 and 000000000000).
	Region, Account string
	// ToolsDir holds the emulator, Node 22 and aws-local-stepfunctions
	// (default $PULSE_TOOLS_DIR, else <repository>/.tools).
	ToolsDir string
	// Concurrency is how many execution environments a function (by
	// PULSE_FUNCTION name) may have at once (default 1: its invocations
	// queue).
	Concurrency map[string]int
	// Partitions per Kafka topic the deployment does not create (kfake's
	// default for auto-created topics; default 3).
	Partitions int
	// TopicPartitions, if set, replaces the Partitions property of the
	// Kafka topics custom resource (Custom::PulseKafkaTopics), as a synth
	// with -c topicPartitions=N would.
	TopicPartitions int
	// RetryInterval, if set, replaces the Retry intervals of every state
	// machine (the attempts and their order stay the definition's).
	RetryInterval time.Duration
	// MappingRetries is how many times an event-source mapping invokes the
	// function with a failing batch before it sends the batch to its
	// on-failure destination, when the template sets no
	// MaximumRetryAttempts (default 3).
	MappingRetries int
	// MappingBackoff is the wait between attempts of a failing batch
	// (default 100 ms, doubled up to 5 s).
	MappingBackoff time.Duration
	// Enforce answers a call the caller's role does not allow with
	// AccessDenied, as IAM would; either way the call is recorded (Calls)
	// and judged (Check).
	Enforce bool
	// Secrets are extra Secrets Manager secrets by ARN. The warehouse key
	// pair's secret is made by the cloud itself.
	Secrets map[string]string
	// Schedules runs the rate(...) schedules of EventBridge rules on their
	// own; without it schedules run only when FireRule asks.
	Schedules bool
	Log       *slog.Logger
}

// Cloud is a running local cloud. Close it.
type Cloud struct {
	Assembly *Assembly
	opts     Options
	dir      string
	tempDir  bool
	tools    Tools
	log      *slog.Logger

	S3        *s3local.Server
	DynamoDB  *ddblocal.Server
	Kafka     *kafkaCluster
	Snowflake *snowflakelocal.Server // nil when no function uses a warehouse
	Registry  *kafkalocal.Registry   // the schema registry, when the template names one

	edge        *edge
	kafkaIAM    *kafkaFront
	functions   []*Function
	byARN       map[string]*Function
	machines    map[string]*StateMachine // by ARN
	rules       []*Rule
	notify      []*notification
	eventBridge map[string]bool // buckets that send their events to EventBridge
	mappings    []*Mapping
	roles       map[string]*Resource // role ARN -> role
	keys        map[string]*Resource // access key ID -> role
	secrets     map[string]secret
	buckets     map[string]*Resource // bucket name -> bucket
	tables      map[string]*Resource // table name -> table
	skipped     []string
	cfn         cfnResponses
	custom      []*CustomResource

	ctx    context.Context //nolint:containedctx // the cloud's lifetime: Close cancels it, and the background work (notifications, executions, pollers) runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // background work: notifications, executions, pollers
	busy   sync.WaitGroup // work Idle waits for: notifications and executions
	logMu  sync.Mutex
	logs   map[string]*os.File

	shortOnce sync.Once
	short     *strings.Replacer

	policyOnce sync.Once
	policies   map[string]*RolePolicy
	policyErr  error

	mu        sync.Mutex
	calls     []Call
	publishes []Publish
}

// Tools are the programs the cloud runs.
type Tools struct {
	RIE       string // aws-lambda-rie
	Node      string // Node 22
	SFNModule string // aws-local-stepfunctions' ES module
}

// FindTools locates the tools under dir ("" = $PULSE_TOOLS_DIR, else the
// .tools folder of the repository around the working directory).
func FindTools(dir string) (Tools, error) {
	if dir == "" {
		dir = os.Getenv("PULSE_TOOLS_DIR")
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Tools{}, err
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, ".tools")
				break
			}
			if filepath.Dir(d) == d {
				return Tools{}, fmt.Errorf("finding the tools: no go.mod above %s (set PULSE_TOOLS_DIR)", wd)
			}
		}
	}
	t := Tools{
		RIE:       filepath.Join(dir, "rie", "bin", "aws-lambda-rie"),
		Node:      filepath.Join(dir, "node22", "bin", "node"),
		SFNModule: filepath.Join(dir, "sfn", "node_modules", "aws-local-stepfunctions", "build", "main.node.esm.js"),
	}
	for _, p := range []string{t.RIE, t.Node, t.SFNModule} {
		if _, err := os.Stat(p); err != nil {
			return t, fmt.Errorf("%s is missing: run `make tools` (localstack/tools/rie.sh, sfn-local.sh): %w", p, err)
		}
	}
	return t, nil
}

// Start brings the assembly up: stand-ins, resources, functions and wiring.
func Start(ctx context.Context, opts Options) (_ *Cloud, err error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "000000000000"
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 3
	}
	if opts.MappingRetries <= 0 {
		opts.MappingRetries = 3
	}
	if opts.MappingBackoff <= 0 {
		opts.MappingBackoff = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	a, err := LoadAssembly(opts.Assembly, opts.Region, opts.Account)
	if err != nil {
		return nil, err
	}
	tools, err := FindTools(opts.ToolsDir)
	if err != nil {
		return nil, err
	}
	c := &Cloud{Assembly: a, opts: opts, tools: tools, log: opts.Log, byARN: map[string]*Function{}, machines: map[string]*StateMachine{},
		roles: map[string]*Resource{}, keys: map[string]*Resource{}, secrets: map[string]secret{}, buckets: map[string]*Resource{},
		tables: map[string]*Resource{}, logs: map[string]*os.File{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	c.dir = opts.Dir
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "pulse-cloud-"); err != nil {
			return nil, err
		}
		c.tempDir = true
	}
	if err := os.MkdirAll(filepath.Join(c.dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	for _, r := range a.Resources("AWS::IAM::Role") {
		arn, err := a.ARN(r)
		if err != nil {
			return nil, err
		}
		c.roles[arn] = r
		c.keys[accessKey(r)] = r
	}
	if err := c.startStandIns(ctx); err != nil {
		return nil, err
	}
	if c.edge, err = startEdge(c); err != nil {
		return nil, err
	}
	for _, r := range a.Resources("AWS::Lambda::Function") {
		code, _ := r.Properties["Code"].(map[string]any)
		if _, inline := code["ZipFile"]; inline {
			c.skipped = append(c.skipped, fmt.Sprintf("%s: inline code (a CDK deployment helper), not run", r))
			continue
		}
		f, err := c.newFunction(r)
		if err != nil {
			return nil, err
		}
		f.log = c.logFile(f.Label)
		c.functions = append(c.functions, f)
		c.byARN[f.ARN] = f
	}
	if err := c.createResources(ctx); err != nil {
		return nil, err
	}
	if err := c.runCustomResources(ctx); err != nil {
		return nil, err
	}
	if err := c.loadStateMachines(); err != nil {
		return nil, err
	}
	if err := c.loadNotifications(); err != nil {
		return nil, err
	}
	if err := c.loadRules(); err != nil {
		return nil, err
	}
	if err := c.startMappings(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Dir is the run's folder.
func (c *Cloud) Dir() string { return c.dir }

// Endpoint is the AWS API endpoint of the stand-ins (every service).
func (c *Cloud) Endpoint() string { return c.edge.url }

// Functions returns the functions run, in stack order.
func (c *Cloud) Functions() []*Function { return append([]*Function(nil), c.functions...) }

// Function returns the function with that PULSE_FUNCTION name (or logical
// ID), or nil.
func (c *Cloud) Function(label string) *Function {
	for _, f := range c.functions {
		if f.Label == label {
			return f
		}
	}
	return nil
}

// Skipped lists what the cloud does not run, and why.
func (c *Cloud) Skipped() []string { return append([]string(nil), c.skipped...) }

// BucketName is the local name of the bucket whose construct path starts
// with path (e.g. "PulseStorage/Raw"), or "".
func (c *Cloud) BucketName(path string) string {
	for name, r := range c.buckets {
		if strings.HasPrefix(r.Path, path+"/") {
			return name
		}
	}
	return ""
}

// Idle waits until no notification, rule delivery or state machine
// execution is in flight (event-source mappings are not counted: wait for
// their commits instead).
func (c *Cloud) Idle(ctx context.Context) error {
	done := make(chan struct{})
	go func() { c.busy.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// track runs fn in the background, counted by Idle.
func (c *Cloud) track(fn func()) {
	c.busy.Add(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.busy.Done()
		fn()
	}()
}

// Close stops everything the cloud started.
func (c *Cloud) Close() error {
	if c.cancel != nil {
		c.cancel()
	}
	for _, m := range c.mappings {
		m.stop()
	}
	c.wg.Wait()
	for _, f := range c.functions {
		f.stopAll()
	}
	var errs []error
	if c.edge != nil {
		errs = append(errs, c.edge.close())
	}
	if c.kafkaIAM != nil {
		c.kafkaIAM.close()
	}
	if c.Kafka != nil {
		c.Kafka.Close()
	}
	if c.Snowflake != nil {
		errs = append(errs, c.Snowflake.Close())
	}
	if c.Registry != nil {
		c.Registry.Close()
	}
	if c.DynamoDB != nil {
		errs = append(errs, c.DynamoDB.Close())
	}
	if c.S3 != nil {
		errs = append(errs, c.S3.Close())
	}
	c.logMu.Lock()
	for _, f := range c.logs {
		f.Close()
	}
	c.logs = map[string]*os.File{}
	c.logMu.Unlock()
	if c.tempDir {
		os.RemoveAll(c.dir)
	}
	return errors.Join(errs...)
}

func (c *Cloud) logPath(label string) string { return filepath.Join(c.dir, "logs", label+".log") }

// logFile is the file a function's processes write to (its log group).
func (c *Cloud) logFile(label string) io.Writer {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	if f := c.logs[label]; f != nil {
		return f
	}
	f, err := os.OpenFile(c.logPath(label), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.log.Warn("cloud: cannot open function log", "function", label, "error", err)
		return io.Discard
	}
	c.logs[label] = f
	return f
}

// Log returns what a function's processes wrote so far (its log group).
func (c *Cloud) Log(label string) ([]byte, error) { return os.ReadFile(c.logPath(label)) }

// roleByARN returns the role of an ARN, or nil for a role the assembly
// does not define.
func (c *Cloud) roleByARN(arn string) *Resource { return c.roles[arn] }

// accessKey is the test access key ID of a role's credentials.
func accessKey(role *Resource) string {
	return strings.ToUpper("ASIA" + hash8(role.String()) + hash8(role.String()+"/key"))
}

// TestAccessKey is the access key of callers outside the assembly (tests,
// users): their calls are recorded but judged by no role.
const TestAccessKey = "AKIALOCALTESTCALLER0"

// credentials are the role's test credentials, as the Lambda service puts
// the execution role's temporary credentials in the environment.
func (c *Cloud) credentials(role *Resource) map[string]string {
	if role == nil {
		return map[string]string{"AWS_ACCESS_KEY_ID": TestAccessKey, "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
	}
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     accessKey(role),
		"AWS_SECRET_ACCESS_KEY": "local-secret-" + hash8(role.String()+"/secret"),
		"AWS_SESSION_TOKEN":     "local-session-" + hash8(role.String()+"/session"),
	}
}

// endpointServices are the SDK service IDs whose AWS_ENDPOINT_URL_<ID> the
// functions get: every AWS service a Pulse function could call goes to the
// stand-ins' endpoint, none to AWS.
var endpointServices = []string{"S3", "DYNAMODB", "SECRETS_MANAGER", "SFN", "KAFKA", "SQS", "SNS", "LAMBDA", "STS", "KMS", "EVENTBRIDGE", "CLOUDWATCH_LOGS"}

func (c *Cloud) endpoints() map[string]string {
	env := map[string]string{}
	for _, s := range endpointServices {
		env["AWS_ENDPOINT_URL_"+s] = c.edge.url
	}
	if c.kafkaIAM != nil {
		// The trust store of the execution environment: on AWS it holds the
		// public CAs that sign MSK's certificates; here the local CA that
		// signs the Kafka stand-in's.
		env["SSL_CERT_FILE"] = c.kafkaIAM.caFile
	}
	return env
}

// Call is one AWS API call recorded at the stand-ins' endpoint, or one a
// service made for the caller (Implied): S3 calling KMS for an encrypted
// bucket, the Lambda runtime writing its logs, an event-source mapping
// reading Kafka.
type Call struct {
	Principal string // the caller's role, as <stack>/<logical ID>; "test" for callers outside the assembly
	Function  string // the function whose role made it ("" for state machines, rules, tests)
	Action    string // service:Action as IAM names it
	Resource  string // the ARN IAM evaluates
	Implied   string // "" for a call the caller made; else who made it on the caller's behalf
	Context   map[string]string
	Denied    bool // Enforce answered AccessDenied
}

// record keeps a call.
func (c *Cloud) record(calls ...Call) {
	c.mu.Lock()
	c.calls = append(c.calls, calls...)
	c.mu.Unlock()
}

// Calls returns every recorded call, in order.
func (c *Cloud) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// principal names a role for the records.
func principal(role *Resource) string {
	if role == nil {
		return "test"
	}
	return role.Stack.Name + "/" + role.ID
}

// functionOf returns the function whose execution role is role, or "".
func (c *Cloud) functionOf(role *Resource) string {
	var labels []string
	for _, f := range c.functions {
		if f.Role == role && role != nil {
			labels = append(labels, f.Label)
		}
	}
	sort.Strings(labels)
	return strings.Join(labels, ",")
}

// Query reads the local warehouse (DuckDB under the Snowflake stand-in):
// values come back as string, int64, float64, bool, time.Time (UTC) or nil.
func (c *Cloud) Query(ctx context.Context, q string, args ...any) ([][]any, error) {
	if c.Snowflake == nil {
		return nil, errors.New("the assembly's functions use no warehouse")
	}
	_, rows, err := c.Snowflake.Query(ctx, q, args...)
	return rows, err
}
