package record

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// leafKind is how a leaf column's values become text.
type leafKind int

const (
	leafPlain     leafKind = iota // by physical type
	leafTimestamp                 // INT64 with unit, RFC 3339 UTC
	leafDate                      // INT32 days, YYYY-MM-DD
	leafTime                      // time of day with unit
	leafDecimal                   // unscaled integer with scale
	leafUnsigned                  // INT32/INT64 holding unsigned integers
	leafUUID                      // FIXED[16]
	leafFloat16                   // FIXED[2]
)

// leafConverter turns one leaf column's values into text.
type leafConverter struct {
	kind  leafKind
	phys  parquet.Kind
	unit  time.Duration // timestamp and time units
	scale int32
}

// timestampLayout is RFC 3339 in UTC at microsecond precision, trailing
// zeros of the fraction dropped.
const timestampLayout = "2006-01-02T15:04:05.999999Z07:00"

func newLeafConverter(t parquet.Type) leafConverter {
	c := leafConverter{kind: leafPlain, phys: t.Kind()}
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			c.kind, c.unit = leafTimestamp, unitOf(v.Unit)
		case *format.DateType:
			c.kind = leafDate
		case *format.TimeType:
			c.kind, c.unit = leafTime, unitOf(v.Unit)
		case *format.DecimalType:
			c.kind, c.scale = leafDecimal, v.Scale
		case *format.IntType:
			if !v.IsSigned {
				c.kind = leafUnsigned
			}
		case *format.UUIDType:
			c.kind = leafUUID
		case *format.Float16Type:
			c.kind = leafFloat16
		}
		return c
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			c.kind, c.unit = leafTimestamp, time.Millisecond
		case deprecated.TimestampMicros:
			c.kind, c.unit = leafTimestamp, time.Microsecond
		case deprecated.Date:
			c.kind = leafDate
		case deprecated.TimeMillis:
			c.kind, c.unit = leafTime, time.Millisecond
		case deprecated.TimeMicros:
			c.kind, c.unit = leafTime, time.Microsecond
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
			c.kind = leafUnsigned
		}
	}
	return c
}

func unitOf(u format.TimeUnit) time.Duration {
	if u.Value == nil {
		return time.Microsecond
	}
	return u.Value.Duration()
}

// text converts v. raw reports whether the text is a JSON literal (number
// or boolean) rather than a string.
func (c leafConverter) text(v parquet.Value) (val Value, raw bool) {
	if v.IsNull() {
		return Value{Null: true}, false
	}
	switch c.kind {
	case leafTimestamp:
		if n, ok := intOf(v); ok {
			return Value{Text: fromUnit(n, c.unit).Format(timestampLayout)}, false
		}
	case leafDate:
		if n, ok := intOf(v); ok {
			return Value{Text: time.Unix(n*86400, 0).UTC().Format("2006-01-02")}, false
		}
	case leafTime:
		if n, ok := intOf(v); ok {
			return Value{Text: time.Unix(0, 0).UTC().Add(time.Duration(n) * c.unit).Format("15:04:05.999999")}, false
		}
	case leafDecimal:
		return Value{Text: decimalText(v, c.scale)}, true
	case leafUnsigned:
		switch v.Kind() {
		case parquet.Int32:
			return Value{Text: strconv.FormatUint(uint64(uint32(v.Int32())), 10)}, true
		case parquet.Int64:
			return Value{Text: strconv.FormatUint(uint64(v.Int64()), 10)}, true
		}
	case leafUUID:
		if b := v.ByteArray(); len(b) == 16 {
			h := hex.EncodeToString(b)
			return Value{Text: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]}, false
		}
	case leafFloat16:
		if b := v.ByteArray(); len(b) == 2 {
			return floatText(float64(float16(binary.LittleEndian.Uint16(b))), 32)
		}
	}
	switch v.Kind() {
	case parquet.Boolean:
		if v.Boolean() {
			return Value{Text: "true"}, true
		}
		return Value{Text: "false"}, true
	case parquet.Int32:
		return Value{Text: strconv.FormatInt(int64(v.Int32()), 10)}, true
	case parquet.Int64:
		return Value{Text: strconv.FormatInt(v.Int64(), 10)}, true
	case parquet.Int96:
		return Value{Text: int96Time(v.Int96()).Format(timestampLayout)}, false
	case parquet.Float:
		return floatText(float64(v.Float()), 32)
	case parquet.Double:
		return floatText(v.Double(), 64)
	}
	return Value{Text: string(v.ByteArray())}, false
}

