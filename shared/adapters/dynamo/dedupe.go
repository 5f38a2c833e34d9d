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

	"github.com/pulse-analytics/pulse/shared/port"
)

var _ port.Dedupe = (*Dedupe)(nil)

// writeConcurrency bounds the PutItem calls one Claim runs at once.
const writeConcurrency = 16

// committedCacheSize bounds the transactions remembered as committed (a
// final state) across Claim calls.
const committedCacheSize = 10_000

// dedupeAPI lists the DynamoDB calls Dedupe makes.
type dedupeAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Conditions of the claim writes.
const (
	// newClaim: the key is unclaimed, or its claim expired and TTL has
	// not deleted it yet.
	newClaim = "attribute_not_exists(" + attrPK + ") OR " + attrExpiresAt + " < :now"
	// sameHolder: the claim is still the one read (origin and transaction),
	// so replacing it (a takeover, or a retry moving it) races nobody.
	sameHolder = attrOrigin + " = :old_origin AND (" + attrTxn + " = :old_txn OR attribute_not_exists(" + attrTxn + "))"
)

// Dedupe is a port.Dedupe on a DynamoDB table (see EnsureTable). Each
// claimed key is an item, pk = namespace + "#" + key, holding the origin
// that claimed it and its transaction; each transaction is an item, pk =
// "txn#" + id, holding its state and deadline. A fresh key costs one
// conditional PutItem; a key already held costs one (failed) conditional
// PutItem, plus one GetItem per distinct holder transaction per call (none
// for a holder known to have committed); a takeover or a retry that moves a
// claim costs one more PutItem. Begin, Commit and Abort are one UpdateItem each.
type Dedupe struct {
	client dedupeAPI
	table  string
	ttl    time.Duration
	now    func() time.Time
	writes atomic.Int64
	reads  atomic.Int64

	mu        sync.Mutex
	committed map[string]bool // transactions read as committed (final)
}

// NewDedupe returns a Dedupe on table. Claimed keys and transactions
// expire (TTL attribute expires_at) ttl after their last write; ttl <= 0
// keeps them forever.
func NewDedupe(client dedupeAPI, table string, ttl time.Duration) *Dedupe {
	return &Dedupe{client: client, table: table, ttl: ttl, now: time.Now, committed: map[string]bool{}}
}

// SetClock replaces the clock (tests).
func (d *Dedupe) SetClock(now func() time.Time) { d.now = now }

// Writes returns the number of PutItem and UpdateItem calls made so far.
func (d *Dedupe) Writes() int64 { return d.writes.Load() }

// Reads returns the number of GetItem calls made so far.
func (d *Dedupe) Reads() int64 { return d.reads.Load() }

const txnPrefix = "txn#"

// Transaction states as stored.
const (
	statePending   = "pending"
	stateCommitted = "committed"
	stateAborted   = "aborted"
)

