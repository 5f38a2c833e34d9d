package stacks_test

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/pulse-analytics/pulse/infra/stacks"
	"github.com/pulse-analytics/pulse/shared/migration"
	"github.com/pulse-analytics/pulse/shared/pipeline"
)

func TestStorageStack(t *testing.T) {
	c := template(t, stacks.StorageStackID)
	tp := tmpl(t, stacks.StorageStackID)
	tp.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(5))
	tp.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	keyID, _ := c.byPath(t, "PulseStorage/DataKey")
	logsID, _ := c.byPath(t, "PulseStorage/AccessLogs")
	lifecycle := map[string][]string{
		"Raw":        {"tier-raw", "abort-incomplete-uploads"},
		"Staging":    {"expire-staging", "abort-incomplete-uploads"},
		"Curated":    {"tier-curated", "abort-incomplete-uploads"},
		"Quarantine": {"expire-quarantine", "abort-incomplete-uploads"},
	}
	policies := c.ofType("AWS::S3::BucketPolicy")
	for name, rules := range lifecycle {
		id, b := c.byPath(t, "PulseStorage/"+name)
		p := b.Properties
		sse := p["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)
		def := sse["ServerSideEncryptionByDefault"].(map[string]any)
		if def["SSEAlgorithm"] != "aws:kms" || !strings.Contains(texts(def["KMSMasterKeyID"])[0], keyID) || sse["BucketKeyEnabled"] != true {
			t.Errorf("%s: encryption %v, want aws:kms with %s and a bucket key", name, sse, keyID)
		}
		pab := p["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				t.Errorf("%s: %s is %v", name, k, pab[k])
			}
		}
		var ids []string
		for _, r := range p["LifecycleConfiguration"].(map[string]any)["Rules"].([]any) {
			ids = append(ids, r.(map[string]any)["Id"].(string))
		}
		if !reflect.DeepEqual(ids, rules) {
			t.Errorf("%s: lifecycle rules %v, want %v", name, ids, rules)
		}
		versioned := p["VersioningConfiguration"] != nil && p["VersioningConfiguration"].(map[string]any)["Status"] == "Enabled"
		if versioned != (name == "Raw") {
			t.Errorf("%s: versioned %v", name, versioned)
		}
		if lc := p["LoggingConfiguration"].(map[string]any); !strings.Contains(texts(lc["DestinationBucketName"])[0], logsID) || lc["LogFilePrefix"] != name+"/" {
			t.Errorf("%s: access logs %v", name, lc)
		}
		// TLS only: the bucket policy denies every request without aws:SecureTransport.
		tls := false
		for _, bp := range policies {
			if !strings.Contains(texts(bp.Properties["Bucket"])[0], id) {
				continue
			}
			for _, s := range bp.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				m := s.(map[string]any)
				cond, _ := m["Condition"].(map[string]any)
				if m["Effect"] == "Deny" && m["Action"] == "s3:*" && cond != nil && cond["Bool"].(map[string]any)["aws:SecureTransport"] == "false" {
					tls = true
				}
			}
		}
		if !tls {
			t.Errorf("%s: no TLS-only bucket policy", name)
		}
	}
	for _, out := range []string{"RawBucketName", "StagingBucketName", "CuratedBucketName", "QuarantineBucketName"} {
		if _, ok := c.Outputs[out]; !ok {
			t.Errorf("no output %s", out)
		}
	}
}

func TestStateStack(t *testing.T) {
	tp := tmpl(t, stacks.StateStackID)
	tp.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(2))
	for _, name := range []string{"Dedupe", "WindowState"} {
		_, r := template(t, stacks.StateStackID).byPath(t, "PulseState/"+name)
		p := r.Properties
		if p["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("%s: billing %v", name, p["BillingMode"])
		}
		if ttl := p["TimeToLiveSpecification"].(map[string]any); ttl["AttributeName"] != stacks.TTLAttribute || ttl["Enabled"] != true {
			t.Errorf("%s: ttl %v", name, ttl)
		}
		if pitr := p["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != true {
			t.Errorf("%s: point-in-time recovery %v", name, pitr)
		}
		if ks := p["KeySchema"].([]any); len(ks) != 1 || ks[0].(map[string]any)["AttributeName"] != "pk" {
			t.Errorf("%s: key schema %v", name, ks)
		}
	}
}

