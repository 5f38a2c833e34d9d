package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/events"
)

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// weighted picks xs[i] with probability ws[i]/sum(ws).
func weighted(r *rand.Rand, xs []string, ws []int) string {
	total := 0
	for _, w := range ws {
		total += w
	}
	x := r.IntN(total)
	for i, w := range ws {
		if x < w {
			return xs[i]
		}
		x -= w
	}
	return xs[len(xs)-1]
}

func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// messy returns canonical most of the time and, with probability p, one of
// the spellings that cleaning must standardize.
func messy(r *rand.Rand, canonical string, variants map[string][]string, p float64) string {
	if v := variants[canonical]; len(v) > 0 && r.Float64() < p {
		return pick(r, v)
	}
	return canonical
}

var (
	genders        = []string{"Male", "Female", "Other"}
	genderVariants = map[string][]string{"Male": {"M", "male", " Male"}, "Female": {"F", "female", "f"}, "Other": {"other", "O"}}
	countries      = []string{"United States", "India", "Indonesia", "Brazil", "Mexico", "Japan", "Germany", "Philippines", "Vietnam", "Pakistan", "United Kingdom", "Nigeria"}
)

// --- seed 000 ------------------------------------------------------------

var (
	liveEventTypes = []string{"Live", "Premiere", "Replay", "Q&A", "Concert", "Gaming"}
	liveDevices    = []string{"Mobile", "Desktop", "Tablet", "Smart TV"}
	livePlatforms  = []string{"YouTube", "Twitch", "TikTok", "Instagram", "Facebook"}
	platformMess   = map[string][]string{"YouTube": {"youtube", " YouTube "}, "TikTok": {"tiktok"}, "Instagram": {"instagram", "INSTAGRAM"}, "Facebook": {"facebook"}, "Twitch": {"twitch"}}
	deviceBoost    = map[string]float64{"Mobile": 62, "Desktop": 48, "Tablet": 52, "Smart TV": 40}
)

func (g *Generator) liveStreaming(t time.Time) draft {
	r := g.r
	device := weighted(r, liveDevices, []int{50, 30, 12, 8})
	platform := weighted(r, livePlatforms, []int{30, 25, 20, 15, 10})
	engagement := round(math.Max(0, deviceBoost[device]+r.NormFloat64()*15), 2)
	if r.Float64() < 0.01 {
		engagement = -round(r.Float64()*10, 2) // invalid: cleaning rejects it
	}
	age := 13 + r.IntN(58)
	if r.Float64() < 0.005 {
		age = []int{7, 120}[r.IntN(2)] // outside 13-100: cleaning rejects it
	}
	user := int64(1 + r.IntN(20000))
	rec := map[string]any{
		"UserID":         user,
		"EventID":        int64(1000 + r.IntN(2000)),
		"EventType":      pick(r, liveEventTypes),
		"StreamDuration": int64(10 + r.IntN(231)),
		"DeviceType":     device,
		"Platform":       messy(r, platform, platformMess, 0.05),
		"LiveEngagement": engagement,
		"ViewerCount":    int64(math.Exp(r.Float64() * 10.5)),
		"AddictionLevel": round(r.Float64()*10, 1),
		"WatchTime":      t.UTC().Format("3:04 PM"),
		"Age":            age,
		"Gender":         messy(r, pick(r, genders), genderVariants, 0.08),
		"Location":       pick(r, countries),
		"EventTime":      isoTime(t),
	}
	return draft{topic: events.TopicLiveStreaming, key: strconv.FormatInt(user, 10), rec: rec}
}

