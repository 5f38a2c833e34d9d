// Package table describes typed tables (staging, star schema, metrics) and
// their rows, independent of where they are stored. Warehouse adapters map
// Type to their dialect; Parquet files under staging/ and curated/ are
// written and read with these schemas.
package table

// Type is a column's logical type.
type Type int

const (
	String    Type = iota // VARCHAR
	Int                   // BIGINT
	Float                 // DOUBLE / FLOAT
	Bool                  // BOOLEAN
	Timestamp             // TIMESTAMP (UTC), stored in Cell.I as Unix microseconds
	Date                  // DATE, stored in Cell.I as days since 1970-01-01
)

func (t Type) String() string {
	switch t {
	case String:
		return "STRING"
	case Int:
		return "INT"
	case Float:
		return "FLOAT"
	case Bool:
		return "BOOL"
	case Timestamp:
		return "TIMESTAMP"
	case Date:
		return "DATE"
	}
	return "UNKNOWN"
}

// Column is one named, typed column.
type Column struct {
	Name string
	Type Type
}

// Schema is a table definition. Key lists the columns that identify a row:
// loads MERGE on it, so loading the same rows twice changes nothing.
type Schema struct {
	Name    string
	Columns []Column
	Key     []string
}

// Index returns the position of the named column, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Cell is one typed value. Which field holds the value depends on the
// column's Type: S for String, I for Int/Timestamp/Date, F for Float,
// B for Bool. Null marks SQL NULL.
type Cell struct {
	S    string
	I    int64
	F    float64
	B    bool
	Null bool
}

// Row is one row of cells in schema column order.
type Row []Cell

// Str, Int, Float, Bool and Null build cells.
func Str(s string) Cell      { return Cell{S: s} }
func Int64(i int64) Cell     { return Cell{I: i} }
func Float64(f float64) Cell { return Cell{F: f} }
func Boolean(b bool) Cell    { return Cell{B: b} }
func Null() Cell             { return Cell{Null: true} }