func TestStreamingStack(t *testing.T) {
	c := template(t, stacks.StreamingStackID)
	maps := c.ofType("AWS::Lambda::EventSourceMapping")
	groups := map[string]stacks.TopicGroup{}
	for _, g := range stacks.DefaultTopicGroups() {
		for _, topic := range g.Topics {
			groups[topic] = g
		}
	}
	if len(maps) != len(groups) {
		t.Errorf("%d event-source mappings, want one per topic (%d)", len(maps), len(groups))
	}
	if _, ok := groups[stacks.CatalogTopic]; !ok {
		t.Errorf("the catalog topic %s is not consumed", stacks.CatalogTopic)
	}
	rawID, _ := template(t, stacks.StorageStackID).byPath(t, "PulseStorage/Raw")
	seen := map[string]bool{}
	for _, m := range maps {
		p := m.Properties
		topic := strs(p["Topics"])[0]
		g, ok := groups[topic]
		if !ok {
			t.Errorf("mapping for unknown topic %s", topic)
			continue
		}
		seen[topic] = true
		if p["BatchSize"] != float64(g.BatchSize) || p["MaximumBatchingWindowInSeconds"] != float64(g.MaxBatchingWindowSeconds) || p["StartingPosition"] != g.StartingPosition {
			t.Errorf("%s: batch %v window %v start %v, want %+v", topic, p["BatchSize"], p["MaximumBatchingWindowInSeconds"], p["StartingPosition"], g)
		}
		if cg := p["AmazonManagedKafkaEventSourceConfig"].(map[string]any)["ConsumerGroupId"]; cg != "pulse-stream-"+topic {
			t.Errorf("%s: consumer group %v", topic, cg)
		}
		if d := fmt.Sprint(p["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"]); !strings.Contains(d, rawID) {
			t.Errorf("%s: on-failure destination %s, want the raw bucket (%s)", topic, d, rawID)
		}
	}
	// IAM auth: the function's role may read exactly these topics and use their groups.
	sts := c.policies()[c.roleOf(t, "PulseStreaming/Stream")]
	for topic := range seen {
		if !grants(sts, "kafka-cluster:ReadData", ":topic/", "/"+topic+`"`) || !grants(sts, "kafka-cluster:AlterGroup", "/pulse-stream-"+topic) {
			t.Errorf("%s: the stream role cannot read it or join its group", topic)
		}
	}
	if !grants(sts, "s3:GetObject", "ExportsOutputFnGetAttCurated", "/"+pipeline.PlatformsKey+`"`) || grants(sts, "s3:GetObject", "ExportsOutputFnGetAttCurated", `"/*"`) {
		t.Error("the stream role must read the platform registry and nothing else of the curated bucket")
	}
	if got := actionsOn(sts, "kafka-cluster"); !reflect.DeepEqual(got, []string{"kafka-cluster:AlterGroup", "kafka-cluster:Connect",
		"kafka-cluster:DescribeClusterDynamicConfiguration", "kafka-cluster:DescribeGroup", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}) {
		t.Errorf("stream kafka actions %v", got)
	}
	// No cluster was given: a new MSK Serverless cluster with IAM client authentication.
	tmpl(t, stacks.StreamingStackID).HasResourceProperties(jsii.String("AWS::MSK::ServerlessCluster"), map[string]any{
		"ClientAuthentication": map[string]any{"Sasl": map[string]any{"Iam": map[string]any{"Enabled": true}}},
	})
	// The idle tick: an empty batch to the stream function every minute closes silent windows.
	fnID, _ := c.byPath(t, "PulseStreaming/Stream")
	ticks := 0
	for _, r := range c.ofType("AWS::Events::Rule") {
		if r.Properties["ScheduleExpression"] != "rate(1 minute)" {
			continue
		}
		for _, tg := range r.Properties["Targets"].([]any) {
			tm := tg.(map[string]any)
			if strings.Contains(fmt.Sprint(tm["Arn"]), fnID) && tm["Input"] == `{"eventSource":"`+stacks.IdleTickSource+`","records":{}}` {
				ticks++
			}
		}
	}
	if ticks != 1 {
		t.Errorf("%d idle-tick rules target the stream function with an empty batch, want 1", ticks)
	}
}

