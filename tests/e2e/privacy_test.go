package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pulse-analytics/pulse/events"
	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/stream"
)

// The four ways personal data comes in: batch CSV and NDJSON files, stream
// JSON and Avro messages. Every secret below carries its path's name, so a
// leak says which path let it through.
var privacyPaths = []string{"bcsv", "bjson", "sjson", "savro"}

// pdRec is one input record: its dataset, its fields in order, and, for a
// record that must not parse, its bytes as they are.
type pdRec struct {
	ds     string
	fields [][2]any // name, value
	broken []byte   // a malformed record (the line or message as is)
}

func (r pdRec) get(name string) any {
	for _, f := range r.fields {
		if f[0] == name {
			return f[1]
		}
	}
	return nil
}

const (
	pdLogin = "2024-02-03T12:00:00Z"
	pdMilli = int64(1706961600000) // pdLogin in epoch milliseconds
	pdTs    = int64(1706961660)    // 12:01 in epoch seconds: every social sale, in one open window
)

// privacyRecords are the records of one path: a personal field loaded, an
// e-mail in a personal field, e-mails in free text (a column, and a key no
// column reads), personal fields in records rejected for another field,
// malformed records holding e-mails (and a name, where the format lets a
// reader find it), and social sales whose dedupe key (ID) holds an e-mail,
// two of them rejected for an unknown platform until the replay.
func privacyRecords(p string) []pdRec {
	avro := p == "savro"
	login := any(pdLogin)
	badLogin := any("yesterday")
	if avro {
		login, badLogin = pdMilli, int64(99999999999999) // year 5138: outside the stream's years
	}
	session := func(id string, user int, name, device string, at any) pdRec {
		return pdRec{ds: "user_sessions", fields: [][2]any{{"session_id", p + "-" + id}, {"user_id", user}, {"user_name", name},
			{"login_timestamp", at}, {"device", device}}}
	}
	reg := func(user, age int, email, note string) pdRec {
		r := pdRec{ds: "consumer_registration", fields: [][2]any{{"timestamp", "2024-02-03T12:00:00Z"}, {"event_name", "consumer_registration"},
			{"user_id", user}, {"age", age}, {"masked_email", email}, {"preferred_language", "eng"}}}
		if note != "" && !avro {
			r.fields = append(r.fields, [2]any{"note", note})
		}
		return r
	}
	social := func(id, kota, platform string) pdRec {
		return pdRec{ds: "social_sales", fields: [][2]any{{"ID", id}, {"Kota", kota}, {"Sosial_Media", platform}, {"Usage_Count", 10},
			{"Sales", 5}, {"Visitors", 100}, {"PageVisitors", 3}, {"Conversion", 2}, {"Ts", pdTs}}}
	}
	base := map[string]int{"bcsv": 100, "bjson": 200, "sjson": 300, "savro": 400}[p]
	recs := []pdRec{
		session("s1", base+1, "Zorba Quillfeather-"+p, "laptop of zorba."+p+"@pmail.example.com", login),
		session("s2", base+2, "ursula."+p+"@pmail.example.com", "Desktop", login),
		session("s3", base+3, "Yolanda Brightwater-"+p, "phone of yolanda."+p+"@pmail.example.com", badLogin),
		reg(base+1, 30, "wilhelmina."+p+"@gmail.com", "reach me at dora.note."+p+"@pmail.example.com"),
		reg(base+2, 17, "bob.secret."+p+"@gmail.com", "call ida.note."+p+"@pmail.example.com"),    // age 17: rejected
		social("order-ann."+p+"@shop.example.com", "Depok", "Myspace"),                            // rejected, replayed: duplicate
		social("order-ben."+p+"@shop.example.com", "Depok", "Instagram"),                          // same domain, another key
		social("order-ann."+p+"@shop.example.com", "Depok", "Instagram"),                          // the key's first load
		social("order-cat."+p+"@shop.example.com", "Bogor cat."+p+"@city.example.com", "Myspace"), // rejected, replayed: loaded
	}
	switch p {
	case "bcsv":
		recs = append(recs, pdRec{ds: "user_sessions", broken: []byte(p + "-s4,404,quentin." + p + "@pmail.example.com")})
	case "savro":
		// A body cut short: it does not match its schema.
		recs = append(recs, pdRec{ds: "user_sessions", fields: session("s4", base+4, "x", "quentin."+p+"@pmail.example.com", login).fields, broken: []byte("cut")})
	default:
		recs = append(recs, pdRec{ds: "user_sessions", broken: []byte(`{"session_id": "` + p + `-s4", "user_id": 404, "user_name": "Quentin Leakworth-` + p +
			`", "device": "quentin.` + p + `@pmail.example.com", "login_timestamp": `)})
	}
	return recs
}

