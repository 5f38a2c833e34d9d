package sqlmodel

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/table"
)

// CheckSchema reports what makes s unusable for loads: no name, no
// columns, a repeated or empty column name, no key, or a key naming no
// column.
func CheckSchema(s table.Schema) error {
	if s.Name == "" {
		return fmt.Errorf("table schema has no name")
	}
	if len(s.Columns) == 0 {
		return fmt.Errorf("table %s has no columns", s.Name)
	}
	seen := make(map[string]bool, len(s.Columns))
	for _, c := range s.Columns {
		u := strings.ToUpper(c.Name)
		if c.Name == "" {
			return fmt.Errorf("table %s has a column with no name", s.Name)
		}
		if seen[u] {
			return fmt.Errorf("table %s has column %s twice", s.Name, c.Name)
		}
		seen[u] = true
	}
	if len(s.Key) == 0 {
		return fmt.Errorf("table %s has no key columns", s.Name)
	}
	for _, k := range s.Key {
		if s.Index(k) < 0 {
			return fmt.Errorf("table %s: key column %s is not a column", s.Name, k)
		}
	}
	return nil
}

// LastByKey checks rows against s (cell count, no NULL in a key column)
// and returns them with one row per key, the last of each key winning,
// in the order of each key's first appearance. Rows are not copied.
func LastByKey(s table.Schema, rows []table.Row) ([]table.Row, error) {
	keyIdx := make([]int, len(s.Key))
	for i, k := range s.Key {
		keyIdx[i] = s.Index(k)
		if keyIdx[i] < 0 {
			return nil, fmt.Errorf("table %s: key column %s is not a column", s.Name, k)
		}
	}
	pos := make(map[string]int, len(rows))
	out := make([]table.Row, 0, len(rows))
	var b []byte
	for n, r := range rows {
		if len(r) != len(s.Columns) {
			return nil, fmt.Errorf("table %s row %d: %d cells for %d columns", s.Name, n, len(r), len(s.Columns))
		}
		b = b[:0]
		for _, i := range keyIdx {
			c := r[i]
			if c.Null {
				return nil, fmt.Errorf("table %s row %d: key column %s is NULL", s.Name, n, s.Columns[i].Name)
			}
			b = appendKeyCell(b, s.Columns[i].Type, c)
		}
		if p, ok := pos[string(b)]; ok {
			out[p] = r
			continue
		}
		pos[string(b)] = len(out)
		out = append(out, r)
	}
	return out, nil
}

// appendKeyCell appends an unambiguous encoding of one key cell.
func appendKeyCell(b []byte, t table.Type, c table.Cell) []byte {
	switch t {
	case table.String:
		b = strconv.AppendInt(b, int64(len(c.S)), 10)
		b = append(b, ':')
		b = append(b, c.S...)
	case table.Float:
		f := c.F
		if f == 0 {
			f = 0 // -0 and +0 are one key in SQL
		}
		b = strconv.AppendUint(b, math.Float64bits(f), 16)
	case table.Bool:
		b = strconv.AppendBool(b, c.B)
	default:
		b = strconv.AppendInt(b, c.I, 10)
	}
	return append(b, ';')
}