var (
	twLocations   = []string{"India", "United States", "Vietnam", "Barzil", "Philippines", "Indonesia", "Pakistan", "Japan", "Mexico", "Germany"}
	twLocWeights  = []int{228, 174, 82, 78, 78, 77, 76, 75, 73, 59}
	twProfessions = []string{"Students", "Waiting staff", "Labor/Worker", "driver", "Engineer", "Cashier", "Manager", "Artist", "Teacher"}
	twProfWeights = []int{246, 194, 186, 113, 65, 56, 54, 47, 39}
	twPlatforms   = []string{"TikTok", "Instagram", "YouTube", "Facebook"}
	twCategories  = []string{"Jokes/Memes", "Life Hacks", "Gaming", "Vlogs", "Pranks", "Entertainment", "Trends", "ASMR", "Comedy"}
	twCatWeights  = []int{179, 162, 119, 114, 110, 102, 100, 79, 35}
	twFrequency   = []string{"Evening", "Night", "Afternoon", "Morning"}
	twFreqWeights = []int{365, 306, 223, 106}
	twReasons     = []string{"Habit", "Boredom", "Entertainment", "Procrastination"}
	twReasonW     = []int{339, 277, 264, 120}
	twDevices     = []string{"Smartphone", "Tablet", "Computer"}
	twDeviceW     = []int{585, 283, 132}
	twActivities  = []string{"At home", "At school", "At work", "Commuting"}
	twActivityW   = []int{381, 271, 234, 114}
	twWatchTimes  = []string{"2:00 PM", "9:00 PM", "5:00 PM", "4:25 PM", "3:55 PM", "3:45 PM", "10:15 PM", "11:30 PM", "8:30 PM", "5:45 PM", "6:05 PM", "8:00 AM", "7:25 PM", "7:45 AM", "9:15 AM", "9:55 AM"}
)

func (g *Generator) videoInteraction(t time.Time) draft {
	r := g.r
	device := weighted(r, twDevices, twDeviceW)
	var os string
	switch device {
	case "Computer":
		os = pick(r, []string{"Windows", "MacOS"})
	default:
		os = weighted(r, []string{"Android", "iOS"}, []int{66, 34})
	}
	addiction := r.IntN(8)
	loss := min(9, max(1, 8-addiction+r.IntN(3)-1))
	user := int64(1 + r.IntN(1000))
	rec := map[string]any{
		"UserID":                   user,
		"Age":                      18 + r.IntN(47),
		"Gender":                   weighted(r, genders, []int{514, 322, 164}),
		"Location":                 weighted(r, twLocations, twLocWeights),
		"Income":                   int64(20000 + r.IntN(80000)),
		"Debt":                     r.Float64() < 0.6,
		"Owns_Property":            r.Float64() < 0.54,
		"Profession":               weighted(r, twProfessions, twProfWeights),
		"Demographics":             weighted(r, []string{"Rural", "Urban"}, []int{746, 254}),
		"Platform":                 pick(r, twPlatforms),
		"Total_Time_Spent":         10 + r.IntN(289),
		"Number_of_Sessions":       1 + r.IntN(19),
		"Video_ID":                 int64(11 + r.IntN(9987)),
		"Video_Category":           weighted(r, twCategories, twCatWeights),
		"Video_Length":             1 + r.IntN(29),
		"Engagement":               15 + r.IntN(9968),
		"Importance_Score":         1 + r.IntN(9),
		"Time_Spent_On_Video":      1 + r.IntN(29),
		"Number_of_Videos_Watched": 1 + r.IntN(49),
		"Scroll_Rate":              1 + r.IntN(99),
		"Frequency":                weighted(r, twFrequency, twFreqWeights),
		"ProductivityLoss":         loss,
		"Satisfaction":             10 - loss,
		"Watch_Reason":             weighted(r, twReasons, twReasonW),
		"DeviceType":               device,
		"OS":                       os,
		"Watch_Time":               pick(r, twWatchTimes),
		"Self_Control":             10 - addiction,
		"Addiction_Level":          addiction,
		"CurrentActivity":          weighted(r, twActivities, twActivityW),
		"ConnectionType":           weighted(r, []string{"Mobile Data", "Wi-Fi"}, []int{686, 314}),
		"EventTime":                isoTime(t),
	}
	return draft{topic: events.TopicVideoInteractions, key: strconv.FormatInt(user, 10), rec: rec}
}

// --- seed 001 ------------------------------------------------------------

var (
	kotas        = []string{"Jakarta", "Bogor", "Depok", "Tangerang", "Bekasi"}
	socialMedias = []string{"X", "Instagram", "Facebook", "TikTok", "Telegram"}
)

