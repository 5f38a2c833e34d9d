package dataset

import (
	testcorpora "github.com/pulse-analytics/pulse/tests/corpora"

	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/table"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output (review the diff!)")

// render turns a staging row into column -> text for golden comparison.
func render(c *Cleaner, row table.Row) map[string]any {
	out := map[string]any{}
	for i, col := range c.Schema().Columns {
		cell := row[i]
		if cell.Null {
			out[col.Name] = nil
			continue
		}
		switch col.Type {
		case table.String:
			out[col.Name] = cell.S
		case table.Int:
			out[col.Name] = cell.I
		case table.Float:
			out[col.Name] = cell.F
		case table.Bool:
			out[col.Name] = cell.B
		case table.Timestamp:
			out[col.Name] = time.UnixMicro(cell.I).UTC().Format(time.RFC3339Nano)
		case table.Date:
			out[col.Name] = time.Unix(cell.I*86400, 0).UTC().Format("2006-01-02")
		}
	}
	return out
}

// cleanLines cleans each NDJSON line of an input file and renders the
// result (cleaned row or reject) as one JSON line.
func cleanLines(t *testing.T, spec *Spec, input []byte) []byte {
	t.Helper()
	c, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := record.Open(record.NDJSON, bytes.NewReader(input), c.Columns())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var raw record.Raw
	ingested := time.Date(2024, 2, 3, 17, 30, 0, 0, time.UTC).UnixMicro()
	for {
		err := rd.Next(&raw)
		if err != nil {
			if re, ok := record.AsRecordError(err); ok {
				fmt.Fprintf(&out, `{"pos":%d,"reject":%q}`+"\n", re.Pos, re.Error())
				continue
			}
			break
		}
		row := c.NewRow()
		var line []byte
		if rj := c.Clean(&raw, Meta{Source: "golden", Row: raw.Pos, IngestedAt: ingested}, row); rj != nil {
			line, _ = json.Marshal(map[string]any{"pos": raw.Pos, "reject": rj.Error()})
		} else {
			line, _ = json.Marshal(map[string]any{"pos": raw.Pos, "key": c.Key(row), "partition": c.Partition(row), "row": render(c, row)})
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// TestGolden runs testdata/<dataset>.input.ndjson through each spec and
// compares with testdata/<dataset>.golden.ndjson line by line.
func TestGolden(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			spec, _ := Lookup(name)
			in, err := os.ReadFile(filepath.Join("testdata", name+".input.ndjson"))
			if err != nil {
				t.Fatalf("every dataset needs a golden input: %v", err)
			}
			got := cleanLines(t, spec, in)
			goldenPath := filepath.Join("testdata", name+".golden.ndjson")
			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
			if len(gl) != len(wl) {
				t.Fatalf("%d output lines, golden has %d", len(gl), len(wl))
			}
			for i := range gl {
				if !bytes.Equal(gl[i], wl[i]) {
					t.Errorf("line %d:\n got  %s\n want %s", i+1, gl[i], wl[i])
				}
			}
		})
	}
}

