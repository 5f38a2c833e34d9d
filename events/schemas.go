// Package events holds the Avro schemas of every stream Pulse ingests,
// one per Kafka topic, embedded in the binary. The topic name is the dataset
// name (DESIGN.md section 1) and the schema registry subject is
// "<topic>-value" (TopicNameStrategy). The simulator that produces these
// events lives in events/sim.
package events

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed schemas/*.avsc
var schemaFS embed.FS

// Topic names, one per dataset that arrives as a stream.
const (
	TopicLiveStreaming        = "live_streaming"
	TopicVideoInteractions    = "video_interactions"
	TopicSocialSales          = "social_sales"
	TopicConsumerRegistration = "consumer_registration"
	TopicSignIn               = "sign_in"
	TopicSignOut              = "sign_out"
	TopicItemView             = "item_view"
	TopicAddedToCart          = "added_to_cart"
	TopicCheckoutToCart       = "checkout_to_cart"
	TopicMoviesCatalog        = "movies_catalog_enriched"
	TopicPageviews            = "pageviews"
	TopicUserSessions         = "user_sessions"
	TopicUsers                = "users"
)

// Schema returns the Avro schema (JSON text) for topic.
func Schema(topic string) (string, error) {
	b, err := schemaFS.ReadFile("schemas/" + topic + ".avsc")
	if err != nil {
		return "", fmt.Errorf("reading schema for topic %q: %w", topic, err)
	}
	return string(b), nil
}

// Topics returns every topic that has a schema, sorted.
func Topics() []string {
	entries, err := fs.ReadDir(schemaFS, "schemas")
	if err != nil {
		return nil // cannot happen: the directory is embedded
	}
	topics := make([]string, 0, len(entries))
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".avsc"); ok {
			topics = append(topics, name)
		}
	}
	sort.Strings(topics)
	return topics
}

// Subject returns the schema registry subject for topic's values.
func Subject(topic string) string { return topic + "-value" }