// TestStreamingStackExistingCluster: with mskClusterArn, no cluster or VPC is made and the mappings
// and grants name the given cluster's topics; a schema registry reaches the stream function.
func TestStreamingStackExistingCluster(t *testing.T) {
	const arn = "arn:aws:kafka:eu-west-1:111122223333:cluster/pulse/0123abcd-0000-1111-2222-333344445555-1"
	cfg := testCfg
	cfg.MSKClusterARN = arn
	cfg.SchemaRegistryURL = "https://registry.example.com"
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:enable-path-metadata": true}})
	storage := stacks.NewStorageStack(app, "S", nil)
	state := stacks.NewStateStack(app, "D", nil)
	st := stacks.NewStreamingStack(app, "K", &stacks.StreamingStackProps{Config: cfg, Storage: storage, State: state})
	tp := assertions.Template_FromStack(st.Stack, nil)
	tp.ResourceCountIs(jsii.String("AWS::MSK::ServerlessCluster"), jsii.Number(0))
	tp.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(0))
	c := toCfn(t, tp)
	for _, m := range c.ofType("AWS::Lambda::EventSourceMapping") {
		if m.Properties["EventSourceArn"] != arn {
			t.Errorf("mapping source %v, want %s", m.Properties["EventSourceArn"], arn)
		}
	}
	if _, fn := c.byPath(t, "K/Stream"); env(fn)["PULSE_SCHEMA_REGISTRY_URL"] != "https://registry.example.com" {
		t.Errorf("stream env %v lacks the schema registry", env(fn))
	}
	// The stream's windows wait for every partition the deployment creates.
	if _, fn := c.byPath(t, "K/Stream"); env(fn)["PULSE_TOPIC_PARTITIONS"] != "5" {
		t.Errorf("stream env PULSE_TOPIC_PARTITIONS = %v; want seed 004's 5, as the topics are created", env(fn)["PULSE_TOPIC_PARTITIONS"])
	}
	sts := c.policies()[c.roleOf(t, "K/Stream")]
	if !grants(sts, "kafka-cluster:ReadData", "arn:aws:kafka:eu-west-1:111122223333:topic/pulse/0123abcd-0000-1111-2222-333344445555-1/live_streaming") {
		t.Errorf("no ReadData on the given cluster's topic: %+v", sts)
	}
}

