package record

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of arrays and objects in one JSON value.
// Deeper input is rejected as invalid JSON rather than risking the stack.
const maxJSONDepth = 1000

// DecodeJSONObject decodes one JSON object b into dst, one Value per wanted
// column in columns order. dst.Pos and dst.Source are left as they are.
//
// A column is found by an exact key match first, then case-insensitively;
// when a key appears twice the last one wins. Strings are unescaped, numbers
// and booleans keep their literal text, null and absent keys are Null, and
// nested objects and arrays become their compact JSON text.
//
// The whole of b is validated strictly (RFC 8259): anything else is a
// *RecordError whose Reason starts with "invalid JSON: "; valid JSON that is
// not an object is a *RecordError with Reason "not a JSON object". See the
// package comment for the policy on the implementation-defined corners.
// On error every value is Null.
func DecodeJSONObject(b []byte, columns []string, dst *Raw) error {
	if cap(dst.Values) >= len(columns) {
		dst.Values = dst.Values[:len(columns)]
	} else {
		dst.Values = make([]Value, len(columns))
	}
	for i := range dst.Values {
		dst.Values[i] = Value{Null: true}
	}
	d := jsonDecoder{b: b, columns: columns, dst: dst.Values}
	if len(columns) <= len(d.small) {
		d.matched = d.small[:len(columns)]
	} else {
		d.matched = make([]uint8, len(columns))
	}
	if err := d.decode(); err != nil {
		for i := range dst.Values {
			dst.Values[i] = Value{Null: true}
		}
		return err
	}
	return nil
}

type jsonDecoder struct {
	b       []byte
	i       int
	depth   int
	columns []string
	dst     []Value
	matched []uint8 // 0 none, 1 case-insensitive, 2 exact
	small   [32]uint8
	str     string // b as a string, made on first need; values are substrings of it
	strMade bool
	scratch []byte
	high    byte // 0x80 if the last scanned string held a non-ASCII byte
	// badUTF8 is the first string found not valid UTF-8: the record is
	// rejected for it once the rest of it is known to be valid JSON.
	badUTF8 *RecordError
	key     []byte // the top-level key being decoded, for badUTF8's Field
}

func (d *jsonDecoder) fail(msg string) error {
	return &RecordError{Reason: "invalid JSON: " + msg + " at offset " + strconv.Itoa(d.i)}
}

func (d *jsonDecoder) text(start, end int) string {
	if !d.strMade {
		d.str = string(d.b)
		d.strMade = true
	}
	return d.str[start:end]
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) decode() error {
	d.skipSpace()
	if d.i >= len(d.b) {
		return d.fail("empty input")
	}
	if d.b[d.i] != '{' {
		// Validate anyway: invalid JSON must say so, valid non-objects differ.
		if _, err := d.value(); err != nil {
			return err
		}
		d.skipSpace()
		if d.i != len(d.b) {
			return d.fail("unexpected data after top-level value")
		}
		return &RecordError{Reason: "not a JSON object"}
	}
	if err := d.object(); err != nil {
		return err
	}
	d.skipSpace()
	if d.i != len(d.b) {
		return d.fail("unexpected data after top-level value")
	}
	if d.badUTF8 != nil {
		return d.badUTF8
	}
	return nil
}

// object decodes the top-level object, assigning wanted members.
func (d *jsonDecoder) object() error {
	d.i++ // '{'
	d.depth++
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return d.fail("expected object key")
		}
		keyStart := d.i
		d.key = nil
		escaped, err := d.scanString()
		if err != nil {
			return err
		}
		var key []byte
		if escaped {
			key, err = d.unescape(d.b[keyStart+1:d.i-1], d.scratch[:0])
			if err != nil {
				return err
			}
			d.scratch = key
		} else {
			key = d.b[keyStart+1 : d.i-1]
		}
		if raw := d.b[keyStart+1 : d.i-1]; d.high != 0 && d.badUTF8 == nil && !utf8.Valid(raw) {
			d.badUTF8 = &RecordError{Field: printable(raw), Reason: "not valid UTF-8"}
		}
		d.key = key
		col, kind := d.lookup(key)
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.fail("expected ':' after object key")
		}
		d.i++
		d.skipSpace()
		if col < 0 {
			if _, err := d.value(); err != nil {
				return err
			}
		} else {
			v, err := d.member()
			if err != nil {
				return err
			}
			if kind >= d.matched[col] {
				d.dst[col] = v
				d.matched[col] = kind
			}
		}
		d.skipSpace()
		if d.i >= len(d.b) {
			return d.fail("unterminated object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail("expected ',' or '}' in object")
		}
	}
}

// lookup finds the wanted column for key: exact match (kind 2) wins over a
// case-insensitive one (kind 1).
func (d *jsonDecoder) lookup(key []byte) (int, uint8) {
	fold := -1
	for i, c := range d.columns {
		if len(c) != len(key) {
			continue
		}
		if string(key) == c {
			return i, 2
		}
		if fold < 0 && bytes.EqualFold(key, []byte(c)) {
			fold = i
		}
	}
	if fold >= 0 {
		return fold, 1
	}
	return -1, 0
}