func (g *Generator) socialSales(t time.Time) draft {
	r := g.r
	visitors := 100 + r.IntN(901)
	id := uuid(r)
	rec := map[string]any{
		"ID":           id,
		"Kota":         pick(r, kotas),
		"Sosial_Media": pick(r, socialMedias),
		"Usage_Count":  1 + r.IntN(1000),
		"Sales":        1 + r.IntN(150),
		"Visitors":     visitors,
		"PageVisitors": visitors/20 + r.IntN(visitors/4+1),
		"Conversion":   10 + r.IntN(visitors/2),
		"Ts":           t.Unix(),
	}
	return draft{topic: events.TopicSocialSales, key: id, rec: rec}
}

// --- seed 003 ------------------------------------------------------------

var emailDomains = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "mail.ru"}

func (g *Generator) consumerEvent(t time.Time) draft {
	s := g.consumer
	r := g.r
	reg, in, out, view, add, checkout := 15, 0, 0, 0, 0, 0
	if s.registered.len() < 20 {
		reg = 100
	}
	if s.signedOut.len() > 0 {
		in = 20
	}
	if s.signedIn.len() > 0 {
		out = 12
	}
	if s.registered.len() > 0 {
		view, add = 30, 13
	}
	if len(s.carts) > 0 {
		checkout = 10
	}
	action := weighted(r, []string{"reg", "in", "out", "view", "add", "checkout"}, []int{reg, in, out, view, add, checkout})
	ts := isoTime(t)
	switch action {
	case "in":
		u := s.signedOut.ids[r.IntN(s.signedOut.len())]
		return draft{topic: events.TopicSignIn, key: itoa(u),
			rec:    map[string]any{"timestamp": ts, "event_name": events.TopicSignIn, "user_id": int(u)},
			commit: func() { s.signedOut.remove(u); s.signedIn.add(u) }}
	case "out":
		u := s.signedIn.ids[r.IntN(s.signedIn.len())]
		return draft{topic: events.TopicSignOut, key: itoa(u),
			rec:    map[string]any{"timestamp": ts, "event_name": events.TopicSignOut, "user_id": int(u)},
			commit: func() { s.signedIn.remove(u); s.signedOut.add(u) }}
	case "view":
		u := g.activeUser()
		m := g.movies[r.IntN(len(g.movies))]
		return draft{topic: events.TopicItemView, key: itoa(u),
			rec: map[string]any{"timestamp": ts, "event_name": events.TopicItemView, "item_id": m.ItemID, "user_id": int(u)}}
	case "add":
		u := g.activeUser()
		m := g.movies[r.IntN(len(g.movies))]
		cartID, reuse := s.cartOf[u]
		if !reuse || r.IntN(2) == 0 {
			cartID, reuse = uuid(r), false
		}
		d := draft{topic: events.TopicAddedToCart, key: itoa(u),
			rec: map[string]any{"timestamp": ts, "event_name": events.TopicAddedToCart, "item_id": m.ItemID, "user_id": int(u), "cart_id": cartID}}
		if !reuse {
			d.commit = func() { s.openCart(cart{id: cartID, user: u}) }
		}
		return d
	case "checkout":
		c := s.carts[r.IntN(len(s.carts))]
		return draft{topic: events.TopicCheckoutToCart, key: itoa(c.user),
			rec: map[string]any{"timestamp": ts, "event_name": events.TopicCheckoutToCart, "user_id": int(c.user),
				"cart_id": c.id, "payment_method": pick(r, []string{"Cash", "Card"})},
			commit: func() { s.closeCart(c.id) }}
	}
	var u int32
	for {
		u = int32(1 + r.IntN(1_000_000))
		if !s.registered.has(u) {
			break
		}
	}
	rec := map[string]any{
		"timestamp":          ts,
		"event_name":         events.TopicConsumerRegistration,
		"user_id":            int(u),
		"age":                18 + r.IntN(78),
		"masked_email":       "****@" + weighted(r, emailDomains, []int{50, 15, 12, 10, 8, 5}),
		"preferred_language": weighted(r, []string{"eng", "geo", ""}, []int{5, 3, 2}),
	}
	return draft{topic: events.TopicConsumerRegistration, key: itoa(u), rec: rec,
		commit: func() { s.registered.add(u); s.signedOut.add(u) }}
}

