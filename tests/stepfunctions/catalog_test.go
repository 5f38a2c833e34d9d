package stepfunctions

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/events/sim"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/localstack/stack"
	"github.com/pulse-analytics/pulse/shared/adapters/msk"
	"github.com/pulse-analytics/pulse/shared/catalog"
	"github.com/pulse-analytics/pulse/shared/handlers"
	"github.com/pulse-analytics/pulse/shared/port"
)

// localBuckets maps the storage stack's bucket construct IDs to the local stack's bucket names.
var localBuckets = map[string]string{
	"PulseStorage/Raw": stack.Buckets.Raw, "PulseStorage/Staging": stack.Buckets.Staging,
	"PulseStorage/Curated": stack.Buckets.Curated, "PulseStorage/Quarantine": stack.Buckets.Quarantine,
}

type cfnTemplate struct {
	Resources map[string]struct {
		Type       string          `json:"Type"`
		Properties json.RawMessage `json:"Properties"`
		Metadata   struct {
			Path string `json:"aws:cdk:path"`
		} `json:"Metadata"`
	} `json:"Resources"`
	Outputs map[string]struct {
		Value  json.RawMessage `json:"Value"`
		Export struct {
			Name string `json:"Name"`
		} `json:"Export"`
	} `json:"Outputs"`
}

func readTemplate(t *testing.T, stackName string) cfnTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cdkOut, stackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tp cfnTemplate
	if err := json.Unmarshal(b, &tp); err != nil {
		t.Fatal(err)
	}
	return tp
}

// importValue resolves an export of the storage stack that names a bucket to its local name.
func importValue(t *testing.T, name string) string {
	t.Helper()
	st := readTemplate(t, "PulseStorage")
	for _, o := range st.Outputs {
		if o.Export.Name != name {
			continue
		}
		var ref struct{ Ref string }
		if err := json.Unmarshal(o.Value, &ref); err != nil {
			t.Fatalf("export %s: %s", name, o.Value)
		}
		path := strings.TrimSuffix(st.Resources[ref.Ref].Metadata.Path, "/Resource")
		if b, ok := localBuckets[path]; ok {
			return b
		}
		t.Fatalf("export %s is %s, not a bucket", name, path)
	}
	t.Fatalf("no export %s", name)
	return ""
}

// ruleTarget is the one target of an EventBridge rule of the catalog stack.
type ruleTarget struct {
	Input            json.RawMessage `json:"Input"`
	InputTransformer struct {
		InputPathsMap map[string]string `json:"InputPathsMap"`
		InputTemplate string            `json:"InputTemplate"`
	} `json:"InputTransformer"`
}

func rule(t *testing.T, path string) (props struct {
	EventPattern       json.RawMessage `json:"EventPattern"`
	ScheduleExpression string          `json:"ScheduleExpression"`
	Targets            []ruleTarget    `json:"Targets"`
}) {
	t.Helper()
	for _, r := range readTemplate(t, "PulseCatalog").Resources {
		if r.Type == "AWS::Events::Rule" && r.Metadata.Path == path+"/Resource" {
			if err := json.Unmarshal(r.Properties, &props); err != nil || len(props.Targets) != 1 {
				t.Fatalf("rule %s: %s", path, r.Properties)
			}
			return props
		}
	}
	t.Fatalf("no rule %s", path)
	return props
}

