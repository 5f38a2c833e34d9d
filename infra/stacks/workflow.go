package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ErrorAll matches every error.
const ErrorAll = "States.ALL"

// PermanentErrors are the Lambda errorTypes the workflows do not retry: they go straight to the Catch
// path. They are handlers.PermanentErrors (a function reports handlers.ErrorName(err) as its
// errorType); tests/stepfunctions checks the synthesized ASL against that list.
var PermanentErrors = []string{"NotADataset", "DataTestsFailed", "BadInput", "ClaimsReleased", "PermanentError"}

// ErrorClaimHeld is the errorType of a step that found a record's dedupe key held by work still in
// flight (another file's workflow, a stream batch): it is retried for longer, ClaimHeldRetry*, as
// the other work usually ends within minutes.
const ErrorClaimHeld = "ClaimHeld"

// ClaimHeldRetry* is the Retry of ErrorClaimHeld: about 19 minutes in all.
const (
	ClaimHeldIntervalSeconds = 10
	ClaimHeldBackoffRate     = 1.5
	ClaimHeldMaxAttempts     = 10
)

// RetryPolicy is the Retry every workflow task carries after the non-retried PermanentErrors:
// any other error is retried RetryMaxAttempts times with exponential backoff.
const (
	RetryIntervalSeconds = 2
	RetryBackoffRate     = 2
	RetryMaxAttempts     = 3
)

// invoke makes a LambdaInvoke task (resource arn:aws:states:::lambda:invoke) whose result is
// {"result": <function output>} at resultPath, with the standard Retry. payload nil sends the whole
// state input.
func invoke(scope constructs.Construct, id string, fn awslambda.IFunction, payload map[string]interface{}, resultPath string) awsstepfunctionstasks.LambdaInvoke {
	input := sfn.TaskInput_FromJsonPathAt(jsii.String("$"))
	if payload != nil {
		input = sfn.TaskInput_FromObject(&payload)
	}
	props := &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           fn,
		Payload:                  input,
		RetryOnServiceExceptions: jsii.Bool(false),
		ResultSelector:           &map[string]interface{}{"result.$": "$.Payload"},
	}
	if resultPath != "" {
		props.ResultPath = jsii.String(resultPath)
	}
	task := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String(id), props)
	addRetry(task)
	return task
}

// invokePath is invoke with the value at path (a JSONPath into the state) as the payload.
func invokePath(scope constructs.Construct, id string, fn awslambda.IFunction, path, resultPath string) awsstepfunctionstasks.LambdaInvoke {
	task := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String(id), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           fn,
		Payload:                  sfn.TaskInput_FromJsonPathAt(jsii.String(path)),
		RetryOnServiceExceptions: jsii.Bool(false),
		ResultSelector:           &map[string]interface{}{"result.$": "$.Payload"},
		ResultPath:               jsii.String(resultPath),
	})
	addRetry(task)
	return task
}

func addRetry(task sfn.TaskStateBase) {
	task.AddRetry(&sfn.RetryProps{Errors: jsii.Strings(PermanentErrors...), MaxAttempts: jsii.Number(0)})
	task.AddRetry(&sfn.RetryProps{
		Errors:      jsii.Strings(ErrorClaimHeld),
		Interval:    awscdk.Duration_Seconds(jsii.Number(ClaimHeldIntervalSeconds)),
		BackoffRate: jsii.Number(ClaimHeldBackoffRate),
		MaxAttempts: jsii.Number(ClaimHeldMaxAttempts),
	})
	task.AddRetry(&sfn.RetryProps{
		Errors:      jsii.Strings(ErrorAll),
		Interval:    awscdk.Duration_Seconds(jsii.Number(RetryIntervalSeconds)),
		BackoffRate: jsii.Number(RetryBackoffRate),
		MaxAttempts: jsii.Number(RetryMaxAttempts),
	})
}

// newStateMachine makes a STANDARD state machine with ALL-level logging to its own log group and
// X-Ray tracing.
func newStateMachine(scope constructs.Construct, id string, definition sfn.IChainable, timeout awscdk.Duration) sfn.StateMachine {
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return sfn.NewStateMachine(scope, jsii.String(id), &sfn.StateMachineProps{
		DefinitionBody:   sfn.DefinitionBody_FromChainable(definition),
		StateMachineType: sfn.StateMachineType_STANDARD,
		Timeout:          timeout,
		TracingEnabled:   jsii.Bool(true),
		Logs: &sfn.LogOptions{
			Destination:          logs,
			Level:                sfn.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
	})
}
