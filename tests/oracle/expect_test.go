package oracle

// The independent computation: what every dashboard number must be,
// worked out here in plain Go from the generated files themselves, with
// the seed rules written out again (cleaning, de-duplication, the star
// schema's "latest loaded values per user"; the seed 002 activity and
// session rules in goldexpect, which tests/e2e shares). Nothing here calls
// Pulse's cleaning, modelling, gold or SQL code; the files are read with encoding/csv, encoding/json and
// parquet-go.

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/pulse-analytics/pulse/tests/oracle/goldexpect"
)

// drop is one file in drop order.
type drop struct {
	dataset, name, path string
}

// fileCount is one file's accounting.
type fileCount struct {
	received, loaded, rejected, duplicate int64
}

// fact is one loaded engagement interaction.
type fact struct {
	source, platform, user string
	hour                   int // -1: none
	engagement             float64
	community              string  // community
	timeSpent              float64 // community
	device                 string  // live
	viewers                float64 // live
	reason                 string  // video
	loss, addiction        float64 // video
}

// expected is the whole oracle.
type expected struct {
	files     map[string]*fileCount // by dataset
	filesN    map[string]int64
	facts     []fact
	ageGroup  map[string]string // user -> age group, as DIM_USER ends up
	app       []goldexpect.Action
	appUsers  map[string]bool
	relFailed int64 // app interactions whose user is no loaded app user
}

var platforms = map[string]string{
	"instagram": "Instagram", "ig": "Instagram", "youtube": "YouTube", "yt": "YouTube", "tiktok": "TikTok", "tik tok": "TikTok",
	"facebook": "Facebook", "fb": "Facebook", "x": "X", "twitter": "X", "telegram": "Telegram",
}

var devices = map[string]string{"smartphone": "Mobile", "mobile": "Mobile", "desktop": "Desktop", "computer": "Desktop",
	"tablet": "Tablet", "smart tv": "Smart TV"}

func ageGroupOf(age int64) string {
	switch {
	case age <= 17:
		return "13-17"
	case age <= 24:
		return "18-24"
	case age <= 34:
		return "25-34"
	case age <= 44:
		return "35-44"
	case age <= 54:
		return "45-54"
	case age <= 64:
		return "55-64"
	}
	return "65+"
}

// clockHour reads "9:05 PM" as 21.
func clockHour(s string) (int, bool) {
	s = strings.TrimSpace(strings.ToUpper(s))
	pm := strings.HasSuffix(s, "PM")
	h, err := strconv.Atoi(strings.TrimSpace(s[:strings.IndexByte(s, ':')]))
	if err != nil {
		return 0, false
	}
	h %= 12
	if pm {
		h += 12
	}
	return h, true
}

type communityRow struct {
	UserID              *string  `parquet:"UserID,optional"`
	CommunityID         *int64   `parquet:"CommunityID,optional"`
	CommunityName       *string  `parquet:"CommunityName,optional"`
	Platform            *string  `parquet:"Platform,optional"`
	CommunityEngagement *float64 `parquet:"CommunityEngagement,optional"`
	TotalTimeSpent      *float64 `parquet:"TotalTimeSpent,optional"`
	Age                 *int64   `parquet:"Age,optional"`
	EventTime           *int64   `parquet:"EventTime,optional"`
}

