// Package batchgen writes realistic batch files for every batch dataset
// (seed 000: community_interactions Parquet, live_streaming NDJSON,
// video_interactions CSV and NDJSON; seed 002: app_interactions and
// app_users CSV), with the dirt real files have: nulls in critical fields,
// out-of-range ages, negative engagement, unknown platforms, M/male/F
// gender variants, platform aliases, the Barzil misspelling, duplicate rows
// and a malformed line.
//
// Generation is deterministic for a seed. Each file comes with its Truth:
// what the generator injected, counted independently of Pulse's cleaning
// code, so tests can compare the pipeline's accounting with it.
package batchgen

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/table"
)

// Options sizes a generated set.
type Options struct {
	Seed  uint64
	Rows  int       // rows per event file (app_users gets Rows/10 + 10)
	Users int       // distinct users (default Rows/10 + 50)
	Start time.Time // first event time (default 2024-02-03T00:00:00Z)
	Clean bool      // no dirt at all (for benchmarks of the clean path)
}

// Truth is what one generated file should become.
type Truth struct {
	Dataset   string
	Name      string // file name (the key under raw/<dataset>/)
	Rows      int    // records in the file, malformed ones included
	Rejected  int
	Duplicate int
	Loaded    int
	// Users are the distinct user ids among loaded rows; Platforms the
	// distinct canonical platforms among them.
	Users     map[string]bool
	Platforms map[string]bool
	// Engagement sums the loaded rows' engagement measure by canonical platform.
	Engagement map[string]float64
}

func newTruth(ds, name string) *Truth {
	return &Truth{Dataset: ds, Name: name, Users: map[string]bool{}, Platforms: map[string]bool{}, Engagement: map[string]float64{}}
}