func (d *Dedupe) expires(now time.Time) *types.AttributeValueMemberN {
	if d.ttl <= 0 {
		return nil
	}
	return num(now.Add(d.ttl).Unix())
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

// updateTxn sets a transaction's state under a condition; it reports
// whether the condition held.
func (d *Dedupe) updateTxn(ctx context.Context, txn, set, cond string, vals map[string]types.AttributeValue) (bool, error) {
	now := d.now()
	vals[":s"] = str(set)
	update := "SET #s = :s"
	at := now
	if dl, ok := vals[":d"].(*types.AttributeValueMemberN); ok && set == statePending {
		// Claims are made until the deadline: keep the txn as long as them.
		if ms, err := strconv.ParseInt(dl.Value, 10, 64); err == nil && time.UnixMilli(ms).After(at) {
			at = time.UnixMilli(ms)
		}
	}
	if e := d.expires(at); e != nil {
		vals[":e"] = e
		update += ", " + attrExpiresAt + " = :e"
	}
	if set == statePending {
		update += ", " + attrDeadline + " = :d"
	}
	d.writes.Add(1)
	_, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrPK: str(txnPrefix + txn)},
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#s": attrTxnState},
		ExpressionAttributeValues: vals,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// Begin implements port.Dedupe.
func (d *Dedupe) Begin(ctx context.Context, txn string, deadline time.Time) error {
	ok, err := d.updateTxn(ctx, txn, statePending, "attribute_not_exists("+attrPK+") OR #s <> :c",
		map[string]types.AttributeValue{":c": str(stateCommitted), ":d": num(deadline.UnixMilli())})
	if err != nil {
		return fmt.Errorf("beginning dedupe transaction %s in %s: %w", txn, d.table, err)
	}
	if !ok { // committed: it stays so
		d.remember(txn)
	}
	return nil
}

// Commit implements port.Dedupe.
func (d *Dedupe) Commit(ctx context.Context, txn string) error {
	ok, err := d.updateTxn(ctx, txn, stateCommitted, "attribute_not_exists("+attrPK+") OR #s <> :a",
		map[string]types.AttributeValue{":a": str(stateAborted)})
	if err != nil {
		return fmt.Errorf("committing dedupe transaction %s in %s: %w", txn, d.table, err)
	}
	if !ok {
		return fmt.Errorf("committing dedupe transaction %s: %w", txn, port.ErrTxnAborted)
	}
	d.remember(txn)
	return nil
}

// Abort implements port.Dedupe.
func (d *Dedupe) Abort(ctx context.Context, txn string) error {
	ok, err := d.updateTxn(ctx, txn, stateAborted, "attribute_not_exists("+attrPK+") OR #s <> :c",
		map[string]types.AttributeValue{":c": str(stateCommitted)})
	if err != nil {
		return fmt.Errorf("aborting dedupe transaction %s in %s: %w", txn, d.table, err)
	}
	if !ok {
		return fmt.Errorf("aborting dedupe transaction %s: %w", txn, port.ErrTxnCommitted)
	}
	return nil
}

// abandon aborts txn if it is still pending past its deadline; it
// reports whether txn is now aborted.
func (d *Dedupe) abandon(ctx context.Context, txn string, now time.Time) (bool, error) {
	ok, err := d.updateTxn(ctx, txn, stateAborted, "#s = :p AND "+attrDeadline+" < :now",
		map[string]types.AttributeValue{":p": str(statePending), ":now": num(now.UnixMilli())})
	if err != nil {
		return false, fmt.Errorf("aborting abandoned dedupe transaction %s in %s: %w", txn, d.table, err)
	}
	return ok, nil
}

// txnInfo is a transaction as read.
type txnInfo struct {
	state    port.TxnState
	deadline int64 // unix milliseconds
}

// State implements port.Dedupe.
func (d *Dedupe) State(ctx context.Context, txn string) (port.TxnState, error) {
	t, err := d.readTxn(ctx, txn)
	if err != nil {
		return 0, err
	}
	if t.state == port.TxnCommitted {
		d.remember(txn)
	}
	return t.state, nil
}

func (d *Dedupe) readTxn(ctx context.Context, txn string) (txnInfo, error) {
	d.reads.Add(1)
	res, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(d.table),
		Key:                  map[string]types.AttributeValue{attrPK: str(txnPrefix + txn)},
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("#s, " + attrDeadline + ", " + attrExpiresAt),
		ExpressionAttributeNames: map[string]string{
			"#s": attrTxnState,
		},
	})
	if err != nil {
		return txnInfo{}, fmt.Errorf("reading dedupe transaction %s in %s: %w", txn, d.table, err)
	}
	if len(res.Item) == 0 {
		return txnInfo{state: port.TxnUnknown}, nil
	}
	if exp := numAttr(res.Item, attrExpiresAt); exp != 0 && exp < d.now().Unix() {
		return txnInfo{state: port.TxnUnknown}, nil // expired, not yet deleted by TTL
	}
	t := txnInfo{deadline: numAttr(res.Item, attrDeadline)}
	switch stringAttr(res.Item, attrTxnState) {
	case statePending:
		t.state = port.TxnPending
	case stateCommitted:
		t.state = port.TxnCommitted
	case stateAborted:
		t.state = port.TxnAborted
	}
	return t, nil
}

func (d *Dedupe) remember(txn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.committed) >= committedCacheSize {
		clear(d.committed)
	}
	d.committed[txn] = true
}

