package dynamo

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pulse-analytics/pulse/shared/window"
)

var _ window.Store = (*WindowStore)(nil)

// windowStoreAPI lists the DynamoDB calls WindowStore makes.
type windowStoreAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Attributes of the window-state table (hash key pk, like the dedupe table).
const (
	attrVersion = "version" // N: the state's version, 1 after the first save
	attrState   = "state"   // B: gzip of the state (head item when inline, else each chunk)
	attrChunks  = "chunks"  // N: 0 when the state is inline in the head item
)

// Size limits: DynamoDB items hold 400 KB and a transaction 100 items and
// 4 MB, so a compressed state is inline up to chunkSize and split into
// chunks up to maxChunks.
const (
	chunkSize = 350 << 10
	maxChunks = 10
)

// ErrStateTooLarge is returned by Save for a state that does not fit.
var ErrStateTooLarge = errors.New("window state too large for DynamoDB")

// WindowStore is a window.Store on a DynamoDB table (EnsureTable makes one;
// the CDK state stack makes it on AWS). A state is kept gzip-compressed in
// one item keyed by its name, with its version; Save is a conditional
// write on that version (optimistic concurrency). A compressed state over
// 350 KB is split into chunk items written in the same transaction as the
// head item, under keys that include the version, so a reader always sees
// one whole version. Each Save is one write request.
type WindowStore struct {
	client windowStoreAPI
	table  string
	ttl    time.Duration
	now    func() time.Time
	writes atomic.Int64

	mu     sync.Mutex
	chunks map[string]versionChunks // name -> chunk count of the last version seen
}

type versionChunks struct {
	version int64
	chunks  int
}

// NewWindowStore returns a store on table. Saved states expire (TTL
// attribute expires_at) ttl after their last save; ttl <= 0 keeps them.
func NewWindowStore(client windowStoreAPI, table string, ttl time.Duration) *WindowStore {
	return &WindowStore{client: client, table: table, ttl: ttl, now: time.Now, chunks: map[string]versionChunks{}}
}

// Writes returns the number of write requests (PutItem or
// TransactWriteItems) made so far: one per Save.
func (s *WindowStore) Writes() int64 { return s.writes.Load() }

func chunkKey(name string, version int64, i int) string {
	return name + "#v" + strconv.FormatInt(version, 10) + "#" + strconv.Itoa(i)
}

func keyOf(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}}
}

func numberAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s missing", name)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// Load implements window.Store.
func (s *WindowStore) Load(ctx context.Context, name string) ([]byte, int64, error) {
	for attempt := 0; ; attempt++ {
		state, version, err := s.load(ctx, name)
		if errors.Is(err, errChunkGone) && attempt < 5 {
			continue // a newer version replaced the chunks meanwhile: read the head again
		}
		return state, version, err
	}
}

var errChunkGone = errors.New("chunk of the state version read is gone")

func (s *WindowStore) load(ctx context.Context, name string) ([]byte, int64, error) {
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, 0, fmt.Errorf("loading window state %s from %s: %w", name, s.table, err)
	}
	if len(res.Item) == 0 {
		return nil, 0, nil
	}
	version, err := numberAttr(res.Item, attrVersion)
	if err != nil {
		return nil, 0, fmt.Errorf("loading window state %s: %w", name, err)
	}
	chunks, err := numberAttr(res.Item, attrChunks)
	if err != nil {
		return nil, 0, fmt.Errorf("loading window state %s: %w", name, err)
	}
	var packed []byte
	if chunks == 0 {
		b, ok := res.Item[attrState].(*types.AttributeValueMemberB)
		if !ok {
			return nil, 0, fmt.Errorf("loading window state %s: no %s attribute", name, attrState)
		}
		packed = b.Value
	} else {
		packed, err = s.loadChunks(ctx, name, version, int(chunks))
		if err != nil {
			return nil, 0, err
		}
	}
	state, err := unpack(packed)
	if err != nil {
		return nil, 0, fmt.Errorf("loading window state %s v%d: %w", name, version, err)
	}
	s.remember(name, version, int(chunks))
	return state, version, nil
}

func (s *WindowStore) loadChunks(ctx context.Context, name string, version int64, n int) ([]byte, error) {
	parts := make(map[string][]byte, n)
	keys := make([]map[string]types.AttributeValue, n)
	for i := range n {
		keys[i] = keyOf(chunkKey(name, version, i))
	}
	pending := keys
	for len(pending) > 0 {
		res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, fmt.Errorf("loading window state %s v%d chunks: %w", name, version, err)
		}
		for _, item := range res.Responses[s.table] {
			pk := stringAttr(item, attrPK)
			if b, ok := item[attrState].(*types.AttributeValueMemberB); ok {
				parts[pk] = b.Value
			}
		}
		pending = res.UnprocessedKeys[s.table].Keys
	}
	var out bytes.Buffer
	for i := range n {
		p, ok := parts[chunkKey(name, version, i)]
		if !ok {
			return nil, errChunkGone
		}
		out.Write(p)
	}
	return out.Bytes(), nil
}

