package sqlmodel

import (
	"strings"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

var events = table.Schema{
	Name: "FACT_EVENTS",
	Columns: []table.Column{
		{Name: "EVENT_ID", Type: table.String},
		{Name: "SEQ", Type: table.Int},
		{Name: "SCORE", Type: table.Float},
		{Name: "IS_BOT", Type: table.Bool},
		{Name: "EVENT_TS", Type: table.Timestamp},
		{Name: "DATE", Type: table.Date},
		{Name: "ORDER", Type: table.String},
	},
	Key: []string{"EVENT_ID", "SEQ"},
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		name     string
		typ      table.Type
		duck, sf string
	}{
		{"string", table.String, "VARCHAR", "VARCHAR"},
		{"int", table.Int, "BIGINT", "NUMBER(38,0)"},
		{"float", table.Float, "DOUBLE", "FLOAT"},
		{"bool", table.Bool, "BOOLEAN", "BOOLEAN"},
		{"timestamp", table.Timestamp, "TIMESTAMP", "TIMESTAMP_NTZ"},
		{"date", table.Date, "DATE", "DATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DuckDB.TypeName(tt.typ); got != tt.duck {
				t.Errorf("DuckDB.TypeName = %q, want %q", got, tt.duck)
			}
			if got := Snowflake.TypeName(tt.typ); got != tt.sf {
				t.Errorf("Snowflake.TypeName = %q, want %q", got, tt.sf)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"EVENT_ID", "EVENT_ID"},
		{"_X1", "_X1"},
		{"DATE", "DATE"},
		{"ORDER", `"ORDER"`},
		{"SELECT", `"SELECT"`},
		{"QUALIFY", `"QUALIFY"`},
		{"lower", `"lower"`},
		{"1ST", `"1ST"`},
		{"A-B", `"A-B"`},
		{`SAY"HI`, `"SAY""HI"`},
		{"", `""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			for _, d := range []Dialect{DuckDB, Snowflake} {
				if got := d.Quote(tt.in); got != tt.want {
					t.Errorf("%v.Quote(%q) = %s, want %s", d, tt.in, got, tt.want)
				}
			}
		})
	}
	if got := Snowflake.QuoteName("PULSE.ORDER.FACT_EVENTS"); got != `PULSE."ORDER".FACT_EVENTS` {
		t.Errorf("QuoteName = %s", got)
	}
}

func TestCreateTable(t *testing.T) {
	wantDuck := `CREATE TABLE IF NOT EXISTS FACT_EVENTS (EVENT_ID VARCHAR, SEQ BIGINT, SCORE DOUBLE, IS_BOT BOOLEAN, EVENT_TS TIMESTAMP, DATE DATE, "ORDER" VARCHAR)`
	wantSF := `CREATE TABLE IF NOT EXISTS FACT_EVENTS (EVENT_ID VARCHAR, SEQ NUMBER(38,0), SCORE FLOAT, IS_BOT BOOLEAN, EVENT_TS TIMESTAMP_NTZ, DATE DATE, "ORDER" VARCHAR)`
	if got := DuckDB.CreateTable(events); got != wantDuck {
		t.Errorf("DuckDB:\n got %s\nwant %s", got, wantDuck)
	}
	if got := Snowflake.CreateTable(events); got != wantSF {
		t.Errorf("Snowflake:\n got %s\nwant %s", got, wantSF)
	}
	small := table.Schema{Name: "T", Columns: []table.Column{{Name: "K", Type: table.Int}}, Key: []string{"K"}}
	if got, want := DuckDB.CreateTempTable("STAGE_T", small), "CREATE OR REPLACE TEMPORARY TABLE STAGE_T (K BIGINT)"; got != want {
		t.Errorf("CreateTempTable = %s, want %s", got, want)
	}
	if got, want := Snowflake.CreateTempTable("STAGE_T", small), "CREATE OR REPLACE TEMPORARY TABLE STAGE_T (K NUMBER(38,0))"; got != want {
		t.Errorf("CreateTempTable = %s, want %s", got, want)
	}
	if got, want := Snowflake.DropTable("STAGE_T"), "DROP TABLE IF EXISTS STAGE_T"; got != want {
		t.Errorf("DropTable = %s, want %s", got, want)
	}
}

func TestAddColumns(t *testing.T) {
	cols := []table.Column{{Name: "CHANNEL", Type: table.String}, {Name: "VALUE", Type: table.Int}}
	wantDuck := []string{
		"ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS CHANNEL VARCHAR",
		`ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS VALUE BIGINT`,
	}
	wantSF := []string{
		"ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS CHANNEL VARCHAR",
		`ALTER TABLE FACT_EVENTS ADD COLUMN IF NOT EXISTS VALUE NUMBER(38,0)`,
	}
	if got := DuckDB.AddColumns("FACT_EVENTS", cols); strings.Join(got, "\n") != strings.Join(wantDuck, "\n") {
		t.Errorf("DuckDB.AddColumns = %q", got)
	}
	if got := Snowflake.AddColumns("FACT_EVENTS", cols); strings.Join(got, "\n") != strings.Join(wantSF, "\n") {
		t.Errorf("Snowflake.AddColumns = %q", got)
	}
	missing := MissingColumns(events, []string{"event_id", "SEQ", "SCORE", "IS_BOT", "EVENT_TS"})
	if len(missing) != 2 || missing[0].Name != "DATE" || missing[1].Name != "ORDER" {
		t.Errorf("MissingColumns = %v", missing)
	}
}

func TestMerge(t *testing.T) {
	want := `MERGE INTO FACT_EVENTS AS tgt USING STAGE_FACT_EVENTS AS src ON tgt.EVENT_ID = src.EVENT_ID AND tgt.SEQ = src.SEQ` +
		` WHEN MATCHED THEN UPDATE SET SCORE = src.SCORE, IS_BOT = src.IS_BOT, EVENT_TS = src.EVENT_TS, DATE = src.DATE, "ORDER" = src."ORDER"` +
		` WHEN NOT MATCHED THEN INSERT (EVENT_ID, SEQ, SCORE, IS_BOT, EVENT_TS, DATE, "ORDER")` +
		` VALUES (src.EVENT_ID, src.SEQ, src.SCORE, src.IS_BOT, src.EVENT_TS, src.DATE, src."ORDER")`
	for _, d := range []Dialect{DuckDB, Snowflake} {
		if got := d.Merge(events, "STAGE_FACT_EVENTS"); got != want {
			t.Errorf("%v.Merge:\n got %s\nwant %s", d, got, want)
		}
	}
	keysOnly := table.Schema{Name: "DIM_DAY", Columns: []table.Column{{Name: "DAY", Type: table.Date}}, Key: []string{"DAY"}}
	wantKeys := `MERGE INTO DIM_DAY AS tgt USING (SELECT * FROM S) AS src ON tgt.DAY = src.DAY WHEN NOT MATCHED THEN INSERT (DAY) VALUES (src.DAY)`
	if got := DuckDB.Merge(keysOnly, "(SELECT * FROM S)"); got != wantKeys {
		t.Errorf("keys-only Merge:\n got %s\nwant %s", got, wantKeys)
	}
	wantCount := `SELECT COUNT(*) FROM S AS src WHERE NOT EXISTS (SELECT 1 FROM FACT_EVENTS AS tgt WHERE tgt.EVENT_ID = src.EVENT_ID AND tgt.SEQ = src.SEQ)`
	if got := Snowflake.CountNew(events, "S"); got != wantCount {
		t.Errorf("CountNew:\n got %s\nwant %s", got, wantCount)
	}
	if got, want := DuckDB.InsertValues("S", keysOnly, 3), "INSERT INTO S (DAY) VALUES (?), (?), (?)"; got != want {
		t.Errorf("InsertValues = %s, want %s", got, want)
	}
}

func TestExpressions(t *testing.T) {
	tests := []struct {
		name     string
		f        func(Dialect) string
		duck, sf string
	}{
		{"if", func(d Dialect) string { return d.IfExpr("A > 1", "'x'", "NULL") },
			"CASE WHEN A > 1 THEN 'x' ELSE NULL END", "IFF(A > 1, 'x', NULL)"},
		{"md5", func(d Dialect) string { return d.MD5("USER_ID") },
			"md5(CAST(USER_ID AS VARCHAR))", "MD5(USER_ID)"},
		{"epoch", func(d Dialect) string { return d.EpochToTimestamp("TS_US") },
			"make_timestamp(TS_US)", "TO_TIMESTAMP_NTZ(TS_US, 6)"},
		{"trunc", func(d Dialect) string { s, _ := d.DateTrunc("Hour", "EVENT_TS"); return s },
			"date_trunc('hour', EVENT_TS)", "DATE_TRUNC('HOUR', EVENT_TS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(DuckDB); got != tt.duck {
				t.Errorf("DuckDB: %s, want %s", got, tt.duck)
			}
			if got := tt.f(Snowflake); got != tt.sf {
				t.Errorf("Snowflake: %s, want %s", got, tt.sf)
			}
		})
	}
	if _, err := DuckDB.DateTrunc("day'); DROP TABLE X; --", "TS"); err == nil {
		t.Error("DateTrunc accepted an unknown unit")
	}
}

func TestColumnsHash(t *testing.T) {
	if got, want := ColumnList(events), "EVENT_ID STRING,SEQ INT,SCORE FLOAT,IS_BOT BOOL,EVENT_TS TIMESTAMP,DATE DATE,ORDER STRING;KEY EVENT_ID,SEQ"; got != want {
		t.Errorf("ColumnList = %s, want %s", got, want)
	}
	h := ColumnsHash(events)
	if len(h) != 16 {
		t.Errorf("ColumnsHash = %q, want 16 hex digits", h)
	}
	more := events
	more.Columns = append(append([]table.Column(nil), events.Columns...), table.Column{Name: "X", Type: table.Int})
	if ColumnsHash(more) == h {
		t.Error("ColumnsHash did not change with a new column")
	}
}

func TestCheckSchema(t *testing.T) {
	tests := []struct {
		name string
		s    table.Schema
		want string
	}{
		{"ok", events, ""},
		{"no name", table.Schema{Columns: events.Columns, Key: events.Key}, "table schema has no name"},
		{"no columns", table.Schema{Name: "T"}, "table T has no columns"},
		{"dup", table.Schema{Name: "T", Columns: []table.Column{{Name: "A"}, {Name: "a"}}, Key: []string{"A"}}, "table T has column a twice"},
		{"no key", table.Schema{Name: "T", Columns: []table.Column{{Name: "A"}}}, "table T has no key columns"},
		{"bad key", table.Schema{Name: "T", Columns: []table.Column{{Name: "A"}}, Key: []string{"B"}}, "table T: key column B is not a column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSchema(tt.s)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckSchema = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLastByKey(t *testing.T) {
	s := table.Schema{Name: "T", Columns: []table.Column{
		{Name: "K", Type: table.String}, {Name: "F", Type: table.Float}, {Name: "V", Type: table.Int},
	}, Key: []string{"K", "F"}}
	rows := []table.Row{
		{table.Str("a"), table.Float64(0), table.Int64(1)},
		{table.Str("b"), table.Float64(1), table.Int64(2)},
		{table.Str("a"), table.Float64(negZero()), table.Int64(3)},
		{table.Str("a:"), table.Float64(0), table.Int64(4)},
		{table.Str("b"), table.Float64(1), table.Int64(5)},
	}
	got, err := LastByKey(s, rows)
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, r := range got {
		vs = append(vs, r[2].I)
	}
	if want := []int64{3, 5, 4}; len(vs) != 3 || vs[0] != want[0] || vs[1] != want[1] || vs[2] != want[2] {
		t.Errorf("values = %v, want %v", vs, want)
	}
	_, err = LastByKey(s, []table.Row{{table.Null(), table.Float64(0), table.Int64(1)}})
	if err == nil || err.Error() != "table T row 0: key column K is NULL" {
		t.Errorf("null key err = %v", err)
	}
	_, err = LastByKey(s, []table.Row{{table.Str("a")}})
	if err == nil || err.Error() != "table T row 0: 1 cells for 3 columns" {
		t.Errorf("short row err = %v", err)
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

func TestDateExpressions(t *testing.T) {
	day := time.Date(2024, 2, 3, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		f        func(Dialect) string
		duck, sf string
	}{
		{"dateadd", func(d Dialect) string { s, _ := d.DateAdd("day", "-29", "d.DAY"); return s },
			"(d.DAY + INTERVAL (-29) DAY)", "DATEADD(DAY, -29, d.DAY)"},
		{"diff", func(d Dialect) string { return d.DiffMicros("A", "B") },
			"date_diff('microsecond', A, B)", "DATEDIFF(MICROSECOND, A, B)"},
		{"epoch", func(d Dialect) string { return d.EpochMicros("TS") },
			"epoch_us(TS)", "DATE_PART(EPOCH_MICROSECOND, TS)"},
		{"date literal", func(d Dialect) string { return d.DateLiteral(day) },
			"DATE '2024-02-03'", "DATE '2024-02-03'"},
		{"string literal", func(d Dialect) string { return d.StringLiteral(`it's a\b`) },
			`'it''s a\b'`, `'it''s a\\b'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(DuckDB); got != tt.duck {
				t.Errorf("DuckDB: %s, want %s", got, tt.duck)
			}
			if got := tt.f(Snowflake); got != tt.sf {
				t.Errorf("Snowflake: %s, want %s", got, tt.sf)
			}
		})
	}
	if _, err := Snowflake.DateAdd("fortnight", "1", "X"); err == nil {
		t.Error("DateAdd accepted an unknown unit")
	}
}

type speaker struct{ d Dialect }

func (s speaker) Dialect() Dialect { return s.d }

func TestOf(t *testing.T) {
	if got := Of(speaker{Snowflake}); got != Snowflake {
		t.Errorf("Of(snowflake speaker) = %v", got)
	}
	if got := Of(struct{}{}); got != DuckDB {
		t.Errorf("Of(anything else) = %v, want duckdb", got)
	}
}
