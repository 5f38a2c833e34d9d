package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/pulse-analytics/pulse/shared/dataset"
)

// BatchDatasets are the datasets whose new objects under raw/<dataset>/ start the batch workflow:
// the registered dataset specs that declare Batch (shared/dataset), read at synth time.
// raw/movies_catalog/ is not among them: the catalog workflow owns it.
func BatchDatasets() []string { return dataset.BatchNames() }

// Batch workflow state names (stable: tests and the harness refer to them).
const (
	StateFileSize   = "FileSize"
	StateSplit      = "Split"
	StateCleanChunk = "CleanChunks"
	StateChunkTask  = "CleanChunk"
	StateCombine    = "Combine"
	StateClean      = "Clean"
	StateModel      = "Model"
	StateLoad       = "Load"
	StateDataTests  = "DataTests"
	StateQuarantine = "Quarantine"
	StateNotify     = "NotifyFailure"
	StateFailed     = "Failed"
	// ErrorBatchFailed is the Error of the batch workflow's Fail state.
	ErrorBatchFailed = "BatchFileFailed"
)

// BatchStackProps configures the batch workflow stack.
type BatchStackProps struct {
	awscdk.StackProps
	Config  Config
	Storage *StorageStack
	State   *StateStack
}

// BatchStack holds the trigger, clean, model, load and datatests functions, the batch state machine
// and the failure notification topic.
type BatchStack struct {
	awscdk.Stack
	Trigger, Clean, Model, Load, DataTests awslambda.Function
	StateMachine                           sfn.StateMachine
	FailureTopic                           awssns.Topic
	// Schema applies the warehouse DDL through a custom resource (warehouse.go).
	Schema awslambda.Function
}

