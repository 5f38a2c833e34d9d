package stacks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/dashboards/views"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
)

// quickSightType maps a DuckDB column type to the QuickSight input column
// type Snowflake's type for the same view column maps to.
func quickSightType(duck string) (string, error) {
	switch {
	case duck == "VARCHAR":
		return "STRING", nil
	case duck == "BOOLEAN":
		return "BOOLEAN", nil
	case duck == "TINYINT" || duck == "SMALLINT" || duck == "INTEGER" || duck == "BIGINT" || duck == "HUGEINT" ||
		strings.HasPrefix(duck, "UINTEGER") || duck == "UBIGINT":
		return "INTEGER", nil
	case duck == "DOUBLE" || duck == "FLOAT" || strings.HasPrefix(duck, "DECIMAL"):
		return "DECIMAL", nil
	case duck == "DATE" || strings.HasPrefix(duck, "TIMESTAMP"):
		return "DATETIME", nil
	}
	return "", fmt.Errorf("no QuickSight type for DuckDB type %s", duck)
}

// TestQuickSightColumnTypes: every column a dataset selects has, in
// quickSightColumnTypes, the QuickSight type of the view's column on DuckDB
// (the views are the same SQL on Snowflake).
func TestQuickSightColumnTypes(t *testing.T) {
	ctx := context.Background()
	wh := duckdbtest.New(t)
	if err := views.Setup(ctx, wh); err != nil {
		t.Fatal(err)
	}
	sets, err := quickSightDatasets("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, s := range sets {
		_, rows, err := wh.Query(ctx, "DESCRIBE "+s.SQL)
		if err != nil {
			t.Fatalf("describing %s: %v", s.SQL, err)
		}
		if len(rows) != len(s.Columns) {
			t.Fatalf("%s: DuckDB describes %d columns, the dataset has %d", s.View, len(rows), len(s.Columns))
		}
		for i, r := range rows {
			typ, err := quickSightType(fmt.Sprint(r[1]))
			if err != nil {
				t.Fatalf("%s.%s: %v", s.View, r[0], err)
			}
			want[s.View+"."+s.Columns[i].Name] = typ
		}
	}
	var lines []string
	for k, v := range want {
		lines = append(lines, fmt.Sprintf("\t%q: %q,", k, v))
	}
	sort.Strings(lines)
	ok := len(want) == len(quickSightColumnTypes)
	for k, v := range want {
		if quickSightColumnTypes[k] != v {
			t.Errorf("%s: quickSightColumnTypes has %q, the view's column is %s", k, quickSightColumnTypes[k], v)
			ok = false
		}
	}
	if !ok {
		t.Errorf("quickSightColumnTypes should be (%d columns):\n%s", len(want), strings.Join(lines, "\n"))
	}
}
