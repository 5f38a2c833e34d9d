// Package newdataset shows that a dataset is added by its spec alone: a
// throwaway spec declared and registered in this test is cleaned, modeled
// and loaded into DuckDB, consumed by the stream engine, and routed by the
// synthesized infrastructure (its raw prefix to the batch workflow, its
// topic to the stream function), with no other file edited.
package newdataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/pulse-analytics/pulse/infra/stacks"
	"github.com/pulse-analytics/pulse/shared/adapters/duckdb/duckdbtest"
	"github.com/pulse-analytics/pulse/shared/adapters/memory"
	"github.com/pulse-analytics/pulse/shared/batch"
	"github.com/pulse-analytics/pulse/shared/dataset"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/stream"
	"github.com/pulse-analytics/pulse/shared/table"
)

// The throwaway dataset: ratings of 1 to 5 by a user at an instant, in CSV
// files under raw/throwaway_ratings/ and as JSON on its own topic.
var (
	factRatings = &table.Schema{Name: "FACT_THROWAWAY_RATINGS", Key: []string{"INTERACTION_ID"}, Columns: []table.Column{
		{Name: "INTERACTION_ID", Type: table.String}, {Name: "USER_ID", Type: table.String}, {Name: "RATING", Type: table.Int},
		{Name: "EVENT_TIME", Type: table.Timestamp}, {Name: "INGESTION_TIMESTAMP", Type: table.Timestamp}, {Name: "SOURCE", Type: table.String}}}
	ratings = &dataset.Spec{
		Name: "throwaway_ratings", Seed: "test", Formats: []record.Format{record.CSV, record.NDJSON},
		Fields: []dataset.Field{
			{Name: "user_id", Type: table.String, Critical: true},
			{Name: "rating", Type: table.Int, Min: 1, Max: 5, Ranged: true},
			{Name: "ts", Type: table.Timestamp, Critical: true},
		},
		Key:       []string{"user_id", "ts"},
		EventTime: "ts",
		Star: []star.TableMap{{Table: factRatings, Cols: []star.Col{
			{Name: "INTERACTION_ID", MD5: []string{"user_id", "ts"}, Salt: "throwaway_ratings"}, {Name: "USER_ID", Field: "user_id"},
			{Name: "RATING", Field: "rating"}, {Name: "EVENT_TIME", Field: "ts"},
			{Name: "INGESTION_TIMESTAMP", Field: dataset.ColIngestedAt}, {Name: "SOURCE", Field: dataset.ColSource}}}},
		Batch:  true,
		Stream: &dataset.Stream{},
	}
)

func TestMain(m *testing.M) {
	dataset.Register(ratings)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// TestBatchPath: a CSV file of the new dataset goes through Clean, Model,
// Load and DataTests into a DuckDB warehouse migrated with the registry's
// tables: 2 rows loaded, 1 rejected (rating 9), 1 duplicate.
func TestBatchPath(t *testing.T) {
	if !slices.Contains(dataset.Tables(), factRatings) {
		t.Fatalf("dataset.Tables() lacks %s", factRatings.Name)
	}
	ctx := t.Context()
	store := memory.NewObjects()
	wh := duckdbtest.New(t) // every table of the registry
	env := &batch.Env{Store: store, Dedupe: memory.NewDedupe(), Warehouse: wh, TempDir: t.TempDir(),
		Buckets: port.Buckets{Raw: "raw", Staging: "staging", Curated: "curated", Quarantine: "quarantine"},
		Log:     slog.New(slog.DiscardHandler)}
	body := []byte("user_id,rating,ts\n" +
		"u1,4,2024-02-03T10:00:00Z\n" +
		"u2,9,2024-02-03T10:01:00Z\n" +
		"u3,5,2024-02-03T10:02:00Z\n" +
		"u1,4,2024-02-03T10:00:00Z\n")
	key := ratings.RawPrefix() + "day1.csv"
	info, err := store.Put(ctx, "raw", key, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := batch.RunBatch(ctx, env, port.FileDrop{Bucket: "raw", Key: key, Size: info.Size, ETag: info.ETag, VersionID: info.VersionID})
	if err != nil {
		t.Fatalf("running the batch: %v", err)
	}
	if want := (port.Counts{Received: 4, Loaded: 2, Rejected: 1, Duplicate: 1}); m.Counts != want {
		t.Errorf("counts %+v, want %+v", m.Counts, want)
	}
	_, rows, err := wh.Query(ctx, "SELECT USER_ID, RATING, CAST(EVENT_TIME AS VARCHAR) FROM FACT_THROWAWAY_RATINGS ORDER BY USER_ID")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(rows)
	if want := "[[u1 4 2024-02-03 10:00:00] [u3 5 2024-02-03 10:02:00]]"; got != want {
		t.Errorf("FACT_THROWAWAY_RATINGS %s, want %s", got, want)
	}
	_, rows, err = wh.Query(ctx, "SELECT FIELD, DATASET FROM PULSE_REJECTS")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(rows), "[[rating throwaway_ratings]]"; got != want {
		t.Errorf("PULSE_REJECTS %s, want %s", got, want)
	}
}

// TestStreamConsumes: the stream engine consumes the new topic (a dataset
// without windows).
func TestStreamConsumes(t *testing.T) {
	if !slices.Contains(stream.Datasets(), "throwaway_ratings") {
		t.Errorf("stream.Datasets() %v lacks throwaway_ratings", stream.Datasets())
	}
}

// TestRouted: the synthesized app sends new objects under
// raw/throwaway_ratings/ to the batch trigger and maps the
// throwaway_ratings topic (JSON group) to the stream function.
func TestRouted(t *testing.T) {
	dir := t.TempDir()
	if err := stacks.WritePlaceholderBootstraps(dir); err != nil {
		t.Fatal(err)
	}
	cfg := stacks.Config{LambdaDir: dir, SnowflakeSecretARN: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:pulse/snowflake-AbCdEf"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &doc.Context})
	p := stacks.NewPulse(app, cfg, nil)
	byID := p.StacksByID()

	var prefixes []string
	for _, r := range resources(t, byID[stacks.BatchStackID], "Custom::S3BucketNotifications") {
		nc, _ := r["NotificationConfiguration"].(map[string]any)
		lcs, _ := nc["LambdaFunctionConfigurations"].([]any)
		for _, l := range lcs {
			rules := l.(map[string]any)["Filter"].(map[string]any)["Key"].(map[string]any)["FilterRules"].([]any)
			prefixes = append(prefixes, rules[0].(map[string]any)["Value"].(string))
		}
	}
	if !slices.Contains(prefixes, "raw/throwaway_ratings/") {
		t.Errorf("raw bucket notification prefixes %v lack raw/throwaway_ratings/", prefixes)
	}

	var topics [][]any
	for _, r := range resources(t, byID[stacks.StreamingStackID], "AWS::Lambda::EventSourceMapping") {
		tp, _ := r["Topics"].([]any)
		topics = append(topics, tp)
		if reflect.DeepEqual(tp, []any{"throwaway_ratings"}) {
			if r["BatchSize"] != float64(500) {
				t.Errorf("throwaway_ratings mapping batch size %v, want 500 (the JSON group)", r["BatchSize"])
			}
			return
		}
	}
	t.Errorf("no event-source mapping for throwaway_ratings among %v", topics)
}

// resources returns the properties of a stack's resources of one type.
func resources(t *testing.T, st awscdk.Stack, typ string) []map[string]any {
	t.Helper()
	b, err := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range tpl.Resources {
		if strings.EqualFold(r.Type, typ) {
			out = append(out, r.Properties)
		}
	}
	return out
}
