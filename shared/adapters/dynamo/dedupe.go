package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pulse-analytics/pulse/shared/pipeline"
)

var _ pipeline.Dedupe = (*Dedupe)(nil)

// writeConcurrency bounds the PutItem calls one Claim runs at once.
const writeConcurrency = 16

// dedupeAPI lists the DynamoDB calls Dedupe makes.
type dedupeAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// claimCondition lets a claim through when the key is new, already held by
// the same origin (a retry), or held by an expired item TTL has not yet
// deleted; otherwise the write fails and the claim is a Duplicate.
const claimCondition = "attribute_not_exists(" + attrPK + ") OR " + attrOrigin + " = :origin OR " + attrExpiresAt + " < :now"

// Dedupe is a pipeline.Dedupe on a DynamoDB table (see EnsureTable): one
// item per claimed key, pk = namespace + "#" + key, holding the origin that
// first claimed it. Each distinct key of a Claim costs one conditional
// PutItem; repeats of a key within one Claim are resolved in memory.
type Dedupe struct {
	client dedupeAPI
	table  string
	ttl    time.Duration
	now    func() time.Time
	writes atomic.Int64
}

// NewDedupe returns a Dedupe on table. Claimed keys expire (TTL attribute
// expires_at) ttl after their last claim; ttl <= 0 keeps them forever.
func NewDedupe(client dedupeAPI, table string, ttl time.Duration) *Dedupe {
	return &Dedupe{client: client, table: table, ttl: ttl, now: time.Now}
}

// Writes returns the number of PutItem calls made so far (each distinct
// key of each Claim call costs one, whatever its outcome).
func (d *Dedupe) Writes() int64 { return d.writes.Load() }

// put is the result of the conditional write of one distinct key.
type put struct {
	outcome pipeline.Outcome
	owner   string // origin that holds the key; "" if unknown
	err     error
}

// Claim implements pipeline.Dedupe. On error some keys may have been
// claimed; retrying the same claims then yields Retry for those, never
// Duplicate, because each key remembers its origin.
func (d *Dedupe) Claim(ctx context.Context, namespace string, claims []pipeline.Claim) ([]pipeline.Outcome, error) {
	out := make([]pipeline.Outcome, len(claims))
	if len(claims) == 0 {
		return out, nil
	}
	// The first claim of each key is written; the rest are resolved below.
	first := make(map[string]int, len(claims))
	var distinct []int
	for i, c := range claims {
		if _, ok := first[c.Key]; !ok {
			first[c.Key] = i
			distinct = append(distinct, i)
		}
	}
	results := make(map[int]*put, len(distinct))
	for _, i := range distinct {
		results[i] = &put{}
	}
	if err := d.putAll(ctx, namespace, claims, distinct, results); err != nil {
		return nil, err
	}
	for i, c := range claims {
		fi := first[c.Key]
		r := results[fi]
		if i == fi {
			out[i] = r.outcome
			continue
		}
		if r.owner == "" && c.Origin != claims[fi].Origin {
			// The write failed against an origin DynamoDB did not name (an
			// emulator without ReturnValuesOnConditionCheckFailure): read it.
			owner, err := d.owner(ctx, namespace, c.Key)
			if err != nil {
				return nil, err
			}
			r.owner = owner
		}
		out[i] = pipeline.Duplicate
		if r.owner != "" && c.Origin == r.owner {
			out[i] = pipeline.Retry
		}
	}
	return out, nil
}

// putAll writes the claims at indexes distinct with at most
// writeConcurrency calls in flight, storing each result; it returns the
// first error and stops starting writes after it.
func (d *Dedupe) putAll(ctx context.Context, namespace string, claims []pipeline.Claim, distinct []int, results map[int]*put) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(writeConcurrency, len(distinct)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := results[i]
				r.outcome, r.owner, r.err = d.put(ctx, namespace, claims[i])
				if r.err != nil {
					once.Do(func() { firstErr = r.err; cancel() })
				}
			}
		}()
	}
feed:
	for _, i := range distinct {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil { // the caller's ctx ended before all writes started
		return fmt.Errorf("claiming %d dedupe keys in %s: %w", len(distinct), namespace, err)
	}
	return nil
}

// put makes the conditional write for one claim and returns its outcome
// and the origin now holding the key ("" if DynamoDB did not say).
func (d *Dedupe) put(ctx context.Context, namespace string, c pipeline.Claim) (pipeline.Outcome, string, error) {
	now := d.now()
	item := map[string]types.AttributeValue{
		attrPK:        &types.AttributeValueMemberS{Value: pk(namespace, c.Key)},
		attrOrigin:    &types.AttributeValueMemberS{Value: c.Origin},
		attrClaimedAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
	}
	if d.ttl > 0 {
		item[attrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(d.ttl).Unix(), 10)}
	}
	d.writes.Add(1)
	res, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(d.table),
		Item:                item,
		ConditionExpression: aws.String(claimCondition),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":origin": &types.AttributeValueMemberS{Value: c.Origin},
			":now":    &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return pipeline.Duplicate, stringAttr(failed.Item, attrOrigin), nil
	case err != nil:
		return 0, "", fmt.Errorf("claiming dedupe key %s in %s: %w", pk(namespace, c.Key), d.table, err)
	case len(res.Attributes) > 0 && stringAttr(res.Attributes, attrOrigin) == c.Origin:
		return pipeline.Retry, c.Origin, nil
	default: // new, or replacing an expired claim of another origin
		return pipeline.Fresh, c.Origin, nil
	}
}

// owner reads the origin holding a key, with a strongly consistent read.
func (d *Dedupe) owner(ctx context.Context, namespace, key string) (string, error) {
	res, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(d.table),
		Key:                  map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk(namespace, key)}},
		ProjectionExpression: aws.String(attrOrigin),
		ConsistentRead:       aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("reading owner of dedupe key %s in %s: %w", pk(namespace, key), d.table, err)
	}
	return stringAttr(res.Item, attrOrigin), nil
}

func pk(namespace, key string) string { return namespace + "#" + key }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
