package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/port"
)

// rejectFile is one file of records, some expected to be rejected.
type rejectFile struct {
	dataset, name string
	header        string   // CSV header line, "" for NDJSON
	lines         []string // one record each; expected rejects listed in rejects
	rejects       []int    // 0-based indexes into lines
	gzip          bool
}

func (f rejectFile) body() []byte {
	var b bytes.Buffer
	if f.header != "" {
		b.WriteString(f.header + "\r\n")
	}
	for _, l := range f.lines {
		b.WriteString(l + "\n")
	}
	if !f.gzip {
		return b.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(b.Bytes()) // into a bytes.Buffer: cannot fail
	zw.Close()
	return z.Bytes()
}

// kept is how a record's bytes are kept: as they are when UTF-8, else
// "base64:" and their base64 (written here, not taken from Pulse).
func kept(b string) string {
	if utf8.ValidString(b) && !strings.HasPrefix(b, "base64:") {
		return b
	}
	return "base64:" + base64.StdEncoding.EncodeToString([]byte(b))
}

// TestRejectsKeptByteForByte: on the batch path, every rejected record of a
// CSV, an NDJSON and a gzipped file is kept exactly as it was in the file,
// in its quarantine object and in PULSE_REJECTS.RECORD: records rejected
// by the reader (malformed, a stray quote, bytes that are not UTF-8) and by
// the cleaner, one of them over 64 KB (within the 16 MiB limit).
func TestRejectsKeptByteForByte(t *testing.T) {
	big := strings.Repeat("abcdefghij", 7000) // 70,000 bytes
	csvFile := rejectFile{
		dataset: "video_interactions", name: "rejects.csv",
		header: "UserID,Video_ID,Age,Demographics",
		lines: []string{
			"u1,10,30,Urban",
			"u2,11,200,Urban",          // age out of range (cleaner)
			",12,30,Urban",             // missing critical field (cleaner)
			"u3,\"13,30,Urban",         // unterminated quote (reader)
			"u4,14,30,Rural",           // read after the stray quote
			"u5,x\"y,30,Urban",         // bare quote (reader)
			"u6,15,30",                 // too few fields (reader)
			"u\xff7,16,30,Urban",       // not UTF-8 (reader)
			"u8,17,300," + big,         // over 64 KB, age out of range (cleaner)
			"u9,18,30,\"" + big + "\"", // over 64 KB, loaded
			"u10,19,300,\"a\r\nb\"",    // quoted CRLF, age out of range (cleaner)
			"u11,20,30,\"a",            // a quote closing on the next line into 5 fields: a stray quote (reader) ...
			"b\",x",                    // ... so the next line is a record of its own (reader)
		},
		rejects: []int{1, 2, 3, 5, 6, 7, 8, 10, 11, 12},
	}
	ndjsonFile := rejectFile{
		dataset: "live_streaming", name: "rejects.ndjson",
		lines: []string{
			`{"UserID":"u1","EventID":1,"EventTime":"2024-05-01T10:00:00Z","Age":30}`,
			`{"UserID":"u2","EventID":2,"EventTime":"2024-05-01T10:00:00Z","Age":5}`,
			`{"UserID":"u3","EventID":3,"EventTime":"2024-05-01T10:00:00Z",`,
			"{\"UserID\":\"u\xff4\",\"EventID\":4,\"EventTime\":\"2024-05-01T10:00:00Z\"}",
			`{"EventID":5,"EventTime":"2024-05-01T10:00:00Z"}`,
			`{"UserID":"u6","EventID":6,"EventTime":"2024-05-01T10:00:00Z","Age":300,"EventType":"` + big + `"}`,
			`["not","an","object"]`,
			`{"UserID":"u8","EventID":8,"EventTime":"2024-05-01T10:00:00Z","EventType":"` + big + `"}`,
			"\t{\"UserID\" : \"u9\", \"EventID\":-9x}  ",
		},
		rejects: []int{1, 2, 3, 4, 5, 6, 8},
	}
	gzNDJSON := ndjsonFile
	gzNDJSON.name, gzNDJSON.gzip = "rejects-gz.ndjson.gz", true
	gzCSV := csvFile
	gzCSV.name, gzCSV.gzip = "rejects-gz.csv.gz", true

	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			o := stack.Options{}
			if chunked {
				o.LargeFileBytes, o.ChunkBytes = 1, 300
			}
			st := startStack(t, o)
			ctx := context.Background()
			for _, f := range []rejectFile{csvFile, ndjsonFile, gzNDJSON, gzCSV} {
				body := f.body()
				run, err := st.Drop(ctx, f.dataset, f.name, bytes.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatal(err)
				}
				if run.Err != nil {
					t.Fatalf("%s: workflow failed: %v", f.name, run.Err)
				}
				want := map[int64]string{}
				for _, i := range f.rejects {
					pos := int64(i + 1) // CSV data rows and NDJSON lines alike
					want[pos] = kept(f.lines[i])
				}
				c := run.Manifest.Counts
				if c.Received != int64(len(f.lines)) || c.Rejected != int64(len(f.rejects)) {
					t.Errorf("%s: %s; want received %d, rejected %d", f.name, c, len(f.lines), len(f.rejects))
				}
				// The quarantine objects.
				got := map[int64]string{}
				keys := append([]string{}, run.Manifest.ChunkRejectKeys...)
				if run.Manifest.QuarantineKey != "" {
					keys = append(keys, run.Manifest.QuarantineKey)
				}
				for _, key := range keys {
					rc, _, err := st.Env.Store.Get(ctx, stack.Buckets.Quarantine, key)
					if err != nil {
						t.Fatal(err)
					}
					sc := bufio.NewScanner(rc)
					sc.Buffer(nil, 1<<24)
					for sc.Scan() {
						var q port.QuarantineRecord
						if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
							t.Fatalf("%s: %v", key, err)
						}
						if _, dup := got[q.Pos]; dup {
							t.Errorf("%s: record %d quarantined twice", f.name, q.Pos)
						}
						got[q.Pos] = q.Record
					}
					rc.Close()
				}
				compareRejects(t, f.name+" quarantine", got, want)
				// The warehouse.
				_, rows, err := st.Warehouse.Query(ctx, "SELECT ROW_POS, RECORD FROM PULSE_REJECTS WHERE SOURCE = ?", "raw/"+f.dataset+"/"+f.name)
				if err != nil {
					t.Fatal(err)
				}
				got = map[int64]string{}
				for _, r := range rows {
					got[r[0].(int64)] = r[1].(string)
				}
				compareRejects(t, f.name+" PULSE_REJECTS", got, want)
			}
		})
	}
}

func compareRejects(t *testing.T, what string, got, want map[int64]string) {
	t.Helper()
	var pos []int64
	for p := range want {
		pos = append(pos, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: record %d rejected, want it loaded", what, p)
		}
	}
	sort.Slice(pos, func(i, j int) bool { return pos[i] < pos[j] })
	for _, p := range pos {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: record %d not kept", what, p)
		case g != want[p]:
			t.Errorf("%s: record %d kept as %d bytes %.80q..., want %d bytes %.80q...", what, p, len(g), g, len(want[p]), want[p])
		}
	}
}

// TestDropWrongDatasetFails: `pulse drop` of a file whose header has none
// of the dataset's critical columns refuses it as a file, quarantines it
// whole and exits non-zero naming the missing columns, instead of
// rejecting every record and exiting 0.
func TestDropWrongDatasetFails(t *testing.T) {
	pulse := buildPulse(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("user_id,country,age\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "u%d,IN,30\n", i)
	}
	file := filepath.Join(dir, "app_users.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pulse, "drop", file, "--dataset", "video_interactions", "--dir", filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("pulse drop: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "none of video_interactions's critical columns (missing UserID, Video_ID)") {
		t.Errorf("output does not say why:\n%s", out)
	}
}
