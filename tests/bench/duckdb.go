package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The yardstick: Pulse's cleaning (and, for clean+model, its star
// mapping) written as DuckDB SQL, run by the same benchmark command over
// the same file with SET threads=1.
//
// The SQL is generated from the dataset spec (fields, types, critical,
// keep-null, defaults, ranges, From aliases, dedupe key, star mappings) so
// it cannot drift from it; the standardizers, which are Go functions in
// the spec, are written out by hand in sqlStd below and a spec field with
// a standardizer the SQL does not know is an error. bench's equivalence
// test checks that on a generated file the SQL keeps, rejects (naming the
// same field) and de-duplicates exactly the records Pulse does, with the
// same cleaned values and the same star rows.
//
// Where the SQL differs from Pulse, deliberately:
//   - CSV and NDJSON are read with every column as VARCHAR and parsed with
//     TRY_CAST, as Pulse parses text; Parquet columns keep their types in
//     both. DuckDB's readers stop at a malformed file instead of
//     quarantining the bad record and going on (the fixtures have none).
//   - Trimming and the whitespace of Title case are ASCII (space, \t, \n,
//     \r, \v, \f); Go's strings.TrimSpace also trims Unicode spaces.
//   - Numbers parse with DuckDB's casts, not Go's strconv: hex floats and
//     integers written in exponent form past 2^53 are read differently.
//   - Timestamps parse with TRY_CAST(... AS TIMESTAMP): no epoch seconds.
//   - Duplicates are found within the file (QUALIFY row_number()), where
//     Pulse claims each key in the dedupe store (in-memory here, DynamoDB
//     on AWS), which also catches duplicates across files and retries.
//   - Rejects keep the field and a short reason with the input columns;
//     Pulse keeps the record's original bytes and the parsed values too.
//   - A dimension keeps the first row per key; Pulse does too, up to
//     200,000 keys per file, past which the warehouse MERGE de-duplicates.
//   - No manifest is written.
//
// Both write zstd Parquet at the fastest level (Pulse: klauspost's
// SpeedFastest; DuckDB: COMPRESSION_LEVEL 1). DuckDB also writes its
// string columns dictionary-encoded where that pays, Pulse writes them
// plain.

// sqlStd is the SQL of each standardizer, over the trimmed text t; NULL
// means the value is invalid (the record is rejected).
var sqlStd = map[string]func(t string) string{
	"Gender": func(t string) string {
		return fmt.Sprintf("CASE WHEN lower(%[1]s) IN ('m','male','man','boy') THEN 'Male' WHEN lower(%[1]s) IN ('f','female','woman','girl','fem') THEN 'Female' ELSE 'Other' END", t)
	},
	"Location": func(t string) string {
		return fmt.Sprintf("COALESCE(%s, pulse_title(%s))", mapCase("lower("+t+")", countryAliases), t)
	},
	"Platform": func(t string) string { return mapCase("lower("+t+")", platformAliases()) },
	"DeviceType": func(t string) string {
		return fmt.Sprintf("COALESCE(%s, pulse_title(%s))", mapCase("lower("+t+")", deviceAliases), t)
	},
	"OS":              oneOf("Android", "iOS", "Windows", "MacOS", "Linux", "Other"),
	"ConnectionType":  oneOf("Mobile Data", "Wi-Fi", "Ethernet", "Other"),
	"WatchTime":       func(t string) string { return "pulse_clock(" + t + ")" },
	"EventType":       title,
	"Profession":      title,
	"Demographics":    title,
	"Video_Category":  title,
	"Frequency":       title,
	"Watch_Reason":    title,
	"CurrentActivity": title,
}

func title(t string) string { return "pulse_title(" + t + ")" }

func oneOf(values ...string) func(string) string {
	m := map[string]string{}
	var keys []string
	for _, v := range values {
		m[strings.ToLower(v)] = v
		keys = append(keys, strings.ToLower(v))
	}
	return func(t string) string { return mapCaseOrdered("lower("+t+")", keys, m) }
}

