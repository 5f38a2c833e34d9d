package table

import (
	"bytes"
	"database/sql"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/parquet-go/parquet-go"
)

var allTypes = Schema{
	Name: "all_types",
	Columns: []Column{
		{Name: "user_id", Type: String},
		{Name: "age", Type: Int},
		{Name: "score", Type: Float},
		{Name: "is_active", Type: Bool},
		{Name: "event_time", Type: Timestamp},
		{Name: "event_date", Type: Date},
	},
	Key: []string{"user_id"},
}

var ts1 = time.Date(2024, 2, 3, 17, 26, 45, 123456000, time.UTC)

func allTypesRows() []Row {
	return []Row{
		{Str("u1"), Int64(31), Float64(2.5), Boolean(true), Int64(ts1.UnixMicro()), Int64(19756)},
		{Null(), Null(), Null(), Null(), Null(), Null()},
		{Str(""), Int64(-9007199254740993), Float64(math.Inf(-1)), Boolean(false), Int64(0), Int64(-1)},
		{Str("héllo \"q\"\n"), Int64(math.MaxInt64), Float64(-0.1), Null(), Int64(-1), Int64(0)},
	}
}

func writeParquet(t *testing.T, s Schema, rows []Row) []byte {
	t.Helper()
	var buf bytes.Buffer
	pw, err := NewParquetWriter(&buf, s)
	if err != nil {
		t.Fatalf("NewParquetWriter: %v", err)
	}
	if err := pw.Write(rows); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := pw.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func readParquet(t *testing.T, data []byte, s Schema, batch int) []Row {
	t.Helper()
	pr, err := OpenParquetRows(bytes.NewReader(data), int64(len(data)), s)
	if err != nil {
		t.Fatalf("OpenParquetRows: %v", err)
	}
	var out []Row
	dst := make([]Row, batch)
	for {
		n, err := pr.Read(dst)
		for _, r := range dst[:n] {
			out = append(out, append(Row(nil), r...))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	if pr.NumRows() != int64(len(out)) {
		t.Errorf("NumRows %d, read %d", pr.NumRows(), len(out))
	}
	return out
}

func TestParquetRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		rows  []Row
		read  Schema
		want  []Row
		batch int
	}{
		{name: "every type with nulls", rows: allTypesRows(), read: allTypes, want: allTypesRows(), batch: 3},
		{
			name:  "columns by name, case-insensitive, missing reads null",
			rows:  allTypesRows()[:1],
			read:  Schema{Name: "sub", Columns: []Column{{Name: "EVENT_DATE", Type: Date}, {Name: "nope", Type: String}, {Name: "user_id", Type: String}}},
			want:  []Row{{Int64(19756), Null(), Str("u1")}},
			batch: 1,
		},
		{name: "empty file", rows: nil, read: allTypes, want: nil, batch: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readParquet(t, writeParquet(t, allTypes, tt.rows), tt.read, tt.batch)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tt.want))
			}
			for i := range tt.want {
				for j, c := range tt.read.Columns {
					if !cellEqual(got[i][j], tt.want[i][j]) {
						t.Errorf("row %d %s: got %+v, want %+v", i, c.Name, got[i][j], tt.want[i][j])
					}
				}
			}
		})
	}
}

func cellEqual(a, b Cell) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	return a.S == b.S && a.I == b.I && a.B == b.B && (a.F == b.F || math.IsNaN(a.F) && math.IsNaN(b.F)) && math.Signbit(a.F) == math.Signbit(b.F)
}

// TestParquetManyRowGroups writes more than one row group and reads back.
func TestParquetManyRowGroups(t *testing.T) {
	s := Schema{Name: "big", Columns: []Column{{Name: "n", Type: Int}, {Name: "s", Type: String}}}
	const total = parquetRowGroupRows*2 + 17
	rows := make([]Row, total)
	for i := range rows {
		rows[i] = Row{Int64(int64(i)), Str("row")}
	}
	// Written one row at a time, as the pipeline does.
	var buf bytes.Buffer
	pw, err := NewParquetWriter(&buf, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := pw.Write([]Row{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, rg := range f.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if want := []int64{parquetRowGroupRows, parquetRowGroupRows, 17}; !slices.Equal(sizes, want) {
		t.Errorf("row groups of %v rows, want %v", sizes, want)
	}
	got := readParquet(t, buf.Bytes(), s, 1000)
	if len(got) != total {
		t.Fatalf("got %d rows, want %d", len(got), total)
	}
	for i, r := range got {
		if r[0].I != int64(i) || r[1].S != "row" {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
}

// TestParquetReadByDuckDB checks DuckDB's read_parquet sees the written
// file's types and values.
func TestParquetReadByDuckDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all_types.parquet")
	if err := os.WriteFile(path, writeParquet(t, allTypes, allTypesRows()), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("opening duckdb: %v", err)
	}
	defer db.Close()

	types := map[string]string{}
	rs, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	for rs.Next() {
		var n, ty string
		if err := rs.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		types[n] = ty
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	// isAdjustedToUTC=true timestamps are TIMESTAMP WITH TIME ZONE in DuckDB.
	wantTypes := map[string]string{
		"user_id": "VARCHAR", "age": "BIGINT", "score": "DOUBLE", "is_active": "BOOLEAN",
		"event_time": "TIMESTAMP WITH TIME ZONE", "event_date": "DATE",
	}
	for n, want := range wantTypes {
		if types[n] != want {
			t.Errorf("column %s: DuckDB type %q, want %q", n, types[n], want)
		}
	}

	type row struct {
		user                 sql.NullString
		age                  sql.NullInt64
		score                sql.NullFloat64
		active               sql.NullBool
		eventTime, eventDate sql.NullString
	}
	// One small file, one thread: rows come back in file order.
	rs, err = db.Query(`SELECT user_id, age, score, is_active,
	        strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f'), strftime(event_date, '%Y-%m-%d')
	      FROM read_parquet(?)`, path)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	defer rs.Close()
	var got []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.user, &r.age, &r.score, &r.active, &r.eventTime, &r.eventDate); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{sql.NullString{String: "u1", Valid: true}, sql.NullInt64{Int64: 31, Valid: true}, sql.NullFloat64{Float64: 2.5, Valid: true}, sql.NullBool{Bool: true, Valid: true}, sql.NullString{String: "2024-02-03T17:26:45.123456", Valid: true}, sql.NullString{String: "2024-02-03", Valid: true}},
		{},
		{sql.NullString{String: "", Valid: true}, sql.NullInt64{Int64: -9007199254740993, Valid: true}, sql.NullFloat64{Float64: math.Inf(-1), Valid: true}, sql.NullBool{Bool: false, Valid: true}, sql.NullString{String: "1970-01-01T00:00:00.000000", Valid: true}, sql.NullString{String: "1969-12-31", Valid: true}},
		{sql.NullString{String: "héllo \"q\"\n", Valid: true}, sql.NullInt64{Int64: math.MaxInt64, Valid: true}, sql.NullFloat64{Float64: -0.1, Valid: true}, sql.NullBool{}, sql.NullString{String: "1969-12-31T23:59:59.999999", Valid: true}, sql.NullString{String: "1970-01-01", Valid: true}},
	}
	if len(got) != len(want) {
		t.Fatalf("DuckDB read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: DuckDB got %+v, want %+v", i, got[i], want[i])
		}
	}
}