func TestBatchStack(t *testing.T) {
	c := template(t, stacks.BatchStackID)
	fns := map[string]string{"Trigger": "trigger", "Clean": "clean", "Model": "model", "Load": "load", "DataTests": "datatests", "Schema": "schema"}
	for id, name := range fns {
		_, fn := c.byPath(t, "PulseBatch/"+id)
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) {
			t.Errorf("%s: runtime %v handler %v architectures %v", id, p["Runtime"], p["Handler"], p["Architectures"])
		}
		if env(fn)["PULSE_FUNCTION"] != name {
			t.Errorf("%s: PULSE_FUNCTION %q", id, env(fn)["PULSE_FUNCTION"])
		}
	}
	pol := c.policies()
	role := func(fn string) []statement { return pol[c.roleOf(t, "PulseBatch/"+fn)] }
	raw, staging, curated, quarantine := "ExportsOutputFnGetAttRaw", "ExportsOutputFnGetAttStaging", "ExportsOutputFnGetAttCurated", "ExportsOutputFnGetAttQuarantine"
	for _, g := range []struct {
		fn, action string
		parts      []string
		want       bool
	}{
		{"Clean", "s3:GetObject", []string{raw, "/raw/*"}, true},
		// Clean writes only where it writes: staging parts, manifests and
		// profiles; rejects and quarantined files. Not the whole buckets.
		{"Clean", "s3:PutObject", []string{staging, `"/*"`}, false},
		{"Clean", "s3:PutObject", []string{quarantine, `"/*"`}, false},
		{"Clean", "s3:PutObject", []string{staging, "/app_users/*"}, true},
		{"Clean", "s3:PutObject", []string{staging, "/_manifests/*"}, true},
		{"Clean", "s3:PutObject", []string{staging, "/_profiles/*"}, true},
		{"Clean", "s3:PutObject", []string{quarantine, "/community_interactions/*"}, true},
		{"Clean", "s3:PutObject", []string{quarantine, "/_files/*"}, true},
		{"Clean", "s3:PutObject", []string{staging, "/_files/*"}, false},
		{"Clean", "s3:GetObject", []string{staging, "/_manifests/*"}, true},
		{"Clean", "dynamodb:PutItem", []string{"PulseState:ExportsOutputFnGetAttDedupe"}, true},
		{"Clean", "s3:PutObject", []string{curated}, false},
		{"Clean", "s3:GetObject", []string{curated, "/" + pipeline.PlatformsKey + `"`}, true},
		{"Clean", "s3:GetObject", []string{curated, `"/*"`}, false},
		// Model reads its dataset's staging parts, the manifests and its
		// dataset's rejects, not the whole buckets.
		{"Model", "s3:GetObject", []string{staging, `"/*"`}, false},
		{"Model", "s3:GetObject", []string{quarantine, `"/*"`}, false},
		{"Model", "s3:GetObject", []string{staging, "/app_interactions/*"}, true},
		{"Model", "s3:GetObject", []string{staging, "/_manifests/*"}, true},
		{"Model", "s3:GetObject", []string{quarantine, "/video_interactions/*"}, true},
		{"Model", "s3:GetObject", []string{quarantine, "/_files/*"}, false},
		{"Model", "s3:PutObject", []string{curated, `"/*"`}, true},
		{"Model", "s3:PutObject", []string{staging, "/_manifests/*"}, true},
		{"Model", "s3:PutObject", []string{staging, `"/*"`}, false},
		{"Load", "s3:GetObject", []string{curated, `"/*"`}, true},
		{"Load", "s3:PutObject", []string{staging, "/_manifests/*"}, true},
		{"Load", "secretsmanager:GetSecretValue", []string{testSecretARN}, true},
		{"Load", "s3:PutObject", []string{curated}, false},
		{"DataTests", "secretsmanager:GetSecretValue", []string{testSecretARN}, true},
		{"DataTests", "s3:GetObject", []string{curated, `"/*"`}, false},
		{"DataTests", "s3:GetObject", []string{curated, "/" + pipeline.PlatformsKey + `"`}, true},
		{"Trigger", "states:StartExecution", []string{"BatchWorkflow"}, true},
	} {
		if got := grants(role(g.fn), g.action, g.parts...); got != g.want {
			t.Errorf("%s %s on %v: granted %v, want %v", g.fn, g.action, g.parts, got, g.want)
		}
	}
	// No function reads an object by version (the S3 adapter never sends
	// versionId; the local cloud's IAM check saw no s3:GetObjectVersion).
	for fn := range fns {
		if grants(role(fn), "s3:GetObjectVersion") {
			t.Errorf("%s may read object versions", fn)
		}
	}
	for _, fn := range []string{"Model", "DataTests", "Trigger"} {
		if a := actionsOn(role(fn), "dynamodb"); len(a) != 0 {
			t.Errorf("%s has DynamoDB actions %v", fn, a)
		}
	}
	// DynamoDB: only the item actions the dedupe store makes (Load reads
	// and commits the file's transaction item; Clean also claims records);
	// no Scan, DeleteItem, BatchWriteItem or wildcard.
	for fn, want := range map[string]string{
		"Clean": "[dynamodb:GetItem dynamodb:PutItem dynamodb:UpdateItem]",
		"Load":  "[dynamodb:GetItem dynamodb:UpdateItem]",
	} {
		if a := fmt.Sprint(actionsOn(role(fn), "dynamodb")); a != want {
			t.Errorf("%s has DynamoDB actions %s, want %s", fn, a, want)
		}
	}
	// The warehouse functions read the secret's value; nothing describes it.
	for _, fn := range []string{"Load", "DataTests"} {
		if a := fmt.Sprint(actionsOn(role(fn), "secretsmanager")); a != "[secretsmanager:GetSecretValue]" {
			t.Errorf("%s has Secrets Manager actions %s, want only GetSecretValue", fn, a)
		}
	}
	for _, fn := range []string{"Clean", "Model", "Trigger"} {
		if a := actionsOn(role(fn), "secretsmanager"); len(a) != 0 {
			t.Errorf("%s has Secrets Manager actions %v", fn, a)
		}
	}
	if a := actionsOn(role("Trigger"), "s3", "dynamodb", "kms", "secretsmanager"); len(a) != 0 {
		t.Errorf("the trigger has data actions %v", a)
	}
	// The warehouse DDL: one custom resource invokes the schema function
	// with the migration's digest; the function reads the secret only.
	crs := c.ofType(stacks.SchemaResourceType)
	if len(crs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(crs), stacks.SchemaResourceType)
	}
	schemaID, _ := c.byPath(t, "PulseBatch/Schema")
	for _, cr := range crs {
		if tok := fmt.Sprint(cr.Properties["ServiceToken"]); !strings.Contains(tok, schemaID) || cr.Properties["Digest"] != migration.Digest() {
			t.Errorf("schema resource: ServiceToken %s, Digest %v (want %s's ARN and %s)", tok, cr.Properties["Digest"], schemaID, migration.Digest())
		}
	}
	if a := fmt.Sprint(actionsOn(role("Schema"), "s3", "dynamodb", "secretsmanager", "states")); a != "[secretsmanager:GetSecretValue]" {
		t.Errorf("the schema function has %s", a)
	}
	// Environment: the clean function's chunk size, the warehouse functions' secret.
	_, clean := c.byPath(t, "PulseBatch/Clean")
	if env(clean)["PULSE_CHUNK_BYTES"] != strconv.Itoa(stacks.DefaultChunkBytes) || env(clean)["PULSE_DEDUPE_TABLE"] == "" {
		t.Errorf("clean env %v", env(clean))
	}
	_, load := c.byPath(t, "PulseBatch/Load")
	if env(load)["SNOWFLAKE_PRIVATE_KEY_SECRET"] != testSecretARN || env(load)["SNOWFLAKE_ACCOUNT"] != "xy12345" {
		t.Errorf("load env %v", env(load))
	}
	// The state machine: standard, traced, logged.
	_, sm := c.byPath(t, "PulseBatch/BatchWorkflow")
	if sm.Properties["StateMachineType"] != "STANDARD" || sm.Properties["TracingConfiguration"].(map[string]any)["Enabled"] != true ||
		sm.Properties["LoggingConfiguration"].(map[string]any)["Level"] != "ALL" {
		t.Errorf("state machine %v", sm.Properties)
	}
	// One S3 notification per batch dataset to the trigger, and EventBridge delivery for the catalog.
	for _, n := range c.ofType("Custom::S3BucketNotifications") {
		nc := n.Properties["NotificationConfiguration"].(map[string]any)
		var prefixes []string
		for _, l := range nc["LambdaFunctionConfigurations"].([]any) {
			m := l.(map[string]any)
			rules := m["Filter"].(map[string]any)["Key"].(map[string]any)["FilterRules"].([]any)
			prefixes = append(prefixes, rules[0].(map[string]any)["Value"].(string))
			if m["Events"].([]any)[0] != "s3:ObjectCreated:*" {
				t.Errorf("notification events %v", m["Events"])
			}
		}
		sort.Strings(prefixes)
		var want []string
		for _, ds := range stacks.BatchDatasets() {
			want = append(want, "raw/"+ds+"/")
		}
		sort.Strings(want)
		if !reflect.DeepEqual(prefixes, want) {
			t.Errorf("notification prefixes %v, want %v", prefixes, want)
		}
		if _, ok := nc["EventBridgeConfiguration"]; !ok {
			t.Error("EventBridge delivery is off on the raw bucket")
		}
	}
	tmpl(t, stacks.BatchStackID).HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
}