func intOf(v parquet.Value) (int64, bool) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int64:
		return v.Int64(), true
	}
	return 0, false
}

func fromUnit(n int64, unit time.Duration) time.Time {
	switch unit {
	case time.Millisecond:
		return time.UnixMilli(n).UTC()
	case time.Nanosecond:
		return time.Unix(0, n).UTC()
	}
	return time.UnixMicro(n).UTC()
}

// int96Time decodes an INT96 timestamp: nanoseconds of the day in the first
// 8 bytes, the Julian day in the last 4.
func int96Time(i deprecated.Int96) time.Time {
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	day := int64(i[2]) - 2440588 // Julian day of 1970-01-01
	return time.Unix(day*86400, nanos).UTC()
}

// floatText formats f; NaN and infinities are not JSON numbers.
func floatText(f float64, bits int) (Value, bool) {
	if f == math.Trunc(f) && math.Abs(f) < 1e6 && (f != 0 || !math.Signbit(f)) {
		// What 'g' gives for a whole number under a million, without the
		// shortest-digits search.
		return Value{Text: strconv.FormatInt(int64(f), 10)}, true
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	return Value{Text: s}, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// decimalText formats an unscaled decimal (INT32, INT64 or big-endian two's
// complement bytes) with scale digits after the point.
func decimalText(v parquet.Value, scale int32) string {
	var n big.Int
	switch v.Kind() {
	case parquet.Int32:
		n.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		n.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		n.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			var full big.Int
			full.Lsh(big.NewInt(1), uint(len(b)*8))
			n.Sub(&n, &full)
		}
	}
	s := n.String()
	if scale <= 0 {
		return s
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for len(s) <= int(scale) {
		s = "0" + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// float16 converts IEEE 754 half-precision bits to float32.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// textMemo remembers the texts of one column's repeated values (a
// categorical string, a small set of numbers), so each distinct value is
// formatted and allocated once. It is bounded, and switches itself off
// when a column's values rarely repeat.
type textMemo struct {
	strs    map[string]textOf
	nums    map[uint64]textOf
	lookups int
	hits    int
	off     bool
}

type textOf struct {
	val Value
	raw bool
}

const (
	textMemoMax   = 4096
	textMemoProbe = 8192
)

// text is c.text(v) through the memo.
func (m *textMemo) text(c leafConverter, v parquet.Value) (Value, bool) {
	if m.off || v.IsNull() || c.kind != leafPlain {
		return c.text(v)
	}
	var key uint64
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := v.ByteArray()
		if t, ok := m.strs[string(b)]; ok {
			m.hit()
			return t.val, t.raw
		}
		m.miss()
		val, raw := c.text(v)
		if !m.off && len(m.strs) < textMemoMax {
			if m.strs == nil {
				m.strs = map[string]textOf{}
			}
			m.strs[val.Text] = textOf{val, raw}
		}
		return val, raw
	case parquet.Int32:
		key = uint64(uint32(v.Int32()))
	case parquet.Int64:
		key = uint64(v.Int64())
	case parquet.Double:
		key = math.Float64bits(v.Double())
	case parquet.Float:
		key = uint64(math.Float32bits(v.Float()))
	default:
		return c.text(v)
	}
	if t, ok := m.nums[key]; ok {
		m.hit()
		return t.val, t.raw
	}
	m.miss()
	val, raw := c.text(v)
	if !m.off && len(m.nums) < textMemoMax {
		if m.nums == nil {
			m.nums = map[uint64]textOf{}
		}
		m.nums[key] = textOf{val, raw}
	}
	return val, raw
}

func (m *textMemo) hit() { m.lookups++; m.hits++ }

func (m *textMemo) miss() {
	m.lookups++
	if m.lookups == textMemoProbe && m.hits*4 < m.lookups {
		m.off, m.strs, m.nums = true, nil, nil
	}
}