// member decodes the value at d.i into a Value.
func (d *jsonDecoder) member() (Value, error) {
	start := d.i
	if d.i >= len(d.b) {
		return Value{}, d.fail("expected value")
	}
	switch d.b[d.i] {
	case '"':
		escaped, err := d.scanString()
		if err != nil {
			return Value{}, err
		}
		if !escaped && (d.high == 0 || utf8.Valid(d.b[start+1:d.i-1])) {
			return Value{Text: d.text(start+1, d.i-1)}, nil
		}
		u, err := d.unescape(d.b[start+1:d.i-1], nil)
		if err != nil {
			return Value{}, err
		}
		return Value{Text: string(u)}, nil
	case 'n':
		if _, err := d.value(); err != nil {
			return Value{}, err
		}
		return Value{Null: true}, nil
	case '{', '[':
		spaced, err := d.value()
		if err != nil {
			return Value{}, err
		}
		if !spaced {
			return Value{Text: d.text(start, d.i)}, nil
		}
		var buf bytes.Buffer
		compactJSON(&buf, d.b[start:d.i])
		return Value{Text: buf.String()}, nil
	default:
		if _, err := d.value(); err != nil {
			return Value{}, err
		}
		return Value{Text: d.text(start, d.i)}, nil
	}
}

// value validates one JSON value at d.i and moves past it. It reports
// whether the value held insignificant whitespace (outside strings).
func (d *jsonDecoder) value() (spaced bool, err error) {
	if d.i >= len(d.b) {
		return false, d.fail("expected value")
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, err := d.scanString()
		return false, err
	case c == '{':
		return d.container('}')
	case c == '[':
		return d.container(']')
	case c == 't':
		return false, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return false, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return false, d.number()
	default:
		if c >= utf8.RuneSelf {
			return false, d.fail("invalid byte 0x" + strconv.FormatUint(uint64(c), 16))
		}
		return false, d.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
}

func (d *jsonDecoder) container(end byte) (bool, error) {
	d.depth++
	if d.depth > maxJSONDepth {
		return false, d.fail("nesting deeper than " + strconv.Itoa(maxJSONDepth))
	}
	d.i++
	spaced := false
	mark := d.i
	d.skipSpace()
	spaced = spaced || d.i != mark
	if d.i < len(d.b) && d.b[d.i] == end {
		d.i++
		d.depth--
		return spaced, nil
	}
	for {
		mark = d.i
		d.skipSpace()
		spaced = spaced || d.i != mark
		if end == '}' {
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return false, d.fail("expected object key")
			}
			if _, err := d.scanString(); err != nil {
				return false, err
			}
			mark = d.i
			d.skipSpace()
			spaced = spaced || d.i != mark
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return false, d.fail("expected ':' after object key")
			}
			d.i++
			mark = d.i
			d.skipSpace()
			spaced = spaced || d.i != mark
		}
		s, err := d.value()
		if err != nil {
			return false, err
		}
		spaced = spaced || s
		mark = d.i
		d.skipSpace()
		spaced = spaced || d.i != mark
		if d.i >= len(d.b) {
			if end == '}' {
				return false, d.fail("unterminated object")
			}
			return false, d.fail("unterminated array")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case end:
			d.i++
			d.depth--
			return spaced, nil
		default:
			return false, d.fail("expected ',' or '" + string(end) + "'")
		}
	}
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.fail("invalid literal")
	}
	d.i += len(lit)
	return nil
}

func (d *jsonDecoder) number() error {
	b := d.b
	i := d.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return d.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.i = i
			return d.fail("invalid number: digit expected after '.'")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.i = i
			return d.fail("invalid number: digit expected in exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return nil
}

// scanString validates the string starting at d.i (a '"') and moves past
// its closing quote. It reports whether the string holds escapes.
func (d *jsonDecoder) scanString() (escaped bool, err error) {
	b := d.b
	i := d.i + 1
	d.high = 0
	for i < len(b) {
		c := b[i]
		d.high |= c & 0x80
		switch {
		case c == '"':
			if d.high != 0 && d.badUTF8 == nil && d.depth > 0 && !utf8.Valid(b[d.i+1:i]) {
				d.noteBadUTF8()
			}
			d.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				d.i = i
				return false, d.fail("unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					d.i = i
					return false, d.fail("invalid \\u escape")
				}
				i += 6
			default:
				d.i = i
				return false, d.fail("invalid escape")
			}
		case c < 0x20:
			d.i = i
			return false, d.fail("control character in string")
		default:
			i++
		}
	}
	d.i = i
	return false, d.fail("unterminated string")
}

// noteBadUTF8 records that a string in the value of the current top-level
// key is not valid UTF-8 (a key itself is checked by object).
func (d *jsonDecoder) noteBadUTF8() {
	if d.depth == 1 && d.key == nil {
		return // a top-level key: object names it
	}
	d.badUTF8 = &RecordError{Field: printable(d.key), Reason: "not valid UTF-8"}
}

// printable is b as text for a reason, invalid UTF-8 bytes as \xNN.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, '\\', 'x', "0123456789abcdef"[b[0]>>4], "0123456789abcdef"[b[0]&0xf])
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unescape appends the unescaped form of an already validated string body
// s to dst. Lone surrogates and invalid UTF-8 become U+FFFD.
func (d *jsonDecoder) unescape(s, dst []byte) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
				i++
				continue
			}
			r, n := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:i+6])); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		i += 2
	}
	return dst, nil
}

// compactJSON appends valid JSON src to buf without insignificant spaces.
func compactJSON(buf *bytes.Buffer, src []byte) {
	inStr := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			buf.WriteByte(c)
			switch c {
			case '\\':
				i++
				buf.WriteByte(src[i])
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			inStr = true
			buf.WriteByte(c)
		default:
			buf.WriteByte(c)
		}
	}
}
