package dataset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pulse-analytics/pulse/shared/table"
)

// Gender maps M/male/F/female/... to Male, Female or Other.
func Gender(s string) (string, error) {
	switch strings.ToLower(s) {
	case "m", "male", "man", "boy":
		return "Male", nil
	case "f", "female", "woman", "girl", "fem":
		return "Female", nil
	}
	return "Other", nil
}

var countryAlias = map[string]string{
	"barzil": "Brazil", "brasil": "Brazil", "usa": "United States", "us": "United States", "u.s.": "United States",
	"united states of america": "United States", "uk": "United Kingdom", "u.k.": "United Kingdom",
	"great britain": "United Kingdom", "deutschland": "Germany", "viet nam": "Vietnam",
}

// Country fixes known misspellings and aliases (Barzil -> Brazil) and
// title-cases the rest.
func Country(s string) (string, error) {
	if c, ok := countryAlias[strings.ToLower(s)]; ok {
		return c, nil
	}
	return Title(s)
}

// DeviceType maps device names to Mobile, Desktop, Tablet or Smart TV and
// title-cases anything else.
func DeviceType(s string) (string, error) {
	switch strings.ToLower(s) {
	case "mobile", "smartphone", "phone", "android", "iphone", "cell":
		return "Mobile", nil
	case "desktop", "computer", "pc", "laptop", "web":
		return "Desktop", nil
	case "tablet", "ipad":
		return "Tablet", nil
	case "tv", "smart tv", "smarttv", "smart_tv":
		return "Smart TV", nil
	}
	return Title(s)
}

// Title capitalizes each word and lower-cases the rest ("driver" ->
// "Driver", "wi-fi" -> "Wi-Fi", "q&a" -> "Q&A"), collapsing runs of
// spaces. A word is what lies between spaces; a letter after - / ( . or &
// also starts a part of it and is capitalized. A short word written in
// capitals, two to four letters and none in lower case ("Q&A", "ASMR",
// "TV", "DIY"), is an acronym and is kept as written; a longer one is a
// shouted word and is title-cased like the rest ("JAKARTA" -> "Jakarta").
// (A shouted word of four letters or fewer, "ROME", stays in capitals:
// nothing tells it from an acronym.)
func Title(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for w := range strings.FieldsFuncSeq(s, unicode.IsSpace) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if isAcronym(w) {
			b.WriteString(w)
			continue
		}
		up := true
		for _, r := range w {
			if up {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			up = strings.ContainsRune(titleSeparators, r)
		}
	}
	return b.String(), nil
}

// titleSeparators start a new capitalized part inside a word.
const titleSeparators = "-/(.&"

// maxAcronym is the most letters a word in capitals may have and still be
// kept as an acronym.
const maxAcronym = 4

// isAcronym: two to maxAcronym letters, none of them lower case.
func isAcronym(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2 && letters <= maxAcronym
}

// OneOf returns a standardizer that accepts the given values in any case
// and returns their canonical spelling.
func OneOf(values ...string) func(string) (string, error) {
	m := map[string]string{}
	shown := make([]string, len(values))
	for i, v := range values {
		m[strings.ToLower(v)] = v
		shown[i] = v
		if v == "" {
			shown[i] = `""`
		}
	}
	list := strings.Join(shown, ", ")
	return func(s string) (string, error) {
		if v, ok := m[strings.ToLower(s)]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%q is not one of %s", clip(s), list)
	}
}

// ClockTime normalizes a time of day ("9:00 PM", "9 pm", "21:00",
// "21:00:00") to "HH:MM".
func ClockTime(s string) (string, error) {
	h, m, err := parseClock(s)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%02d:%02d", h, m), nil
}

func parseClock(s string) (int, int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	pm, am := strings.HasSuffix(t, "PM"), strings.HasSuffix(t, "AM")
	if pm || am {
		t = strings.TrimSpace(t[:len(t)-2])
	}
	hs, ms, found := strings.Cut(t, ":")
	if !found {
		ms = "0"
	} else if sec := strings.IndexByte(ms, ':'); sec >= 0 {
		ms = ms[:sec]
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || m < 0 || m > 59 {
		return 0, 0, fmt.Errorf("not a clock time: %q", clip(s))
	}
	switch {
	case pm || am:
		if h < 1 || h > 12 {
			return 0, 0, fmt.Errorf("not a clock time: %q", clip(s))
		}
		h %= 12
		if pm {
			h += 12
		}
	case h < 0 || h > 23:
		return 0, 0, fmt.Errorf("not a clock time: %q", clip(s))
	}
	return h, m, nil
}

// AgeGroup buckets an age: 13-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+.
func AgeGroup(age table.Cell) string {
	if age.Null {
		return "Unknown"
	}
	switch a := age.I; {
	case a < 18:
		return "13-17"
	case a < 25:
		return "18-24"
	case a < 35:
		return "25-34"
	case a < 45:
		return "35-44"
	case a < 55:
		return "45-54"
	case a < 65:
		return "55-64"
	}
	return "65+"
}

// ErrDivZero is the reason a rate over a zero denominator is rejected.
var ErrDivZero = errors.New("division by zero")

// deriveAgeGroup is the AgeGroup derived field over an "Age" field.
func deriveAgeGroup(field string) Derived {
	return Derived{Name: "AgeGroup", Type: table.String, Fn: func(r Fields) (table.Cell, error) {
		return table.Cell{S: AgeGroup(r.Get(field))}, nil
	}}
}

// deriveHour is the Hour derived field: from a "HH:MM" clock field when it
// is set, else from a timestamp field (UTC), else NULL.
func deriveHour(clock, ts string) Derived {
	return Derived{Name: "Hour", Type: table.Int, Fn: func(r Fields) (table.Cell, error) {
		if clock != "" {
			if c := r.Get(clock); !c.Null && c.S != "Unknown" && len(c.S) >= 2 {
				h, err := strconv.Atoi(c.S[:2])
				if err == nil {
					return table.Cell{I: int64(h)}, nil
				}
			}
		}
		if ts != "" {
			if c := r.Get(ts); !c.Null {
				return table.Cell{I: int64(time.UnixMicro(c.I).UTC().Hour())}, nil
			}
		}
		return table.Cell{Null: true}, nil
	}}
}
