package dataset_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

func TestMaskEmails(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ana@gmail.com", "****@gmail.com"},
		{"write to Ana.K+pulse@Mail.Example.COM, or bob_1@x.io.", "write to ****@mail.example.com, or ****@x.io."},
		{"<ana@gmail.com>", "<****@gmail.com>"},
		{"josé@correo.es", "****@correo.es"},
		{"****@gmail.com", "****@gmail.com"},
		{"**********@gmail.com", "****@gmail.com"},
		// not addresses
		{"@handle", "@handle"}, {"a@b", "a@b"}, {"x@y.c", "x@y.c"}, {"1.2@3.4", "1.2@3.4"}, {"a@.com", "a@.com"},
		{"a@b..com", "a@b..com"}, {"no at sign", "no at sign"}, {"", ""},
		// JSON escapes before an address stay escapes
		{`x\nbob@y.com`, `x\n****@y.com`}, {`\u0062ob@y.com`, `\u0062****@y.com`},
	} {
		if got := dataset.MaskEmails(c.in); got != c.want {
			t.Errorf("MaskEmails(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := dataset.MaskEmails(c.want); got != c.want {
			t.Errorf("MaskEmails is not a fixed point on %q: %q", c.want, got)
		}
	}
}

func TestMaskPersonal(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ann Kowalska", "****"}, {" ann.k@Gmail.com ", "****@gmail.com"}, {"not-an-email@", "****"}, {"nan", "****"},
		{"****", "****"}, {"****@gmail.com", "****@gmail.com"},
		{"", ""}, {"  ", "  "}, {"null", "null"}, {"NULL", "NULL"},
	} {
		if got := dataset.MaskPersonal(c.in); got != c.want {
			t.Errorf("MaskPersonal(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskEmailBytes(t *testing.T) {
	in := []byte("\x00\x00\x00\x00\x0b\x10ana.k@gmail.com\x02x>bob@y.org")
	want := []byte("\x00\x00\x00\x00\x0b\x10*****@gmail.com\x02x>***@y.org")
	if got := dataset.MaskEmailBytes(in); !bytes.Equal(got, want) {
		t.Errorf("MaskEmailBytes = %q, want %q", got, want)
	}
	if !bytes.Contains(in, []byte("ana.k")) {
		t.Errorf("MaskEmailBytes changed its argument")
	}
}

// TestMaskKeyField: an e-mail in a dedupe key field (social_sales ID)
// becomes "****" + the first 16 hex digits of its SHA-256 + "@" + domain,
// so two addresses of one domain stay two keys, and cleaning the masked
// value gives the same key.
func TestMaskKeyField(t *testing.T) {
	c, err := dataset.Compile(dataset.SocialSales)
	if err != nil {
		t.Fatal(err)
	}
	id := indexOf(t, c.Columns(), "ID")
	key := func(v string) string {
		line := fmt.Sprintf(`{"ID": %q, "Kota": "Depok", "Sosial_Media": "X", "Visitors": 10, "Ts": 1706981205}`, v)
		var raw record.Raw
		if err := record.DecodeJSONObject([]byte(line), c.Columns(), &raw); err != nil {
			t.Fatal(err)
		}
		row := c.NewRow()
		if rj := c.Clean(&raw, dataset.Meta{}, row); rj != nil {
			t.Fatalf("%s: %v", line, rj)
		}
		return c.Key(row)
	}
	digest := func(addr string) string {
		sum := sha256.Sum256([]byte(addr))
		return hex.EncodeToString(sum[:])[:16]
	}
	for _, v := range []string{"order-ann@Shop.example.com", "order-ben@shop.example.com"} {
		want := "****" + digest(v) + "@shop.example.com"
		if got := key(v); got != want {
			t.Errorf("key of %q = %q, want %q", v, got, want)
		}
		if got := c.MaskInput(id, v); got != want {
			t.Errorf("MaskInput(ID, %q) = %q, want %q", v, got, want)
		}
		if got := key(want); got != want {
			t.Errorf("key of the masked %q = %q, want %q", want, got, want)
		}
	}
}

// TestPersonalFieldRules: a Personal field must be text and must not be a
// dedupe or surrogate key's part.
func TestPersonalFieldRules(t *testing.T) {
	base := func() *dataset.Spec {
		return &dataset.Spec{Name: "people", Fields: []dataset.Field{
			{Name: "id", Type: table.String, Critical: true},
			{Name: "name", Type: table.String, Personal: true},
			{Name: "age", Type: table.Int},
		}, Key: []string{"id"}}
	}
	if _, err := dataset.Compile(base()); err != nil {
		t.Fatalf("a personal name: %v", err)
	}
	s := base()
	s.Key = []string{"id", "name"}
	if _, err := dataset.Compile(s); err == nil || !strings.Contains(err.Error(), "personal field name is part of a dedupe or surrogate key") {
		t.Errorf("a personal key field: %v", err)
	}
	s = base()
	s.Star = []star.TableMap{{Table: star.DimPlatform, Cols: []star.Col{{Name: "PLATFORM_ID", MD5: []string{"name"}}, {Name: "PLATFORM", Field: "id"}}}}
	if _, err := dataset.Compile(s); err == nil || !strings.Contains(err.Error(), "personal field name is part of a dedupe or surrogate key") {
		t.Errorf("a personal surrogate key field: %v", err)
	}
	s = base()
	s.Fields[2].Personal = true
	if _, err := dataset.Compile(s); err == nil || !strings.Contains(err.Error(), "personal field age is not a string field") {
		t.Errorf("a personal integer: %v", err)
	}
	var personal []string
	for _, n := range dataset.Names() {
		spec, _ := dataset.Lookup(n)
		for _, f := range spec.Fields {
			if f.Personal {
				personal = append(personal, n+"."+f.Name)
			}
		}
	}
	if got := fmt.Sprint(personal); got != "[consumer_registration.masked_email user_sessions.user_name]" {
		t.Errorf("personal fields: %s", got)
	}
}

func TestMaskRecordJSON(t *testing.T) {
	c, err := dataset.Compile(dataset.UserSessions)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"session_id": "s1", "user_id": 7, "USER_NAME": "Ann K", "device": "ann@X.com's phone", "note": {"to": ["bob@Y.org"], "ann@z.io": 1}}`,
			`{"session_id": "s1", "user_id": 7, "USER_NAME": "****", "device": "****@x.com's phone", "note": {"to": ["****@y.org"], "****@z.io": 1}}`},
		{`{"user_name": 12, "device": null}`, `{"user_name": "****", "device": null}`},
		{`{"user_name": null, "device": "x"}`, `{"user_name": null, "device": "x"}`},
		{`{"user_name": {"first": "Ann", "last": "K"}, "device": "x"}`, `{"user_name": "****", "device": "x"}`},
		{`{"user_name": "ann@gmail.com"}`, `{"user_name": "****@gmail.com"}`},
		{`{"device": "x\nbob@y.com", "user_name": "An\u0020n"}`, `{"device": "x\n****@y.com", "user_name": "****"}`},
		{`{"device": "b\u006fb@y.com"}`, `{"device": "****@y.com"}`},
		// malformed: masked as far as the tokens go
		{`{"session_id": "s4", "user_name": "Quentin L", "device": "q@pmail.example.com", "login_timestamp": `,
			`{"session_id": "s4", "user_name": "****", "device": "****@pmail.example.com", "login_timestamp": `},
		{`{"user_name": "Quentin L`, `{"user_name": "****"`},
		{`[{"user_name": "Ann", "x": "a@b.co"}]`, `[{"user_name": "Ann", "x": "****@b.co"}]`},
	} {
		if got := string(c.MaskRecord([]byte(tc.in), nil)); got != tc.want {
			t.Errorf("MaskRecord(%s)\n got  %s\n want %s", tc.in, got, tc.want)
		}
	}
	if got := string(dataset.MaskRecord([]byte(`{"user_name": "Ann", "mail": "ann@x.org"}`))); got != `{"user_name": "Ann", "mail": "****@x.org"}` {
		t.Errorf("MaskRecord without a spec: %s", got)
	}
}

func TestMaskRecordCSV(t *testing.T) {
	c, err := dataset.Compile(dataset.UserSessions)
	if err != nil {
		t.Fatal(err)
	}
	line := `s1,7,"Kowalska, Ann",2024-02-03T12:00:00Z,laptop of ann@Example.com`
	raw := &record.Raw{Values: make([]record.Value, len(c.Columns()))}
	for i, col := range c.Columns() {
		raw.Values[i] = record.Value{Text: map[string]string{"session_id": "s1", "user_id": "7", "user_name": "Kowalska, Ann",
			"login_timestamp": "2024-02-03T12:00:00Z", "device": "laptop of ann@Example.com"}[col]}
	}
	if got, want := string(c.MaskRecord([]byte(line), raw)), `s1,7,****,2024-02-03T12:00:00Z,laptop of ****@example.com`; got != want {
		t.Errorf("MaskRecord(csv)\n got  %s\n want %s", got, want)
	}
	if got := string(c.MaskRecord([]byte(`s1,7,x,y`), raw)); got != `s1,7,x,y` {
		t.Errorf("a line with nothing to mask changed: %s", got)
	}
}

// TestMaskedRecordsCleanAlike: for every dataset, each golden input record
// and its variants with personal data (e-mails in every text field and in
// keys, names in personal fields, an extra member) clean to the same row,
// key or reject when cleaned from the masked forms a reject is kept in:
// the masked parsed values (quarantine "values"), the masked JSON record
// decoded again (quarantine "record", the stream's replay), the masked
// JSON object of the values (a decoded Avro record). None of those forms
// holds the personal values.
func TestMaskedRecordsCleanAlike(t *testing.T) {
	secrets := []string{"zed.q", "Zed Quill", "yan.p"}
	for _, name := range dataset.Names() {
		spec, _ := dataset.Lookup(name)
		c, err := dataset.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range variants(t, spec) {
			var raw record.Raw
			if record.DecodeJSONObject([]byte(line), c.Columns(), &raw) != nil {
				continue // a malformed line: nothing to replay
			}
			want := outcome(c, &raw)

			values := record.Raw{Pos: raw.Pos}
			for i, v := range raw.Values {
				if !v.Null {
					v.Text = c.MaskInput(i, v.Text)
				}
				values.Values = append(values.Values, v)
			}
			masked := c.MaskRecord([]byte(line), &raw)
			rendered := c.MaskedJSON(&raw)
			forms := map[string]string{"values": fmt.Sprint(values.Values), "record": string(masked), "rendered": string(rendered)}
			if got := outcome(c, &values); got != want {
				t.Errorf("%s: %s\n from the masked values: %s\n from the original:      %s", name, line, got, want)
			}
			for form, text := range map[string][]byte{"record": masked, "rendered": rendered} {
				var again record.Raw
				if err := record.DecodeJSONObject(text, c.Columns(), &again); err != nil {
					t.Fatalf("%s: the masked %s %s does not decode: %v", name, form, text, err)
				}
				if got := outcome(c, &again); got != want {
					t.Errorf("%s: %s\n from the masked %s %s: %s\n from the original: %s", name, line, form, text, got, want)
				}
			}
			for form, text := range forms {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s: the masked %s holds %q: %s", name, form, s, text)
					}
				}
			}
		}
	}
}

// variants are a dataset's golden input lines, each also with every
// member's value followed by an e-mail address (most are then rejected);
// with the values of the text fields that stay valid so followed (most
// load); and with its personal fields set to a name plus an extra member
// holding an address.
func variants(t *testing.T, spec *dataset.Spec) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", spec.Name+".input.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		out = append(out, line)
		var raw record.Raw
		var names []string
		for _, fl := range spec.Fields {
			names = append(names, inputNames(fl)...)
		}
		if record.DecodeJSONObject([]byte(line), names, &raw) != nil {
			continue
		}
		mail, text, named := map[string]any{}, map[string]any{}, map[string]any{"zz_note": "ask zed.q@Mail.example.org"}
		j := 0
		for _, fl := range spec.Fields {
			k, v := "", record.Value{Null: true}
			for _, n := range inputNames(fl) {
				if !raw.Values[j].Null && v.Null {
					k, v = n, raw.Values[j]
				}
				j++
			}
			if v.Null {
				continue
			}
			mail[k], text[k], named[k] = v.Text+" zed.q@Mail.example.org", v.Text, v.Text
			if fl.Type == table.String && (fl.Std == nil || stdAccepts(fl, v.Text+" zed.q@mail.example.org")) {
				text[k] = v.Text + " zed.q@Mail.example.org"
			}
			if fl.Personal {
				named[k] = "Zed Quill"
				mail[k], text[k] = "yan.p@Example.ORG", "yan.p@Example.ORG"
			}
		}
		out = append(out, jsonLine(t, mail), jsonLine(t, text), jsonLine(t, named))
	}
	return out
}