// activeUser is a signed-in user most of the time, else any registered one.
func (g *Generator) activeUser() int32 {
	s := g.consumer
	if s.signedIn.len() > 0 && g.r.IntN(10) < 8 {
		return s.signedIn.ids[g.r.IntN(s.signedIn.len())]
	}
	return s.registered.ids[g.r.IntN(s.registered.len())]
}

func itoa(u int32) string { return strconv.Itoa(int(u)) }

func (g *Generator) movieEvent() draft {
	m := g.movies[g.movieAt%len(g.movies)]
	g.movieAt++
	rec := map[string]any{
		"item_id":        m.ItemID,
		"title":          m.Title,
		"genre":          m.Genre,
		"list_price_raw": m.ListPrice,
		"price":          m.Price,
		"currency":       m.Currency,
	}
	return draft{topic: events.TopicMoviesCatalog, key: m.ItemID, rec: rec}
}

// --- seed 004 ------------------------------------------------------------

var (
	subscriptions = []string{"Platinum", "Gold", "Silver", "Standard"}
	firstNames    = []string{"maria", "john", "nino", "giorgi", "ana", "li", "sara", "omar", "yuki", "pedro", "emma", "ivan"}
	devices       = []string{"Android", "iPhone", "Windows PC", "MacBook", "iPad", "Linux"}
	sources       = []string{"Homepage", "Inbox", "External"}
)

func nullable(r *rand.Rand, v any) any {
	if r.Float64() < 0.05 {
		return nil
	}
	return v
}

func (g *Generator) userRow() draft {
	r := g.r
	w := g.web
	if len(w.users) > 0 && (len(w.users) >= 5000 || r.IntN(3) == 0) {
		// An update of an existing row: a new subscription, a filled-in field.
		u := w.users[r.IntN(len(w.users))]
		next := *u
		next.subscription = pick(r, subscriptions)
		if next.country == nil {
			next.country = pick(r, countries)
		}
		return draft{topic: events.TopicUsers, key: itoa(u.id), rec: next.record(), commit: func() { *u = next }}
	}
	var id int32
	for {
		id = int32(1 + r.IntN(1_000_000))
		if !w.ids[id] {
			break
		}
	}
	u := &webUser{
		id:           id,
		age:          nullable(r, 16+r.IntN(60)),
		gender:       nullable(r, weighted(r, []string{"MALE", "FEMALE", "OTHER"}, []int{48, 48, 4})),
		country:      nullable(r, pick(r, countries)),
		subscription: weighted(r, subscriptions, []int{5, 15, 30, 50}),
		name:         fmt.Sprintf("%s_%d", pick(r, firstNames), r.IntN(1000)),
	}
	return draft{topic: events.TopicUsers, key: itoa(id), rec: u.record(),
		commit: func() { w.users = append(w.users, u); w.ids[id] = true }}
}

func (u *webUser) record() map[string]any {
	return map[string]any{"user_id": int(u.id), "age": u.age, "gender": u.gender, "country": u.country, "subscription": u.subscription}
}

func (g *Generator) userSession(t time.Time) draft {
	r := g.r
	w := g.web
	if len(w.users) == 0 {
		return g.userRow()
	}
	u := w.users[r.IntN(len(w.users))]
	s := session{id: uuid(r), user: u.id}
	rec := map[string]any{
		"session_id":      s.id,
		"user_id":         int(u.id),
		"user_name":       u.name,
		"login_timestamp": t.UnixMilli(),
		"device":          weighted(r, devices, []int{35, 30, 15, 10, 7, 3}),
	}
	return draft{topic: events.TopicUserSessions, key: s.id, rec: rec, commit: func() {
		if len(w.sessions) < maxSessions {
			w.sessions = append(w.sessions, s)
			return
		}
		w.sessions[w.next] = s
		w.next = (w.next + 1) % maxSessions
	}}
}

func (g *Generator) pageview(t time.Time) draft {
	r := g.r
	w := g.web
	if len(w.sessions) == 0 {
		return g.userSession(t)
	}
	s := w.sessions[r.IntN(len(w.sessions))]
	rec := map[string]any{
		"session_id":      s.id,
		"user_id":         int(s.user),
		"source":          weighted(r, sources, []int{55, 25, 20}),
		"event_timestamp": t.UnixMilli(),
	}
	return draft{topic: events.TopicPageviews, key: s.id, rec: rec}
}
