package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/dedupetest"
)

func TestDedupeConformance(t *testing.T) {
	client := localClient(t)
	dedupetest.Run(t, func(t *testing.T, clock *dedupetest.Clock) port.Dedupe {
		d := NewDedupe(client, freshTable(t, client), dedupetest.TTL)
		d.SetClock(clock.Now)
		return d
	})
}

// claimOK claims for txn "T" (begun, never committed, unless the test says so).
func claimOK(t *testing.T, d *Dedupe, ns string, claims []port.Claim, want ...port.Outcome) {
	t.Helper()
	got, err := d.Claim(context.Background(), ns, "T", claims)
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
	ctx := context.Background()
	f, r, dup := port.Fresh, port.Retry, port.Duplicate
	if err := d.Begin(ctx, "T", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	claimOK(t, d, "ns", []port.Claim{
		{Key: "a", Origin: "o1"}, {Key: "a", Origin: "o1"}, {Key: "a", Origin: "o2"},
		{Key: "b", Origin: "o3"}, {Key: "a", Origin: "o9"}, {Key: "b", Origin: "o3"},
	}, f, r, dup, f, dup, r)
	if got := d.Writes(); got != 3 { // Begin + one put per key
		t.Fatalf("Writes() = %d after Begin and 6 claims of 2 keys, want 3", got)
	}
	if err := d.Commit(ctx, "T"); err != nil {
		t.Fatal(err)
	}
	// Another txn: the stored holder (committed) is named by the failed
	// write, and its state read once: no more.
	got, err := d.Claim(ctx, "ns", "U", []port.Claim{
		{Key: "a", Origin: "o2"}, {Key: "a", Origin: "o1"}, {Key: "a", Origin: "o2"}, {Key: "c", Origin: "o4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []port.Outcome{dup, r, dup, f}; !slices.Equal(got, want) {
		t.Fatalf("Claim = %v, want %v", got, want)
	}
	if got := d.Writes(); got != 6 { // + Commit + two puts
		t.Fatalf("Writes() = %d, want 6", got)
	}
	if api.puts.Load() != 4 || api.gets.Load() != 0 {
		// T's commit is remembered: no read of its state is needed.
		t.Fatalf("calls: %d PutItem, %d GetItem; want 4 and 0", api.puts.Load(), api.gets.Load())
	}
	claimOK(t, d, "ns", nil)
	if got := d.Writes(); got != 6 {
		t.Fatalf("Writes() after an empty batch = %d, want 6", got)
	}
}

// TestTakeoverCosts: a file that failed and was quarantined (its txn
// aborted) is uploaded again: each of its keys costs one failed put, one
// takeover put, and one read of the aborted txn per call.
func TestTakeoverCosts(t *testing.T) {
	client := localClient(t)
	api := &counting{dedupeAPI: client}
	d := NewDedupe(api, freshTable(t, client), time.Hour)
	ctx := context.Background()
	if err := d.Begin(ctx, "v1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var v1, v2 []port.Claim
	for i := range 50 {
		v1 = append(v1, port.Claim{Key: fmt.Sprintf("k%d", i), Origin: fmt.Sprintf("v1#%d", i)})
		v2 = append(v2, port.Claim{Key: fmt.Sprintf("k%d", i), Origin: fmt.Sprintf("v2#%d", i)})
	}
	if _, err := d.Claim(ctx, "ns", "v1", v1); err != nil {
		t.Fatal(err)
	}
	if err := d.Abort(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Begin(ctx, "v2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	puts, gets := api.puts.Load(), api.gets.Load()
	out, err := d.Claim(ctx, "ns", "v2", v2)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o != port.Fresh {
			t.Fatalf("claim %d after the abort: %v, want fresh", i, o)
		}
	}
	if p, g := api.puts.Load()-puts, api.gets.Load()-gets; p != 100 || g != 1 {
		t.Fatalf("takeover of 50 keys: %d PutItem, %d GetItem; want 100 and 1", p, g)
	}
}

func TestDedupeItemShape(t *testing.T) {
	client := localClient(t)
	table := freshTable(t, client)
	d := NewDedupe(client, table, 48*time.Hour)
	now := time.Unix(4_100_000_000, 0) // in 2099: DynamoDB Local deletes expired items by the real clock
	d.SetClock(func() time.Time { return now })
	claimOK(t, d, "live_streaming", []port.Claim{{Key: "evt-1", Origin: "live_streaming/3/42"}}, port.Fresh)
	res, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "live_streaming#evt-1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pk": "live_streaming#evt-1", "origin": "live_streaming/3/42", "txn": "T",
		"claimed_at": "4100000000", "expires_at": "4100172800",
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
	now := time.Unix(4_100_000_000, 0) // in 2099: DynamoDB Local deletes expired items by the real clock
	d.SetClock(func() time.Time { return now })
	claimOK(t, d, "ns", []port.Claim{{Key: "k", Origin: "o1"}}, port.Fresh)
	now = now.Add(59 * time.Minute)
	claimOK(t, d, "ns", []port.Claim{{Key: "k", Origin: "o2"}}, port.Duplicate)
	// Expired but not yet deleted by TTL: the key is forgotten.
	now = now.Add(2 * time.Minute)
	claimOK(t, d, "ns", []port.Claim{{Key: "k", Origin: "o2"}, {Key: "k", Origin: "o1"}}, port.Fresh, port.Duplicate)
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
	_, err := d.Claim(context.Background(), "ns", "T", []port.Claim{{Key: "k1", Origin: "o"}})
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

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return c.dedupeAPI.UpdateItem(ctx, in, opts...)
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
	ctx := context.Background()
	claimOK(t, d, "ns", []port.Claim{{Key: "k", Origin: "o1"}}, port.Fresh)
	if err := d.Commit(ctx, "T"); err != nil {
		t.Fatal(err)
	}
	got, err := d.Claim(ctx, "ns", "U", []port.Claim{{Key: "k", Origin: "o2"}, {Key: "k", Origin: "o1"}, {Key: "k", Origin: "o3"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []port.Outcome{port.Duplicate, port.Retry, port.Duplicate}; !slices.Equal(got, want) {
		t.Fatalf("Claim = %v, want %v", got, want)
	}
	if api.gets != 1 { // the claim's holder, read once; T's state is known
		t.Fatalf("GetItem calls = %d, want 1", api.gets)
	}
}
