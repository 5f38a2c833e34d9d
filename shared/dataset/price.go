package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// Price is a parsed list price (seed 003: "ListPrice should be parsed to
// extract the correct price ... e.g. 4999USD$49.99. Only the dollar value
// ($49.99) should be used").
type Price struct {
	Cents    int64  // 4999
	Currency string // ISO 4217: "USD"
	Display  string // "$49.99"
}

// Dollars is the amount as a float (49.99), for the warehouse's DOUBLE columns.
func (p Price) Dollars() float64 { return float64(p.Cents) / 100 }

// ParseListPrice reads the list-price formats found in Movies.txt files:
//
//	4999USD$49.99   (cents, currency, then the dollar value: the dollar value is used,
//	                 and the leading cents must agree with it)
//	$49.99  $ 49.99  USD 49.99  49.99 USD  49.99
//
// Surrounding spaces are ignored. Anything else, a negative amount, more
// than two decimals, or a cents prefix that disagrees with the dollar value
// is an error that says which.
func ParseListPrice(s string) (Price, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Price{}, fmt.Errorf("empty list price")
	}
	// Combined form: <cents><CUR>$<dollars>.
	if i := strings.IndexByte(t, '$'); i > 0 {
		head, tail := t[:i], strings.TrimSpace(t[i+1:])
		j := strings.IndexFunc(head, func(r rune) bool { return r < '0' || r > '9' })
		if j <= 0 {
			return Price{}, fmt.Errorf("list price %q: text before $ is not <cents><currency>", clip(s))
		}
		cur := strings.TrimSpace(head[j:])
		if !isCurrency(cur) {
			return Price{}, fmt.Errorf("list price %q: %q is not a currency code", clip(s), cur)
		}
		cents, err := parseAmount(tail)
		if err != nil {
			return Price{}, fmt.Errorf("list price %q: %w", clip(s), err)
		}
		prefix, err := strconv.ParseInt(head[:j], 10, 64)
		if err != nil || prefix != cents {
			return Price{}, fmt.Errorf("list price %q: cents prefix %s disagrees with the dollar value %s", clip(s), head[:j], tail)
		}
		return newPrice(cents, cur), nil
	}
	cur := "USD"
	switch {
	case strings.HasPrefix(t, "$"):
		t = strings.TrimSpace(t[1:])
	case len(t) > 3 && isCurrency(t[:3]) && t[3] == ' ':
		cur, t = t[:3], strings.TrimSpace(t[4:])
	case len(t) > 4 && isCurrency(t[len(t)-3:]) && t[len(t)-4] == ' ':
		cur, t = t[len(t)-3:], strings.TrimSpace(t[:len(t)-4])
	}
	cents, err := parseAmount(t)
	if err != nil {
		return Price{}, fmt.Errorf("list price %q: %w", clip(s), err)
	}
	return newPrice(cents, cur), nil
}

func newPrice(cents int64, cur string) Price {
	sym := cur + " "
	if cur == "USD" {
		sym = "$"
	}
	return Price{Cents: cents, Currency: cur, Display: fmt.Sprintf("%s%d.%02d", sym, cents/100, cents%100)}
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// parseAmount reads "49.99", "49.9" or "49" as cents, exactly (no float rounding).
func parseAmount(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || !digits(whole) || (dot && (frac == "" || len(frac) > 2 || !digits(frac))) {
		return 0, fmt.Errorf("amount %q is not a non-negative number with at most two decimals", clip(s))
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<40 {
		return 0, fmt.Errorf("amount %q is out of range", clip(s))
	}
	c := int64(0)
	if dot {
		c, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			c *= 10
		}
	}
	return w*100 + c, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
