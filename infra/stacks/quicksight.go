package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsquicksight"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/pulse-analytics/pulse/dashboards/metabase"
)

// QuickSightStackID is the optional QuickSight stack (context quicksight=true).
const QuickSightStackID = "PulseQuickSight"

// Context keys of the QuickSight stack.
const (
	// ContextQuickSight turns the stack on: "true" or "false" (default).
	ContextQuickSight = "quicksight"
	// ContextQuickSightPrincipalARN is the QuickSight user or group the data
	// source, datasets and dashboards are shared with.
	ContextQuickSightPrincipalARN = "quicksightPrincipalArn"
	// ContextQuickSightSecretARN is the Secrets Manager secret with the
	// Snowflake user QuickSight connects as ({"username": ..., "password": ...}).
	ContextQuickSightSecretARN = "quicksightSecretArn"
)

// QuickSightConfig is the optional QuickSight stack's configuration.
type QuickSightConfig struct {
	Enabled bool
	// PrincipalARN is a QuickSight user or group ARN
	// (arn:aws:quicksight:<region>:<account>:group/<namespace>/<name>).
	PrincipalARN string
	// SecretARN is the credential-pair secret of the Snowflake user
	// QuickSight reads the views as. QuickSight data sources take a secret
	// holding a user name and password; the functions' secret
	// (SnowflakeSecretARN) holds the loader's private key, which can write.
	SecretARN string
}

// loadQuickSight reads the QuickSight context keys.
func loadQuickSight(lookup func(key string) string) (QuickSightConfig, error) {
	q := QuickSightConfig{PrincipalARN: lookup(ContextQuickSightPrincipalARN), SecretARN: lookup(ContextQuickSightSecretARN)}
	switch v := lookup(ContextQuickSight); v {
	case "", "false":
	case "true":
		q.Enabled = true
	default:
		return QuickSightConfig{}, fmt.Errorf("checking %s: %q is not true or false", ContextQuickSight, v)
	}
	return q, nil
}

var quickSightPrincipalRe = regexp.MustCompile(`^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:[0-9]{12}:(user|group)/[^/]+/[^/]+$`)

// validateQuickSight checks what the QuickSight stack needs when it is on.
func (c Config) validateQuickSight() error {
	q := c.QuickSight
	if !q.Enabled {
		return nil
	}
	if !quickSightPrincipalRe.MatchString(q.PrincipalARN) {
		return fmt.Errorf("checking %s: %q is not a QuickSight user or group ARN (arn:aws:quicksight:<region>:<account>:group/<namespace>/<name>); %s=true needs it",
			ContextQuickSightPrincipalARN, q.PrincipalARN, ContextQuickSight)
	}
	if !strings.HasPrefix(q.SecretARN, "arn:") || !strings.Contains(q.SecretARN, ":secretsmanager:") {
		return fmt.Errorf("checking %s: %q is not a Secrets Manager ARN; %s=true needs the secret of the Snowflake user QuickSight connects as",
			ContextQuickSightSecretARN, q.SecretARN, ContextQuickSight)
	}
	for _, name := range []string{"Account", "Warehouse", "Database"} {
		if c.Snowflake[name] == "" {
			return fmt.Errorf("checking %s%s: %s=true needs it for the QuickSight data source", ContextSnowflakePrefix, name, ContextQuickSight)
		}
	}
	return nil
}

// snowflakeHost is the Snowflake host of an account identifier.
func snowflakeHost(account string) string {
	if strings.HasSuffix(account, ".snowflakecomputing.com") {
		return account
	}
	return account + ".snowflakecomputing.com"
}

// What the principal may do: read and use, never change (changes are made
// here, in code).
var (
	quickSightDataSourceActions = []string{"quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions", "quicksight:PassDataSource"}
	quickSightDataSetActions    = []string{"quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
		"quicksight:DescribeIngestion", "quicksight:ListIngestions"}
	quickSightDashboardActions = []string{"quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard"}
)

// QuickSightStackProps are the QuickSight stack's inputs.
type QuickSightStackProps struct {
	awscdk.StackProps
	Config Config
}

// QuickSightStack holds the Snowflake data source, one dataset per view the
// Metabase cards read, a daily refresh per SPICE dataset, and one dashboard
// per Metabase dashboard.
type QuickSightStack struct {
	awscdk.Stack
	DataSource       awsquicksight.CfnDataSource
	DataSets         map[string]awsquicksight.CfnDataSet // by view
	RefreshSchedules []awsquicksight.CfnRefreshSchedule
	Dashboards       map[string]awsquicksight.CfnDashboard // by Metabase dashboard key
}