// NewBatchStack makes the batch workflow (the contract is shared/handlers' package comment). Its
// input is {"file": {"bucket","key","size","etag","versionId"}} as the trigger writes it. A file
// above Config.LargeFileBytes is split by the clean function (mode "split", returning {"file",
// "chunks": [...]}), cleaned chunk by chunk in a Distributed Map and combined (mode "combine");
// otherwise Clean runs once. Then Model -> Load -> DataTests, each passing a manifest reference.
// Every task retries (not on the permanent errors) and catches into Quarantine (the clean function in
// mode "quarantine", which records the error and the raw object's version in the quarantine bucket), an SNS
// notification and Fail.
func NewBatchStack(scope constructs.Construct, id string, props *BatchStackProps) *BatchStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	b := &BatchStack{Stack: stack}
	cfg, st := props.Config, props.Storage
	common := map[string]*string{
		"PULSE_RAW_BUCKET":        st.Raw.BucketName(),
		"PULSE_STAGING_BUCKET":    st.Staging.BucketName(),
		"PULSE_CURATED_BUCKET":    st.Curated.BucketName(),
		"PULSE_QUARANTINE_BUCKET": st.Quarantine.BucketName(),
	}
	withEnv := func(extras ...map[string]*string) map[string]*string {
		env := map[string]*string{}
		for _, m := range append([]map[string]*string{common}, extras...) {
			for k, v := range m {
				env[k] = v
			}
		}
		return env
	}
	minutes := func(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }

	b.Clean = newGoFunction(stack, "Clean", cfg, functionSpec{name: "clean", memory: 2048, timeout: minutes(15),
		env: withEnv(map[string]*string{
			"PULSE_DEDUPE_TABLE": props.State.Dedupe.TableName(),
			"PULSE_CHUNK_BYTES":  jsii.String(strconv.FormatInt(cfg.chunkBytes(), 10)),
		})})
	b.Model = newGoFunction(stack, "Model", cfg, functionSpec{name: "model", memory: 2048, timeout: minutes(15), env: withEnv()})
	// Load renews and commits the file's dedupe claims (pipeline.Load), so it names the dedupe table.
	b.Load = newGoFunction(stack, "Load", cfg, functionSpec{name: "load", memory: 1024, timeout: minutes(15),
		env: withEnv(merge(cfg.snowflakeEnv(), map[string]*string{"PULSE_DEDUPE_TABLE": props.State.Dedupe.TableName()}))})
	b.DataTests = newGoFunction(stack, "DataTests", cfg, functionSpec{name: "datatests", memory: 512, timeout: minutes(10), env: withEnv(cfg.snowflakeEnv())})

	// Clean: raw files in (and the platform registry); staging parts, chunk and file manifests, rejects
	// and quarantined files out.
	grantObjectsRead(b.Clean, st.Raw, st.Key, "raw/")
	// Writes only under what it writes (the local cloud's IAM check runs the real calls against this):
	// staging <dataset>/ parts, _manifests/ and _profiles/; quarantine <dataset>/ rejects and _files/
	// (a whole file quarantined by reference).
	for _, ds := range BatchDatasets() {
		grantObjectsWrite(b.Clean, st.Staging, st.Key, ds+"/")
		grantObjectsWrite(b.Clean, st.Quarantine, st.Key, ds+"/")
	}
	grantObjectsWrite(b.Clean, st.Staging, st.Key, manifestsPrefix)
	grantObjectsWrite(b.Clean, st.Staging, st.Key, "_profiles/")
	grantObjectsWrite(b.Clean, st.Quarantine, st.Key, "_files/")
	grantObjectsRead(b.Clean, st.Staging, st.Key, manifestsPrefix)
	grantObjectRead(b.Clean, st.Curated, st.Key, platformRegistryKey)
	// Dedupe: claims are conditional PutItems and GetItems, the file's transaction item UpdateItems
	// (shared/adapters/dynamo.Dedupe); nothing scans, deletes or batch-writes.
	grantItems(b.Clean, props.State.Dedupe, dedupeActions...)
	// Model: its dataset's staging parts, the manifests and its dataset's rejects in; curated tables
	// and the manifest out.
	for _, ds := range BatchDatasets() {
		grantObjectsRead(b.Model, st.Staging, st.Key, ds+"/")
		grantObjectsRead(b.Model, st.Quarantine, st.Key, ds+"/")
	}
	grantObjectsRead(b.Model, st.Staging, st.Key, manifestsPrefix)
	grantObjectsWrite(b.Model, st.Staging, st.Key, manifestsPrefix)
	grantObjectsWrite(b.Model, st.Curated, st.Key, "")
	// Load and DataTests: the manifest, the curated tables (Load) and the warehouse secret.
	for _, fn := range []awslambda.Function{b.Load, b.DataTests} {
		grantObjectsRead(fn, st.Staging, st.Key, manifestsPrefix)
		grantObjectsWrite(fn, st.Staging, st.Key, manifestsPrefix)
	}
	grantObjectsRead(b.Load, st.Curated, st.Key, "")
	// Load reads the file's transaction (GetItem) and renews and commits it (UpdateItem).
	grantItems(b.Load, props.State.Dedupe, "dynamodb:GetItem", "dynamodb:UpdateItem")
	grantObjectRead(b.DataTests, st.Curated, st.Key, platformRegistryKey) // the platforms DIM_PLATFORM may hold
	secret := snowflakeSecret(stack, cfg.SnowflakeSecretARN)
	grantSecretValue(b.Load, secret)
	grantSecretValue(b.DataTests, secret)
	b.Schema = newWarehouseSchema(stack, cfg, secret)

	topicKey := awskms.NewKey(stack, jsii.String("FailureTopicKey"), &awskms.KeyProps{
		Description: jsii.String("Pulse batch failure notifications"), EnableKeyRotation: jsii.Bool(true),
	})
	b.FailureTopic = awssns.NewTopic(stack, jsii.String("FailureTopic"), &awssns.TopicProps{
		MasterKey: topicKey, EnforceSSL: jsii.Bool(true), DisplayName: jsii.String("Pulse batch failures"),
	})

	b.StateMachine = newStateMachine(stack, "BatchWorkflow", b.definition(constructs.NewConstruct(stack, jsii.String("States")), cfg.largeFileBytes()), awscdk.Duration_Hours(jsii.Number(6)))

	b.Trigger = newGoFunction(stack, "Trigger", cfg, functionSpec{name: "trigger", memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		env: map[string]*string{"PULSE_BATCH_STATE_MACHINE_ARN": b.StateMachine.StateMachineArn()}})
	b.StateMachine.GrantStartExecution(b.Trigger)

	// The raw bucket is imported so that its notification configuration lives in this stack (the
	// dependency points batch -> storage only). The same custom resource turns on EventBridge
	// delivery, which the catalog workflow's rule reads.
	raw := awss3.Bucket_FromBucketAttributes(stack, jsii.String("RawBucket"), &awss3.BucketAttributes{
		BucketArn: st.Raw.BucketArn(), BucketName: st.Raw.BucketName(),
	})
	for _, ds := range BatchDatasets() {
		spec, err := dataset.Lookup(ds)
		if err != nil {
			panic(err) // cannot happen: the name comes from the registry
		}
		raw.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewLambdaDestination(b.Trigger),
			&awss3.NotificationKeyFilter{Prefix: jsii.String(spec.RawPrefix())})
	}
	output(stack, "BatchStateMachineArn", b.StateMachine.StateMachineArn())
	output(stack, "FailureTopicArn", b.FailureTopic.TopicArn())
	raw.EnableEventBridgeNotification()
	return b
}