func (d *Dedupe) knownCommitted(txn string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.committed[txn]
}

// holders resolves the holder transactions of one Claim call, each read
// at most once (concurrent resolutions of keys with the same holder wait
// for the one read).
type holders struct {
	d     *Dedupe
	mu    sync.Mutex
	infos map[string]*holder
}

type holder struct {
	mu     sync.Mutex
	loaded bool
	info   txnInfo
}

// effective is a holder's state as claims see it: unknown (a claim made
// before transactions existed, or expired) counts as committed; pending
// past its deadline as abandoned (it is aborted for good here).
func (h *holders) effective(ctx context.Context, txn string, now time.Time) (port.TxnState, error) {
	if txn == "" || h.d.knownCommitted(txn) {
		return port.TxnCommitted, nil
	}
	h.mu.Lock()
	e := h.infos[txn]
	if e == nil {
		e = &holder{}
		h.infos[txn] = e
	}
	h.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !e.loaded {
			t, err := h.d.readTxn(ctx, txn)
			if err != nil {
				return 0, err
			}
			e.info, e.loaded = t, true
		}
		t := e.info
		switch {
		case t.state == port.TxnUnknown || t.state == port.TxnCommitted:
			if t.state == port.TxnCommitted {
				h.d.remember(txn)
			}
			return port.TxnCommitted, nil
		case t.state == port.TxnPending && t.deadline < now.UnixMilli():
			aborted, err := h.d.abandon(ctx, txn, now)
			if err != nil {
				return 0, err
			}
			if !aborted { // it moved meanwhile (committed, or renewed): read it again
				if attempt == 3 {
					return 0, fmt.Errorf("dedupe transaction %s kept changing while it was taken over", txn)
				}
				e.loaded = false
				continue
			}
			e.info = txnInfo{state: port.TxnAborted}
			return port.TxnAborted, nil
		}
		return t.state, nil
	}
}

// result is the resolution of one distinct key.
type result struct {
	outcome port.Outcome
	holder  string // origin that holds the key after the claim
	err     error
}

// Claim implements port.Dedupe. On error some keys may have been
// claimed; retrying the same claims then yields Retry for those, never
// Duplicate, because each key remembers its origin.
func (d *Dedupe) Claim(ctx context.Context, namespace, txn string, claims []port.Claim) ([]port.Outcome, error) {
	out := make([]port.Outcome, len(claims))
	if len(claims) == 0 {
		return out, nil
	}
	// The first claim of each key is resolved against the table; the rest
	// against that resolution.
	first := make(map[string]int, len(claims))
	var distinct []int
	for i, c := range claims {
		if _, ok := first[c.Key]; !ok {
			first[c.Key] = i
			distinct = append(distinct, i)
		}
	}
	results := make(map[int]*result, len(distinct))
	for _, i := range distinct {
		results[i] = &result{}
	}
	h := &holders{d: d, infos: map[string]*holder{}}
	if err := d.resolveAll(ctx, namespace, txn, claims, distinct, results, h); err != nil {
		return nil, err
	}
	for i, c := range claims {
		fi := first[c.Key]
		r := results[fi]
		switch {
		case i == fi:
			out[i] = r.outcome
		case r.outcome == port.Held:
			out[i] = port.Held
		case c.Origin == r.holder:
			out[i] = port.Retry
		default:
			out[i] = port.Duplicate
		}
	}
	return out, nil
}