// compute reads the files in drop order and derives everything.
func compute(t *testing.T, drops []drop) *expected {
	e := &expected{files: map[string]*fileCount{}, filesN: map[string]int64{}, ageGroup: map[string]string{}, appUsers: map[string]bool{}}
	seen := map[string]bool{} // dataset|key of every loaded event record
	var app goldexpect.Reader // app_interactions, with its own rules (goldexpect)
	for _, d := range drops {
		c := e.files[d.dataset]
		if c == nil {
			c = &fileCount{}
			e.files[d.dataset] = c
		}
		e.filesN[d.dataset]++
		users := map[string]string{} // this file's first loaded age group per user
		keep := func(key, user string, age *int64) bool {
			if seen[d.dataset+"|"+key] {
				c.duplicate++
				return false
			}
			seen[d.dataset+"|"+key] = true
			c.loaded++
			if _, ok := users[user]; !ok && user != "" {
				g := "Unknown"
				if age != nil {
					g = ageGroupOf(*age)
				}
				users[user] = g
			}
			return true
		}
		switch d.dataset {
		case "community_interactions":
			rows, err := parquet.ReadFile[communityRow](d.path)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				c.received++
				p, okp := "Unknown", true
				if r.Platform != nil {
					p, okp = platforms[strings.ToLower(strings.TrimSpace(*r.Platform))]
				}
				if r.UserID == nil || r.CommunityID == nil || !okp || r.Age != nil && (*r.Age < 13 || *r.Age > 100) ||
					r.CommunityEngagement != nil && *r.CommunityEngagement < 0 || r.TotalTimeSpent != nil && *r.TotalTimeSpent < 0 {
					c.rejected++
					continue
				}
				if !keep(fmt.Sprint(*r.CommunityID, "|", *r.UserID), *r.UserID, r.Age) {
					continue
				}
				e.facts = append(e.facts, fact{source: "community", platform: p, user: *r.UserID, hour: time.UnixMicro(*r.EventTime).UTC().Hour(),
					engagement: *r.CommunityEngagement, community: *r.CommunityName, timeSpent: *r.TotalTimeSpent})
			}
		case "live_streaming":
			forLines(t, d.path, func(line []byte) {
				c.received++
				var r map[string]any
				if json.Unmarshal(line, &r) != nil {
					c.rejected++
					return
				}
				p, okp := platforms[strings.ToLower(strings.TrimSpace(fmt.Sprint(r["Platform"])))]
				var age *int64
				if r["Age"] != nil {
					a := int64(num(r["Age"]))
					age = &a
				}
				if r["UserID"] == nil || r["EventID"] == nil || r["EventTime"] == nil || !okp || age != nil && (*age < 13 || *age > 100) ||
					num(r["LiveEngagement"]) < 0 {
					c.rejected++
					return
				}
				user := r["UserID"].(string)
				if !keep(fmt.Sprint(int64(num(r["EventID"])), "|", user), user, age) {
					return
				}
				h, _ := clockHour(r["WatchTime"].(string))
				e.facts = append(e.facts, fact{source: "live_streaming", platform: p, user: user, hour: h, engagement: num(r["LiveEngagement"]),
					device: devices[strings.ToLower(r["DeviceType"].(string))], viewers: num(r["ViewerCount"])})
			})
		case "video_interactions":
			each := func(get func(string) (string, bool)) {
				c.received++
				user, _ := get("UserID")
				video, _ := get("Video_ID")
				platform, _ := get("Platform")
				p, okp := platforms[strings.ToLower(strings.TrimSpace(platform))]
				ageS, _ := get("Age")
				age, _ := strconv.ParseInt(ageS, 10, 64)
				engS, _ := get("Engagement")
				eng, _ := strconv.ParseFloat(engS, 64)
				if user == "" || video == "" || !okp || age < 13 || age > 100 || eng < 0 {
					c.rejected++
					return
				}
				if !keep(user+"|"+video, user, &age) {
					return
				}
				watch, _ := get("Watch_Time")
				h, _ := clockHour(watch)
				reason, _ := get("Watch_Reason")
				loss, _ := get("ProductivityLoss")
				add, _ := get("Addiction_Level")
				lf, _ := strconv.ParseFloat(loss, 64)
				af, _ := strconv.ParseFloat(add, 64)
				e.facts = append(e.facts, fact{source: "video", platform: p, user: user, hour: h, engagement: eng, reason: reason, loss: lf, addiction: af})
			}
			if strings.HasSuffix(d.path, ".csv") {
				forCSV(t, d.path, func(get func(string) (string, bool)) { each(get) })
			} else {
				forLines(t, d.path, func(line []byte) {
					var r map[string]any
					if json.Unmarshal(line, &r) != nil {
						c.received++
						c.rejected++
						return
					}
					each(func(k string) (string, bool) {
						if r[k] == nil {
							return "", false
						}
						return fmt.Sprint(r[k]), true
					})
				})
			}
		case "app_interactions":
			n, err := app.ReadCSV(d.path)
			if err != nil {
				t.Fatal(err)
			}
			c.received += n.Received
			c.loaded += n.Loaded
			c.rejected += n.Rejected
			c.duplicate += n.Duplicate
		case "app_users":
			forCSV(t, d.path, func(get func(string) (string, bool)) {
				c.received++
				user, _ := get("user_id")
				if user == "" {
					c.rejected++
					return
				}
				c.loaded++ // a snapshot: a repeated user replaces the earlier row
				e.appUsers[user] = true
			})
		default:
			t.Fatalf("unknown dataset %s", d.dataset)
		}
		for u, g := range users { // the latest loaded file wins
			e.ageGroup[u] = g
		}
	}
	e.app = app.Actions
	for _, a := range e.app {
		if !e.appUsers[a.User] {
			e.relFailed++
		}
	}
	return e
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func forLines(t *testing.T, path string, fn func([]byte)) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) > 0 {
			fn(sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func forCSV(t *testing.T, path string, fn func(get func(string) (string, bool))) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := map[string]int{}
	for i, h := range recs[0] {
		head[h] = i
	}
	for _, r := range recs[1:] {
		fn(func(k string) (string, bool) {
			v := strings.TrimSpace(r[head[k]])
			return v, v != ""
		})
	}
}

// --- the engagement views (seed 000) --------------------------------------

type agg struct {
	n               int64
	sum, sum2, sum3 float64
}

func (a *agg) add(v, w, x float64) { a.n++; a.sum += v; a.sum2 += w; a.sum3 += x }

func group(facts []fact, key func(fact) string, extra func(fact) (float64, float64)) map[string]*agg {
	out := map[string]*agg{}
	for _, f := range facts {
		k := key(f)
		if k == "" {
			continue
		}
		if out[k] == nil {
			out[k] = &agg{}
		}
		w, x := 0.0, 0.0
		if extra != nil {
			w, x = extra(f)
		}
		out[k].add(f.engagement, w, x)
	}
	return out
}