// NewQuickSightStack makes the QuickSight stack. It panics when the
// Metabase definitions cannot be turned into QuickSight ones (a test covers
// them), like CDK does on a bad construct.
func NewQuickSightStack(scope constructs.Construct, id string, props *QuickSightStackProps) *QuickSightStack {
	st := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	q := cfg.QuickSight
	account := awscdk.Aws_ACCOUNT_ID()
	s := &QuickSightStack{Stack: st, DataSets: map[string]awsquicksight.CfnDataSet{}, Dashboards: map[string]awsquicksight.CfnDashboard{}}

	var role *string
	if r := cfg.Snowflake["Role"]; r != "" {
		role = jsii.String(r)
	}
	s.DataSource = awsquicksight.NewCfnDataSource(st, jsii.String("Snowflake"), &awsquicksight.CfnDataSourceProps{
		AwsAccountId: account,
		DataSourceId: jsii.String("pulse-snowflake"),
		Name:         jsii.String("Pulse Snowflake"),
		Type:         jsii.String("SNOWFLAKE"),
		DataSourceParameters: &awsquicksight.CfnDataSource_DataSourceParametersProperty{
			SnowflakeParameters: &awsquicksight.CfnDataSource_SnowflakeParametersProperty{
				Host:                      jsii.String(snowflakeHost(cfg.Snowflake["Account"])),
				Database:                  jsii.String(cfg.Snowflake["Database"]),
				Warehouse:                 jsii.String(cfg.Snowflake["Warehouse"]),
				DatabaseAccessControlRole: role,
			},
		},
		Credentials:   &awsquicksight.CfnDataSource_DataSourceCredentialsProperty{SecretArn: jsii.String(q.SecretARN)},
		SslProperties: &awsquicksight.CfnDataSource_SslPropertiesProperty{DisableSsl: jsii.Bool(false)},
		Permissions: &[]*awsquicksight.CfnDataSource_ResourcePermissionProperty{
			{Principal: jsii.String(q.PrincipalARN), Actions: jsii.Strings(quickSightDataSourceActions...)},
		},
	})

	sets, err := QuickSightDatasets(cfg.Snowflake["Schema"])
	if err != nil {
		panic(fmt.Errorf("deriving the QuickSight datasets: %w", err))
	}
	arns := map[string]*string{}
	for _, d := range sets {
		cols := make([]*awsquicksight.CfnDataSet_InputColumnProperty, len(d.Columns))
		for i, c := range d.Columns {
			cols[i] = &awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)}
		}
		ds := awsquicksight.NewCfnDataSet(st, jsii.String("DataSet"+pascal(d.View)), &awsquicksight.CfnDataSetProps{
			AwsAccountId: account,
			DataSetId:    jsii.String(d.ID),
			Name:         jsii.String("Pulse " + d.View),
			ImportMode:   jsii.String(d.ImportMode),
			PhysicalTableMap: map[string]*awsquicksight.CfnDataSet_PhysicalTableProperty{
				"view": {CustomSql: &awsquicksight.CfnDataSet_CustomSqlProperty{
					DataSourceArn: s.DataSource.AttrArn(),
					Name:          jsii.String(d.View),
					SqlQuery:      jsii.String(d.SQL),
					Columns:       &cols,
				}},
			},
			// A deploy does not wait for the first SPICE import (36 hours by
			// default); the refresh schedule and the console show it.
			IngestionWaitPolicy: &awsquicksight.CfnDataSet_IngestionWaitPolicyProperty{WaitForSpiceIngestion: jsii.Bool(false)},
			Permissions: &[]*awsquicksight.CfnDataSet_ResourcePermissionProperty{
				{Principal: jsii.String(q.PrincipalARN), Actions: jsii.Strings(quickSightDataSetActions...)},
			},
		})
		s.DataSets[d.View] = ds
		arns[d.View] = ds.AttrArn()
		if d.ImportMode == ImportSPICE {
			rs := awsquicksight.NewCfnRefreshSchedule(st, jsii.String("Refresh"+pascal(d.View)), &awsquicksight.CfnRefreshScheduleProps{
				AwsAccountId: account,
				DataSetId:    jsii.String(d.ID),
				Schedule: &awsquicksight.CfnRefreshSchedule_RefreshScheduleMapProperty{
					ScheduleId:  jsii.String(d.ID + "-daily"),
					RefreshType: jsii.String("FULL_REFRESH"),
					ScheduleFrequency: &awsquicksight.CfnRefreshSchedule_ScheduleFrequencyProperty{
						Interval: jsii.String("DAILY"), TimeOfTheDay: jsii.String(d.RefreshTime), TimeZone: jsii.String("UTC"),
					},
				},
			})
			rs.Node().AddDependency(ds) // DataSetId is a name, not a reference
			s.RefreshSchedules = append(s.RefreshSchedules, rs)
		}
	}

	dashboards, err := quickSightDashboards()
	if err != nil {
		panic(err)
	}
	types := map[string]string{}
	for _, d := range sets {
		for _, c := range d.Columns {
			types[d.View+"."+c.Name] = c.Type
		}
	}
	for _, d := range dashboards {
		def, err := dashboardDefinition(d, arns, types)
		if err != nil {
			panic(fmt.Errorf("deriving the QuickSight dashboard: %w", err))
		}
		s.Dashboards[d.Key] = awsquicksight.NewCfnDashboard(st, jsii.String("Dashboard"+pascal(d.Key)), &awsquicksight.CfnDashboardProps{
			AwsAccountId:       account,
			DashboardId:        jsii.String("pulse-" + d.Key),
			Name:               jsii.String(d.Name),
			VersionDescription: jsii.String(truncate(d.Description, 512)),
			Definition:         def,
			Permissions: &[]*awsquicksight.CfnDashboard_ResourcePermissionProperty{
				{Principal: jsii.String(q.PrincipalARN), Actions: jsii.Strings(quickSightDashboardActions...)},
			},
		})
	}
	awscdk.NewCfnOutput(st, jsii.String("DashboardIds"), &awscdk.CfnOutputProps{
		Value: jsii.String(strings.Join(dashboardIDs(dashboards), ",")),
	})
	return s
}

func dashboardIDs(ds []metabase.Dashboard) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = "pulse-" + d.Key
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pascal turns SOME_VIEW or some-key into SomeView (construct ids).
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// parameterName is a filter slug as a QuickSight parameter name
// (alphanumeric): window_type -> windowType.
func parameterName(slug string) string {
	p := pascal(slug)
	return strings.ToLower(p[:1]) + p[1:]
}