// Save implements window.Store. The chunks of the replaced version, if
// any, are deleted in the same transaction.
func (s *WindowStore) Save(ctx context.Context, name string, state []byte, expectVersion int64) error {
	packed, err := pack(state)
	if err != nil {
		return fmt.Errorf("saving window state %s: %w", name, err)
	}
	n := 0
	if len(packed) > chunkSize {
		n = (len(packed) + chunkSize - 1) / chunkSize
		if n > maxChunks {
			return fmt.Errorf("saving window state %s: %d bytes compressed, at most %d: %w", name, len(packed), maxChunks*chunkSize, ErrStateTooLarge)
		}
	}
	old, err := s.oldChunks(ctx, name, expectVersion)
	if err != nil {
		return err
	}
	next := expectVersion + 1
	var expires types.AttributeValue
	if s.ttl > 0 {
		expires = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Add(s.ttl).Unix(), 10)}
	}
	head := map[string]types.AttributeValue{
		attrPK:      &types.AttributeValueMemberS{Value: name},
		attrVersion: &types.AttributeValueMemberN{Value: strconv.FormatInt(next, 10)},
		attrChunks:  &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
	}
	if n == 0 {
		head[attrState] = &types.AttributeValueMemberB{Value: packed}
	}
	if expires != nil {
		head[attrExpiresAt] = expires
	}
	cond, values := "attribute_not_exists("+attrPK+")", map[string]types.AttributeValue(nil)
	if expectVersion > 0 {
		cond = attrVersion + " = :v"
		values = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(expectVersion, 10)}}
	}
	conflict := func() error {
		s.forget(name)
		return fmt.Errorf("saving window state %s at version %d: %w", name, expectVersion, window.ErrConflict)
	}
	if n == 0 && old == 0 {
		s.writes.Add(1)
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: head,
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
		var failed *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &failed):
			return conflict()
		case err != nil:
			s.forget(name)
			return fmt.Errorf("saving window state %s: %w", name, err)
		}
		s.remember(name, next, 0)
		return nil
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: head,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}}}
	for i := range n {
		item := map[string]types.AttributeValue{
			attrPK:    &types.AttributeValueMemberS{Value: chunkKey(name, next, i)},
			attrState: &types.AttributeValueMemberB{Value: packed[i*chunkSize : min((i+1)*chunkSize, len(packed))]},
		}
		if expires != nil {
			item[attrExpiresAt] = expires
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
	}
	for i := range old {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: keyOf(chunkKey(name, expectVersion, i))}})
	}
	s.writes.Add(1)
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if c := aws.ToString(r.Code); c == "ConditionalCheckFailed" || c == "TransactionConflict" {
				return conflict()
			}
		}
	}
	if err != nil {
		s.forget(name)
		return fmt.Errorf("saving window state %s (%d chunks): %w", name, n, err)
	}
	s.remember(name, next, n)
	return nil
}

// oldChunks returns how many chunks the version being replaced has: known
// from the last Load or Save of this store, else read from the head item.
func (s *WindowStore) oldChunks(ctx context.Context, name string, version int64) (int, error) {
	if version == 0 {
		return 0, nil
	}
	s.mu.Lock()
	vc, ok := s.chunks[name]
	s.mu.Unlock()
	if ok && vc.version == version {
		return vc.chunks, nil
	}
	res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(name),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String(attrVersion + ", " + attrChunks)})
	if err != nil {
		return 0, fmt.Errorf("reading window state %s before saving: %w", name, err)
	}
	if v, err := numberAttr(res.Item, attrVersion); err != nil || v != version {
		return 0, nil // not the expected version: the conditional write will report the conflict
	}
	c, err := numberAttr(res.Item, attrChunks)
	if err != nil {
		return 0, fmt.Errorf("reading window state %s before saving: %w", name, err)
	}
	return int(c), nil
}

func (s *WindowStore) remember(name string, version int64, chunks int) {
	s.mu.Lock()
	s.chunks[name] = versionChunks{version, chunks}
	s.mu.Unlock()
}

func (s *WindowStore) forget(name string) {
	s.mu.Lock()
	delete(s.chunks, name)
	s.mu.Unlock()
}

func pack(state []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(state); err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing: %w", err)
	}
	return b.Bytes(), nil
}

func unpack(packed []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if len(out) == 0 {
		return []byte{}, nil
	}
	return out, nil
}
