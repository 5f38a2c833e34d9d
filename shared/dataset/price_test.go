package dataset

import (
	"strings"
	"testing"
)

func TestParseListPrice(t *testing.T) {
	tests := []struct {
		name, in string
		cents    int64
		cur, dis string
		err      string
	}{
		{name: "seed example", in: "4999USD$49.99", cents: 4999, cur: "USD", dis: "$49.99"},
		{name: "padded combined", in: " 1599USD$15.99 ", cents: 1599, cur: "USD", dis: "$15.99"},
		{name: "dollar sign", in: "$4.99", cents: 499, cur: "USD", dis: "$4.99"},
		{name: "dollar sign and space", in: "$ 12.50", cents: 1250, cur: "USD", dis: "$12.50"},
		{name: "code first", in: "USD 7.5", cents: 750, cur: "USD", dis: "$7.50"},
		{name: "code last", in: "19.99 USD", cents: 1999, cur: "USD", dis: "$19.99"},
		{name: "other currency", in: "EUR 3.00", cents: 300, cur: "EUR", dis: "EUR 3.00"},
		{name: "bare whole", in: "20", cents: 2000, cur: "USD", dis: "$20.00"},
		{name: "prefix disagrees", in: "4999USD$45.99", err: "disagrees"},
		{name: "three decimals", in: "$4.999", err: "at most two decimals"},
		{name: "negative", in: "$-4.99", err: "non-negative"},
		{name: "words", in: "free", err: "not a non-negative number"},
		{name: "empty", in: "  ", err: "empty"},
		{name: "lower-case code before $", in: "4999usd$49.99", err: "not a currency code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseListPrice(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseListPrice(%q) = %+v, %v; want error containing %q", tc.in, p, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseListPrice(%q): %v", tc.in, err)
			}
			if p.Cents != tc.cents || p.Currency != tc.cur || p.Display != tc.dis {
				t.Fatalf("ParseListPrice(%q) = %+v, want %d %s %s", tc.in, p, tc.cents, tc.cur, tc.dis)
			}
		})
	}
}