func inputNames(f dataset.Field) []string {
	if len(f.From) > 0 {
		return f.From
	}
	return []string{f.Name}
}

func stdAccepts(f dataset.Field, v string) bool {
	_, err := f.Std(v)
	return err == nil
}

func jsonLine(t *testing.T, m map[string]any) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		fmt.Fprintf(&b, "%q: %q", k, m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// outcome is what cleaning a record gives: its reject, or its key and row.
func outcome(c *dataset.Cleaner, raw *record.Raw) string {
	row := c.NewRow()
	if rj := c.Clean(raw, dataset.Meta{Source: "s", Row: 1, IngestedAt: 1}, row); rj != nil {
		return "reject " + rj.Error()
	}
	return c.Key(row) + " " + fmt.Sprint(row)
}

func indexOf(t *testing.T, cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	t.Fatalf("no column %s", name)
	return -1
}

// TestMaskingHandler: no e-mail address reaches a log line, whether in
// the message, a string, an error, a group or an attribute given to With.
func TestMaskingHandler(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(dataset.MaskingHandler(slog.NewTextHandler(&b, nil))).With("user", "ann@a.org")
	log.Info("mail from bob@b.org", "to", "cat@c.org", "err", errors.New("rejected dan@d.org"),
		slog.Group("g", "who", "eve@e.org"), "n", 3, "list", []string{"fay@f.org"})
	log.WithGroup("h").ErrorContext(context.Background(), "x", "who", "gil@g.org")
	out := b.String()
	for _, s := range []string{"ann@", "bob@", "cat@", "dan@", "eve@", "fay@", "gil@"} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %s:\n%s", s, out)
		}
	}
	for _, s := range []string{"user=****@a.org", `msg="mail from ****@b.org"`, "to=****@c.org", `err="rejected ****@d.org"`,
		"g.who=****@e.org", "n=3", "list=[****@f.org]", "h.who=****@g.org"} {
		if !strings.Contains(out, s) {
			t.Errorf("the log lacks %s:\n%s", s, out)
		}
	}
}
