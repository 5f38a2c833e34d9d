package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Reject is why one record was not cleaned: the field at fault ("" for the
// whole record) and the reason.
type Reject struct {
	Field  string
	Reason string
}

func (r *Reject) Error() string {
	if r.Field == "" {
		return r.Reason
	}
	return r.Field + ": " + r.Reason
}

// Meta is what the pipeline knows about a record besides its values.
type Meta struct {
	Source     string // file key (with version) or topic/partition
	Row        int64  // record position
	IngestedAt int64  // Unix microseconds UTC
}

// Cleaner applies one Spec. Build it once with Compile and reuse it; it is
// not safe for concurrent use (it keeps scratch buffers).
type Cleaner struct {
	Spec     *Spec
	inputs   []string
	spans    [][2]int // input index range per field
	schema   table.Schema
	types    []table.Type
	index    map[string]int
	keyIdx   []int
	eventIdx int
	nFields  int
	keyBuf   []byte
	// std remembers each field's standardized values (Std functions are
	// pure), so a categorical value is standardized once per file, not
	// once per record; stdGen is the alias generation they were made in.
	std    []table.Memo[stdResult]
	stdGen int64
	part   struct { // the last date partition made
		day          int64
		prefix, text string
	}
	// How each field's and each input column's values are masked, and the
	// mode of each input name in lower case (mask.go).
	fieldMask, inputMask []maskMode
	keyMask              map[string]maskMode
	personal             bool // a field is Personal
}

type stdResult struct {
	text string
	err  error
}

// Compile checks a Spec and prepares its Cleaner.
func Compile(spec *Spec) (*Cleaner, error) {
	c := &Cleaner{Spec: spec, index: map[string]int{}, eventIdx: -1}
	c.schema.Name = "STG_" + strings.ToUpper(spec.Name)
	add := func(name string, t table.Type) error {
		if _, dup := c.index[name]; dup {
			return fmt.Errorf("dataset %s: column %s declared twice", spec.Name, name)
		}
		c.index[name] = len(c.schema.Columns)
		c.schema.Columns = append(c.schema.Columns, table.Column{Name: name, Type: t})
		c.types = append(c.types, t)
		return nil
	}
	for _, f := range spec.Fields {
		from := f.From
		if len(from) == 0 {
			from = []string{f.Name}
		}
		c.spans = append(c.spans, [2]int{len(c.inputs), len(c.inputs) + len(from)})
		c.inputs = append(c.inputs, from...)
		if err := add(f.Name, f.Type); err != nil {
			return nil, err
		}
	}
	c.nFields = len(spec.Fields)
	if err := c.compileMasks(); err != nil {
		return nil, err
	}
	c.std = make([]table.Memo[stdResult], len(spec.Fields))
	c.stdGen = aliasGeneration.Load()
	for _, d := range spec.Derived {
		if err := add(d.Name, d.Type); err != nil {
			return nil, err
		}
	}
	for _, m := range []table.Column{{Name: ColSource, Type: table.String}, {Name: ColRow, Type: table.Int}, {Name: ColIngestedAt, Type: table.Timestamp}} {
		if err := add(m.Name, m.Type); err != nil {
			return nil, err
		}
	}
	for _, k := range spec.Key {
		j, ok := c.index[k]
		if !ok {
			return nil, fmt.Errorf("dataset %s: key field %s is not a column", spec.Name, k)
		}
		c.keyIdx = append(c.keyIdx, j)
	}
	c.schema.Key = append([]string{}, spec.Key...)
	if spec.EventTime != "" {
		j, ok := c.index[spec.EventTime]
		if !ok || c.types[j] != table.Timestamp {
			return nil, fmt.Errorf("dataset %s: event-time field %s is not a timestamp column", spec.Name, spec.EventTime)
		}
		c.eventIdx = j
	}
	if spec.Partition == ByField {
		if _, ok := c.index[spec.PartitionField]; !ok {
			return nil, fmt.Errorf("dataset %s: partition field %s is not a column", spec.Name, spec.PartitionField)
		}
	}
	if spec.Partition == ByEventDate && c.eventIdx < 0 {
		return nil, fmt.Errorf("dataset %s: partitioned by event date without an event-time field", spec.Name)
	}
	for _, m := range spec.Star {
		if _, err := star.Compile(m, c.schema); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", spec.Name, err)
		}
	}
	return c, nil
}

