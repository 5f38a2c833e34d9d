package avro

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	havro "github.com/hamba/avro/v2"
)

// reader reads the Avro binary encoding from a byte slice and remembers
// the first error, so a decode is a straight run of reads and one check.
type reader struct {
	b   []byte
	i   int
	err error
}

var errShort = errors.New("record cut short")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// long reads a zig-zag varint (int and long share it).
func (r *reader) long() int64 {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if r.i >= len(r.b) {
			r.fail(errShort)
			return 0
		}
		c := r.b[r.i]
		r.i++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	r.fail(errors.New("varint longer than 10 bytes"))
	return 0
}

func (r *reader) take(n int) []byte {
	if n < 0 || r.i+n > len(r.b) {
		r.fail(errShort)
		r.i = len(r.b)
		return nil
	}
	out := r.b[r.i : r.i+n]
	r.i += n
	return out
}

func (r *reader) bytes() []byte {
	n := r.long()
	if n < 0 {
		r.fail(fmt.Errorf("negative length %d", n))
		return nil
	}
	if n > int64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	return r.take(int(n))
}

func (r *reader) boolean() bool {
	b := r.take(1)
	if len(b) == 0 {
		return false
	}
	if b[0] > 1 {
		r.fail(fmt.Errorf("boolean byte %d", b[0]))
	}
	return b[0] == 1
}

func (r *reader) float() float32 {
	b := r.take(4)
	if len(b) < 4 {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

func (r *reader) double() float64 {
	b := r.take(8)
	if len(b) < 8 {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// textOf reads one value of schema s and returns its text form, the form
// the cleaner parses (the same as the JSON reader gives): numbers and
// booleans as literals, strings as they are, bytes and fixed as text when
// UTF-8 else base64, enums as their symbol, timestamps (logical types) in
// RFC 3339, dates as YYYY-MM-DD, decimals exactly, and records, arrays and
// maps as compact JSON. null is (“”, true).
func textOf(r *reader, s havro.Schema) (string, bool) {
	switch s.Type() {
	case havro.Null:
		return "", true
	case havro.Boolean:
		return strconv.FormatBool(r.boolean()), false
	case havro.Int, havro.Long:
		v := r.long()
		if s.Type() == havro.Int && (v < math.MinInt32 || v > math.MaxInt32) {
			r.fail(fmt.Errorf("int %d out of range", v))
		}
		return logicalInt(s, v), false
	case havro.Float:
		return strconv.FormatFloat(float64(r.float()), 'g', -1, 32), false
	case havro.Double:
		return strconv.FormatFloat(r.double(), 'g', -1, 64), false
	case havro.String:
		b := r.bytes()
		if !utf8.Valid(b) {
			r.fail(errors.New("string is not UTF-8"))
		}
		return string(b), false
	case havro.Bytes:
		return logicalBytes(s, r.bytes()), false
	case havro.Fixed:
		return logicalBytes(s, r.take(s.(*havro.FixedSchema).Size())), false
	case havro.Enum:
		syms := s.(*havro.EnumSchema).Symbols()
		i := r.long()
		if i < 0 || i >= int64(len(syms)) {
			r.fail(fmt.Errorf("enum index %d of %d symbols", i, len(syms)))
			return "", true
		}
		return syms[i], false
	case havro.Union:
		types := s.(*havro.UnionSchema).Types()
		i := r.long()
		if i < 0 || i >= int64(len(types)) {
			r.fail(fmt.Errorf("union branch %d of %d", i, len(types)))
			return "", true
		}
		return textOf(r, types[i])
	case havro.Ref:
		return textOf(r, s.(*havro.RefSchema).Schema())
	case havro.Record, havro.Array, havro.Map:
		b := appendJSON(nil, r, s)
		return string(b), false
	}
	r.fail(fmt.Errorf("unsupported schema type %s", s.Type()))
	return "", true
}

func logical(s havro.Schema) havro.LogicalType {
	if ls, ok := s.(havro.LogicalTypeSchema); ok && ls.Logical() != nil {
		return ls.Logical().Type()
	}
	return ""
}

func logicalInt(s havro.Schema, v int64) string {
	switch logical(s) {
	case havro.TimestampMillis, havro.LocalTimestampMillis:
		return time.UnixMilli(v).UTC().Format(time.RFC3339Nano)
	case havro.TimestampMicros, havro.LocalTimestampMicros:
		return time.UnixMicro(v).UTC().Format(time.RFC3339Nano)
	case havro.Date:
		return time.Unix(v*86400, 0).UTC().Format("2006-01-02")
	}
	return strconv.FormatInt(v, 10)
}

func logicalBytes(s havro.Schema, b []byte) string {
	if logical(s) == havro.Decimal {
		if d, ok := s.(havro.LogicalTypeSchema).Logical().(*havro.DecimalLogicalSchema); ok {
			n := new(big.Int).SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 { // two's complement
				n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
			return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil)).FloatString(d.Scale())
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// appendJSON renders one value of s as compact JSON.
func appendJSON(dst []byte, r *reader, s havro.Schema) []byte {
	switch s.Type() {
	case havro.Record:
		dst = append(dst, '{')
		for i, f := range s.(*havro.RecordSchema).Fields() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendQuote(dst, f.Name())
			dst = append(dst, ':')
			dst = appendJSON(dst, r, f.Type())
		}
		return append(dst, '}')
	case havro.Array:
		items := s.(*havro.ArraySchema).Items()
		dst = append(dst, '[')
		n := 0
		for r.err == nil {
			count := blockCount(r)
			if count == 0 {
				break
			}
			for ; count > 0 && r.err == nil; count-- {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSON(dst, r, items)
				n++
			}
		}
		return append(dst, ']')
	case havro.Map:
		values := s.(*havro.MapSchema).Values()
		dst = append(dst, '{')
		n := 0
		for r.err == nil {
			count := blockCount(r)
			if count == 0 {
				break
			}
			for ; count > 0 && r.err == nil; count-- {
				if n > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendQuote(dst, string(r.bytes()))
				dst = append(dst, ':')
				dst = appendJSON(dst, r, values)
				n++
			}
		}
		return append(dst, '}')
	case havro.Union:
		types := s.(*havro.UnionSchema).Types()
		i := r.long()
		if i < 0 || i >= int64(len(types)) {
			r.fail(fmt.Errorf("union branch %d of %d", i, len(types)))
			return append(dst, "null"...)
		}
		return appendJSON(dst, r, types[i])
	case havro.Ref:
		return appendJSON(dst, r, s.(*havro.RefSchema).Schema())
	}
	text, null := textOf(r, s)
	switch {
	case null:
		return append(dst, "null"...)
	case s.Type() == havro.String || s.Type() == havro.Bytes || s.Type() == havro.Fixed || s.Type() == havro.Enum || logical(s) != "":
		return strconv.AppendQuote(dst, text)
	}
	return append(dst, text...)
}

// blockCount reads an array or map block header (a negative count is
// followed by the block's byte size, which is skipped over).
func blockCount(r *reader) int64 {
	n := r.long()
	if n < 0 {
		r.long()
		n = -n
	}
	if n > int64(len(r.b)) {
		r.fail(fmt.Errorf("block of %d items in %d bytes", n, len(r.b)))
		return 0
	}
	return n
}
