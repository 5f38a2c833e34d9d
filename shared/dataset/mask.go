package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/shared/table"
)

// The masking rule (DESIGN.md 4.6); the package comment says where it
// applies and where the original survives.
//
//   - An e-mail address anywhere in a value keeps only its domain:
//     "ana@Gmail.com" -> "****@gmail.com".
//   - In a field that identifies records (a dedupe key field or a field a
//     surrogate key hashes), an e-mail address becomes a stable pseudonym
//     instead, so two addresses stay two keys: "****" + the first 16 hex
//     digits of the SHA-256 of the address as it came + "@" + the domain.
//   - A field the spec marks Personal is masked whole: an e-mail to
//     "****@domain", anything else to "****"; a blank or "null" value stays
//     as it is (it is a NULL, not data).
//
// Every mask is a fixed point (masking a masked value changes nothing), so
// cleaning a masked record gives the row cleaning the original gave.

// maskMode is how a field's values are masked.
type maskMode uint8

const (
	maskPlain    maskMode = iota // e-mail addresses in the text -> ****@domain
	maskKey                      // e-mail addresses in the text -> ****<sha-256 prefix>@domain
	maskPersonal                 // the whole value (MaskPersonal)
)

// maskLocal replaces an e-mail address's local part.
const maskLocal = "****"

// MaskEmails returns s with every e-mail address in it masked to
// "****@" + its domain in lower case ("write to Ana.K@Gmail.com" ->
// "write to ****@gmail.com"). An address is a run of local-part characters
// (letters, digits, any non-ASCII byte, and . _ % + - *), "@", and a domain
// with a dot whose last label has a letter.
func MaskEmails(s string) string { return maskEmails(s, maskPlain) }

// MaskPersonal masks the value of a field a spec marks Personal: an e-mail
// address keeps only its domain ("****@gmail.com"), any other value becomes
// "****"; a blank or "null" value is returned as it is.
func MaskPersonal(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || strings.EqualFold(t, "null") {
		return s
	}
	if m, err := MaskEmail(t); err == nil {
		return m
	}
	return maskLocal
}

// MaskEmailBytes returns a copy of b with the local part of every e-mail
// address in it overwritten by '*', byte for byte: the length of every
// string stays, so a binary record (Avro) keeps its framing.
func MaskEmailBytes(b []byte) []byte {
	out := append([]byte(nil), b...)
	s := string(b)
	last := 0
	for at := strings.IndexByte(s, '@'); at >= 0; {
		if lo, hi, ok := emailAt(s, at, last); ok {
			for i := lo; i < at; i++ {
				out[i] = '*'
			}
			last = hi
		}
		next := strings.IndexByte(s[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return out
}

func maskEmails(s string, mode maskMode) string {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return s
	}
	var b strings.Builder
	last := 0 // s[:last] is written
	for at >= 0 {
		if lo, hi, ok := emailAt(s, at, last); ok {
			b.WriteString(s[last:lo])
			domain := strings.ToLower(s[at+1 : hi])
			b.WriteString(maskLocal)
			if mode == maskKey {
				b.WriteString(keyDigest(s[lo:at], s[lo:hi]))
			}
			b.WriteByte('@')
			b.WriteString(domain)
			last = hi
		}
		next := strings.IndexByte(s[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// keyDigest is the pseudonym part of a key field's masked address: the
// first 16 hex digits of the address's SHA-256; an address already masked
// so keeps its digest.
func keyDigest(local, addr string) string {
	if d, ok := strings.CutPrefix(local, maskLocal); ok && len(d) == 16 && isLowerHex(d) {
		return d
	}
	sum := sha256.Sum256([]byte(addr))
	return hex.EncodeToString(sum[:8])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// emailAt finds the e-mail address around the '@' at s[at], not starting
// before last: its local part is s[lo:at], its domain s[at+1:hi].
func emailAt(s string, at, last int) (lo, hi int, ok bool) {
	lo = at
	for lo > last && isLocalByte(s[lo-1]) {
		lo--
	}
	// In JSON text "\nbob@..." or "\u0062ob@...": the escape's letters are
	// not the address's, and masking them would break the escape.
	if lo > 0 && lo < at && s[lo-1] == '\\' {
		if s[lo] == 'u' {
			lo = min(lo+5, at)
		} else {
			lo++
		}
	}
	if lo == at {
		return 0, 0, false
	}
	hi = at + 1
	for hi < len(s) && isDomainByte(s[hi]) {
		hi++
	}
	for hi > at+1 && (s[hi-1] == '.' || s[hi-1] == '-') {
		hi--
	}
	d := s[at+1 : hi]
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 || d[0] == '.' || d[0] == '-' || strings.Contains(d, "..") || len(d)-dot-1 < 2 || !hasLetter(d[dot+1:]) {
		return 0, 0, false
	}
	return lo, hi, true
}

func isLocalByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf ||
		c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '*'
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf || c == '.' || c == '-'
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// compileMasks sets each field's and input column's mask mode and checks
// the spec's Personal fields: text fields, never part of a dedupe key or a
// surrogate key (masked to "****", distinct values would become one key).
func (c *Cleaner) compileMasks() error {
	spec := c.Spec
	ident := map[string]bool{}
	for _, k := range spec.Key {
		ident[k] = true
	}
	for _, m := range spec.Star {
		for _, col := range m.Cols {
			for _, f := range col.MD5 {
				ident[f] = true
			}
		}
	}
	c.fieldMask = make([]maskMode, len(spec.Fields))
	c.inputMask = make([]maskMode, len(c.inputs))
	c.keyMask = map[string]maskMode{}
	for fi, f := range spec.Fields {
		mode := maskPlain
		switch {
		case f.Personal && f.Type != table.String:
			return fmt.Errorf("dataset %s: personal field %s is not a string field", spec.Name, f.Name)
		case f.Personal && ident[f.Name]:
			return fmt.Errorf("dataset %s: personal field %s is part of a dedupe or surrogate key (its masked values would collide)", spec.Name, f.Name)
		case f.Personal:
			mode, c.personal = maskPersonal, true
		case ident[f.Name]:
			mode = maskKey
		}
		c.fieldMask[fi] = mode
		for j := c.spans[fi][0]; j < c.spans[fi][1]; j++ {
			c.inputMask[j] = mode
			if name := strings.ToLower(c.inputs[j]); mode > c.keyMask[name] {
				c.keyMask[name] = mode
			}
		}
	}
	return nil
}

// HasPersonal reports whether the spec has a Personal field: a record of
// it may need masking even without an e-mail address in it.
func (c *Cleaner) HasPersonal() bool { return c.personal }

// maskField masks the trimmed, non-null text of field fi before it is
// standardized and parsed, so neither the row nor a reject reason holds
// personal data.
func (c *Cleaner) maskField(fi int, text string) string {
	switch mode := c.fieldMask[fi]; {
	case mode == maskPersonal:
		return MaskPersonal(text)
	case strings.IndexByte(text, '@') >= 0:
		return maskEmails(text, mode)
	}
	return text
}

// MaskInput masks the raw text of input column i (of Columns) by the
// rule of its field: what a quarantine record keeps of a parsed value.
// Cleaning the masked text gives the same cell as cleaning the original.
func (c *Cleaner) MaskInput(i int, text string) string {
	switch mode := c.inputMask[i]; {
	case mode == maskPersonal:
		return MaskPersonal(text)
	case strings.IndexByte(text, '@') >= 0:
		return maskEmails(text, mode)
	}
	return text
}
