package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsquicksight"
	"github.com/aws/jsii-runtime-go"
	"github.com/pulse-analytics/pulse/dashboards/metabase"
)

// quickSightGridColumns is the width of QuickSight's grid layout; Metabase's
// is 24 columns. A Metabase row is two QuickSight rows.
const quickSightGridColumns = 36

// quickSightMaxRowSpan is the tallest a grid layout element may be.
const quickSightMaxRowSpan = 21

// visualID is a card's visual id in its dashboard.
func visualID(c metabase.Card) string { return "visual-" + strings.ReplaceAll(c.Key, "_", "-") }

// dashboardDefinition is a Metabase dashboard as a QuickSight dashboard
// definition: one sheet, one visual per card placed as Metabase places it,
// one string parameter with a drop-down control per filter, and per card
// wired to a filter, a filter on the card's column bound to the parameter
// and scoped to the card's visual. arns holds the dataset ARN per view,
// types the column types per VIEW.COLUMN.
func dashboardDefinition(d metabase.Dashboard, arns map[string]*string, types map[string]string) (*awsquicksight.CfnDashboard_DashboardVersionDefinitionProperty, error) {
	sheetID := "sheet-" + d.Key
	var (
		decls   []*awsquicksight.CfnDashboard_DataSetIdentifierDeclarationProperty
		visuals []*awsquicksight.CfnDashboard_VisualProperty
		layout  []*awsquicksight.CfnDashboard_GridLayoutElementProperty
		groups  []*awsquicksight.CfnDashboard_FilterGroupProperty
	)
	declared := map[string]bool{}
	places := d.Layout()
	for i, c := range d.Cards {
		arn, ok := arns[c.View]
		if !ok {
			return nil, fmt.Errorf("dashboard %s card %s: no dataset for %s", d.Key, c.Key, c.View)
		}
		if !declared[c.View] {
			declared[c.View] = true
			decls = append(decls, &awsquicksight.CfnDashboard_DataSetIdentifierDeclarationProperty{Identifier: jsii.String(datasetID(c.View)), DataSetArn: arn})
		}
		v, err := cardVisual(c, types)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", d.Key, err)
		}
		visuals = append(visuals, v)
		layout = append(layout, &awsquicksight.CfnDashboard_GridLayoutElementProperty{
			ElementId:   jsii.String(visualID(c)),
			ElementType: jsii.String("VISUAL"),
			ColumnIndex: jsii.Number(places[i][1] * quickSightGridColumns / metabase.GridWidth),
			ColumnSpan:  jsii.Number(c.Width * quickSightGridColumns / metabase.GridWidth),
			RowIndex:    jsii.Number(places[i][0] * 2),
			RowSpan:     jsii.Number(min(c.Height*2, quickSightMaxRowSpan)),
		})
		for _, tag := range c.Tags() {
			col, err := filterColumn(c, tag)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s: %w", d.Key, err)
			}
			id := "filter-" + strings.ReplaceAll(c.Key+"-"+tag, "_", "-")
			groups = append(groups, &awsquicksight.CfnDashboard_FilterGroupProperty{
				FilterGroupId: jsii.String("group-" + id),
				CrossDataset:  jsii.String("SINGLE_DATASET"),
				Status:        jsii.String("ENABLED"),
				Filters: &[]*awsquicksight.CfnDashboard_FilterProperty{{
					CategoryFilter: &awsquicksight.CfnDashboard_CategoryFilterProperty{
						FilterId: jsii.String(id),
						Column:   column(c.View, col),
						Configuration: &awsquicksight.CfnDashboard_CategoryFilterConfigurationProperty{
							CustomFilterConfiguration: &awsquicksight.CfnDashboard_CustomFilterConfigurationProperty{
								MatchOperator:    jsii.String("EQUALS"),
								ParameterName:    jsii.String(parameterName(tag)),
								NullOption:       jsii.String("NON_NULLS_ONLY"),
								SelectAllOptions: jsii.String("FILTER_ALL_VALUES"),
							},
						},
					},
				}},
				ScopeConfiguration: &awsquicksight.CfnDashboard_FilterScopeConfigurationProperty{
					SelectedSheets: &awsquicksight.CfnDashboard_SelectedSheetsFilterScopeConfigurationProperty{
						SheetVisualScopingConfigurations: &[]*awsquicksight.CfnDashboard_SheetVisualScopingConfigurationProperty{{
							SheetId: jsii.String(sheetID), Scope: jsii.String("SELECTED_VISUALS"), VisualIds: jsii.Strings(visualID(c)),
						}},
					},
				},
			})
		}
	}
	var (
		params   []*awsquicksight.CfnDashboard_ParameterDeclarationProperty
		controls []*awsquicksight.CfnDashboard_ParameterControlProperty
	)
	for _, f := range d.Filters {
		p := &awsquicksight.CfnDashboard_StringParameterDeclarationProperty{
			Name:               jsii.String(parameterName(f.Slug)),
			ParameterValueType: jsii.String("SINGLE_VALUED"),
			// No value: the filters bound to it keep every row (Metabase's
			// optional [[...]] clause left out).
			ValueWhenUnset: &awsquicksight.CfnDashboard_StringValueWhenUnsetConfigurationProperty{ValueWhenUnsetOption: jsii.String("NULL")},
		}
		if f.Default != "" {
			p.DefaultValues = &awsquicksight.CfnDashboard_StringDefaultValuesProperty{StaticValues: jsii.Strings(f.Default)}
			p.ValueWhenUnset = &awsquicksight.CfnDashboard_StringValueWhenUnsetConfigurationProperty{
				ValueWhenUnsetOption: jsii.String("RECOMMENDED_VALUE"), CustomValue: jsii.String(f.Default)}
		}
		params = append(params, &awsquicksight.CfnDashboard_ParameterDeclarationProperty{StringParameterDeclaration: p})
		controls = append(controls, &awsquicksight.CfnDashboard_ParameterControlProperty{
			Dropdown: &awsquicksight.CfnDashboard_ParameterDropDownControlProperty{
				ParameterControlId:  jsii.String("control-" + strings.ReplaceAll(f.Slug, "_", "-")),
				SourceParameterName: jsii.String(parameterName(f.Slug)),
				Title:               jsii.String(f.Name),
				Type:                jsii.String("SINGLE_SELECT"),
				SelectableValues:    &awsquicksight.CfnDashboard_ParameterSelectableValuesProperty{Values: jsii.Strings(f.Values...)},
			},
		})
	}
	sheet := &awsquicksight.CfnDashboard_SheetDefinitionProperty{
		SheetId:     jsii.String(sheetID),
		Name:        jsii.String(d.Name),
		Title:       jsii.String(d.Name),
		Description: jsii.String(d.Description),
		Visuals:     &visuals,
		Layouts: &[]*awsquicksight.CfnDashboard_LayoutProperty{{
			Configuration: &awsquicksight.CfnDashboard_LayoutConfigurationProperty{
				GridLayout: &awsquicksight.CfnDashboard_GridLayoutConfigurationProperty{Elements: &layout},
			},
		}},
	}
	def := &awsquicksight.CfnDashboard_DashboardVersionDefinitionProperty{
		DataSetIdentifierDeclarations: &decls,
		Sheets:                        &[]*awsquicksight.CfnDashboard_SheetDefinitionProperty{sheet},
	}
	if len(params) > 0 {
		sheet.ParameterControls = &controls
		def.ParameterDeclarations = &params
		def.FilterGroups = &groups
	}
	return def, nil
}