// TestTimeWasters runs the real Time-Wasters CSV (1,000 rows) through
// video_interactions and checks its known dirt is handled.
func TestTimeWasters(t *testing.T) {
	f, err := os.Open(testcorpora.Path(t, "time-wasters", "time-wasters-on-social-media.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Compile(VideoInteractions)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := record.Open(record.CSV, bufio.NewReader(f), c.Columns())
	if err != nil {
		t.Fatal(err)
	}
	idx := func(n string) int { return c.Schema().Index(n) }
	var raw record.Raw
	rows, brazil, barzil, hour21, debtTrue, drivers := 0, 0, 0, 0, 0, 0
	rejects := map[string]int{}
	for {
		if err := rd.Next(&raw); err != nil {
			if _, ok := record.AsRecordError(err); ok {
				t.Fatalf("record error in a clean file: %v", err)
			}
			break
		}
		// Count the dirt before cleaning.
		for i, col := range c.Columns() {
			if col == "Location" && raw.Values[i].Text == "Barzil" {
				barzil++
			}
		}
		row := c.NewRow()
		if rj := c.Clean(&raw, Meta{Source: "time-wasters", Row: raw.Pos}, row); rj != nil {
			rejects[rj.Error()]++
			continue
		}
		rows++
		if row[idx("Location")].S == "Brazil" {
			brazil++
		}
		if row[idx("Location")].S == "Barzil" {
			t.Errorf("row %d: Barzil survived cleaning", raw.Pos)
		}
		if raw.Pos == 1 {
			if got := row[idx("WatchTime")].S; got != "21:00" {
				t.Errorf("row 1 Watch_Time 9:00 PM -> %q, want 21:00", got)
			}
			if got := row[idx("Hour")].I; got != 21 {
				t.Errorf("row 1 Hour = %d, want 21", got)
			}
			if !row[idx("Debt")].B || !row[idx("Owns_Property")].B {
				t.Errorf("row 1 TRUE/TRUE booleans not parsed: %+v %+v", row[idx("Debt")], row[idx("Owns_Property")])
			}
		}
		if row[idx("Hour")].I == 21 {
			hour21++
		}
		if row[idx("Debt")].B {
			debtTrue++
		}
		if row[idx("Profession")].S == "Driver" {
			drivers++
		}
		if p := row[idx("Profession")].S; p == "driver" {
			t.Errorf("row %d: profession casing not standardized", raw.Pos)
		}
	}
	if rows+sum(rejects) != 1000 {
		t.Fatalf("rows %d + rejects %d != 1000", rows, sum(rejects))
	}
	if len(rejects) != 0 {
		t.Errorf("unexpected rejects in the Time-Wasters file: %v", rejects)
	}
	if barzil != 78 || brazil != 78 {
		t.Errorf("Barzil rows before = %d, Brazil rows after = %d, want 78 and 78", barzil, brazil)
	}
	if drivers != 113 {
		t.Errorf("Driver rows = %d, want 113 (the lower-case 'driver' profession)", drivers)
	}
	t.Logf("rows=%d hour21=%d debtTrue=%d", rows, hour21, debtTrue)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestStandardizers(t *testing.T) {
	cases := []struct {
		name string
		fn   func(string) (string, error)
		in   string
		want string
		err  bool
	}{
		{"gender M", Gender, "M", "Male", false},
		{"gender male", Gender, "male", "Male", false},
		{"gender F", Gender, "F", "Female", false},
		{"gender nonbinary", Gender, "Non-binary", "Other", false},
		{"platform lower", Platform, "instagram", "Instagram", false},
		{"platform alias", Platform, "twitter", "X", false},
		{"platform unknown", Platform, "Myspace", "", true},
		{"country typo", Country, "Barzil", "Brazil", false},
		{"country case", Country, "united states", "United States", false},
		{"clock pm", ClockTime, "9:00 PM", "21:00", false},
		{"clock noon", ClockTime, "12:05 PM", "12:05", false},
		{"clock midnight", ClockTime, "12:00 AM", "00:00", false},
		{"clock 24h", ClockTime, "21:30:00", "21:30", false},
		{"clock bad", ClockTime, "25:00", "", true},
		{"device", DeviceType, "Smartphone", "Mobile", false},
		{"title", Title, "labor/worker", "Labor/Worker", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.fn(c.in)
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("%q -> %q, %v; want %q, err=%v", c.in, got, err, c.want, c.err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1706980463", "2024-02-03T17:14:23Z"},
		{"1706980463000", "2024-02-03T17:14:23Z"},
		{"2024-02-03T17:26:45Z", "2024-02-03T17:26:45Z"},
		{"2024-02-03 17:26:45", "2024-02-03T17:26:45Z"},
		{"2024-02-03T19:26:45+02:00", "2024-02-03T17:26:45Z"},
		{"2024-02-03", "2024-02-03T00:00:00Z"},
	} {
		got, err := ParseTime(c.in)
		if err != nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime(yesterday) did not fail")
	}
}
