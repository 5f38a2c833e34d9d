// Package star is Pulse's dimensional model (seed 000 section 4): the
// dimension and fact tables, and the mapping from a cleaned staging row to
// the rows it contributes to each table.
//
// Surrogate keys are MD5 hex digests of the natural key's text (User_S_ID =
// md5(UserID)), so the same natural key gets the same surrogate everywhere,
// on every run, in every warehouse. A fact's InteractionID is the MD5 of the
// dataset name and its dedupe key, which makes a fact row unique per source
// record and its load idempotent.
package star

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/table"
)

// Col says where one column of a mapped table comes from: a staging field,
// an MD5 over staging fields (with the literal Salt first), or a constant.
type Col struct {
	Name  string
	Field string   // copy this staging field
	MD5   []string // md5(Salt + "|" + field texts joined by "|")
	Salt  string
	Const string // a constant string
	Null  bool   // always NULL (a column this source does not have)
}

// TableMap maps staging rows of one dataset into one table.
type TableMap struct {
	Table *table.Schema
	Cols  []Col // one per Table.Columns, same order
}

// Mapper is a TableMap compiled against a staging schema.
type Mapper struct {
	Table *table.Schema
	cols  []compiled
	buf   []byte
	// memo remembers each MD5 column's digests of the key texts it met
	// first (dimension keys repeat from row to row; a unique key's memo
	// switches itself off).
	memo []table.Memo[string]
}

type compiled struct {
	field int   // >= 0: copy
	md5   []int // non-nil: hash these
	salt  string
	cnst  string
	kind  int // 0 copy, 1 md5, 2 const, 3 null
	typ   table.Type
}

// Compile resolves a TableMap's fields against the staging schema.
func Compile(m TableMap, staging table.Schema) (*Mapper, error) {
	if len(m.Cols) != len(m.Table.Columns) {
		return nil, fmt.Errorf("mapping %s: %d columns mapped, table has %d", m.Table.Name, len(m.Cols), len(m.Table.Columns))
	}
	mp := &Mapper{Table: m.Table, memo: make([]table.Memo[string], len(m.Cols))}
	for i, c := range m.Cols {
		if c.Name != m.Table.Columns[i].Name {
			return nil, fmt.Errorf("mapping %s: column %d is %s, table has %s", m.Table.Name, i, c.Name, m.Table.Columns[i].Name)
		}
		cc := compiled{typ: m.Table.Columns[i].Type, salt: c.Salt}
		switch {
		case c.Field != "":
			cc.field = staging.Index(c.Field)
			if cc.field < 0 {
				return nil, fmt.Errorf("mapping %s.%s: staging has no field %s", m.Table.Name, c.Name, c.Field)
			}
		case len(c.MD5) > 0:
			cc.kind = 1
			for _, f := range c.MD5 {
				j := staging.Index(f)
				if j < 0 {
					return nil, fmt.Errorf("mapping %s.%s: staging has no field %s", m.Table.Name, c.Name, f)
				}
				cc.md5 = append(cc.md5, j)
			}
		case c.Null:
			cc.kind = 3
		default:
			cc.kind = 2
			cc.cnst = c.Const
		}
		mp.cols = append(mp.cols, cc)
	}
	return mp, nil
}

// Map fills out (len = table columns) from one staging row.
func (m *Mapper) Map(staging table.Row, types []table.Type, out table.Row) {
	for i, c := range m.cols {
		switch c.kind {
		case 0:
			out[i] = staging[c.field]
		case 1:
			b := m.buf[:0]
			if c.salt != "" {
				b = append(b, c.salt...)
				b = append(b, '|')
			}
			for k, j := range c.md5 {
				if k > 0 {
					b = append(b, '|')
				}
				b = AppendText(b, staging[j], types[j])
			}
			m.buf = b
			if h, ok := m.memo[i].Get(b); ok {
				out[i] = table.Cell{S: h}
				continue
			}
			h := MD5Hex(b)
			m.memo[i].PutBytes(b, h)
			out[i] = table.Cell{S: h}
		case 2:
			out[i] = table.Cell{S: c.cnst}
		default:
			out[i] = table.Cell{Null: true}
		}
	}
}

// MD5Hex is the lower-case hex MD5 of b, as Snowflake's and DuckDB's md5().
func MD5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// AppendText appends a cell's canonical text form (the form hashed into
// surrogate keys and dedupe keys). NULL is the empty string.
func AppendText(b []byte, c table.Cell, t table.Type) []byte {
	if c.Null {
		return b
	}
	switch t {
	case table.String:
		return append(b, c.S...)
	case table.Int, table.Timestamp, table.Date:
		return strconv.AppendInt(b, c.I, 10)
	case table.Float:
		return strconv.AppendFloat(b, c.F, 'g', -1, 64)
	case table.Bool:
		return strconv.AppendBool(b, c.B)
	}
	return b
}

// Names lists table names, for messages.
func Names(ts []*table.Schema) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Name)
	}
	return strings.Join(s, ", ")
}