// Columns are the input column names a reader must produce, in order.
func (c *Cleaner) Columns() []string { return c.inputs }

// Schema is the staging table: fields, derived fields, then meta columns.
func (c *Cleaner) Schema() table.Schema { return c.schema }

// Types are the staging column types, in Schema order.
func (c *Cleaner) Types() []table.Type { return c.types }

// NewRow allocates a staging row.
func (c *Cleaner) NewRow() table.Row { return make(table.Row, len(c.schema.Columns)) }

// Clean turns one raw record into a staging row. It returns a *Reject when
// the record cannot be kept.
func (c *Cleaner) Clean(raw *record.Raw, m Meta, row table.Row) *Reject {
	for fi := range c.Spec.Fields {
		f := &c.Spec.Fields[fi]
		sp := c.spans[fi]
		text, null, blank := "", true, false
		for j := sp[0]; j < sp[1] && j < len(raw.Values); j++ {
			v := raw.Values[j]
			if v.Null {
				continue
			}
			t := strings.TrimSpace(v.Text)
			if t == "" {
				blank = true
				continue
			}
			if strings.EqualFold(t, "null") || strings.EqualFold(t, "nan") && f.Type != table.String {
				continue
			}
			text, null = t, false
			break
		}
		if null && blank && f.BlankIsValue {
			null = false // the value "", through Std like any other
		}
		if null {
			if f.Critical {
				return &Reject{Field: f.Name, Reason: "missing critical field"}
			}
			if f.KeepNull {
				row[fi] = table.Cell{Null: true}
				continue
			}
			row[fi] = defaultCell(f)
			continue
		}
		text = c.maskField(fi, text)
		if f.Std != nil {
			s, err := c.standardize(fi, f, text)
			if err != nil {
				return &Reject{Field: f.Name, Reason: err.Error()}
			}
			text = s
		}
		cell, err := parseCell(text, f.Type)
		if err != nil {
			return &Reject{Field: f.Name, Reason: err.Error()}
		}
		if f.Ranged {
			var v float64
			switch f.Type {
			case table.Int:
				v = float64(cell.I)
			case table.Float:
				v = cell.F
			}
			if v < f.Min || v > f.Max {
				return &Reject{Field: f.Name, Reason: "out of range " + rangeText(f) + ": " + text}
			}
		}
		row[fi] = cell
	}
	acc := Fields{c: c, row: row}
	for di, d := range c.Spec.Derived {
		cell, err := d.Fn(acc)
		if err != nil {
			return &Reject{Field: d.Name, Reason: err.Error()}
		}
		row[c.nFields+di] = cell
	}
	n := len(row)
	row[n-3] = table.Cell{S: m.Source}
	row[n-2] = table.Cell{I: m.Row}
	row[n-1] = table.Cell{I: m.IngestedAt}
	return nil
}

// standardize applies field fi's Std to text, through its memo.
func (c *Cleaner) standardize(fi int, f *Field, text string) (string, error) {
	if g := aliasGeneration.Load(); g != c.stdGen {
		for i := range c.std {
			c.std[i].Reset()
		}
		c.stdGen = g
	}
	m := &c.std[fi]
	if r, ok := m.GetString(text); ok {
		return r.text, r.err
	}
	s, err := f.Std(text)
	// The result may share the record's memory (a substring of its line):
	// a copy is kept, so the memo holds no record alive.
	r := stdResult{text: strings.Clone(s), err: err}
	m.Put(text, r)
	return r.text, r.err
}

// Key returns the record's dedupe key text (key fields joined by '|').
func (c *Cleaner) Key(row table.Row) string {
	b := c.keyBuf[:0]
	for k, j := range c.keyIdx {
		if k > 0 {
			b = append(b, '|')
		}
		b = star.AppendText(b, row[j], c.types[j])
	}
	c.keyBuf = b
	return string(b)
}

// EventTime returns the row's event time in Unix microseconds, if the
// dataset has one and the row's value is not NULL.
func (c *Cleaner) EventTime(row table.Row) (int64, bool) {
	if c.eventIdx < 0 || row[c.eventIdx].Null {
		return 0, false
	}
	return row[c.eventIdx].I, true
}

