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
)

// BatchDatasets are the raw/<dataset>/ prefixes whose new objects start the batch workflow.
// raw/movies_catalog/ is not among them: the catalog workflow owns it.
var BatchDatasets = []string{"community_interactions", "live_streaming", "video_interactions", "app_interactions", "app_users"}

// Batch workflow state names (stable: tests and the harness refer to them).
const (
	StateFileSize   = "FileSize"
	StateSplit      = "Split"
	StateCleanChunk = "CleanChunks"
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
}

// NewBatchStack makes the batch workflow. Its input is {"file": {"bucket","key","versionId","etag",
// "size","dataset"}} as the trigger writes it. A file above Config.LargeFileBytes is split by the
// clean function (mode "split", returning {"chunks": [...]}) and cleaned chunk by chunk in a
// Distributed Map; otherwise Clean runs once. Then Model -> Load -> DataTests. Every task retries
// (not on RejectedError) and catches into Quarantine (the clean function in mode "quarantine",
// which copies the file to the quarantine bucket with the error), an SNS notification and Fail.
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
	withEnv := func(extra map[string]*string) map[string]*string {
		env := map[string]*string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	secretEnv := map[string]*string{"PULSE_SNOWFLAKE_SECRET_ARN": jsii.String(cfg.SnowflakeSecretARN)}
	minutes := func(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }

	b.Clean = newGoFunction(stack, "Clean", cfg.LambdaDir, functionSpec{name: "clean", memory: 2048, timeout: minutes(15),
		env: withEnv(map[string]*string{"PULSE_DEDUPE_TABLE": props.State.Dedupe.TableName()})})
	b.Model = newGoFunction(stack, "Model", cfg.LambdaDir, functionSpec{name: "model", memory: 2048, timeout: minutes(15), env: withEnv(nil)})
	b.Load = newGoFunction(stack, "Load", cfg.LambdaDir, functionSpec{name: "load", memory: 512, timeout: minutes(15), env: withEnv(secretEnv)})
	b.DataTests = newGoFunction(stack, "DataTests", cfg.LambdaDir, functionSpec{name: "datatests", memory: 512, timeout: minutes(10), env: withEnv(secretEnv)})

	grantObjectsRead(b.Clean, st.Raw, st.Key, "raw/")
	grantObjectsWrite(b.Clean, st.Staging, st.Key, "")
	grantObjectsWrite(b.Clean, st.Quarantine, st.Key, "")
	props.State.Dedupe.GrantReadWriteData(b.Clean)
	grantObjectsRead(b.Model, st.Staging, st.Key, "")
	grantObjectsWrite(b.Model, st.Curated, st.Key, "")
	grantObjectsRead(b.Load, st.Curated, st.Key, "")
	grantObjectsRead(b.DataTests, st.Curated, st.Key, "")
	secret := snowflakeSecret(stack, cfg.SnowflakeSecretARN)
	secret.GrantRead(b.Load, nil)
	secret.GrantRead(b.DataTests, nil)

	topicKey := awskms.NewKey(stack, jsii.String("FailureTopicKey"), &awskms.KeyProps{
		Description: jsii.String("Pulse batch failure notifications"), EnableKeyRotation: jsii.Bool(true),
	})
	b.FailureTopic = awssns.NewTopic(stack, jsii.String("FailureTopic"), &awssns.TopicProps{
		MasterKey: topicKey, EnforceSSL: jsii.Bool(true), DisplayName: jsii.String("Pulse batch failures"),
	})

	b.StateMachine = newStateMachine(stack, "BatchWorkflow", b.definition(constructs.NewConstruct(stack, jsii.String("States")), cfg.largeFileBytes()), awscdk.Duration_Hours(jsii.Number(6)))

	b.Trigger = newGoFunction(stack, "Trigger", cfg.LambdaDir, functionSpec{name: "trigger", memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		env: map[string]*string{
			"PULSE_BATCH_STATE_MACHINE_ARN": b.StateMachine.StateMachineArn(),
			"PULSE_LARGE_FILE_BYTES":        jsii.String(strconv.FormatInt(cfg.largeFileBytes(), 10)),
		}})
	b.StateMachine.GrantStartExecution(b.Trigger)

	// The raw bucket is imported so that its notification configuration lives in this stack (the
	// dependency points batch -> storage only). The same custom resource turns on EventBridge
	// delivery, which the catalog workflow's rule reads.
	raw := awss3.Bucket_FromBucketAttributes(stack, jsii.String("RawBucket"), &awss3.BucketAttributes{
		BucketArn: st.Raw.BucketArn(), BucketName: st.Raw.BucketName(),
	})
	for _, ds := range BatchDatasets {
		raw.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewLambdaDestination(b.Trigger),
			&awss3.NotificationKeyFilter{Prefix: jsii.String("raw/" + ds + "/")})
	}
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
	model := invoke(scope, StateModel, b.Model, map[string]interface{}{"file.$": "$.file", "clean.$": "$.clean.result"}, "$.model")
	load := invoke(scope, StateLoad, b.Load, map[string]interface{}{"file.$": "$.file", "model.$": "$.model.result"}, "$.load")
	tests := invoke(scope, StateDataTests, b.DataTests, map[string]interface{}{"file.$": "$.file", "load.$": "$.load.result"}, "$.tests")
	split := invoke(scope, StateSplit, b.Clean, map[string]interface{}{"mode": "split", "file.$": "$.file"}, "$.split")
	for _, t := range []sfn.TaskStateBase{clean, model, load, tests, split} {
		catch(t)
	}

	// One chunk: the map item is {"file": ..., "chunk": <item>}, the result the clean output.
	chunkTask := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String("CleanChunk"), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           b.Clean,
		Payload:                  sfn.TaskInput_FromJsonPathAt(jsii.String("$")),
		RetryOnServiceExceptions: jsii.Bool(false),
		OutputPath:               jsii.String("$.Payload"),
	})
	addRetry(chunkTask)
	chunks := sfn.NewDistributedMap(scope, jsii.String(StateCleanChunk), &sfn.DistributedMapProps{
		ItemsPath:      jsii.String("$.split.result.chunks"),
		ItemSelector:   &map[string]interface{}{"mode": "clean", "file.$": "$.file", "chunk.$": "$$.Map.Item.Value"},
		MaxConcurrency: jsii.Number(10),
		ResultSelector: &map[string]interface{}{"result": map[string]interface{}{"chunks.$": "$"}},
		ResultPath:     jsii.String("$.clean"),
	})
	chunks.ItemProcessor(chunkTask, nil)
	chunks.AddCatch(quarantine, &sfn.CatchProps{Errors: jsii.Strings(ErrorAll), ResultPath: jsii.String("$.error")})

	model.Next(load).Next(tests)
	split.Next(chunks)
	chunks.Next(model)
	clean.Next(model)
	return sfn.NewChoice(scope, jsii.String(StateFileSize), nil).
		When(sfn.Condition_NumberGreaterThan(jsii.String("$.file.size"), jsii.Number(float64(largeFileBytes))), split, nil).
		Otherwise(clean)
}
