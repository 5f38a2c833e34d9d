package dataset_test

import (
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/table"
)

// cleanCSV cleans one CSV data line of spec (header = the spec's input
// columns) and returns the staging row, or fails the test on a reject.
func cleanCSV(t *testing.T, spec *dataset.Spec, header, line string) (table.Row, *dataset.Cleaner) {
	t.Helper()
	c, err := dataset.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := record.Open(record.CSV, strings.NewReader(header+"\n"+line+"\n"), c.Columns())
	if err != nil {
		t.Fatal(err)
	}
	var raw record.Raw
	if err := rd.Next(&raw); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	row := c.NewRow()
	if rj := c.Clean(&raw, dataset.Meta{}, row); rj != nil {
		t.Fatalf("%s: rejected: %v", line, rj)
	}
	return row, c
}

// TestAppInteractionMissingDurationStaysNull: seed 002 counts an
// interaction only with a valid duration (0 to 2 h), so a blank or null
// duration_ms must stay NULL (missing), never become a 0 ms interaction
// that makes its user active.
func TestAppInteractionMissingDurationStaysNull(t *testing.T) {
	const header = "user_id,timestamp,action_type,page_id,duration_ms,app_version"
	for _, tc := range []struct {
		name, duration string
		null           bool
		want           int64
	}{
		{"blank", "", true, 0},
		{"spaces", "  ", true, 0},
		{"null text", "null", true, 0},
		{"zero", "0", false, 0},
		{"two hours", "7200000", false, 7_200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, c := cleanCSV(t, dataset.AppInteractions, header, "U1,2024-03-01 09:00:00,edit,p1,"+tc.duration+",6.0.0")
			got := row[c.Schema().Index("duration_ms")]
			if got.Null != tc.null || got.I != tc.want {
				t.Errorf("duration_ms %q -> %+v, want null=%v value %d", tc.duration, got, tc.null, tc.want)
			}
		})
	}
}

// TestPreferredLanguageBlankIsAValue: seed 003 assigns preferred_language
// from ["eng", "geo", ""]; the empty string is one of its values (no
// preference), so it is kept as "", not replaced by "Unknown". A record
// without the field at all has no value: NULL.
func TestPreferredLanguageBlankIsAValue(t *testing.T) {
	c, err := dataset.Compile(dataset.ConsumerRegistration)
	if err != nil {
		t.Fatal(err)
	}
	lang := c.Schema().Index("preferred_language")
	for _, tc := range []struct {
		name, field string
		null        bool
		want        string
	}{
		{"empty", `,"preferred_language":""`, false, ""},
		{"blank", `,"preferred_language":"  "`, false, ""},
		{"geo", `,"preferred_language":"GEO"`, false, "geo"},
		{"absent", ``, true, ""},
		{"null", `,"preferred_language":null`, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := `{"timestamp":"2024-02-03T10:00:00Z","event_name":"consumer_registration","user_id":5,"age":30,"masked_email":"****@x.io"` + tc.field + `}`
			var raw record.Raw
			if err := record.DecodeJSONObject([]byte(line), c.Columns(), &raw); err != nil {
				t.Fatal(err)
			}
			row := c.NewRow()
			if rj := c.Clean(&raw, dataset.Meta{}, row); rj != nil {
				t.Fatalf("rejected: %v", rj)
			}
			if got := row[lang]; got.Null != tc.null || got.S != tc.want {
				t.Errorf("preferred_language -> %+v, want null=%v %q", got, tc.null, tc.want)
			}
		})
	}
}

// TestTitleKeepsAcronyms: a word written in capitals with two to four
// letters is an acronym and stays as written; a longer one is shouted and
// title-cased; & separates parts like - and /.
func TestTitleKeepsAcronyms(t *testing.T) {
	for in, want := range map[string]string{
		"Q&A":              "Q&A",
		"q&a":              "Q&A",
		"ASMR":             "ASMR",
		"asmr":             "Asmr",
		"Smart TV show":    "Smart TV Show",
		"DIY  crafts":      "DIY Crafts",
		"jokes/memes":      "Jokes/Memes",
		"wi-fi":            "Wi-Fi",
		"labor/worker":     "Labor/Worker",
		"Waiting staff":    "Waiting Staff",
		"driver":           "Driver",
		"X":                "X",
		"a":                "A",
		"rock&roll":        "Rock&Roll",
		"ÉCOLE":            "École",
		"JAKARTA":          "Jakarta",
		" south   JAKARTA": "South Jakarta",
		"SMART TV":         "Smart TV",
		"AT&T deals":       "AT&T Deals",
		"école":            "École",
		"Talk Show":        "Talk Show",
	} {
		if got, err := dataset.Title(in); err != nil || got != want {
			t.Errorf("Title(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