// Partition returns the staging partition of a row ("ingest_date=2024-02-03").
func (c *Cleaner) Partition(row table.Row) string {
	switch c.Spec.Partition {
	case ByEventDate:
		if t, ok := c.EventTime(row); ok {
			return c.datePartition("event_date=", t)
		}
		return "event_date=unknown"
	case ByField:
		j := c.index[c.Spec.PartitionField]
		v := string(star.AppendText(nil, row[j], c.types[j]))
		if v == "" {
			v = "unknown"
		}
		return strings.ToLower(c.Spec.PartitionField) + "=" + partitionSafe(v)
	}
	return c.datePartition("ingest_date=", row[len(row)-1].I)
}

// datePartition is prefix + the UTC date of t (Unix microseconds),
// remembered for the last day seen: rows of a file mostly share a day.
func (c *Cleaner) datePartition(prefix string, t int64) string {
	day := t / 86_400_000_000
	if t < 0 && t%86_400_000_000 != 0 {
		day--
	}
	if c.part.text != "" && c.part.day == day && c.part.prefix == prefix {
		return c.part.text
	}
	c.part.day, c.part.prefix = day, prefix
	c.part.text = prefix + time.UnixMicro(t).UTC().Format("2006-01-02")
	return c.part.text
}

func partitionSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '=' || r < ' ' {
			return '_'
		}
		return r
	}, v)
}

// Fields gives derived-field functions access to the cleaned fields.
type Fields struct {
	c   *Cleaner
	row table.Row
}

// Get returns the named cleaned cell (Null if unknown).
func (a Fields) Get(name string) table.Cell {
	if j, ok := a.c.index[name]; ok {
		return a.row[j]
	}
	return table.Cell{Null: true}
}

func defaultCell(f *Field) table.Cell {
	if f.Default != "" {
		if c, err := parseCell(f.Default, f.Type); err == nil {
			return c
		}
	}
	switch f.Type {
	case table.String:
		return table.Cell{S: "Unknown"}
	case table.Timestamp, table.Date:
		return table.Cell{Null: true}
	}
	return table.Cell{} // 0, 0.0, false
}

func rangeText(f *Field) string {
	lo, hi := strconv.FormatFloat(f.Min, 'g', -1, 64), strconv.FormatFloat(f.Max, 'g', -1, 64)
	if math.IsInf(f.Max, 1) {
		return ">= " + lo
	}
	return "[" + lo + ", " + hi + "]"
}

func parseCell(text string, t table.Type) (table.Cell, error) {
	switch t {
	case table.String:
		return table.Cell{S: text}, nil
	case table.Int:
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return table.Cell{I: i}, nil
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return table.Cell{}, fmt.Errorf("not an integer: %q", clip(text))
		}
		return table.Cell{I: int64(f)}, nil
	case table.Float:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return table.Cell{}, fmt.Errorf("not a number: %q", clip(text))
		}
		return table.Cell{F: f}, nil
	case table.Bool:
		b, ok := ParseBool(text)
		if !ok {
			return table.Cell{}, fmt.Errorf("not a boolean: %q", clip(text))
		}
		return table.Cell{B: b}, nil
	case table.Timestamp:
		tm, err := ParseTime(text)
		if err != nil {
			return table.Cell{}, err
		}
		return table.Cell{I: tm.UnixMicro()}, nil
	case table.Date:
		tm, err := ParseTime(text)
		if err != nil {
			return table.Cell{}, err
		}
		return table.Cell{I: tm.Unix() / 86400}, nil
	}
	return table.Cell{}, fmt.Errorf("unsupported type %v", t)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ParseBool accepts true/false, yes/no, y/n, 1/0 in any case.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1":
		return true, true
	case "false", "f", "no", "n", "0":
		return false, true
	}
	return false, false
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTime parses ISO 8601 / RFC 3339 timestamps (a missing zone means
// UTC), dates, and Unix epoch seconds or milliseconds.
func ParseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n > 1e11 && n < 1e14: // milliseconds
			return time.UnixMilli(n).UTC(), nil
		case n >= 0 && n <= 1e11: // seconds
			return time.Unix(n, 0).UTC(), nil
		}
		return time.Time{}, fmt.Errorf("epoch value out of range: %s", s)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e11 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC().Truncate(time.Microsecond), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamp: %q", clip(s))
}
