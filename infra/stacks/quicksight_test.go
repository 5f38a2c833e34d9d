package stacks_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/pulse-analytics/pulse/dashboards/metabase"
	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/infra/stacks"
)

const (
	qsPrincipal = "arn:aws:quicksight:eu-west-1:111122223333:group/default/pulse-analysts"
	qsSecret    = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:pulse/quicksight-XyZ123"
)

// quickSightConfig is the test configuration with QuickSight on.
func quickSightConfig(t *testing.T) stacks.Config {
	t.Helper()
	cfg := testCfg
	cfg.Snowflake = map[string]string{"Account": "xy12345.eu-west-1", "User": "PULSE_LOADER", "Warehouse": "PULSE_WH",
		"Database": "PULSE", "Schema": "PUBLIC", "Role": "PULSE_READER"}
	cfg.QuickSight = stacks.QuickSightConfig{Enabled: true, PrincipalARN: qsPrincipal, SecretARN: qsSecret}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The QuickSight stack is synthesized once, when a test first needs it, in an
// app of its own (it depends on no other stack; TestQuickSightInApp checks that
// NewPulse adds it) with the cdk-nag AwsSolutions aspect.
var (
	qsOnce  sync.Once
	qsStack *stacks.QuickSightStack
	qsTmpl  cfn
	qsErr   error
)

func quickSightApp(t *testing.T) (*stacks.QuickSightStack, cfn) {
	t.Helper()
	cfg := quickSightConfig(t)
	qsOnce.Do(func() {
		ctx, err := cdkJSONContext()
		if err != nil {
			qsErr = err
			return
		}
		ctx["aws:cdk:enable-path-metadata"] = true
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		qsStack = stacks.NewQuickSightStack(app, stacks.QuickSightStackID, &stacks.QuickSightStackProps{Config: cfg})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		b, err := json.Marshal(assertions.Template_FromStack(qsStack.Stack, nil).ToJSON())
		if err == nil {
			err = json.Unmarshal(b, &qsTmpl)
		}
		qsErr = err
	})
	if qsErr != nil {
		t.Fatal(qsErr)
	}
	return qsStack, qsTmpl
}

// TestQuickSightInApp: with QuickSight on, NewPulse adds the stack (and
// StacksByID, so the nag suppressions and checks, lists it).
func TestQuickSightInApp(t *testing.T) {
	app := awscdk.NewApp(nil)
	p := stacks.NewPulse(app, quickSightConfig(t), nil)
	if p.QuickSight == nil {
		t.Fatal("quicksight on, but NewPulse made no QuickSight stack")
	}
	if st, ok := p.StacksByID()[stacks.QuickSightStackID]; !ok || *st.StackName() != stacks.QuickSightStackID {
		t.Errorf("StacksByID lacks %s", stacks.QuickSightStackID)
	}
}

// metabaseSpecs are the Metabase dashboards, the single source of the QuickSight ones.
func metabaseSpecs(t *testing.T) []metabase.Dashboard {
	t.Helper()
	ds, err := metabase.Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		t.Fatal("no Metabase dashboards")
	}
	return ds
}

