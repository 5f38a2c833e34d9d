package dynamo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pulse-analytics/pulse/shared/pipeline"
	"github.com/pulse-analytics/pulse/shared/pipeline/dedupetest"
)

func TestDedupeConformance(t *testing.T) {
	client := localClient(t)
	dedupetest.Run(t, func(t *testing.T) pipeline.Dedupe {
		return NewDedupe(client, freshTable(t, client), 24*time.Hour)
	})
}

func claimOK(t *testing.T, d *Dedupe, ns string, claims []pipeline.Claim, want ...pipeline.Outcome) {
	t.Helper()
	got, err := d.Claim(context.Background(), ns, claims)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Claim(%v) = %v, want %v", claims, got, want)
	}
}

func TestInBatchRepeatsCostNoWrites(t *testing.T) {
	client := localClient(t)
	api := &counting{dedupeAPI: client}
	d := NewDedupe(api, freshTable(t, client), time.Hour)
	f, r, dup := pipeline.Fresh, pipeline.Retry, pipeline.Duplicate
	claimOK(t, d, "ns", []pipeline.Claim{
		{Key: "a", Origin: "o1"}, {Key: "a", Origin: "o1"}, {Key: "a", Origin: "o2"},
		{Key: "b", Origin: "o3"}, {Key: "a", Origin: "o9"}, {Key: "b", Origin: "o3"},
	}, f, r, dup, f, dup, r)
	if got := d.Writes(); got != 2 {
		t.Fatalf("Writes() = %d after 6 claims of 2 keys, want 2", got)
	}
	// Stored owner named by the failed write: no extra read or write.
	claimOK(t, d, "ns", []pipeline.Claim{
		{Key: "a", Origin: "o2"}, {Key: "a", Origin: "o1"}, {Key: "a", Origin: "o2"}, {Key: "c", Origin: "o4"},
	}, dup, r, dup, f)
	if got := d.Writes(); got != 4 {
		t.Fatalf("Writes() = %d, want 4", got)
	}
	if api.puts.Load() != 4 || api.gets.Load() != 0 {
		t.Fatalf("calls: %d PutItem, %d GetItem; want 4 and 0", api.puts.Load(), api.gets.Load())
	}
	claimOK(t, d, "ns", nil)
	if got := d.Writes(); got != 4 {
		t.Fatalf("Writes() after an empty batch = %d, want 4", got)
	}
}

func TestDedupeItemShape(t *testing.T) {
	client := localClient(t)
	table := freshTable(t, client)
	d := NewDedupe(client, table, 48*time.Hour)
	now := time.Unix(1_750_000_000, 0)
	d.now = func() time.Time { return now }
	claimOK(t, d, "live_streaming", []pipeline.Claim{{Key: "evt-1", Origin: "live_streaming/3/42"}}, pipeline.Fresh)
	res, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "live_streaming#evt-1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pk": "live_streaming#evt-1", "origin": "live_streaming/3/42",
		"claimed_at": "1750000000", "expires_at": "1750172800",
	}
	if len(res.Item) != len(want) {
		t.Fatalf("item has %d attributes, want %d: %v", len(res.Item), len(want), res.Item)
	}
	for name, v := range want {
		var got string
		switch a := res.Item[name].(type) {
		case *types.AttributeValueMemberS:
			got = a.Value
		case *types.AttributeValueMemberN:
			got = a.Value
		}
		if got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	for _, name := range []string{"claimed_at", "expires_at"} {
		if _, ok := res.Item[name].(*types.AttributeValueMemberN); !ok {
			t.Errorf("%s is %T, want a number", name, res.Item[name])
		}
	}
}

func TestExpiredClaimIsFresh(t *testing.T) {
	client := localClient(t)
	d := NewDedupe(client, freshTable(t, client), time.Hour)
	now := time.Unix(1_750_000_000, 0)
	d.now = func() time.Time { return now }
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o1"}}, pipeline.Fresh)
	now = now.Add(59 * time.Minute)
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o2"}}, pipeline.Duplicate)
	// Expired but not yet deleted by TTL: the key is forgotten.
	now = now.Add(2 * time.Minute)
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o2"}, {Key: "k", Origin: "o1"}}, pipeline.Fresh, pipeline.Duplicate)
}

func TestEnsureTableIsIdempotent(t *testing.T) {
	client := localClient(t)
	ctx := context.Background()
	name := freshTable(t, client)
	if err := EnsureTable(ctx, client, name); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := desc.Table
	if tbl.TableStatus != types.TableStatusActive || len(tbl.KeySchema) != 1 || aws.ToString(tbl.KeySchema[0].AttributeName) != "pk" ||
		tbl.KeySchema[0].KeyType != types.KeyTypeHash {
		t.Fatalf("table: status %s, key schema %+v", tbl.TableStatus, tbl.KeySchema)
	}
	if tbl.BillingModeSummary == nil || tbl.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("billing mode summary = %+v, want PAY_PER_REQUEST", tbl.BillingModeSummary)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("TTL = %+v, want ENABLED on expires_at", ttl.TimeToLiveDescription)
	}
}

func TestClaimErrorNamesKey(t *testing.T) {
	client := localClient(t)
	d := NewDedupe(client, "no-such-table", time.Hour)
	_, err := d.Claim(context.Background(), "ns", []pipeline.Claim{{Key: "k1", Origin: "o"}})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("Claim on a missing table: err = %v, want ResourceNotFoundException", err)
	}
	if !strings.Contains(err.Error(), "ns#k1") {
		t.Fatalf("error %q does not name the key", err)
	}
}

// counting wraps a client and counts its calls.
type counting struct {
	dedupeAPI
	puts, gets atomic.Int64
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	return c.dedupeAPI.PutItem(ctx, in, opts...)
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.dedupeAPI.GetItem(ctx, in, opts...)
}

// ownerless wraps a client and strips the item from conditional-check
// failures, as an emulator without ReturnValuesOnConditionCheckFailure does.
type ownerless struct {
	dedupeAPI
	gets int
}

func (o *ownerless) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := o.dedupeAPI.PutItem(ctx, in, opts...)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		failed.Item = nil
	}
	return out, err
}

func (o *ownerless) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	o.gets++
	return o.dedupeAPI.GetItem(ctx, in, opts...)
}

func TestOwnerReadWhenFailureNamesNoOwner(t *testing.T) {
	client := localClient(t)
	api := &ownerless{dedupeAPI: client}
	d := NewDedupe(api, freshTable(t, client), time.Hour)
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o1"}}, pipeline.Fresh)
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o2"}, {Key: "k", Origin: "o2"}}, pipeline.Duplicate, pipeline.Duplicate)
	if api.gets != 0 {
		t.Fatalf("GetItem calls = %d, want 0 (same origin repeats need no read)", api.gets)
	}
	claimOK(t, d, "ns", []pipeline.Claim{{Key: "k", Origin: "o2"}, {Key: "k", Origin: "o1"}, {Key: "k", Origin: "o3"}},
		pipeline.Duplicate, pipeline.Retry, pipeline.Duplicate)
	if api.gets != 1 {
		t.Fatalf("GetItem calls = %d, want 1", api.gets)
	}
}