// privacySecrets are the values no output but the raw input may hold.
func privacySecrets() []string {
	var out []string
	for _, p := range privacyPaths {
		out = append(out, "Zorba Quillfeather-"+p, "Yolanda Brightwater-"+p, "zorba."+p+"@", "ursula."+p+"@", "yolanda."+p+"@",
			"wilhelmina."+p+"@", "bob.secret."+p+"@", "quentin."+p+"@", "order-ann."+p+"@", "order-ben."+p+"@", "order-cat."+p+"@",
			"cat."+p+"@")
		if p != "savro" {
			out = append(out, "dora.note."+p+"@", "ida.note."+p+"@")
		}
		if p == "bcsv" {
			out = append(out, "xena.file."+p+"@")
		}
		if p == "bjson" || p == "sjson" {
			out = append(out, "Quentin Leakworth-"+p)
		}
		if p == "sjson" || p == "savro" {
			out = append(out, "lorna.late."+p+"@")
		}
	}
	return out
}

// pseudonym is the documented mask of an e-mail in a field that identifies
// a record (a dedupe or surrogate key): "****", the first 16 hex digits of
// the SHA-256 of the address as it came, "@" and the domain in lower case.
func pseudonym(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	sum := sha256.Sum256([]byte(addr))
	return "****" + hex.EncodeToString(sum[:])[:16] + "@" + strings.ToLower(addr[at+1:])
}

