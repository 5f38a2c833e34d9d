package sqlmodel

import (
	"strings"

	"github.com/pulse-analytics/pulse/shared/table"
)

// keyMatch is "tgt.K1 = src.K1 AND tgt.K2 = src.K2".
func (d Dialect) keyMatch(s table.Schema) string {
	conds := make([]string, len(s.Key))
	for i, k := range s.Key {
		q := d.Quote(k)
		conds[i] = "tgt." + q + " = src." + q
	}
	return strings.Join(conds, " AND ")
}

// Merge upserts source (a table name or a parenthesised query with the
// target's column names) into target on its key columns:
//
//	MERGE INTO T AS tgt USING S AS src ON tgt.K = src.K
//	WHEN MATCHED THEN UPDATE SET A = src.A
//	WHEN NOT MATCHED THEN INSERT (K, A) VALUES (src.K, src.A)
//
// A table whose columns are all key columns gets no WHEN MATCHED clause.
// The source must hold at most one row per key (see LastByKey).
func (d Dialect) Merge(target table.Schema, source string) string {
	isKey := make(map[string]bool, len(target.Key))
	for _, k := range target.Key {
		isKey[k] = true
	}
	var sets []string
	cols := make([]string, len(target.Columns))
	vals := make([]string, len(target.Columns))
	for i, c := range target.Columns {
		q := d.Quote(c.Name)
		cols[i] = q
		vals[i] = "src." + q
		if !isKey[c.Name] {
			sets = append(sets, q+" = src."+q)
		}
	}
	var b strings.Builder
	b.WriteString("MERGE INTO ")
	b.WriteString(d.QuoteName(target.Name))
	b.WriteString(" AS tgt USING ")
	b.WriteString(source)
	b.WriteString(" AS src ON ")
	b.WriteString(d.keyMatch(target))
	if len(sets) > 0 {
		b.WriteString(" WHEN MATCHED THEN UPDATE SET ")
		b.WriteString(strings.Join(sets, ", "))
	}
	b.WriteString(" WHEN NOT MATCHED THEN INSERT (")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(") VALUES (")
	b.WriteString(strings.Join(vals, ", "))
	b.WriteString(")")
	return b.String()
}

// CountNew counts the source rows whose key is absent from target: the
// rows a Merge of the same source will insert. Run it in the merge's
// transaction, before the MERGE.
func (d Dialect) CountNew(target table.Schema, source string) string {
	return "SELECT COUNT(*) FROM " + source + " AS src WHERE NOT EXISTS (SELECT 1 FROM " +
		d.QuoteName(target.Name) + " AS tgt WHERE " + d.keyMatch(target) + ")"
}

// InsertValues is a multi-row INSERT of n rows with positional "?"
// placeholders: INSERT INTO T (A, B) VALUES (?, ?), (?, ?).
func (d Dialect) InsertValues(name string, s table.Schema, n int) string {
	cols := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = d.Quote(c.Name)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(s.Columns)), ", ") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(d.QuoteName(name))
	b.WriteString(" (")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(") VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// SeqColumn is the column a Loader's stage table adds to a table's
// columns: the order rows were staged in, so that of rows repeating a key
// across Stage calls the last one wins.
const SeqColumn = "PULSE_SEQ"

// StageSchema is t with SeqColumn appended: the schema of a Loader's stage table.
func StageSchema(t table.Schema) table.Schema {
	s := t
	s.Columns = append(append([]table.Column(nil), t.Columns...), table.Column{Name: SeqColumn, Type: table.Int})
	return s
}

// LoadSource is the MERGE source over a Loader's stage table: the table
// itself when every key was staged once (one Stage call), else its rows
// reduced to the last staged of each key.
func (d Dialect) LoadSource(t table.Schema, stage string, once bool) string {
	if once {
		return d.QuoteName(stage)
	}
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = d.Quote(k)
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = d.Quote(c.Name)
	}
	return "(SELECT " + strings.Join(cols, ", ") + " FROM " + d.QuoteName(stage) + " QUALIFY ROW_NUMBER() OVER (PARTITION BY " +
		strings.Join(keys, ", ") + " ORDER BY " + d.Quote(SeqColumn) + " DESC) = 1)"
}