func TestCatalogStack(t *testing.T) {
	c := template(t, stacks.CatalogStackID)
	_, fn := c.byPath(t, "PulseCatalog/Catalog")
	e := env(fn)
	if e["PULSE_CATALOG_TOPIC"] != stacks.CatalogTopic || e["PULSE_MSK_CLUSTER_ARN"] == "" || e["PULSE_QUARANTINE_BUCKET"] == "" || e["PULSE_FUNCTION"] != "catalog" {
		t.Errorf("catalog env %v", e)
	}
	if fn.Properties["VpcConfig"] == nil {
		t.Error("the catalog function is not in the new MSK Serverless cluster's VPC")
	}
	sts := c.policies()[c.roleOf(t, "PulseCatalog/Catalog")]
	for _, g := range []struct {
		action string
		parts  []string
	}{
		{"s3:GetObject", []string{"ExportsOutputFnGetAttRaw", "/raw/movies_catalog/*"}},
		{"s3:PutObject", []string{"ExportsOutputFnGetAttQuarantine", "/movies_catalog/*"}},
		{"kafka-cluster:WriteData", []string{":topic/", "/" + stacks.CatalogTopic}},
		{"kafka:GetBootstrapBrokers", []string{"PulseStreaming"}},
		// The producer is idempotent (franz-go's default): its InitProducerId
		// needs WriteDataIdempotently on the cluster (the local cloud's IAM
		// check found it missing).
		{"kafka-cluster:WriteDataIdempotently", []string{"PulseStreaming"}},
	} {
		if !grants(sts, g.action, g.parts...) {
			t.Errorf("catalog role lacks %s on %v", g.action, g.parts)
		}
	}
	if a := actionsOn(sts, "dynamodb", "secretsmanager"); len(a) != 0 {
		t.Errorf("catalog has %v", a)
	}
	rules := c.ofType("AWS::Events::Rule")
	var schedule, object int
	for _, r := range rules {
		if r.Properties["ScheduleExpression"] == "cron(0 1 * * ? *)" {
			schedule++
		}
		if p, ok := r.Properties["EventPattern"].(map[string]any); ok && p["detail-type"].([]any)[0] == "Object Created" {
			object++
		}
	}
	if schedule != 1 || object != 1 {
		t.Errorf("%d schedule and %d object rules", schedule, object)
	}
}