// resolveAll resolves the claims at indexes distinct with at most
// writeConcurrency in flight; it returns the first error and stops
// starting work after it.
func (d *Dedupe) resolveAll(ctx context.Context, namespace, txn string, claims []port.Claim, distinct []int, results map[int]*result, h *holders) error {
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
				r.outcome, r.holder, r.err = d.resolve(ctx, namespace, txn, claims[i], h)
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

// claimItem is a key's claim as stored.
type claimItem struct {
	origin, txn string
}

// put writes c's claim for txn under cond; it reports whether the
// condition held and, when it did not, the claim that stood.
func (d *Dedupe) put(ctx context.Context, namespace, txn string, c port.Claim, cond string, vals map[string]types.AttributeValue) (bool, claimItem, error) {
	now := d.now()
	item := map[string]types.AttributeValue{
		attrPK:        str(pk(namespace, c.Key)),
		attrOrigin:    str(c.Origin),
		attrTxn:       str(txn),
		attrClaimedAt: num(now.Unix()),
	}
	if e := d.expires(now); e != nil {
		item[attrExpiresAt] = e
	}
	d.writes.Add(1)
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(d.table),
		Item:                                item,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		if len(failed.Item) == 0 {
			// An emulator without ReturnValuesOnConditionCheckFailure: read it.
			held, err := d.claimOf(ctx, namespace, c.Key)
			return false, held, err
		}
		return false, claimItem{origin: stringAttr(failed.Item, attrOrigin), txn: stringAttr(failed.Item, attrTxn)}, nil
	case err != nil:
		return false, claimItem{}, fmt.Errorf("claiming dedupe key %s in %s: %w", pk(namespace, c.Key), d.table, err)
	}
	return true, claimItem{}, nil
}

// resolve claims one key for txn and returns its outcome and the origin
// that holds the key afterwards.
func (d *Dedupe) resolve(ctx context.Context, namespace, txn string, c port.Claim, h *holders) (port.Outcome, string, error) {
	now := d.now()
	ok, held, err := d.put(ctx, namespace, txn, c, newClaim, map[string]types.AttributeValue{":now": num(now.Unix())})
	if err != nil {
		return 0, "", err
	}
	if ok {
		return port.Fresh, c.Origin, nil
	}
	// The key is held. A replacement (a takeover, or a retry moving the
	// claim to txn) is conditional on the claim read; if someone else
	// replaced it meanwhile, look again.
	for attempt := 0; attempt < 5; attempt++ {
		if held.origin == "" { // deleted meanwhile (TTL): claim it afresh
			ok, held, err = d.put(ctx, namespace, txn, c, newClaim, map[string]types.AttributeValue{":now": num(now.Unix())})
			if err != nil {
				return 0, "", err
			}
			if ok {
				return port.Fresh, c.Origin, nil
			}
			continue
		}
		if held.txn == txn {
			if held.origin == c.Origin {
				return port.Retry, c.Origin, nil
			}
			return port.Duplicate, held.origin, nil
		}
		st, err := h.effective(ctx, held.txn, now)
		if err != nil {
			return 0, "", err
		}
		switch {
		case held.origin == c.Origin && st == port.TxnCommitted:
			return port.Retry, c.Origin, nil
		case held.origin == c.Origin:
			// The same record again in another txn: the claim moves with it.
		case st == port.TxnCommitted:
			return port.Duplicate, held.origin, nil
		case st == port.TxnPending:
			return port.Held, held.origin, nil
		}
		vals := map[string]types.AttributeValue{":old_origin": str(held.origin), ":old_txn": str(held.txn)}
		ok, held, err = d.put(ctx, namespace, txn, c, sameHolder, vals)
		if err != nil {
			return 0, "", err
		}
		if ok {
			if c.Origin == vals[":old_origin"].(*types.AttributeValueMemberS).Value {
				return port.Retry, c.Origin, nil
			}
			return port.Fresh, c.Origin, nil
		}
	}
	return 0, "", fmt.Errorf("claiming dedupe key %s in %s: its claim kept changing under 5 attempts", pk(namespace, c.Key), d.table)
}

// claimOf reads the claim of a key, with a strongly consistent read.
func (d *Dedupe) claimOf(ctx context.Context, namespace, key string) (claimItem, error) {
	d.reads.Add(1)
	res, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(d.table),
		Key:                  map[string]types.AttributeValue{attrPK: str(pk(namespace, key))},
		ProjectionExpression: aws.String(attrOrigin + ", " + attrTxn),
		ConsistentRead:       aws.Bool(true),
	})
	if err != nil {
		return claimItem{}, fmt.Errorf("reading the claim of dedupe key %s in %s: %w", pk(namespace, key), d.table, err)
	}
	return claimItem{origin: stringAttr(res.Item, attrOrigin), txn: stringAttr(res.Item, attrTxn)}, nil
}

func pk(namespace, key string) string { return namespace + "#" + key }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func numAttr(item map[string]types.AttributeValue, name string) int64 {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}
