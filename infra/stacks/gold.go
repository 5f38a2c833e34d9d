package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Gold workflow state names.
const (
	StateListDates   = "ListDates"
	StateGoldPerDate = "GoldPerDate"
	StateGoldForDate = "GoldForDate"
	// GoldMaxConcurrency bounds how many dates a backfill computes at once.
	GoldMaxConcurrency = 4
)

// GoldStackProps configures the daily gold and backfill workflow stack.
type GoldStackProps struct {
	awscdk.StackProps
	Config  Config
	Storage *StorageStack
	State   *StateStack
}

// GoldStack holds the gold function, the gold/backfill state machine and its daily schedule.
type GoldStack struct {
	awscdk.Stack
	Function     awslambda.Function
	StateMachine sfn.StateMachine
	DailyRule    awsevents.Rule
}

// NewGoldStack makes the gold workflow. Input {"from":"2024-01-01","to":"2024-01-31"} (a backfill) or
// {"scheduledAt": <time>} (the daily rule; the gold function picks the day before). ListDates calls
// the gold function with {"mode":"dates","request":<input>}, which returns {"dates":[...]}; a Map
// (MaxConcurrency GoldMaxConcurrency) then calls it with {"mode":"gold","date":<date>} per date to
// compute DAU/MAU and session metrics.
func NewGoldStack(scope constructs.Construct, id string, props *GoldStackProps) *GoldStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	g := &GoldStack{Stack: stack}
	cfg := props.Config
	// Gold is computed in the warehouse (SQL over the loaded facts): the function needs the warehouse
	// secret and nothing else.
	g.Function = newGoFunction(stack, "Gold", cfg, functionSpec{name: "gold", memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(15)),
		env: cfg.snowflakeEnv()})
	grantSecretValue(g.Function, snowflakeSecret(stack, cfg.SnowflakeSecretARN))

	list := invoke(stack, StateListDates, g.Function, map[string]interface{}{"mode": "dates", "request.$": "$"}, "$.dates")
	perDate := awsstepfunctionstasks.NewLambdaInvoke(stack, jsii.String(StateGoldForDate), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           g.Function,
		Payload:                  sfn.TaskInput_FromJsonPathAt(jsii.String("$")),
		RetryOnServiceExceptions: jsii.Bool(false),
		OutputPath:               jsii.String("$.Payload"),
	})
	addRetry(perDate)
	dates := sfn.NewMap(stack, jsii.String(StateGoldPerDate), &sfn.MapProps{
		ItemsPath:      jsii.String("$.dates.result.dates"),
		ItemSelector:   &map[string]interface{}{"mode": "gold", "date.$": "$$.Map.Item.Value"},
		MaxConcurrency: jsii.Number(GoldMaxConcurrency),
		ResultPath:     jsii.String("$.gold"),
	})
	dates.ItemProcessor(perDate, nil)
	g.StateMachine = newStateMachine(stack, "GoldWorkflow", list.Next(dates), awscdk.Duration_Hours(jsii.Number(12)))

	g.DailyRule = awsevents.NewRule(stack, jsii.String("GoldDaily"), &awsevents.RuleProps{
		Schedule: awsevents.Schedule_Cron(&awsevents.CronOptions{Minute: jsii.String("30"), Hour: jsii.String("2")}),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSfnStateMachine(g.StateMachine, &awseventstargets.SfnStateMachineProps{
			Input: awsevents.RuleTargetInput_FromObject(map[string]interface{}{"scheduledAt": awsevents.EventField_Time()}),
		})},
	})
	output(stack, "GoldStateMachineArn", g.StateMachine.StateMachineArn())
	return g
}