func (b *BatchStack) definition(scope constructs.Construct, largeFileBytes int64) sfn.IChainable {
	failed := sfn.NewFail(scope, jsii.String(StateFailed), &sfn.FailProps{
		Error: jsii.String(ErrorBatchFailed),
		Cause: jsii.String("the file was quarantined; see the failure notification"),
	})
	notify := awsstepfunctionstasks.NewSnsPublish(scope, jsii.String(StateNotify), &awsstepfunctionstasks.SnsPublishProps{
		Topic:   b.FailureTopic,
		Subject: jsii.String("Pulse batch file failed"),
		Message: sfn.TaskInput_FromObject(&map[string]interface{}{
			"execution.$":  "$$.Execution.Id",
			"file.$":       "$.file",
			"error.$":      "$.error",
			"quarantined":  true,
			"workflowName": "batch",
		}),
		ResultPath: sfn.JsonPath_DISCARD(),
	})
	notify.AddRetry(&sfn.RetryProps{Errors: jsii.Strings(ErrorAll), MaxAttempts: jsii.Number(RetryMaxAttempts)})
	notify.Next(failed)

	quarantine := invoke(scope, StateQuarantine, b.Clean, map[string]interface{}{
		"mode": "quarantine", "file.$": "$.file", "error.$": "$.error",
	}, "$.quarantine")
	quarantine.AddCatch(notify, &sfn.CatchProps{Errors: jsii.Strings(ErrorAll), ResultPath: jsii.String("$.quarantineError")})
	quarantine.Next(notify)

	catch := func(t sfn.TaskStateBase) {
		t.AddCatch(quarantine, &sfn.CatchProps{Errors: jsii.Strings(ErrorAll), ResultPath: jsii.String("$.error")})
	}

	clean := invoke(scope, StateClean, b.Clean, map[string]interface{}{"mode": "clean", "file.$": "$.file"}, "$.clean")
	model := invokePath(scope, StateModel, b.Model, "$.clean.result", "$.model")
	load := invokePath(scope, StateLoad, b.Load, "$.model.result", "$.load")
	tests := invokePath(scope, StateDataTests, b.DataTests, "$.load.result", "$.tests")
	split := invoke(scope, StateSplit, b.Clean, map[string]interface{}{"mode": "split", "file.$": "$.file"}, "$.split")
	combine := invoke(scope, StateCombine, b.Clean, map[string]interface{}{
		"mode": "combine", "file.$": "$.split.result.file", "chunks.$": "States.ArrayLength($.split.result.chunks)",
	}, "$.clean")
	for _, t := range []sfn.TaskStateBase{clean, model, load, tests, split, combine} {
		catch(t)
	}

	// One chunk: the map item is {"mode":"clean","file": ..., "chunk": <item>}; its output, a small
	// manifest reference, is discarded (Combine reads the chunk manifests from the staging bucket).
	chunkTask := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String(StateChunkTask), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           b.Clean,
		Payload:                  sfn.TaskInput_FromJsonPathAt(jsii.String("$")),
		RetryOnServiceExceptions: jsii.Bool(false),
		OutputPath:               jsii.String("$.Payload"),
	})
	addRetry(chunkTask)
	chunks := sfn.NewDistributedMap(scope, jsii.String(StateCleanChunk), &sfn.DistributedMapProps{
		ItemsPath:      jsii.String("$.split.result.chunks"),
		ItemSelector:   &map[string]interface{}{"mode": "clean", "file.$": "$.split.result.file", "chunk.$": "$$.Map.Item.Value"},
		MaxConcurrency: jsii.Number(ChunkConcurrency),
		ResultPath:     sfn.JsonPath_DISCARD(),
	})
	chunks.ItemProcessor(chunkTask, nil)
	chunks.AddCatch(quarantine, &sfn.CatchProps{Errors: jsii.Strings(ErrorAll), ResultPath: jsii.String("$.error")})

	model.Next(load).Next(tests)
	split.Next(chunks).Next(combine).Next(model)
	clean.Next(model)
	return sfn.NewChoice(scope, jsii.String(StateFileSize), nil).
		When(sfn.Condition_NumberGreaterThan(jsii.String("$.file.size"), jsii.Number(float64(largeFileBytes))), split, nil).
		Otherwise(clean)
}

// manifestsPrefix is where the staging bucket keeps file and chunk manifests.
const manifestsPrefix = "_manifests/"

// ChunkConcurrency bounds how many chunks of one file are cleaned at once.
const ChunkConcurrency = 10