func TestQuickSightOffByDefault(t *testing.T) {
	if pulse.QuickSight != nil {
		t.Error("the default app has a QuickSight stack")
	}
	for id := range pulse.StacksByID() {
		for lid, r := range template(t, id).Resources {
			if strings.HasPrefix(r.Type, "AWS::QuickSight::") {
				t.Errorf("%s has %s (%s) with QuickSight off", id, lid, r.Type)
			}
		}
	}
	t.Setenv("PULSE_LAMBDA_DIR", testCfg.LambdaDir)
	cfg, err := stacks.LoadConfig(func(k string) string { return map[string]string{stacks.ContextPlaceholders: "true"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QuickSight.Enabled {
		t.Error("LoadConfig turns QuickSight on without the quicksight context key")
	}
}

func TestQuickSightConfigErrors(t *testing.T) {
	t.Setenv("PULSE_LAMBDA_DIR", testCfg.LambdaDir)
	good := map[string]string{"quicksight": "true", "quicksightPrincipalArn": qsPrincipal, "quicksightSecretArn": qsSecret,
		"snowflakeAccount": "xy12345", "snowflakeWarehouse": "PULSE_WH", "snowflakeDatabase": "PULSE",
		stacks.ContextPlaceholders: "true"}
	cfg, err := stacks.LoadConfig(func(k string) string { return good[k] })
	if err != nil {
		t.Fatalf("a complete QuickSight context: %v", err)
	}
	if want := (stacks.QuickSightConfig{Enabled: true, PrincipalARN: qsPrincipal, SecretARN: qsSecret}); cfg.QuickSight != want {
		t.Errorf("QuickSight config %+v, want %+v", cfg.QuickSight, want)
	}
	for _, tc := range []struct {
		key, value, inError string
	}{
		{"quicksight", "yes", `quicksight: "yes" is not true or false`},
		{"quicksightPrincipalArn", "", "quicksightPrincipalArn"},
		{"quicksightPrincipalArn", "arn:aws:iam::111122223333:role/analyst", "quicksightPrincipalArn"},
		{"quicksightSecretArn", "", "quicksightSecretArn"},
		{"snowflakeWarehouse", "", "snowflakeWarehouse"},
		{"snowflakeDatabase", "", "snowflakeDatabase"},
		{"snowflakeAccount", "", "snowflakeAccount"},
	} {
		ctx := map[string]string{}
		for k, v := range good {
			ctx[k] = v
		}
		ctx[tc.key] = tc.value
		_, err := stacks.LoadConfig(func(k string) string { return ctx[k] })
		if err == nil || !strings.Contains(err.Error(), tc.inError) {
			t.Errorf("%s=%q: error %v, want one containing %q", tc.key, tc.value, err, tc.inError)
		}
	}
	// Off, nothing else is needed.
	if _, err := stacks.LoadConfig(func(k string) string {
		return map[string]string{"quicksight": "false", stacks.ContextPlaceholders: "true"}[k]
	}); err != nil {
		t.Errorf("quicksight=false: %v", err)
	}
}

func TestQuickSightDataSource(t *testing.T) {
	_, tp := quickSightApp(t)
	srcs := tp.ofType("AWS::QuickSight::DataSource")
	if len(srcs) != 1 {
		t.Fatalf("%d data sources, want 1", len(srcs))
	}
	for _, r := range srcs {
		p := r.Properties
		if p["Type"] != "SNOWFLAKE" {
			t.Errorf("data source type %v", p["Type"])
		}
		if got := p["Credentials"].(map[string]any)["SecretArn"]; got != qsSecret {
			t.Errorf("credentials secret %v, want %s", got, qsSecret)
		}
		sf := p["DataSourceParameters"].(map[string]any)["SnowflakeParameters"].(map[string]any)
		want := map[string]any{"Host": "xy12345.eu-west-1.snowflakecomputing.com", "Database": "PULSE", "Warehouse": "PULSE_WH",
			"DatabaseAccessControlRole": "PULSE_READER"}
		for k, v := range want {
			if sf[k] != v {
				t.Errorf("SnowflakeParameters.%s = %v, want %v", k, sf[k], v)
			}
		}
	}
}

var selectListRe = regexp.MustCompile(`(?s)^SELECT (.*?) FROM `)

// plainColumns are the bare columns of a query's SELECT list.
func plainColumns(q string) []string {
	var out []string
	for _, item := range strings.Split(selectListRe.FindStringSubmatch(q)[1], ",") {
		item = strings.TrimSpace(item)
		if regexp.MustCompile(`^[A-Z_0-9]+$`).MatchString(item) {
			out = append(out, item)
		}
	}
	return out
}

// dataSets are the template's datasets by the view their SQL reads, with their column names.
type qsDataSet struct {
	logicalID, sql, mode string
	columns              map[string]string
}

func dataSetsByView(t *testing.T, tp cfn) map[string]qsDataSet {
	t.Helper()
	out := map[string]qsDataSet{}
	re := regexp.MustCompile(`^SELECT ([A-Z_0-9]+(, [A-Z_0-9]+)*) FROM PUBLIC\.([A-Z_0-9]+)$`)
	for id, r := range tp.ofType("AWS::QuickSight::DataSet") {
		tables := r.Properties["PhysicalTableMap"].(map[string]any)
		if len(tables) != 1 {
			t.Fatalf("dataset %s has %d physical tables", id, len(tables))
		}
		for _, tab := range tables {
			sql := tab.(map[string]any)["CustomSql"].(map[string]any)
			q := sql["SqlQuery"].(string)
			m := re.FindStringSubmatch(q)
			if m == nil {
				t.Fatalf("dataset %s: SQL %q is not SELECT <columns> FROM PUBLIC.<view>", id, q)
			}
			if b, _ := json.Marshal(sql["DataSourceArn"]); !strings.Contains(string(b), `"Fn::GetAtt":["Snowflake`) {
				t.Errorf("dataset %s reads data source %s", id, b)
			}
			cols := map[string]string{}
			for _, c := range sql["Columns"].([]any) {
				cm := c.(map[string]any)
				cols[cm["Name"].(string)] = cm["Type"].(string)
			}
			if _, dup := out[m[3]]; dup {
				t.Errorf("two datasets read %s", m[3])
			}
			out[m[3]] = qsDataSet{logicalID: id, sql: q, mode: r.Properties["ImportMode"].(string), columns: cols}
		}
	}
	return out
}

func TestQuickSightDataSets(t *testing.T) {
	_, tp := quickSightApp(t)
	sets := dataSetsByView(t, tp)
	wantCols := map[string]map[string]bool{}
	goldOnly := map[string]bool{}
	others := map[string]bool{}
	for _, d := range metabaseSpecs(t) {
		for _, c := range d.Cards {
			if wantCols[c.View] == nil {
				wantCols[c.View] = map[string]bool{}
			}
			for _, col := range plainColumns(c.Query) {
				wantCols[c.View][col] = true
			}
			if d.Key == "gold" {
				goldOnly[c.View] = true
			} else {
				others[c.View] = true
			}
		}
	}
	for v := range others {
		delete(goldOnly, v)
	}
	if len(sets) != len(wantCols) {
		t.Errorf("%d datasets, want %d (one per view a Metabase card reads)", len(sets), len(wantCols))
	}
	for view, cols := range wantCols {
		s, ok := sets[view]
		if !ok {
			t.Errorf("no dataset reads %s", view)
			continue
		}
		for col := range cols {
			if _, ok := s.columns[col]; !ok {
				t.Errorf("dataset over %s lacks %s, which a card selects (%s)", view, col, s.sql)
			}
		}
		if _, ok := views.Lookup(view); !ok {
			t.Errorf("%s is no view of dashboards/views", view)
		}
		want := "DIRECT_QUERY"
		if goldOnly[view] {
			want = "SPICE"
		}
		if s.mode != want {
			t.Errorf("dataset over %s imports as %s, want %s", view, s.mode, want)
		}
	}
	// The pageviews card filters on WINDOW_TYPE without selecting it: the dataset has it.
	if _, ok := sets["PAGEVIEWS_BY_SOURCE_WINDOW"].columns["WINDOW_TYPE"]; !ok {
		t.Error("PAGEVIEWS_BY_SOURCE_WINDOW's dataset lacks WINDOW_TYPE, the column its filter compares")
	}
	if got := sets["SOCIAL_VISITORS_LAST_5_MIN"].columns["WINDOW_START"]; got != "DATETIME" {
		t.Errorf("SOCIAL_VISITORS_LAST_5_MIN.WINDOW_START is %q, want DATETIME", got)
	}
}

// TestQuickSightRefreshSchedules: one daily full refresh per SPICE dataset,
// an hour after the gold workflow's schedule in PulseGold.
func TestQuickSightRefreshSchedules(t *testing.T) {
	_, tp := quickSightApp(t)
	spice := map[string]bool{}
	for _, r := range tp.ofType("AWS::QuickSight::DataSet") {
		if r.Properties["ImportMode"] == "SPICE" {
			spice[r.Properties["DataSetId"].(string)] = true
		}
	}
	var goldCron string
	for _, r := range template(t, stacks.GoldStackID).ofType("AWS::Events::Rule") {
		if s, ok := r.Properties["ScheduleExpression"].(string); ok {
			goldCron = s
		}
	}
	m := regexp.MustCompile(`^cron\((\d+) (\d+) `).FindStringSubmatch(goldCron)
	if m == nil {
		t.Fatalf("gold schedule %q", goldCron)
	}
	minute, _ := strconv.Atoi(m[1])
	hour, _ := strconv.Atoi(m[2])
	wantTime := fmt.Sprintf("%02d:%02d", hour+1, minute)
	rs := tp.ofType("AWS::QuickSight::RefreshSchedule")
	if len(rs) != len(spice) || len(spice) != 2 {
		t.Errorf("%d refresh schedules for %d SPICE datasets, want 2 (the gold views)", len(rs), len(spice))
	}
	for id, r := range rs {
		ds := r.Properties["DataSetId"].(string)
		if !spice[ds] {
			t.Errorf("refresh schedule %s is for %s, no SPICE dataset", id, ds)
		}
		s := r.Properties["Schedule"].(map[string]any)
		f := s["ScheduleFrequency"].(map[string]any)
		if s["RefreshType"] != "FULL_REFRESH" || f["Interval"] != "DAILY" || f["TimeOfTheDay"] != wantTime || f["TimeZone"] != "UTC" {
			t.Errorf("refresh schedule of %s: %v, want a daily full refresh at %s UTC", ds, s, wantTime)
		}
	}
}

func TestQuickSightDashboards(t *testing.T) {
	_, tp := quickSightApp(t)
	sets := dataSetsByView(t, tp)
	byDataSetID := map[string]qsDataSet{}
	for view, s := range sets {
		byDataSetID["pulse-"+strings.ReplaceAll(strings.ToLower(view), "_", "-")] = s
	}
	dashboards := map[string]map[string]any{}
	for _, r := range tp.ofType("AWS::QuickSight::Dashboard") {
		dashboards[r.Properties["DashboardId"].(string)] = r.Properties
	}
	specs := metabaseSpecs(t)
	if len(dashboards) != len(specs) {
		t.Errorf("%d dashboards, want %d", len(dashboards), len(specs))
	}
	kinds := map[string]string{"bar": "BarChartVisual", "row": "BarChartVisual", "line": "LineChartVisual",
		"pie": "PieChartVisual", "scalar": "KPIVisual", "table": "TableVisual"}
	for _, d := range specs {
		p, ok := dashboards["pulse-"+d.Key]
		if !ok {
			t.Errorf("no dashboard pulse-%s", d.Key)
			continue
		}
		if p["Name"] != d.Name {
			t.Errorf("pulse-%s is named %v, want %q", d.Key, p["Name"], d.Name)
		}
		def := p["Definition"].(map[string]any)
		sheets := def["Sheets"].([]any)
		if len(sheets) != 1 {
			t.Errorf("pulse-%s has %d sheets", d.Key, len(sheets))
			continue
		}
		sheet := sheets[0].(map[string]any)
		visuals := sheet["Visuals"].([]any)
		if len(visuals) != len(d.Cards) {
			t.Errorf("pulse-%s has %d visuals, want %d (its cards)", d.Key, len(visuals), len(d.Cards))
			continue
		}
		wantFilterGroups := 0
		for i, c := range d.Cards {
			vis := visuals[i].(map[string]any)
			body, ok := vis[kinds[c.Display]].(map[string]any)
			if !ok || len(vis) != 1 {
				t.Errorf("pulse-%s visual %d: %v, want one %s (card %s, display %s)", d.Key, i, keys(vis), kinds[c.Display], c.Key, c.Display)
				continue
			}
			name := c.Name
			if name == "" {
				v, _ := views.Lookup(c.View)
				name = v.Title
			}
			if got := body["Title"].(map[string]any)["FormatText"].(map[string]any)["PlainText"]; got != name {
				t.Errorf("pulse-%s visual %d is titled %v, want %q", d.Key, i, got, name)
			}
			wantFilterGroups += len(c.Tags())
			// Sorts name fields of the visual.
			ids := map[string]bool{}
			walkKey(body["ChartConfiguration"].(map[string]any)["FieldWells"], "FieldId", func(v any) { ids[v.(string)] = true })
			walkKey(body["ChartConfiguration"].(map[string]any)["SortConfiguration"], "FieldId", func(v any) {
				if !ids[v.(string)] {
					t.Errorf("pulse-%s visual %d sorts by %v, which it does not show", d.Key, i, v)
				}
			})
		}
		// The grid places every visual once, inside QuickSight's 36 columns.
		elems := sheet["Layouts"].([]any)[0].(map[string]any)["Configuration"].(map[string]any)["GridLayout"].(map[string]any)["Elements"].([]any)
		if len(elems) != len(d.Cards) {
			t.Errorf("pulse-%s lays out %d elements, want %d", d.Key, len(elems), len(d.Cards))
		}
		for i, e := range elems {
			em := e.(map[string]any)
			vid := visuals[i].(map[string]any)
			var want any
			for _, b := range vid {
				want = b.(map[string]any)["VisualId"]
			}
			if em["ElementId"] != want || em["ColumnIndex"].(float64)+em["ColumnSpan"].(float64) > 36 || em["RowSpan"].(float64) > 21 {
				t.Errorf("pulse-%s layout element %d: %v (visual %v)", d.Key, i, em, want)
			}
		}
		// Every column a dashboard names is a column of the dataset it names.
		walkColumns(def, func(dataset, col string) {
			s, ok := byDataSetID[dataset]
			if !ok {
				t.Errorf("pulse-%s names dataset %s, which is not declared", d.Key, dataset)
			} else if _, ok := s.columns[col]; !ok {
				t.Errorf("pulse-%s reads %s.%s, which the dataset does not select", d.Key, dataset, col)
			}
		})
		// Filters: one parameter and one drop-down per Metabase filter, one filter per wired card.
		params, _ := def["ParameterDeclarations"].([]any)
		controls, _ := sheet["ParameterControls"].([]any)
		groups, _ := def["FilterGroups"].([]any)
		if len(params) != len(d.Filters) || len(controls) != len(d.Filters) || len(groups) != wantFilterGroups {
			t.Errorf("pulse-%s: %d parameters, %d controls, %d filter groups; want %d, %d, %d",
				d.Key, len(params), len(controls), len(groups), len(d.Filters), len(d.Filters), wantFilterGroups)
			continue
		}
		for i, f := range d.Filters {
			dd := controls[i].(map[string]any)["Dropdown"].(map[string]any)
			vals := strs(dd["SelectableValues"].(map[string]any)["Values"])
			if dd["Title"] != f.Name || strings.Join(vals, "|") != strings.Join(f.Values, "|") {
				t.Errorf("pulse-%s control %d: %v %v, want %q %v", d.Key, i, dd["Title"], vals, f.Name, f.Values)
			}
			sp := params[i].(map[string]any)["StringParameterDeclaration"].(map[string]any)
			if dd["SourceParameterName"] != sp["Name"] {
				t.Errorf("pulse-%s control %d drives %v, parameter %d is %v", d.Key, i, dd["SourceParameterName"], i, sp["Name"])
			}
			dv, _ := sp["DefaultValues"].(map[string]any)
			if got := strings.Join(strs(dv["StaticValues"]), ""); got != f.Default {
				t.Errorf("pulse-%s parameter %v defaults to %q, want %q", d.Key, sp["Name"], got, f.Default)
			}
		}
	}
	// Community trends sort as the card does: by average engagement, highest first.
	vis := dashboards["pulse-engagement"]["Definition"].(map[string]any)["Sheets"].([]any)[0].(map[string]any)["Visuals"].([]any)[1]
	b, _ := json.Marshal(vis.(map[string]any)["BarChartVisual"].(map[string]any)["ChartConfiguration"].(map[string]any)["SortConfiguration"])
	if want := `{"CategorySort":[{"FieldSort":{"Direction":"DESC","FieldId":"community-trends-avg-engagement"}}]}`; string(b) != want {
		t.Errorf("community trends sort %s, want %s", b, want)
	}
	// Pageviews: the window filter is bound to WINDOW_TYPE of the one card it filters, by parameter windowType.
	groups := dashboards["pulse-pageviews"]["Definition"].(map[string]any)["FilterGroups"].([]any)
	b, _ = json.Marshal(groups)
	for _, want := range []string{`"ColumnName":"WINDOW_TYPE"`, `"ParameterName":"windowType"`, `"ColumnName":"PAGE_SOURCE"`, `"VisualIds":["visual-pageviews-by-source-window"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("pageviews filter groups lack %s: %s", want, b)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walkKey calls f with the value of every key named key in v.
func walkKey(v any, key string, f func(any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == key {
				f(e)
			} else {
				walkKey(e, key, f)
			}
		}
	case []any:
		for _, e := range x {
			walkKey(e, key, f)
		}
	}
}

// walkColumns calls f for every {DataSetIdentifier, ColumnName} in v.
func walkColumns(v any, f func(dataset, col string)) {
	switch x := v.(type) {
	case map[string]any:
		if ds, ok := x["DataSetIdentifier"].(string); ok {
			if col, ok := x["ColumnName"].(string); ok {
				f(ds, col)
			}
		}
		for _, e := range x {
			walkColumns(e, f)
		}
	case []any:
		for _, e := range x {
			walkColumns(e, f)
		}
	}
}

// TestQuickSightPermissions: the given principal, and no one else, may read
// the data source, datasets and dashboards, and none may change them.
func TestQuickSightPermissions(t *testing.T) {
	_, tp := quickSightApp(t)
	count := 0
	for id, r := range tp.Resources {
		if !strings.HasPrefix(r.Type, "AWS::QuickSight::") || r.Type == "AWS::QuickSight::RefreshSchedule" {
			continue
		}
		perms, _ := r.Properties["Permissions"].([]any)
		if len(perms) != 1 {
			t.Errorf("%s (%s) has %d permissions, want 1", id, r.Type, len(perms))
			continue
		}
		count++
		p := perms[0].(map[string]any)
		if p["Principal"] != qsPrincipal {
			t.Errorf("%s grants %v", id, p["Principal"])
		}
		for _, a := range strs(p["Actions"]) {
			verb := strings.TrimPrefix(a, "quicksight:")
			if !strings.HasPrefix(verb, "Describe") && !strings.HasPrefix(verb, "List") && !strings.HasPrefix(verb, "Pass") && verb != "QueryDashboard" {
				t.Errorf("%s grants %s, which changes it", id, a)
			}
		}
	}
	if want := 1 + len(tp.ofType("AWS::QuickSight::DataSet")) + len(tp.ofType("AWS::QuickSight::Dashboard")); count != want {
		t.Errorf("%d resources with permissions, want %d", count, want)
	}
}

// TestQuickSightNag: the QuickSight stack has no AwsSolutions finding (the
// other stacks do not change with QuickSight on; TestNagAwsSolutions checks them).
func TestQuickSightNag(t *testing.T) {
	st, _ := quickSightApp(t)
	id := stacks.QuickSightStackID
	{
		ann := assertions.Annotations_FromStack(st.Stack)
		for _, msgs := range []*[]*cxapi.SynthesisMessage{ //nolint:staticcheck // SA1019: assertions' FindError/FindWarning still return cxapi.SynthesisMessage in awscdk v2.270.0 (PINS.md)
			ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
			ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
		} {
			for _, m := range *msgs {
				t.Errorf("%s %s: %v", id, *m.Id, firstLine(m.Entry.Data)) //nolint:staticcheck // SA1019: assertions' FindError/FindWarning still return cxapi.SynthesisMessage in awscdk v2.270.0 (PINS.md)
			}
		}
	}
}