func TestGoldStack(t *testing.T) {
	c := template(t, stacks.GoldStackID)
	_, fn := c.byPath(t, "PulseGold/Gold")
	if e := env(fn); e["SNOWFLAKE_PRIVATE_KEY_SECRET"] != testSecretARN || e["PULSE_FUNCTION"] != "gold" {
		t.Errorf("gold env %v", e)
	}
	sts := c.policies()[c.roleOf(t, "PulseGold/Gold")]
	if !grants(sts, "secretsmanager:GetSecretValue", testSecretARN) {
		t.Error("gold cannot read the warehouse secret")
	}
	if a := actionsOn(sts, "s3", "dynamodb", "kafka-cluster"); len(a) != 0 {
		t.Errorf("gold has data actions %v", a)
	}
	var daily bool
	for _, r := range c.ofType("AWS::Events::Rule") {
		daily = daily || r.Properties["ScheduleExpression"] == "cron(30 2 * * ? *)"
	}
	if !daily {
		t.Error("no daily gold rule")
	}
	_, sm := c.byPath(t, "PulseGold/GoldWorkflow")
	def := texts(sm.Properties["DefinitionString"])[0]
	if !strings.Contains(def, `\"MaxConcurrency\":`+strconv.Itoa(stacks.GoldMaxConcurrency)) || !strings.Contains(def, `\"ItemsPath\":\"$.dates.result.dates\"`) {
		t.Errorf("gold definition lacks its Map over dates: %.400s", def)
	}
}

func TestObservabilityStack(t *testing.T) {
	c := template(t, stacks.ObservabilityStackID)
	alarms := c.ofType("AWS::CloudWatch::Alarm")
	metrics := map[string]int{}
	topicID, _ := c.byPath(t, "PulseObservability/AlarmTopic")
	for id, a := range alarms {
		name, _ := a.Properties["MetricName"].(string)
		if ms, ok := a.Properties["Metrics"].([]any); ok && name == "" {
			name, _ = ms[0].(map[string]any)["MetricStat"].(map[string]any)["Metric"].(map[string]any)["MetricName"].(string)
		}
		metrics[name]++
		if acts := texts(a.Properties["AlarmActions"]); len(acts) != 1 || !strings.Contains(acts[0], topicID) {
			t.Errorf("alarm %s actions %v", id, acts)
		}
	}
	want := map[string]int{"Errors": len(stacks.FunctionNames), "OffsetLag": 1, "MatchedEvents": 1, "ExecutionsFailed": 3}
	if !reflect.DeepEqual(metrics, want) {
		t.Errorf("alarms by metric %v, want %v", metrics, want)
	}
	tmpl(t, stacks.ObservabilityStackID).HasResourceProperties(jsii.String("AWS::CloudWatch::Dashboard"), map[string]any{"DashboardName": "Pulse"})
}

// TestLeastPrivilege: across every stack, no log group keeps logs longer or shorter than
// LogRetention, and no IAM statement of Pulse's own grants a wildcard action.
func TestLeastPrivilege(t *testing.T) {
	for id := range pulse.StacksByID() {
		c := template(t, id)
		for lid, lg := range c.ofType("AWS::Logs::LogGroup") {
			if lg.Properties["RetentionInDays"] != 30.0 {
				t.Errorf("%s %s: retention %v", id, lid, lg.Properties["RetentionInDays"])
			}
		}
		for role, sts := range c.policies() {
			for _, s := range sts {
				for _, a := range s.Actions {
					if strings.Contains(a, "*") {
						t.Errorf("%s role %s: wildcard action %s", id, role, a)
					}
				}
			}
		}
	}
}