// TestPersonalDataMasked puts records with personal data through the batch
// path (CSV and NDJSON files) and the stream path (JSON and Avro), replays
// the rejected ones after a fix, and then searches every object of the
// staging, curated and quarantine buckets, every warehouse table, the
// stack's own files and every log line for the personal values: none may
// hold one. The raw bucket (the files and the stream's archive) must still
// hold every one of them.
func TestPersonalDataMasked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(prev)
	// A data folder, so the dedupe keys and the window and session state
	// are files the search below reads too.
	st := startStack(t, stack.Options{Dir: t.TempDir(), Log: logger, Backoff: time.Millisecond})
	ss, err := st.StartStream(ctx, stack.StreamOptions{BatchWindow: 20 * time.Millisecond, TickEvery: -1, Config: stream.Config{IdleTimeout: -1}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sr.NewClient(sr.URLs(ss.Registry.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := sim.RegisterSchemas(ctx, reg, events.Topics())
	if err != nil {
		t.Fatal(err)
	}

	// The batch path: one file per dataset and format.
	for _, p := range []string{"bcsv", "bjson"} {
		files := map[string][]pdRec{}
		for _, r := range privacyRecords(p) {
			files[r.ds] = append(files[r.ds], r)
		}
		for ds, recs := range files {
			name, body := ds+".ndjson", ndjsonFile(t, recs)
			if p == "bcsv" {
				name, body = ds+".csv", csvFile(t, recs)
			}
			run, err := st.Drop(ctx, ds, p+"-"+name, bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatal(err)
			}
			if run.Err != nil {
				t.Fatalf("%s %s: %v", p, name, run.Err)
			}
		}
	}

	// A file Pulse cannot read is quarantined whole: the quarantine names
	// it, and only the raw bucket keeps it.
	note := []byte("a note for xena.file.bcsv@pmail.example.com\n")
	run, err := st.Drop(ctx, "user_sessions", "bcsv-notes.txt", bytes.NewReader(note), int64(len(note)))
	if err != nil || !run.Quarantined {
		t.Fatalf("an unreadable file: quarantined %v, %v", run.Quarantined, err)
	}

	// The stream path: JSON and Avro messages, then a late registration
	// of each, so PULSE_LATE_EVENTS keeps a record too.
	var n int64
	for _, p := range []string{"sjson", "savro"} {
		for _, r := range privacyRecords(p) {
			produceValues(ctx, t, ss, r.ds, streamValue(t, ids, p, r))
			n++
		}
	}
	if err := ss.WaitCommitted(ctx, n); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"sjson", "savro"} {
		late := pdRec{ds: "consumer_registration", fields: [][2]any{{"timestamp", "2024-02-03T09:00:00Z"}, {"event_name", "consumer_registration"},
			{"user_id", 900 + i}, {"age", 40}, {"masked_email", "lorna.late." + p + "@gmail.com"}, {"preferred_language", "geo"}}}
		produceValues(ctx, t, ss, late.ds, streamValue(t, ids, p, late))
		n++
	}
	if err := ss.WaitCommitted(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := count(t, st, "SELECT COUNT(DISTINCT ORIGIN) FROM PULSE_LATE_EVENTS WHERE DATASET = 'consumer_registration'"); got != 2 {
		t.Fatalf("%d late registrations in PULSE_LATE_EVENTS, want 2", got)
	}

	// The fix, then the replays of both paths: the masked records load as
	// the originals would have.
	defer dataset.AddPlatform("Myspace")()
	res, err := batch.Replay(ctx, st.Env, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Manifest.Counts.String())
	}
	sort.Strings(got)
	if want := "received 2 = loaded 1 + rejected 0 + duplicate 1"; fmt.Sprint(got) != "["+want+" "+want+"]" {
		t.Errorf("batch replay of social_sales: %v, want two files of %s", got, want)
	}
	sres, err := ss.Pipeline.Replay(ctx, "social_sales")
	if err != nil {
		t.Fatal(err)
	}
	if got := sres.Total().String(); got != "received 4 = loaded 2 + rejected 0 + duplicate 2" {
		t.Errorf("stream replay of social_sales: %s", got)
	}
	if _, err := ss.Pipeline.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var wantSales []string
	for _, p := range privacyPaths {
		wantSales = append(wantSales,
			fmt.Sprintf("[%s Depok Instagram]", pseudonym("order-ann."+p+"@shop.example.com")),
			fmt.Sprintf("[%s Depok Instagram]", pseudonym("order-ben."+p+"@shop.example.com")),
			fmt.Sprintf("[%s Bogor ****@city.Example.Com Myspace]", pseudonym("order-cat."+p+"@shop.example.com")))
	}
	sort.Strings(wantSales)
	var gotSales []string
	for _, r := range query(t, st, "SELECT RECORD_ID, CITY, PLATFORM FROM FACT_SOCIAL_SALES") {
		gotSales = append(gotSales, fmt.Sprint(r))
	}
	sort.Strings(gotSales)
	if fmt.Sprint(gotSales) != fmt.Sprint(wantSales) {
		t.Errorf("FACT_SOCIAL_SALES:\n got  %v\n want %v", gotSales, wantSales)
	}
	var wantUsers []string
	for _, p := range privacyPaths {
		base := map[string]int{"bcsv": 100, "bjson": 200, "sjson": 300, "savro": 400}[p]
		wantUsers = append(wantUsers, fmt.Sprintf("[%d ****@gmail.com]", base+1))
	}
	if got := fmt.Sprint(query(t, st, "SELECT USER_ID, MASKED_EMAIL FROM CONSUMER_USERS WHERE USER_ID < 900 ORDER BY USER_ID")); got != "["+strings.Join(wantUsers, " ")+"]" {
		t.Errorf("CONSUMER_USERS: %s", got)
	}
	if got := fmt.Sprint(query(t, st, "SELECT USER_NAME, DEVICE FROM USER_SESSIONS ORDER BY SESSION_ID")); got !=
		"[[**** laptop of ****@pmail.example.com] [****@pmail.example.com Desktop] "+
			"[**** laptop of ****@pmail.example.com] [****@pmail.example.com Desktop] "+
			"[**** laptop of ****@pmail.example.com] [****@pmail.example.com Desktop] "+
			"[**** laptop of ****@pmail.example.com] [****@pmail.example.com Desktop]]" {
		t.Errorf("USER_SESSIONS: %s", got)
	}
	if got := count(t, st, "SELECT COUNT(*) FROM PULSE_REJECTS WHERE NOT REPLAYED"); got != 12 {
		t.Errorf("%d rejects not replayed, want 12 (per path: a session, a registration, a malformed record; the stream's two late registrations are not rejects)", got)
	}

	// Every output but the raw bucket.
	secrets := privacySecrets()
	var where []string
	look := func(what string, text []byte) {
		for _, h := range haystacks(text) {
			for _, s := range secrets {
				if bytes.Contains(bytes.ToLower(h), []byte(strings.ToLower(s))) {
					where = append(where, what+" holds "+s)
				}
			}
		}
	}
	dir := t.TempDir()
	for _, bucket := range []string{stack.Buckets.Staging, stack.Buckets.Curated, stack.Buckets.Quarantine} {
		objs, err := st.Env.Store.List(ctx, bucket, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			body := get(ctx, t, st, bucket, o.Key)
			if !strings.HasSuffix(o.Key, ".parquet") {
				look(bucket+"/"+o.Key, body)
				continue
			}
			file := filepath.Join(dir, "object.parquet")
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			look(bucket+"/"+o.Key, []byte(fmt.Sprint(query(t, st, "SELECT * FROM read_parquet('"+file+"')"))))
		}
	}
	tables := query(t, st, "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1")
	if len(tables) < 30 {
		t.Fatalf("the warehouse has %d tables", len(tables))
	}
	for _, tb := range tables {
		look("table "+tb[0].(string), []byte(fmt.Sprint(query(t, st, "SELECT * FROM "+tb[0].(string)))))
	}
	// The stack's own files, but the input (Kafka's log is the stream's
	// input; s3/ is where the buckets, raw among them, are saved) and the
	// warehouse file (its tables are searched above).
	files := 0
	err = filepath.WalkDir(st.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == filepath.Join(st.Dir, "s3") || path == filepath.Join(st.Dir, "stream", "kafka")) {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), "warehouse.duckdb") {
			return nil
		}
		files++
		b, err := os.ReadFile(path)
		if err == nil {
			look("stack file "+path, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Errorf("the search read %d stack files (want the dedupe log and the stream state)", files)
	}
	look("the logs", logs.Bytes())
	for _, w := range where {
		t.Error(w)
	}
	if !strings.Contains(logs.String(), "level=") {
		t.Errorf("no log line was captured")
	}

	// The raw bucket keeps the input as it came.
	var raw bytes.Buffer
	objs, err := st.Env.Store.List(ctx, stack.Buckets.Raw, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		for _, h := range haystacks(get(ctx, t, st, stack.Buckets.Raw, o.Key)) {
			raw.Write(h)
			raw.WriteByte('\n')
		}
	}
	for _, s := range secrets {
		if !strings.Contains(raw.String(), s) {
			t.Errorf("the raw bucket lost %s", s)
		}
	}
}

func get(ctx context.Context, t *testing.T, st *stack.Stack, bucket, key string) []byte {
	t.Helper()
	body, _, err := st.Env.Store.Get(ctx, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var base64Text = regexp.MustCompile(`(?:base64:|"value_b64":")([A-Za-z0-9+/=]+)`)

// haystacks are the texts a search must look at in an object: the object,
// and every base64 value in it decoded (Avro records are kept as base64).
func haystacks(b []byte) [][]byte {
	out := [][]byte{b}
	for _, m := range base64Text.FindAllSubmatch(b, -1) {
		if d, err := base64.StdEncoding.DecodeString(string(m[1])); err == nil {
			out = append(out, d)
		}
	}
	return out
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

func (l *lockedBuffer) String() string { return string(l.Bytes()) }

func jsonObject(t *testing.T, fields [][2]any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(f[0])
		v, err := json.Marshal(f[1])
		if err != nil {
			t.Fatal(err)
		}
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func ndjsonFile(t *testing.T, recs []pdRec) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		if r.broken != nil {
			b.Write(r.broken)
		} else {
			b.Write(jsonObject(t, r.fields))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// csvFile writes recs under the header of their widest record.
func csvFile(t *testing.T, recs []pdRec) []byte {
	var header []string
	for _, r := range recs {
		if len(r.fields) > len(header) {
			header = header[:0]
			for _, f := range r.fields {
				header = append(header, f[0].(string))
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	for _, r := range recs {
		if r.broken != nil {
			b.Write(r.broken)
			b.WriteByte('\n')
			continue
		}
		row := make([]string, len(header))
		for i, h := range header {
			if v := r.get(h); v != nil {
				row[i] = fmt.Sprint(v)
			}
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	}
	return b.Bytes()
}

// streamValue is a record as a Kafka value: JSON, or Avro in the Confluent
// wire format for the savro path (a broken Avro record is cut short).
func streamValue(t *testing.T, ids map[string]int, p string, r pdRec) []byte {
	t.Helper()
	if p != "savro" {
		if r.broken != nil {
			return r.broken
		}
		return jsonObject(t, r.fields)
	}
	text, err := events.Schema(r.ds)
	if err != nil {
		t.Fatal(err)
	}
	s, err := havro.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for _, f := range r.fields {
		m[f[0].(string)] = f[1]
	}
	body, err := havro.Marshal(s, m)
	if err != nil {
		t.Fatalf("%s: %v", r.ds, err)
	}
	v := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(v[1:], uint32(ids[r.ds]))
	v = append(v, body...)
	if r.broken != nil {
		v = v[:len(v)-1]
	}
	return v
}