// scheduleInput is the constant input of the schedule rule, its Fn::Join resolved.
func scheduleInput(t *testing.T) json.RawMessage {
	t.Helper()
	r := rule(t, "PulseCatalog/CatalogSchedule")
	if r.ScheduleExpression != "cron(0 1 * * ? *)" {
		t.Errorf("schedule %q", r.ScheduleExpression)
	}
	var join struct {
		Join []json.RawMessage `json:"Fn::Join"`
	}
	if err := json.Unmarshal(r.Targets[0].Input, &join); err != nil || len(join.Join) != 2 {
		t.Fatalf("schedule input %s", r.Targets[0].Input)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(join.Join[1], &parts); err != nil {
		t.Fatalf("schedule input's parts %s: %v", join.Join[1], err)
	}
	var sb strings.Builder
	for _, p := range parts {
		var s string
		var imp struct {
			Import string `json:"Fn::ImportValue"`
		}
		switch {
		case json.Unmarshal(p, &s) == nil:
			sb.WriteString(s)
		case json.Unmarshal(p, &imp) == nil && imp.Import != "":
			sb.WriteString(importValue(t, imp.Import))
		default:
			t.Fatalf("schedule input part %s", p)
		}
	}
	return json.RawMessage(sb.String())
}

// transform applies the object rule's input transformer to an EventBridge event, as EventBridge
// does (the paths here are plain dotted paths).
func transform(t *testing.T, event map[string]any) json.RawMessage {
	t.Helper()
	r := rule(t, "PulseCatalog/CatalogObjectCreated")
	var pattern struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			Object struct {
				Key []struct {
					Wildcard string `json:"wildcard"`
				} `json:"key"`
			} `json:"object"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(r.EventPattern, &pattern); err != nil {
		t.Fatal(err)
	}
	if pattern.Source[0] != "aws.s3" || pattern.DetailType[0] != "Object Created" || pattern.Detail.Object.Key[0].Wildcard != "raw/movies_catalog/*Movies.txt" {
		t.Errorf("object rule pattern %s", r.EventPattern)
	}
	tr := r.Targets[0].InputTransformer
	out := tr.InputTemplate
	for name, path := range tr.InputPathsMap {
		var v any = event
		for _, k := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
			v = v.(map[string]any)[k]
		}
		b, _ := json.Marshal(v)
		out = strings.ReplaceAll(out, "<"+name+">", string(b))
	}
	return json.RawMessage(out)
}

// TestCatalogWorkflow replaces seed 003's Airflow DAG: a Movies.txt dropped in the raw bucket, as the
// object rule's transformed EventBridge event, and the schedule rule's constant input, each run the
// synthesized catalog state machine, whose task (the real catalog handler) produces the 50 movies to
// the Kafka stand-in, keyed by item ID, with the simulator's prices.
func TestCatalogWorkflow(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cluster, err := kafkalocal.Start(ctx, kafkalocal.Options{Topics: []string{port.CatalogTopic}})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	client, err := msk.NewClient(ctx, msk.Config{Brokers: cluster.Brokers()}, aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	h := &handlers.Catalog{Store: st.Env.Store, Producer: msk.NewProducer(client, port.CatalogTopic, msk.JSON{}), QuarantineBucket: stack.Buckets.Quarantine}
	inv, err := NewInvoker(map[string]any{"catalog": handlers.Lambda(h.Handle)})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()

	body := sim.MoviesTxt()
	key := "raw/movies_catalog/Movies.txt"
	info, err := st.Env.Store.Put(ctx, stack.Buckets.Raw, key, strings.NewReader(string(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	event := map[string]any{
		"version": "0", "source": "aws.s3", "detail-type": "Object Created", "time": "2024-02-03T01:00:00Z",
		"detail": map[string]any{
			"bucket": map[string]any{"name": stack.Buckets.Raw},
			"object": map[string]any{"key": key, "size": len(body), "etag": info.ETag, "version-id": info.VersionID},
		},
	}
	sm := machine(t, "PulseCatalog/CatalogWorkflow")
	movies := sim.Movies()
	for i, input := range []json.RawMessage{transform(t, event), scheduleInput(t)} {
		res, err := tools.Run(ctx, inv, sm, sm.Definition, "catalog-"+strconv.Itoa(i), input)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "SUCCEEDED" {
			t.Fatalf("input %s: %s %s %s", input, res.Status, res.Error, res.Cause)
		}
		var out struct {
			Result handlers.CatalogOutput `json:"result"`
		}
		if err := json.Unmarshal(res.Output, &out); err != nil || len(out.Result.Files) != 1 {
			t.Fatalf("output %s: %v", res.Output, err)
		}
		f := out.Result.Files[0]
		want := catalog.Counts{Received: int64(len(movies)), Produced: int64(len(movies))}
		if f.Bucket != stack.Buckets.Raw || f.Key != key || !f.Found || f.Counts != want {
			t.Errorf("input %s: file %+v, want %+v", input, f, want)
		}
	}
	// Two runs, 50 events each, the same keys: downstream the latest per item_id wins.
	recs := consume(t, cluster.Brokers(), 2*len(movies))
	for i, r := range recs {
		m := movies[i%len(movies)]
		var got port.Movie
		if err := json.Unmarshal(r.Value, &got); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != m.ItemID || got.ItemID != m.ItemID || got.Price != m.Price || got.Currency != "USD" {
			t.Errorf("record %d: %s %+v, want %s at %v", i, r.Key, got, m.ItemID, m.Price)
		}
	}
}

func consume(t *testing.T, brokers []string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(port.CatalogTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", len(out), n)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