// The alias tables of shared/dataset/norm.go, written out.
var (
	countryAliases = map[string]string{
		"barzil": "Brazil", "brasil": "Brazil", "usa": "United States", "us": "United States", "u.s.": "United States",
		"united states of america": "United States", "uk": "United Kingdom", "u.k.": "United Kingdom",
		"great britain": "United Kingdom", "deutschland": "Germany", "viet nam": "Vietnam",
	}
	deviceAliases = map[string]string{
		"mobile": "Mobile", "smartphone": "Mobile", "phone": "Mobile", "android": "Mobile", "iphone": "Mobile", "cell": "Mobile",
		"desktop": "Desktop", "computer": "Desktop", "pc": "Desktop", "laptop": "Desktop", "web": "Desktop",
		"tablet": "Tablet", "ipad": "Tablet", "tv": "Smart TV", "smart tv": "Smart TV", "smarttv": "Smart TV", "smart_tv": "Smart TV",
	}
)

func platformAliases() map[string]string {
	m := map[string]string{
		"ig": "Instagram", "insta": "Instagram", "fb": "Facebook", "meta": "Facebook", "yt": "YouTube",
		"you tube": "YouTube", "tik tok": "TikTok", "tik-tok": "TikTok", "twitter": "X", "x (twitter)": "X",
		"x.com": "X", "linked in": "LinkedIn", "whats app": "WhatsApp", "snap": "Snapchat",
	}
	for _, p := range dataset.Platforms {
		m[strings.ToLower(p)] = p
	}
	return m
}

func mapCase(expr string, m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return mapCaseOrdered(expr, keys, m)
}