func column(view, col string) *awsquicksight.CfnDashboard_ColumnIdentifierProperty {
	return &awsquicksight.CfnDashboard_ColumnIdentifierProperty{DataSetIdentifier: jsii.String(datasetID(view)), ColumnName: jsii.String(col)}
}

// vizList reads a list setting of a card's visualization settings.
func vizList(c metabase.Card, key string) []string {
	switch v := c.Viz[key].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// cardVisual is one card as a QuickSight visual of the kind its display
// maps to: charts group by the card's dimensions (graph.dimensions or
// pie.dimension: the first on the axis, the second as colors) and show its
// metrics; a scalar is a KPI; a table lists the selected columns as they are.
func cardVisual(c metabase.Card, types map[string]string) (*awsquicksight.CfnDashboard_VisualProperty, error) {
	fields, err := cardFields(c)
	if err != nil {
		return nil, err
	}
	byName := map[string]qsField{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	id := jsii.String(visualID(c))
	title := &awsquicksight.CfnDashboard_VisualTitleLabelOptionsProperty{
		Visibility: jsii.String("VISIBLE"),
		FormatText: &awsquicksight.CfnDashboard_ShortFormatTextProperty{PlainText: jsii.String(c.Name)},
	}
	dims := append(vizList(c, "graph.dimensions"), vizList(c, "pie.dimension")...)
	metrics := append(vizList(c, "graph.metrics"), vizList(c, "pie.metric")...)
	dimFields := func() ([]*awsquicksight.CfnDashboard_DimensionFieldProperty, error) {
		var out []*awsquicksight.CfnDashboard_DimensionFieldProperty
		for _, name := range dims {
			f, ok := byName[name]
			if !ok || f.Agg != "" {
				return nil, fmt.Errorf("card %s: dimension %s is not a selected column", c.Key, name)
			}
			out = append(out, dimensionField(c, f.Column, types[c.View+"."+f.Column]))
		}
		if len(out) == 0 || len(out) > 2 {
			return nil, fmt.Errorf("card %s: a %s chart needs one or two dimensions, the card has %d", c.Key, c.Display, len(out))
		}
		return out, nil
	}
	measures := func(names []string) ([]*awsquicksight.CfnDashboard_MeasureFieldProperty, error) {
		var out []*awsquicksight.CfnDashboard_MeasureFieldProperty
		for _, name := range names {
			f, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("card %s: metric %s is not selected", c.Key, name)
			}
			m, err := measureField(c, f, dims)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("card %s: a %s card needs a metric", c.Key, c.Display)
		}
		return out, nil
	}
	// The fields a chart shows, by result name (field ids are made of them).
	shown := map[string]bool{}
	for _, n := range append(append([]string{}, dims...), metrics...) {
		shown[n] = true
	}
	switch c.Display {
	case "bar", "row", "line":
		ds, err := dimFields()
		if err != nil {
			return nil, err
		}
		ms, err := measures(metrics)
		if err != nil {
			return nil, err
		}
		var colors *[]*awsquicksight.CfnDashboard_DimensionFieldProperty
		if len(ds) == 2 {
			colors = &[]*awsquicksight.CfnDashboard_DimensionFieldProperty{ds[1]}
		}
		if c.Display == "line" {
			return &awsquicksight.CfnDashboard_VisualProperty{LineChartVisual: &awsquicksight.CfnDashboard_LineChartVisualProperty{
				VisualId: id, Title: title,
				ChartConfiguration: &awsquicksight.CfnDashboard_LineChartConfigurationProperty{
					Type: jsii.String("LINE"),
					FieldWells: &awsquicksight.CfnDashboard_LineChartFieldWellsProperty{
						LineChartAggregatedFieldWells: &awsquicksight.CfnDashboard_LineChartAggregatedFieldWellsProperty{
							Category: &[]*awsquicksight.CfnDashboard_DimensionFieldProperty{ds[0]}, Colors: colors, Values: &ms,
						},
					},
				},
			}}, nil
		}
		orientation := "VERTICAL"
		if c.Display == "row" {
			orientation = "HORIZONTAL"
		}
		return &awsquicksight.CfnDashboard_VisualProperty{BarChartVisual: &awsquicksight.CfnDashboard_BarChartVisualProperty{
			VisualId: id, Title: title,
			ChartConfiguration: &awsquicksight.CfnDashboard_BarChartConfigurationProperty{
				Orientation:     jsii.String(orientation),
				BarsArrangement: jsii.String("CLUSTERED"),
				SortConfiguration: sortConfig(cardSorts(c, shown, 1), func(s *[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty) any {
					return &awsquicksight.CfnDashboard_BarChartSortConfigurationProperty{CategorySort: s}
				}),
				FieldWells: &awsquicksight.CfnDashboard_BarChartFieldWellsProperty{
					BarChartAggregatedFieldWells: &awsquicksight.CfnDashboard_BarChartAggregatedFieldWellsProperty{
						Category: &[]*awsquicksight.CfnDashboard_DimensionFieldProperty{ds[0]}, Colors: colors, Values: &ms,
					},
				},
			},
		}}, nil
	case "pie":
		ds, err := dimFields()
		if err != nil {
			return nil, err
		}
		ms, err := measures(metrics)
		if err != nil {
			return nil, err
		}
		return &awsquicksight.CfnDashboard_VisualProperty{PieChartVisual: &awsquicksight.CfnDashboard_PieChartVisualProperty{
			VisualId: id, Title: title,
			ChartConfiguration: &awsquicksight.CfnDashboard_PieChartConfigurationProperty{
				SortConfiguration: sortConfig(cardSorts(c, shown, 1), func(s *[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty) any {
					return &awsquicksight.CfnDashboard_PieChartSortConfigurationProperty{CategorySort: s}
				}),
				FieldWells: &awsquicksight.CfnDashboard_PieChartFieldWellsProperty{
					PieChartAggregatedFieldWells: &awsquicksight.CfnDashboard_PieChartAggregatedFieldWellsProperty{
						Category: &[]*awsquicksight.CfnDashboard_DimensionFieldProperty{ds[0]}, Values: &ms,
					},
				},
			},
		}}, nil
	case "scalar":
		if len(fields) != 1 {
			return nil, fmt.Errorf("card %s: a scalar card selects one value, this one %d", c.Key, len(fields))
		}
		ms, err := measures([]string{fields[0].Name})
		if err != nil {
			return nil, err
		}
		return &awsquicksight.CfnDashboard_VisualProperty{KpiVisual: &awsquicksight.CfnDashboard_KPIVisualProperty{
			VisualId: id, Title: title,
			ChartConfiguration: &awsquicksight.CfnDashboard_KPIConfigurationProperty{
				FieldWells: &awsquicksight.CfnDashboard_KPIFieldWellsProperty{Values: &ms},
			},
		}}, nil
	case "table":
		var cols []*awsquicksight.CfnDashboard_UnaggregatedFieldProperty
		listed := map[string]bool{}
		for _, f := range fields {
			listed[f.Name] = true
			if f.Agg != "" {
				return nil, fmt.Errorf("card %s: a table card lists columns as they are, %s is an aggregate", c.Key, f.Name)
			}
			cols = append(cols, &awsquicksight.CfnDashboard_UnaggregatedFieldProperty{
				FieldId: jsii.String(fieldID(c, f.Column)), Column: column(c.View, f.Column)})
		}
		return &awsquicksight.CfnDashboard_VisualProperty{TableVisual: &awsquicksight.CfnDashboard_TableVisualProperty{
			VisualId: id, Title: title,
			ChartConfiguration: &awsquicksight.CfnDashboard_TableConfigurationProperty{
				SortConfiguration: sortConfig(cardSorts(c, listed, 0), func(s *[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty) any {
					return &awsquicksight.CfnDashboard_TableSortConfigurationProperty{RowSort: s}
				}),
				FieldWells: &awsquicksight.CfnDashboard_TableFieldWellsProperty{
					TableUnaggregatedFieldWells: &awsquicksight.CfnDashboard_TableUnaggregatedFieldWellsProperty{Values: &cols},
				},
			},
		}}, nil
	}
	return nil, fmt.Errorf("card %s: display %q has no QuickSight visual (one of bar, row, line, pie, scalar, table)", c.Key, c.Display)
}

var orderByRe = regexp.MustCompile(`(?s)\bORDER BY\s+(.*)$`)

// cardSorts is the card's ORDER BY as field sorts, keeping the items that
// name one of the visual's fields (by result name), at most limit of them
// (0: all).
func cardSorts(c metabase.Card, fields map[string]bool, limit int) *[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty {
	m := orderByRe.FindStringSubmatch(c.Query)
	if m == nil {
		return nil
	}
	var out []*awsquicksight.CfnDashboard_FieldSortOptionsProperty
	for _, item := range strings.Split(m[1], ",") {
		parts := strings.Fields(item)
		if len(parts) == 0 || !fields[parts[0]] {
			continue
		}
		dir := "ASC"
		if len(parts) > 1 && parts[1] == "DESC" {
			dir = "DESC"
		}
		out = append(out, &awsquicksight.CfnDashboard_FieldSortOptionsProperty{
			FieldSort: &awsquicksight.CfnDashboard_FieldSortProperty{FieldId: jsii.String(fieldID(c, parts[0])), Direction: jsii.String(dir)}})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

// sortConfig is wrap(sorts), or nothing when there are no sorts.
func sortConfig(sorts *[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty, wrap func(*[]*awsquicksight.CfnDashboard_FieldSortOptionsProperty) any) any {
	if sorts == nil {
		return nil
	}
	return wrap(sorts)
}

// fieldID is a field's id, unique in its dashboard.
func fieldID(c metabase.Card, name string) string {
	return strings.ReplaceAll(c.Key+"-"+strings.ToLower(name), "_", "-")
}

// dimensionField groups by a column: dates by the second (a window start
// or a metric time is its own point; DAY columns by the day), numbers by
// value, text by category.
func dimensionField(c metabase.Card, col, typ string) *awsquicksight.CfnDashboard_DimensionFieldProperty {
	id := jsii.String(fieldID(c, col))
	switch typ {
	case "DATETIME":
		g := "SECOND"
		if col == "DAY" {
			g = "DAY"
		}
		return &awsquicksight.CfnDashboard_DimensionFieldProperty{DateDimensionField: &awsquicksight.CfnDashboard_DateDimensionFieldProperty{
			FieldId: id, Column: column(c.View, col), DateGranularity: jsii.String(g)}}
	case "INTEGER", "DECIMAL":
		return &awsquicksight.CfnDashboard_DimensionFieldProperty{NumericalDimensionField: &awsquicksight.CfnDashboard_NumericalDimensionFieldProperty{
			FieldId: id, Column: column(c.View, col)}}
	}
	return &awsquicksight.CfnDashboard_DimensionFieldProperty{CategoricalDimensionField: &awsquicksight.CfnDashboard_CategoricalDimensionFieldProperty{
		FieldId: id, Column: column(c.View, col)}}
}

// measureField is a metric: SUM(col) sums; COUNT(*) counts the rows of the
// first dimension; a plain column of a view (already one row per dimension
// value) is summed, or averaged when it is an average or a rate (AVG_*,
// AVERAGE_*), so that leaving a dimension out still gives a meaningful value.
func measureField(c metabase.Card, f qsField, dims []string) (*awsquicksight.CfnDashboard_MeasureFieldProperty, error) {
	id := jsii.String(fieldID(c, f.Name))
	switch f.Agg {
	case "COUNT":
		if len(dims) == 0 {
			return nil, fmt.Errorf("card %s: COUNT(*) AS %s needs a dimension to count", c.Key, f.Name)
		}
		return &awsquicksight.CfnDashboard_MeasureFieldProperty{CategoricalMeasureField: &awsquicksight.CfnDashboard_CategoricalMeasureFieldProperty{
			FieldId: id, Column: column(c.View, dims[0]), AggregationFunction: jsii.String("COUNT")}}, nil
	}
	agg := "SUM"
	if f.Agg == "" && (strings.HasPrefix(f.Column, "AVG_") || strings.HasPrefix(f.Column, "AVERAGE_")) {
		agg = "AVERAGE"
	}
	return &awsquicksight.CfnDashboard_MeasureFieldProperty{NumericalMeasureField: &awsquicksight.CfnDashboard_NumericalMeasureFieldProperty{
		FieldId: id, Column: column(c.View, f.Column),
		AggregationFunction: &awsquicksight.CfnDashboard_NumericalAggregationFunctionProperty{SimpleNumericalAggregation: jsii.String(agg)},
	}}, nil
}
