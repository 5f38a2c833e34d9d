package dataset

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/shared/record"
)

// MaskRecord masks a record kept whole without a spec to go by (a message
// on a topic no dataset is named after): its e-mail addresses, in JSON
// strings when it is JSON; in a binary record (not UTF-8) byte for byte
// (MaskEmailBytes).
func MaskRecord(src []byte) []byte {
	switch {
	case bytes.IndexByte(src, '@') < 0:
		return src // nothing to mask
	case isJSONText(src):
		return maskJSON(src, func(string) maskMode { return maskPlain })
	case utf8.Valid(src):
		return []byte(MaskEmails(string(src)))
	}
	return MaskEmailBytes(src)
}

// MaskRecord masks a record's bytes as they are kept whole (quarantine,
// PULSE_REJECTS.RECORD, PULSE_LATE_EVENTS.RECORD), by the spec's rule:
//
//   - JSON (an NDJSON line, a JSON message, a Parquet row's JSON): each
//     top-level member that is an input column is masked as MaskInput masks
//     the column (a Personal field's value whole, e-mails in the others),
//     every other string's e-mail addresses too. The JSON need not parse: a
//     malformed record is masked as far as its tokens go.
//   - A CSV line (raw holds the record's parsed values): every field equal
//     to a Personal field's value is masked whole, e-mails in the others.
//   - Anything else, and a record that did not parse (raw nil): its e-mail
//     addresses; a binary record byte for byte (MaskEmailBytes).
//
// Decoding the masked JSON and cleaning it gives the row the original gave.
func (c *Cleaner) MaskRecord(src []byte, raw *record.Raw) []byte {
	if !c.personal && bytes.IndexByte(src, '@') < 0 {
		return src // nothing to mask
	}
	if isJSONText(src) {
		return maskJSON(src, func(key string) maskMode { return c.keyMask[strings.ToLower(key)] })
	}
	if raw != nil {
		if out, ok := c.maskCSV(src, raw); ok {
			return out
		}
	}
	return MaskRecord(src)
}

// MaskedJSON renders a decoded record (an Avro message) as a JSON object of
// its input columns, each masked as MaskInput masks it: the form a binary
// record whose values are known is kept in, and replayed from.
func (c *Cleaner) MaskedJSON(raw *record.Raw) []byte {
	b := []byte{'{'}
	for i, col := range c.inputs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, col)
		b = append(b, ':')
		if i >= len(raw.Values) || raw.Values[i].Null {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONString(b, c.MaskInput(i, raw.Values[i].Text))
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

func isJSONText(src []byte) bool {
	t := bytes.TrimLeft(src, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// maskCSV masks one CSV record; ok is false when src is not one.
func (c *Cleaner) maskCSV(src []byte, raw *record.Raw) ([]byte, bool) {
	r := csv.NewReader(bytes.NewReader(src))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return nil, false
	}
	if _, err := r.Read(); err == nil {
		return nil, false // more than one record
	}
	personal := map[string]bool{}
	for i, v := range raw.Values {
		if i < len(c.inputMask) && c.inputMask[i] == maskPersonal && !v.Null {
			personal[strings.TrimSpace(v.Text)] = true
		}
	}
	changed := false
	for i, f := range fields {
		m := f
		if personal[strings.TrimSpace(f)] {
			m = MaskPersonal(f)
		} else if strings.IndexByte(f, '@') >= 0 {
			m = MaskEmails(f)
		}
		if m != f {
			fields[i], changed = m, true
		}
	}
	if !changed {
		return src, true
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(fields); err != nil {
		return nil, false
	}
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), true
}

// maskJSON masks JSON text token by token, without requiring it to parse.
// A top-level member's value is masked by modeOf(its key): a Personal
// value whole (a nested or non-string one becomes "****"), the e-mail
// addresses in the others, nested values with their member's mode exactly
// as the cleaner masks the member's compact JSON text. Other bytes are
// copied as they are.
func maskJSON(src []byte, modeOf func(key string) maskMode) []byte {
	out := make([]byte, 0, len(src)+16)
	depth := 0
	mode := maskPlain // of the top-level member being read
	value := false    // a top-level key and its ':' were read: its value comes next
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			end := jsonStringEnd(src, i)
			tok := src[i:end]
			i = end
			switch {
			case depth == 1 && !value && nextIs(src, end, ':'):
				mode = modeOf(unquote(tok))
				out = append(out, maskEmails(string(tok), maskPlain)...)
				value = true
			case depth == 1 && value:
				out = append(out, maskTopString(tok, mode)...)
				value = false
			case depth >= 2:
				out = append(out, maskEmails(string(tok), mode)...)
			default:
				out = append(out, maskEmails(string(tok), maskPlain)...)
			}
		case c == '{' || c == '[':
			if depth == 1 && value && mode == maskPersonal {
				i = skipJSONValue(src, i)
				out = append(out, `"****"`...)
				value = false
				continue
			}
			if depth == 1 {
				value = false
			}
			depth++
			out = append(out, c)
			i++
		case c == '}' || c == ']':
			depth--
			out = append(out, c)
			i++
		case c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if c == ',' && depth == 1 {
				mode, value = maskPlain, false
			}
			out = append(out, c)
			i++
		default: // a number, true, false, null, or junk
			end := i + 1
			for end < len(src) && !isJSONDelim(src[end]) {
				end++
			}
			lit := string(src[i:end])
			i = end
			switch {
			case depth == 1 && value && mode == maskPersonal:
				if lit == "null" {
					out = append(out, lit...)
				} else {
					out = append(out, `"****"`...)
				}
				value = false
			default:
				out = append(out, maskEmails(lit, mode)...)
				if depth == 1 {
					value = false
				}
			}
		}
	}
	return out
}

// maskTopString masks a top-level member's string value (tok, quoted) so
// that it decodes to the value masked by mode.
func maskTopString(tok []byte, mode maskMode) []byte {
	if mode != maskPersonal && bytes.IndexByte(tok, '\\') < 0 {
		return []byte(maskEmails(string(tok), mode)) // the text is the value
	}
	s, ok := unquoteOK(tok)
	if !ok {
		if mode == maskPersonal {
			return []byte(`"****"`)
		}
		return []byte(maskEmails(string(tok), mode))
	}
	var m string
	if mode == maskPersonal {
		m = MaskPersonal(s)
	} else {
		m = maskEmails(s, mode)
	}
	if m == s {
		return tok
	}
	return appendJSONString(nil, m)
}

// jsonStringEnd returns the index after the string starting at src[i]
// (a '"'), or len(src) when it is not terminated.
func jsonStringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// skipJSONValue returns the index after the object or array at src[i].
func skipJSONValue(src []byte, i int) int {
	depth := 0
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '"':
			j = jsonStringEnd(src, j) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(src)
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func nextIs(src []byte, i int, c byte) bool {
	for ; i < len(src); i++ {
		switch src[i] {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return src[i] == c
	}
	return false
}

func unquote(tok []byte) string {
	s, _ := unquoteOK(tok)
	return s
}

func unquoteOK(tok []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}