func mapCaseOrdered(expr string, keys []string, m map[string]string) string {
	var b strings.Builder
	b.WriteString("CASE " + expr)
	for _, k := range keys {
		fmt.Fprintf(&b, " WHEN %s THEN %s", quote(k), quote(m[k]))
	}
	b.WriteString(" END")
	return b.String()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func inIdent(s string) string { return ident("in_" + s) }

// ws is the ASCII whitespace trimmed from values.
const ws = "' ' || chr(9) || chr(10) || chr(13) || chr(11) || chr(12)"

// macros are the helper functions of the cleaning SQL.
var macros = []string{
	// Title case as dataset.Title: words split on whitespace and joined by
	// one space; a word in capitals (two to four letters, none lower case)
	// is an acronym and kept; in other words the first letter and any
	// letter after - / ( . & are upper-cased, the rest lower-cased.
	`CREATE OR REPLACE TEMP MACRO pulse_cap(p) AS upper(p[1]) || p[2:]`,
	`CREATE OR REPLACE TEMP MACRO pulse_capsep(x, sep) AS array_to_string(list_transform(string_split(x, sep), lambda p: pulse_cap(p)), sep)`,
	`CREATE OR REPLACE TEMP MACRO pulse_acronym(w) AS NOT regexp_matches(w, '\p{Ll}') AND length(regexp_replace(w, '[^\p{L}]', '', 'g')) BETWEEN 2 AND 4`,
	`CREATE OR REPLACE TEMP MACRO pulse_titleword(w) AS CASE WHEN pulse_acronym(w) THEN w
		ELSE pulse_capsep(pulse_capsep(pulse_capsep(pulse_capsep(pulse_capsep(lower(w), '-'), '/'), '('), '.'), '&') END`,
	// Two fast paths skip work: one word, and words without - / ( . &.
	`CREATE OR REPLACE TEMP MACRO pulse_title(s) AS CASE
		WHEN NOT regexp_matches(s, '[-/(.& \t\n\r\x0b\x0c]') THEN CASE WHEN pulse_acronym(s) THEN s ELSE upper(s[1]) || lower(s[2:]) END
		WHEN NOT regexp_matches(s, '[-/(.&]') THEN array_to_string(list_transform(string_split_regex(trim(s, ` + ws + `), '[ \t\n\r\x0b\x0c]+'),
			lambda w: CASE WHEN pulse_acronym(w) THEN w ELSE pulse_cap(lower(w)) END), ' ')
		ELSE array_to_string(list_transform(string_split_regex(trim(s, ` + ws + `), '[ \t\n\r\x0b\x0c]+'),
			lambda w: pulse_titleword(w)), ' ') END`,
	// Clock time as dataset.ClockTime: "9:00 PM", "9 pm", "21:00", "21:00:00" -> "HH:MM", NULL when invalid.
	`CREATE OR REPLACE TEMP MACRO pulse_clock_parts(s) AS regexp_extract(upper(trim(s, ` + ws + `)), '^([+-]?[0-9]+)(?::([+-]?[0-9]+)(?::.*?)?)?[ \t]*(AM|PM)?$', ['h', 'm', 'ap'])`,
	`CREATE OR REPLACE TEMP MACRO pulse_clock_hm(h, m, ap) AS CASE
		WHEN h IS NULL OR m IS NULL OR m < 0 OR m > 59 THEN NULL
		WHEN ap <> '' AND (h < 1 OR h > 12) THEN NULL
		WHEN ap = '' AND (h < 0 OR h > 23) THEN NULL
		ELSE format('{:02d}:{:02d}', CASE ap WHEN 'PM' THEN h % 12 + 12 WHEN 'AM' THEN h % 12 ELSE h END, m) END`,
	`CREATE OR REPLACE TEMP MACRO pulse_clock(s) AS pulse_clock_hm(TRY_CAST(NULLIF(pulse_clock_parts(s).h, '') AS INTEGER),
		COALESCE(TRY_CAST(NULLIF(pulse_clock_parts(s).m, '') AS INTEGER), CASE WHEN pulse_clock_parts(s).h <> '' THEN 0 END), pulse_clock_parts(s).ap)`,
}

// Source is the file the SQL reads and how its columns are typed.
type Source struct {
	Format  record.Format
	Path    string
	Columns []string              // the file's columns, in order
	Types   map[string]table.Type // Parquet only: each column's type in the file
}

func (s Source) relation() string {
	switch s.Format {
	case record.CSV:
		return fmt.Sprintf("read_csv(%s, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, columns = %s)", quote(s.Path), s.varcharColumns())
	case record.NDJSON:
		return fmt.Sprintf("read_json(%s, format = 'newline_delimited', columns = %s)", quote(s.Path), s.varcharColumns())
	}
	return fmt.Sprintf("read_parquet(%s)", quote(s.Path))
}

func (s Source) varcharColumns() string {
	var parts []string
	for _, c := range s.Columns {
		parts = append(parts, quote(c)+": 'VARCHAR'")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// typed reports whether column c is read with its own (non-text) type.
func (s Source) typed(c string) bool {
	return s.Format == record.Parquet && s.Types[c] != table.String
}

// Outputs names the files the SQL writes.
type Outputs struct {
	Dir        string // staging.parquet, rejects.ndjson, <TABLE>.parquet
	SourceKey  string // the _SOURCE value (Pulse: the raw key)
	IngestedAt int64  // the _INGESTED_AT value, Unix microseconds
}

func (o Outputs) file(name string) string { return quote(o.Dir + "/" + name) }

// CleanSQL returns the statements that clean src as spec says, writing
// staging.parquet (the kept, de-duplicated rows with the staging columns)
// and rejects.ndjson (the rejected records with position, field, reason).
func CleanSQL(spec *dataset.Spec, src Source, out Outputs) ([]string, error) {
	have := map[string]bool{}
	for _, c := range src.Columns {
		have[c] = true
	}
	var l1, l2, l3, l4 []string // the layers: text, standardized, parsed, output
	var reasons []string
	for _, f := range spec.Fields {
		from := f.From
		if len(from) == 0 {
			from = []string{f.Name}
		}
		t, v, o := ident("t_"+f.Name), ident("s_"+f.Name), ident("v_"+f.Name)
		// Layer 1: the first non-null input, trimmed ("", null, and nan
		// for non-strings count as null).
		var texts []string
		typedIn := false
		for _, c := range from {
			if !have[c] {
				continue
			}
			if src.typed(c) {
				typedIn = true
				texts = append(texts, inIdent(c))
				continue
			}
			tr := fmt.Sprintf("trim(%s, %s)", inIdent(c), ws)
			nullish := "''"
			if f.Type != table.String {
				nullish += ", 'null', 'nan'"
			} else {
				nullish += ", 'null'"
			}
			texts = append(texts, fmt.Sprintf("CASE WHEN lower(%s) IN (%s) THEN NULL ELSE %s END", tr, nullish, tr))
		}
		switch {
		case len(texts) == 0:
			l1 = append(l1, "NULL AS "+t)
		case len(texts) == 1:
			l1 = append(l1, texts[0]+" AS "+t)
		default:
			l1 = append(l1, "COALESCE("+strings.Join(texts, ", ")+") AS "+t)
		}
		if f.BlankIsValue {
			return nil, fmt.Errorf("dataset %s field %s keeps blank text as a value: not written in SQL yet", spec.Name, f.Name)
		}
		// Layer 2: the standardizer.
		std := t
		if f.Std != nil {
			fn, ok := sqlStd[f.Name]
			if !ok {
				return nil, fmt.Errorf("dataset %s field %s has a standardizer the SQL yardstick does not know: add it to sqlStd", spec.Name, f.Name)
			}
			std = fn(t)
		}
		l2 = append(l2, t, std+" AS "+v)
		// Layer 3: parse to the type (NULL when it does not parse).
		parsed, err := parseSQL(v, f.Type, typedIn)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		l3 = append(l3, t, v, parsed+" AS "+o)
		// Layer 4: the reason this field rejects the record, and its value.
		if f.Critical {
			reasons = append(reasons, fmt.Sprintf("WHEN %s IS NULL THEN %s", t, quote(f.Name+"|missing critical field")))
		}
		if f.Std != nil {
			reasons = append(reasons, fmt.Sprintf("WHEN %s IS NOT NULL AND %s IS NULL THEN %s", t, v, quote(f.Name+"|invalid value")))
		}
		reasons = append(reasons, fmt.Sprintf("WHEN %s IS NOT NULL AND %s IS NULL THEN %s", v, o, quote(f.Name+"|does not parse as "+f.Type.String())))
		if f.Ranged {
			cond := fmt.Sprintf("%s < %s", o, num(f.Min))
			if !math.IsInf(f.Max, 1) {
				cond += fmt.Sprintf(" OR %s > %s", o, num(f.Max))
			}
			reasons = append(reasons, fmt.Sprintf("WHEN %s THEN %s", cond, quote(f.Name+"|out of range")))
		}
		def, err := defaultSQL(f)
		if err != nil {
			return nil, err
		}
		l4 = append(l4, fmt.Sprintf("CASE WHEN %s IS NULL THEN %s ELSE %s END AS %s", t, def, o, ident(f.Name)))
	}
	derived, err := derivedSQL(spec)
	if err != nil {
		return nil, err
	}
	// The input columns travel along as in_<name> (for the rejects).
	var inputs, renamed, back []string
	for _, c := range src.Columns {
		inputs = append(inputs, inIdent(c))
		renamed = append(renamed, ident(c)+" AS "+inIdent(c))
		back = append(back, inIdent(c)+" AS "+ident(c))
	}
	in := strings.Join(inputs, ", ")
	query := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cleaned AS
SELECT *, %s
FROM (SELECT pos, %s, CASE %s END AS reason, %s
FROM (SELECT pos, %s, %s
FROM (SELECT pos, %s, %s
FROM (SELECT pos, %s, %s
FROM (SELECT row_number() OVER () AS pos, %s FROM %s)))))`,
		derived,
		in, strings.Join(reasons, " "), strings.Join(l4, ", "),
		in, strings.Join(l3, ", "),
		in, strings.Join(l2, ", "),
		in, strings.Join(l1, ", "),
		strings.Join(renamed, ", "), src.relation())
	var stg []string
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	for _, c := range cl.Schema().Columns {
		switch c.Name {
		case dataset.ColSource:
			stg = append(stg, quote(out.SourceKey)+" AS "+ident(c.Name))
		case dataset.ColRow:
			stg = append(stg, "pos AS "+ident(c.Name))
		case dataset.ColIngestedAt:
			stg = append(stg, fmt.Sprintf("make_timestamp(%d) AS %s", out.IngestedAt, ident(c.Name)))
		default:
			stg = append(stg, ident(c.Name))
		}
	}
	var key []string
	for _, k := range spec.Key {
		key = append(key, ident(k))
	}
	staging := fmt.Sprintf(`COPY (SELECT %s FROM cleaned WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY %s ORDER BY pos) = 1) TO %s (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
		strings.Join(stg, ", "), strings.Join(key, ", "), out.file("staging.parquet"))
	rejects := fmt.Sprintf(`COPY (SELECT pos, split_part(reason, '|', 1) AS field, split_part(reason, '|', 2) AS reason, %s
FROM cleaned WHERE reason IS NOT NULL) TO %s (FORMAT json)`, strings.Join(back, ", "), out.file("rejects.ndjson"))
	return append(append([]string{}, macros...), query, staging, rejects), nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// parseSQL is the typed value of text expression v (NULL when it does not
// parse); typed inputs are already of their type.
func parseSQL(v string, t table.Type, typedIn bool) (string, error) {
	switch t {
	case table.String:
		return v, nil
	case table.Int:
		if typedIn {
			return "CAST(" + v + " AS BIGINT)", nil
		}
		// Integers, or numbers with no fraction (as Pulse: "12.0" is 12, "12.5" is rejected).
		return fmt.Sprintf("CASE WHEN TRY_CAST(%[1]s AS DOUBLE) = trunc(TRY_CAST(%[1]s AS DOUBLE)) THEN TRY_CAST(%[1]s AS BIGINT) END", v), nil
	case table.Float:
		if typedIn {
			return "CAST(" + v + " AS DOUBLE)", nil
		}
		return fmt.Sprintf("CASE WHEN isfinite(TRY_CAST(%[1]s AS DOUBLE)) THEN TRY_CAST(%[1]s AS DOUBLE) END", v), nil
	case table.Bool:
		if typedIn {
			return "CAST(" + v + " AS BOOLEAN)", nil
		}
		return fmt.Sprintf("CASE WHEN lower(%[1]s) IN ('true','t','yes','y','1') THEN true WHEN lower(%[1]s) IN ('false','f','no','n','0') THEN false END", v), nil
	case table.Timestamp:
		return fmt.Sprintf("TRY_CAST(%s AS TIMESTAMP)", v), nil
	case table.Date:
		return fmt.Sprintf("TRY_CAST(%s AS DATE)", v), nil
	}
	return "", fmt.Errorf("no SQL parse for type %s", t)
}

// defaultSQL is the value a null input takes.
func defaultSQL(f dataset.Field) (string, error) {
	if f.KeepNull || f.Critical {
		return "NULL", nil
	}
	if f.Default != "" {
		if f.Type != table.String {
			return "", fmt.Errorf("field %s: a non-string default is not written in SQL yet", f.Name)
		}
		return quote(f.Default), nil
	}
	switch f.Type {
	case table.String:
		return "'Unknown'", nil
	case table.Int:
		return "CAST(0 AS BIGINT)", nil
	case table.Float:
		return "CAST(0 AS DOUBLE)", nil
	case table.Bool:
		return "false", nil
	}
	return "NULL", nil
}

// derivedSQL writes the derived fields the SQL knows: AgeGroup and Hour.
func derivedSQL(spec *dataset.Spec) (string, error) {
	var out []string
	for _, d := range spec.Derived {
		switch d.Name {
		case "AgeGroup":
			out = append(out, `CASE WHEN "Age" IS NULL THEN 'Unknown' WHEN "Age" < 18 THEN '13-17' WHEN "Age" < 25 THEN '18-24'
	WHEN "Age" < 35 THEN '25-34' WHEN "Age" < 45 THEN '35-44' WHEN "Age" < 55 THEN '45-54' WHEN "Age" < 65 THEN '55-64' ELSE '65+' END AS "AgeGroup"`)
		case "Hour":
			out = append(out, `CAST(CASE WHEN "WatchTime" IS NOT NULL AND "WatchTime" <> 'Unknown' AND TRY_CAST("WatchTime"[1:2] AS INTEGER) IS NOT NULL AND length("WatchTime") >= 2
	THEN TRY_CAST("WatchTime"[1:2] AS INTEGER) WHEN "EventTime" IS NOT NULL THEN hour("EventTime") END AS BIGINT) AS "Hour"`)
		default:
			return "", fmt.Errorf("dataset %s: derived field %s is not written in SQL", spec.Name, d.Name)
		}
	}
	return strings.Join(out, ", "), nil
}

// ModelSQL returns the statements that map staging.parquet into the
// dataset's star tables (<TABLE>.parquet each) and the rejects into
// PULSE_REJECTS.parquet, as shared/star and batch.Model do.
func ModelSQL(spec *dataset.Spec, out Outputs, origin string) ([]string, error) {
	cl, err := dataset.Compile(spec)
	if err != nil {
		return nil, err
	}
	stg := cl.Schema()
	typeOf := map[string]table.Type{}
	for _, c := range stg.Columns {
		typeOf[c.Name] = c.Type
	}
	var stmts []string
	for _, tm := range spec.Star {
		var cols []string
		keyExpr := ""
		for i, c := range tm.Cols {
			var e string
			switch {
			case c.Field != "":
				e = ident(c.Field)
			case len(c.MD5) > 0:
				var parts []string
				if c.Salt != "" {
					parts = append(parts, quote(c.Salt))
				}
				for _, f := range c.MD5 {
					p, err := textSQL(ident(f), typeOf[f])
					if err != nil {
						return nil, fmt.Errorf("%s.%s: %w", tm.Table.Name, c.Name, err)
					}
					parts = append(parts, p)
				}
				e = "md5(" + strings.Join(parts, " || '|' || ") + ")"
			case c.Null:
				e = "NULL"
			default:
				e = quote(c.Const)
			}
			if len(tm.Table.Key) > 0 && tm.Table.Columns[i].Name == tm.Table.Key[0] {
				keyExpr = e
			}
			cols = append(cols, e+" AS "+ident(c.Name))
		}
		q := fmt.Sprintf("SELECT %s FROM read_parquet(%s)", strings.Join(cols, ", "), out.file("staging.parquet"))
		if !strings.HasPrefix(tm.Table.Name, "FACT_") {
			q += fmt.Sprintf(" QUALIFY row_number() OVER (PARTITION BY %s ORDER BY %s) = 1", keyExpr, ident(dataset.ColRow))
		}
		stmts = append(stmts, fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)", q, out.file(tm.Table.Name+".parquet")))
	}
	stmts = append(stmts, fmt.Sprintf(`COPY (SELECT md5(%[1]s || '#' || pos) AS REJECT_ID, %[2]s AS DATASET, %[3]s AS SOURCE, pos AS ROW_POS,
	field AS FIELD, reason AS REASON, to_json(r)::VARCHAR AS RECORD, make_timestamp(%[4]d) AS REJECTED_AT, false AS REPLAYED
	FROM read_json(%[5]s, format = 'newline_delimited') r) TO %[6]s (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
		quote(origin), quote(spec.Name), quote(out.SourceKey), out.IngestedAt, out.file("rejects.ndjson"), out.file(star.Rejects.Name+".parquet")))
	return stmts, nil
}

// textSQL is star.AppendText in SQL: the canonical text hashed into keys.
func textSQL(col string, t table.Type) (string, error) {
	switch t {
	case table.String:
		return "COALESCE(" + col + ", '')", nil
	case table.Int, table.Bool:
		return "COALESCE(CAST(" + col + " AS VARCHAR), '')", nil
	case table.Timestamp:
		return "COALESCE(CAST(epoch_us(" + col + ") AS VARCHAR), '')", nil
	case table.Date:
		return "COALESCE(CAST(CAST(" + col + " - DATE '1970-01-01' AS BIGINT) AS VARCHAR), '')", nil
	}
	return "", fmt.Errorf("no SQL text form of a %s key column (Go and DuckDB format floats differently)", t)
}