// Generate writes every batch file into dir and returns their truths.
func Generate(dir string, o Options) ([]*Truth, error) {
	if o.Rows <= 0 {
		o.Rows = 1000
	}
	if o.Users <= 0 {
		o.Users = o.Rows/10 + 50
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)
	}
	var out []*Truth
	for _, g := range []struct {
		name string
		fn   func(io.Writer, Options) (*Truth, error)
	}{
		{"community_interactions.parquet", Community},
		{"live_streaming.ndjson", Live},
		{"video_interactions.csv", VideoCSV},
		{"video_interactions.ndjson", VideoNDJSON},
		{"app_interactions.csv", AppInteractions},
		{"app_users.csv", AppUsers},
	} {
		path := filepath.Join(dir, g.name)
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		t, err := g.fn(bw, o)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("generating %s: %w", g.name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// dirt decides, row by row, which kind of dirt (if any) a row gets.
type dirt struct {
	r     *rand.Rand
	clean bool
}

const (
	okRow = iota
	nullCritical
	badAge
	negative
	unknownPlatform
	duplicate
)

func (d dirt) pick(i int) int {
	if d.clean || i < 5 {
		return okRow
	}
	switch x := d.r.IntN(1000); {
	case x < 20:
		return nullCritical
	case x < 35:
		return badAge
	case x < 45:
		return negative
	case x < 52:
		return unknownPlatform
	case x < 82:
		return duplicate
	}
	return okRow
}

var (
	platforms   = []string{"Instagram", "YouTube", "TikTok", "Facebook", "X", "Telegram"}
	platformRaw = map[string][]string{
		"Instagram": {"Instagram", "instagram", "IG", " Instagram "},
		"YouTube":   {"YouTube", "youtube", "yt"},
		"TikTok":    {"TikTok", "tiktok", "Tik Tok"},
		"Facebook":  {"Facebook", "facebook", "FB"},
		"X":         {"X", "twitter", "Twitter"},
		"Telegram":  {"Telegram", "telegram"},
	}
	genders     = []string{"Male", "M", "male", "Female", "F", "female", "Other", "non-binary"}
	countries   = []string{"India", "United States", "usa", "Brazil", "Barzil", "Indonesia", "Germany", "Japan", "Mexico", "Vietnam"}
	devices     = []string{"Smartphone", "mobile", "Desktop", "computer", "Tablet", "Smart TV"}
	reasons     = []string{"Habit", "Boredom", "Entertainment", "Procrastination"}
	categories  = []string{"Pranks", "Gaming", "Vlogs", "Life Hacks", "Jokes/Memes", "ASMR", "Trends"}
	actions     = []string{"page_view", "page_view", "page_view", "edit", "edit", "create", "delete", "share"}
	eventTypes  = []string{"Concert", "Gaming", "Talk Show", "Sports", "Q&A"}
	members     = []string{"Member", "member", "Admin", "Moderator", "Guest"}
	communities = []string{"Go Gophers", "Data Nerds", "Cat Lovers", "Runners", "Chefs", "Gamers", "Travelers", "Book Club"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func platformOf(r *rand.Rand) (canonical, raw string) {
	p := pick(r, platforms)
	return p, pick(r, platformRaw[p])
}

func clock(h, m int) string {
	ap := "AM"
	if h >= 12 {
		ap = "PM"
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	return fmt.Sprintf("%d:%02d %s", h12, m, ap)
}

// evening-heavy hour distribution (seed 000: peak engagement in the evening).
func hourOf(r *rand.Rand) int {
	if r.IntN(100) < 45 {
		return 18 + r.IntN(6)
	}
	return r.IntN(24)
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func userID(r *rand.Rand, o Options) string { return fmt.Sprintf("u%05d", r.IntN(o.Users)) }

// Community writes community_interactions as Parquet.
func Community(w io.Writer, o Options) (*Truth, error) {
	r := rand.New(rand.NewPCG(o.Seed, 1))
	d := dirt{r: r, clean: o.Clean}
	t := newTruth("community_interactions", "community_interactions.parquet")
	s := table.Schema{Name: "community_interactions", Columns: []table.Column{
		{Name: "UserID", Type: table.String}, {Name: "CommunityID", Type: table.Int}, {Name: "CommunityName", Type: table.String},
		{Name: "Platform", Type: table.String}, {Name: "MembershipStatus", Type: table.String}, {Name: "CommunityEngagement", Type: table.Float},
		{Name: "TotalTimeSpent", Type: table.Float}, {Name: "Age", Type: table.Int}, {Name: "Gender", Type: table.String},
		{Name: "Location", Type: table.String}, {Name: "EventTime", Type: table.Timestamp}}}
	pw, err := table.NewParquetWriter(w, s)
	if err != nil {
		return nil, err
	}
	var kept []table.Row
	batch := make([]table.Row, 0, 256)
	for i := 0; i < o.Rows; i++ {
		kind := d.pick(i)
		if kind == duplicate && len(kept) > 0 {
			j := r.IntN(len(kept))
			batch = append(batch, kept[j])
			t.Duplicate++
			t.Rows++
		} else {
			comm := i % len(communities)
			canon, raw := platformOf(r)
			// unique (CommunityID, UserID) per row: community = i mod 8, user = i / 8.
			uid := fmt.Sprintf("u%05d", i/len(communities))
			age := int64(16 + r.IntN(50))
			eng := round2(r.Float64() * 100)
			row := table.Row{table.Str(uid), table.Int64(int64(comm + 1)), table.Str(communities[comm]), table.Str(raw),
				table.Str(pick(r, members)), table.Float64(eng), table.Float64(round2(r.Float64() * 120)), table.Int64(age),
				table.Str(pick(r, genders)), table.Str(pick(r, countries)),
				table.Int64(o.Start.Add(time.Duration(i)*time.Second).UnixMicro() + int64(hourOf(r))*3_600_000_000)}
			rejected := true
			switch kind {
			case nullCritical:
				if r.IntN(2) == 0 {
					row[0] = table.Null()
				} else {
					row[1] = table.Null()
				}
			case badAge:
				row[7] = table.Int64(int64(pick(r, []int{5, 12, 101, 150})))
			case negative:
				row[5] = table.Float64(-eng - 1)
			case unknownPlatform:
				row[3] = table.Str("Myspace")
			default:
				rejected = false
			}
			if rejected {
				t.Rejected++
			} else {
				t.Loaded++
				t.Users[uid] = true
				t.Platforms[canon] = true
				t.Engagement[canon] += eng
				kept = append(kept, row)
			}
			t.Rows++
			batch = append(batch, row)
		}
		if len(batch) == cap(batch) {
			if err := pw.Write(batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	if err := pw.Write(batch); err != nil {
		return nil, err
	}
	return t, pw.Close()
}

// jsonRow is an ordered JSON object writer (stable output for a seed).
type jsonRow struct {
	keys []string
	vals []any
}

func (j *jsonRow) set(k string, v any) { j.keys = append(j.keys, k); j.vals = append(j.vals, v) }

func (j *jsonRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range j.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(j.vals[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

func (j *jsonRow) put(k string, v any) {
	for i, kk := range j.keys {
		if kk == k {
			j.vals[i] = v
			return
		}
	}
	j.set(k, v)
}

// Live writes live_streaming as NDJSON, with one malformed line.
func Live(w io.Writer, o Options) (*Truth, error) {
	r := rand.New(rand.NewPCG(o.Seed, 2))
	d := dirt{r: r, clean: o.Clean}
	t := newTruth("live_streaming", "live_streaming.ndjson")
	var kept [][]byte
	enc := func(b []byte) error { _, err := w.Write(append(b, '\n')); return err }
	for i := 0; i < o.Rows; i++ {
		if !o.Clean && i == o.Rows/2 {
			t.Rows++
			t.Rejected++
			if err := enc([]byte(`{"UserID": "u00001", "EventID": 7, "Platform": "YouTube", `)); err != nil {
				return nil, err
			}
			continue
		}
		kind := d.pick(i)
		if kind == duplicate && len(kept) > 0 {
			t.Rows++
			t.Duplicate++
			if err := enc(kept[r.IntN(len(kept))]); err != nil {
				return nil, err
			}
			continue
		}
		canon, raw := platformOf(r)
		uid := userID(r, o)
		eventID := 1000 + i // unique (EventID, UserID) per row
		h := hourOf(r)
		eng := round2(r.Float64() * 100)
		j := &jsonRow{}
		j.set("UserID", uid)
		j.set("EventID", eventID)
		j.set("EventType", pick(r, eventTypes))
		j.set("StreamDuration", 600+r.IntN(7200))
		j.set("DeviceType", pick(r, devices))
		j.set("Platform", raw)
		j.set("LiveEngagement", eng)
		j.set("ViewerCount", 10+r.IntN(5000))
		j.set("AddictionLevel", r.IntN(11))
		j.set("WatchTime", clock(h, r.IntN(4)*15))
		j.set("Age", 16+r.IntN(50))
		j.set("Gender", pick(r, genders))
		j.set("Location", pick(r, countries))
		j.set("EventTime", o.Start.Add(time.Duration(h)*time.Hour+time.Duration(i)*time.Second).Format(time.RFC3339))
		rejected := true
		switch kind {
		case nullCritical:
			j.put(pick(r, []string{"UserID", "EventID", "EventTime"}), nil)
		case badAge:
			j.put("Age", pick(r, []int{5, 12, 101, 150}))
		case negative:
			j.put("LiveEngagement", -eng-1)
		case unknownPlatform:
			j.put("Platform", "Myspace")
		default:
			rejected = false
		}
		b, err := j.MarshalJSON()
		if err != nil {
			return nil, err
		}
		t.Rows++
		if rejected {
			t.Rejected++
		} else {
			t.Loaded++
			t.Users[uid] = true
			t.Platforms[canon] = true
			t.Engagement[canon] += eng
			kept = append(kept, b)
		}
		if err := enc(b); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// videoHeader is the Time-Wasters header (tests/testdata/corpora/time-wasters).
var videoHeader = []string{"UserID", "Age", "Gender", "Location", "Income", "Debt", "Owns_Property", "Profession", "Demographics", "Platform",
	"Total_Time_Spent", "Number_of_Sessions", "Video_ID", "Video_Category", "Video_Length", "Engagement", "Importance_Score",
	"Time_Spent_On_Video", "Number_of_Videos_Watched", "Scroll_Rate", "Frequency", "ProductivityLoss", "Satisfaction", "Watch_Reason",
	"DeviceType", "OS", "Watch_Time", "Self_Control", "Addiction_Level", "CurrentActivity", "ConnectionType"}

// video builds rows in the Time-Wasters shape; emit writes one.
func video(o Options, stream uint64, name string, videoBase int, emit func(vals []string) error) (*Truth, error) {
	r := rand.New(rand.NewPCG(o.Seed, stream))
	d := dirt{r: r, clean: o.Clean}
	t := newTruth("video_interactions", name)
	var kept [][]string
	for i := 0; i < o.Rows; i++ {
		kind := d.pick(i)
		if kind == duplicate && len(kept) > 0 {
			t.Rows++
			t.Duplicate++
			if err := emit(kept[r.IntN(len(kept))]); err != nil {
				return nil, err
			}
			continue
		}
		canon, raw := platformOf(r)
		uid := userID(r, o)
		eng := float64(r.IntN(9000))
		h := hourOf(r)
		addiction := r.IntN(8)
		vals := []string{uid, strconv.Itoa(18 + r.IntN(47)), pick(r, genders), pick(r, countries), strconv.Itoa(20000 + r.IntN(80000)),
			pick(r, []string{"TRUE", "FALSE"}), pick(r, []string{"TRUE", "FALSE"}), pick(r, []string{"Engineer", "driver", "Students", "Artist", "Teacher"}),
			pick(r, []string{"Rural", "Urban"}), raw, strconv.Itoa(10 + r.IntN(290)), strconv.Itoa(1 + r.IntN(20)),
			strconv.Itoa(videoBase + i), pick(r, categories), strconv.Itoa(1 + r.IntN(30)), strconv.FormatFloat(eng, 'f', -1, 64),
			strconv.Itoa(1 + r.IntN(9)), strconv.Itoa(1 + r.IntN(30)), strconv.Itoa(1 + r.IntN(40)), strconv.Itoa(r.IntN(100)),
			pick(r, []string{"Morning", "Afternoon", "Evening", "Night"}), strconv.Itoa(1 + addiction%9), strconv.Itoa(1 + r.IntN(9)),
			pick(r, reasons), pick(r, []string{"Smartphone", "Tablet", "Computer"}), pick(r, []string{"Android", "iOS", "Windows", "MacOS"}),
			clock(h, r.IntN(12)*5), strconv.Itoa(1 + r.IntN(9)), strconv.Itoa(addiction), pick(r, []string{"At home", "At school", "At work", "Commuting"}),
			pick(r, []string{"Mobile Data", "Wi-Fi"})}
		rejected := true
		switch kind {
		case nullCritical:
			vals[pick(r, []int{0, 12})] = ""
		case badAge:
			vals[1] = strconv.Itoa(pick(r, []int{5, 12, 101, 150}))
		case negative:
			vals[15] = strconv.FormatFloat(-eng-1, 'f', -1, 64)
		case unknownPlatform:
			vals[9] = "Myspace"
		default:
			rejected = false
		}
		t.Rows++
		if rejected {
			t.Rejected++
		} else {
			t.Loaded++
			t.Users[uid] = true
			t.Platforms[canon] = true
			t.Engagement[canon] += eng
			kept = append(kept, vals)
		}
		if err := emit(vals); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// VideoCSV writes video_interactions as CSV (Time-Wasters header).
func VideoCSV(w io.Writer, o Options) (*Truth, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(videoHeader); err != nil {
		return nil, err
	}
	t, err := video(o, 3, "video_interactions.csv", 100_000, cw.Write)
	if err != nil {
		return nil, err
	}
	cw.Flush()
	return t, cw.Error()
}

// VideoNDJSON writes video_interactions as NDJSON (string values, as a CSV
// export converted to JSON would have them), with one malformed line.
func VideoNDJSON(w io.Writer, o Options) (*Truth, error) {
	n := 0
	t, err := video(o, 4, "video_interactions.ndjson", 10_000_000, func(vals []string) error {
		n++
		j := &jsonRow{}
		for i, h := range videoHeader {
			if vals[i] == "" {
				j.set(h, nil)
			} else {
				j.set(h, vals[i])
			}
		}
		b, err := j.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return nil, err
	}
	if !o.Clean {
		if _, err := w.Write([]byte("not json at all\n")); err != nil {
			return nil, err
		}
		t.Rows++
		t.Rejected++
	}
	return t, nil
}

// AppInteractions writes seed 002's user interactions as CSV over 3 days.
func AppInteractions(w io.Writer, o Options) (*Truth, error) {
	r := rand.New(rand.NewPCG(o.Seed, 5))
	d := dirt{r: r, clean: o.Clean}
	t := newTruth("app_interactions", "app_interactions.csv")
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"user_id", "timestamp", "action_type", "page_id", "duration_ms", "app_version"}); err != nil {
		return nil, err
	}
	var kept [][]string
	span := 3 * 24 * time.Hour
	step := span / time.Duration(o.Rows+1)
	for i := 0; i < o.Rows; i++ {
		kind := d.pick(i)
		if kind == duplicate && len(kept) > 0 {
			t.Rows++
			t.Duplicate++
			if err := cw.Write(kept[r.IntN(len(kept))]); err != nil {
				return nil, err
			}
			continue
		}
		uid := fmt.Sprintf("U%04d", r.IntN(o.Users))
		ts := o.Start.Add(time.Duration(i+1) * step).Truncate(time.Millisecond) // strictly increasing: unique keys
		vals := []string{uid, ts.Format("2006-01-02 15:04:05.000"), pick(r, actions), fmt.Sprintf("page_%03d", r.IntN(200)),
			strconv.Itoa(200 + r.IntN(600_000)), pick(r, []string{"5.7.0", "5.8.1", "6.0.0"})}
		if r.IntN(100) == 0 {
			vals[4] = strconv.Itoa(3*3_600_000 + r.IntN(1000)) // an outlier over 2 h: kept in silver, excluded from DAU
		}
		rejected := true
		switch kind {
		case nullCritical:
			vals[pick(r, []int{0, 1})] = ""
		case badAge, unknownPlatform:
			vals[2] = "login" // not an action type of the app
		case negative:
			vals[4] = "-" + vals[4]
		default:
			rejected = false
		}
		t.Rows++
		if rejected {
			t.Rejected++
		} else {
			t.Loaded++
			t.Users[uid] = true
			kept = append(kept, vals)
		}
		if err := cw.Write(vals); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return t, cw.Error()
}

// AppUsers writes seed 002's user metadata as CSV: one row per user, some
// users repeated with a newer row (a snapshot: the later row wins).
func AppUsers(w io.Writer, o Options) (*Truth, error) {
	r := rand.New(rand.NewPCG(o.Seed, 6))
	t := newTruth("app_users", "app_users.csv")
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"user_id", "join_date", "country", "device_type", "subscription_type"}); err != nil {
		return nil, err
	}
	n := o.Users
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("U%04d", i))
	}
	rows := 0
	emit := func(uid string, bad bool) error {
		vals := []string{uid, o.Start.AddDate(0, 0, -r.IntN(700)).Format("2006-01-02"), pick(r, countries),
			pick(r, []string{"Android", "iOS", "Web", "Desktop"}), pick(r, []string{"Free", "free", "Premium", "Business"})}
		if bad {
			vals[0] = ""
		}
		rows++
		t.Rows++
		if bad {
			t.Rejected++
		} else {
			t.Loaded++
			t.Users[uid] = true
		}
		return cw.Write(vals)
	}
	for i, id := range ids {
		if err := emit(id, !o.Clean && i > 0 && i%97 == 0); err != nil {
			return nil, err
		}
	}
	if !o.Clean {
		for i := 0; i < n/20; i++ { // newer rows for some users
			if err := emit(ids[r.IntN(len(ids))], false); err != nil {
				return nil, err
			}
		}
	}
	cw.Flush()
	return t, cw.Error()
}

// SortedKeys lists a set's keys in order.
func SortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
