package dataset

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The stream datasets: one per Kafka topic (the topic name is the dataset
// name), cleaned by the same engine as the batch files. live_streaming and
// video_interactions arrive both ways and use their batch specs above.

// idCol is a fact key: md5(dataset|key fields), unique per source record.
func idCol(name, datasetName string, fields ...string) star.Col {
	return star.Col{Name: name, MD5: fields, Salt: datasetName}
}

func null(name string) star.Col { return star.Col{Name: name, Null: true} }

// consumerUserID is seed 003's user_id: an integer from 1 to 1,000,000.
func consumerUserID() Field { return integer("user_id", critical, between(1, 1_000_000)) }

// eventName is seed 003's event_name: it must be the topic's own name.
func eventName(name string) Field { return str("event_name", critical, std(OneOf(name))) }

// eventStamp is seed 003's ISO 8601 event creation time.
func eventStamp() Field { return stamp("timestamp", critical) }

// SocialSales: seed 001, the social_sales topic (JSON). Visitors = 0 is a
// reject: both rates divide by it.
var SocialSales = &Spec{
	Name: "social_sales", Seed: "001", Formats: []record.Format{record.NDJSON, record.CSV, record.Parquet},
	Stream: &Stream{Windowed: true},
	Fields: []Field{
		str("ID", critical),
		str("City", from("Kota", "City"), std(Title)),
		str("Platform", critical, from("Sosial_Media", "Platform"), std(Platform)),
		integer("Usage_Count", nonNegative),
		float("Sales", nonNegative),
		integer("Visitors", critical, nonNegative),
		integer("PageVisitors", nonNegative),
		integer("Conversion", nonNegative),
		stamp("Ts", critical),
	},
	Derived: []Derived{
		rate("ConversionRate", "Conversion", "Visitors"),
		rate("BounceRate", "PageVisitors", "Visitors"),
	},
	Key:       []string{"ID"},
	EventTime: "Ts",
	Star: []star.TableMap{
		platformDim,
		{Table: star.FactSocialSales, Cols: []star.Col{
			idCol("SALE_ID", "social_sales", "ID"), col("RECORD_ID", "ID"), col("CITY", "City"), md5("PLATFORM_ID", "Platform"),
			col("PLATFORM", "Platform"), col("USAGE_COUNT", "Usage_Count"), col("SALES", "Sales"), col("VISITORS", "Visitors"),
			col("PAGE_VISITORS", "PageVisitors"), col("CONVERSION", "Conversion"), col("CONVERSION_RATE", "ConversionRate"),
			col("BOUNCE_RATE", "BounceRate"), col("EVENT_TIME", "Ts"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}},
	},
}

// rate derives num/den*100; a zero denominator rejects the record with a
// reason naming the denominator (seed 001: ConversionRate, BounceRate).
func rate(name, num, den string) Derived {
	return Derived{Name: name, Type: table.Float, Fn: func(r Fields) (table.Cell, error) {
		d := r.Get(den)
		if d.I == 0 {
			return table.Cell{}, fmt.Errorf("%s is 0: %w", den, ErrDivZero)
		}
		return table.Cell{F: float64(r.Get(num).I) / float64(d.I) * 100}, nil
	}}
}

func consumerEvents(datasetName string, key ...string) star.TableMap {
	return star.TableMap{Table: star.ConsumerEvents, Cols: []star.Col{
		idCol("EVENT_ID", datasetName, key...), col("EVENT_NAME", "event_name"), col("USER_ID", "user_id"),
		col("EVENT_TIME", "timestamp"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}}
}

// ConsumerRegistration: seed 003 task 1, Avro through the schema registry.
// A user registers once, so user_id is the dedupe key.
var ConsumerRegistration = &Spec{
	Name: "consumer_registration", Seed: "003", Formats: []record.Format{record.NDJSON},
	Stream: &Stream{Avro: true, Windowed: true},
	Fields: []Field{
		eventStamp(),
		eventName("consumer_registration"),
		consumerUserID(),
		integer("age", between(18, 95), keepNull),
		str("masked_email", personal, std(MaskEmail)),
		// Seed 003: "eng", "geo" or "" (no preference), kept as given; a
		// record without the field has no value (NULL).
		str("preferred_language", std(OneOf("eng", "geo", "")), blankIsValue, keepNull),
	},
	Key:       []string{"user_id"},
	EventTime: "timestamp",
	Star: []star.TableMap{
		consumerEvents("consumer_registration", "user_id"),
		{Table: star.ConsumerUsers, Cols: []star.Col{col("USER_ID", "user_id"), col("AGE", "age"),
			col("MASKED_EMAIL", "masked_email"), col("PREFERRED_LANGUAGE", "preferred_language"), col("REGISTERED_AT", "timestamp")}},
	},
}

// signEvent is sign_in or sign_out (seed 003): a user at an instant.
func signEvent(name string) *Spec {
	return &Spec{
		Name: name, Seed: "003", Formats: []record.Format{record.NDJSON},
		Stream:    &Stream{Avro: true, Windowed: true},
		Fields:    []Field{eventStamp(), eventName(name), consumerUserID()},
		Key:       []string{"user_id", "timestamp"},
		EventTime: "timestamp",
		Star:      []star.TableMap{consumerEvents(name, "user_id", "timestamp")},
	}
}

// SignIn and SignOut: seed 003, sign-in and sign-out events.
var (
	SignIn  = signEvent("sign_in")
	SignOut = signEvent("sign_out")
)

// ItemView: seed 003, a user viewed a movie of the catalog.
var ItemView = &Spec{
	Name: "item_view", Seed: "003", Formats: []record.Format{record.NDJSON},
	Stream:    &Stream{Avro: true},
	Fields:    []Field{eventStamp(), eventName("item_view"), str("item_id", critical), consumerUserID()},
	Key:       []string{"user_id", "item_id", "timestamp"},
	EventTime: "timestamp",
	Star: []star.TableMap{{Table: star.ItemViewEvents, Cols: []star.Col{
		idCol("EVENT_ID", "item_view", "user_id", "item_id", "timestamp"), col("USER_ID", "user_id"), col("ITEM_ID", "item_id"),
		col("EVENT_TIME", "timestamp"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}}},
}

// AddedToCart: seed 003, a movie put in a cart (a cart may hold several).
var AddedToCart = &Spec{
	Name: "added_to_cart", Seed: "003", Formats: []record.Format{record.NDJSON},
	Stream: &Stream{Avro: true, Windowed: true},
	Fields: []Field{eventStamp(), eventName("added_to_cart"), str("item_id", critical), consumerUserID(),
		str("cart_id", critical, std(UUID))},
	Key:       []string{"cart_id", "item_id", "timestamp"},
	EventTime: "timestamp",
	Star: []star.TableMap{{Table: star.CartEvents, Cols: []star.Col{
		idCol("EVENT_ID", "added_to_cart", "cart_id", "item_id", "timestamp"), col("EVENT_NAME", "event_name"), col("USER_ID", "user_id"),
		col("CART_ID", "cart_id"), col("ITEM_ID", "item_id"), null("PAYMENT_METHOD"),
		col("EVENT_TIME", "timestamp"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}}},
}

// CheckoutToCart: seed 003, a cart checked out (once: cart_id is the key).
var CheckoutToCart = &Spec{
	Name: "checkout_to_cart", Seed: "003", Formats: []record.Format{record.NDJSON},
	Stream: &Stream{Avro: true, Windowed: true},
	Fields: []Field{eventStamp(), eventName("checkout_to_cart"), consumerUserID(), str("cart_id", critical, std(UUID)),
		str("payment_method", critical, std(OneOf("Cash", "Card")))},
	Key:       []string{"cart_id"},
	EventTime: "timestamp",
	Star: []star.TableMap{{Table: star.CartEvents, Cols: []star.Col{
		idCol("EVENT_ID", "checkout_to_cart", "cart_id"), col("EVENT_NAME", "event_name"), col("USER_ID", "user_id"),
		col("CART_ID", "cart_id"), null("ITEM_ID"), col("PAYMENT_METHOD", "payment_method"),
		col("EVENT_TIME", "timestamp"), col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource)}}},
}

// MoviesCatalog: seed 003, movies_catalog_enriched (Movies.txt parsed by the
// catalog workflow). A table: the latest row per item_id wins. The price is
// taken from list_price_raw with ParseListPrice and must agree with the
// price field when both are there.
var MoviesCatalog = &Spec{
	Name: "movies_catalog_enriched", Seed: "003", Formats: []record.Format{record.NDJSON}, Mode: Snapshot,
	Stream: &Stream{},
	Fields: []Field{
		str("item_id", critical),
		str("title"),
		str("genre", std(Title)),
		str("list_price_raw", keepNull),
		float("price", keepNull, nonNegative),
		str("currency", std(currencyCode), def("USD")),
	},
	Derived: []Derived{
		{Name: "price_cents", Type: table.Int, Fn: func(r Fields) (table.Cell, error) {
			p, err := moviePrice(r)
			return table.Cell{I: p.Cents}, err
		}},
		{Name: "price_usd", Type: table.Float, Fn: func(r Fields) (table.Cell, error) {
			p, err := moviePrice(r)
			return table.Cell{F: p.Dollars()}, err
		}},
		{Name: "price_display", Type: table.String, Fn: func(r Fields) (table.Cell, error) {
			p, err := moviePrice(r)
			return table.Cell{S: p.Display}, err
		}},
	},
	Key: []string{"item_id"},
	Star: []star.TableMap{{Table: star.Movies, Cols: []star.Col{
		col("ITEM_ID", "item_id"), col("TITLE", "title"), col("GENRE", "genre"), col("PRICE", "price_usd"),
		col("PRICE_CENTS", "price_cents"), col("CURRENCY", "currency"), col("PRICE_DISPLAY", "price_display"),
		col("LIST_PRICE_RAW", "list_price_raw"), col("INGESTION_TIMESTAMP", ColIngestedAt)}}},
}

// moviePrice reads a catalog row's price: list_price_raw parsed (the
// dollar value of "4999USD$49.99"), cross-checked with price and currency;
// or price alone when there is no raw text.
func moviePrice(r Fields) (Price, error) {
	raw, price, cur := r.Get("list_price_raw"), r.Get("price"), r.Get("currency").S
	switch {
	case raw.Null && price.Null:
		return Price{}, errors.New("no price: list_price_raw and price are both missing")
	case raw.Null:
		return newPrice(int64(math.Round(price.F*100)), cur), nil
	}
	p, err := ParseListPrice(raw.S)
	if err != nil {
		return Price{}, err
	}
	if !price.Null && math.Abs(price.F*100-float64(p.Cents)) >= 0.5 {
		return Price{}, fmt.Errorf("price %g disagrees with list_price_raw %q (%s)", price.F, clip(raw.S), p.Display)
	}
	if cur != p.Currency {
		return Price{}, fmt.Errorf("currency %s disagrees with list_price_raw %q (%s)", cur, clip(raw.S), p.Currency)
	}
	return p, nil
}

func currencyCode(s string) (string, error) {
	u := strings.ToUpper(s)
	if !isCurrency(u) {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code", clip(s))
	}
	return u, nil
}

// Pageviews: seed 004 topic 1, a page view in a session. COUNTRY and AGE
// of PAGEVIEWS are filled by the stream path from CLEANED_USERS.
var Pageviews = &Spec{
	Name: "pageviews", Seed: "004", Formats: []record.Format{record.NDJSON},
	Stream: &Stream{Windowed: true},
	Fields: []Field{
		str("session_id", critical),
		str("user_id", critical),
		str("source", critical, std(OneOf("Homepage", "Inbox", "External"))),
		stamp("event_timestamp", critical),
	},
	Key:       []string{"session_id", "user_id", "source", "event_timestamp"},
	EventTime: "event_timestamp",
	Star: []star.TableMap{{Table: star.Pageviews, Cols: []star.Col{
		idCol("PAGEVIEW_ID", "pageviews", "session_id", "user_id", "source", "event_timestamp"), col("SESSION_ID", "session_id"),
		col("USER_ID", "user_id"), col("PAGE_SOURCE", "source"), col("EVENT_TIME", "event_timestamp"),
		col("INGESTION_TIMESTAMP", ColIngestedAt), col("SOURCE", ColSource), null("COUNTRY"), null("AGE")}}},
}

// UserSessions: seed 004 topic 2, a login that created a session.
var UserSessions = &Spec{
	Name: "user_sessions", Seed: "004", Formats: []record.Format{record.NDJSON},
	Stream: &Stream{},
	Fields: []Field{
		str("session_id", critical),
		str("user_id", critical),
		str("user_name", personal),
		stamp("login_timestamp", critical),
		str("device"),
	},
	Key:       []string{"session_id"},
	EventTime: "login_timestamp",
	Star: []star.TableMap{{Table: star.UserSessions, Cols: []star.Col{
		col("SESSION_ID", "session_id"), col("USER_ID", "user_id"), col("USER_NAME", "user_name"),
		col("LOGIN_TIME", "login_timestamp"), col("DEVICE", "device"), col("INGESTION_TIMESTAMP", ColIngestedAt)}}},
}

// Users: seed 004 topic 3, the users table (latest row per user_id). The
// cleaned users table keeps rows without NULLs: every field is critical,
// so a row with a NULL is rejected (and kept in quarantine) rather than
// filled with a default.
var Users = &Spec{
	Name: "users", Seed: "004", Formats: []record.Format{record.NDJSON}, Mode: Snapshot,
	Stream: &Stream{},
	Fields: []Field{
		str("user_id", critical),
		integer("age", critical, between(13, 100)),
		str("gender", critical, std(Gender)),
		str("country", critical, std(Country)),
		str("subscription", critical, std(OneOf("Platinum", "Gold", "Silver", "Standard"))),
	},
	Key: []string{"user_id"},
	Star: []star.TableMap{{Table: star.CleanedUsers, Cols: []star.Col{
		col("USER_ID", "user_id"), col("AGE", "age"), col("GENDER", "gender"), col("COUNTRY", "country"),
		col("SUBSCRIPTION", "subscription"), col("INGESTION_TIMESTAMP", ColIngestedAt)}}},
}

func init() {
	// In the order infra maps the topics (the catalog's topic last).
	for _, s := range []*Spec{SocialSales, ConsumerRegistration, SignIn, SignOut, ItemView, AddedToCart, CheckoutToCart,
		Pageviews, UserSessions, Users, MoviesCatalog} {
		Register(s)
	}
}

// UUID checks a uuid (8-4-4-4-12 hex digits, any case) and returns it in
// lower case.
func UUID(s string) (string, error) {
	if len(s) != 36 {
		return "", fmt.Errorf("%q is not a uuid", clip(s))
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("%q is not a uuid", clip(s))
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return "", fmt.Errorf("%q is not a uuid", clip(s))
			}
		}
	}
	return string(b), nil
}

// MaskEmail keeps only an email's domain: "****@gmail.com" stays as it is
// and an unmasked "ana@gmail.com" becomes "****@gmail.com" (DESIGN.md 4.6:
// personal data is masked). The reason for a value that is not an email
// does not repeat the value, so no address reaches a log.
func MaskEmail(s string) (string, error) {
	at := strings.LastIndexByte(s, '@')
	domain := strings.ToLower(s[at+1:])
	if at <= 0 || domain == "" || strings.ContainsAny(domain, " @") || !strings.Contains(domain, ".") {
		return "", errors.New("not an email address (want one like ****@example.com)")
	}
	return "****@" + domain, nil
}
