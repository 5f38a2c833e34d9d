package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	"github.com/pulse-analytics/pulse/shared/port"
)

// notification is one LambdaFunctionConfiguration of a bucket's
// notification configuration.
type notification struct {
	bucket   string
	events   []string // s3:ObjectCreated:*, s3:ObjectCreated:Put, ...
	prefix   string
	suffix   string
	function *Function
}

// loadNotifications reads the buckets' notification configurations: CDK's
// Custom::S3BucketNotifications resources (and a bucket's own
// NotificationConfiguration).
func (c *Cloud) loadNotifications() error {
	a := c.Assembly
	c.eventBridge = map[string]bool{}
	type conf struct {
		st     *Stack
		bucket any
		cfg    any
		where  string
	}
	var confs []conf
	for _, r := range a.Resources("Custom::S3BucketNotifications") {
		confs = append(confs, conf{r.Stack, r.Properties["BucketName"], r.Properties["NotificationConfiguration"], r.String()})
	}
	for _, r := range a.Resources("AWS::S3::Bucket") {
		if r.Properties["NotificationConfiguration"] != nil {
			confs = append(confs, conf{r.Stack, map[string]any{"Ref": r.ID}, r.Properties["NotificationConfiguration"], r.String()})
		}
	}
	for _, cf := range confs {
		bucket, err := a.String(cf.st, cf.bucket)
		if err != nil {
			return fmt.Errorf("%s: BucketName: %w", cf.where, err)
		}
		v, err := a.Resolve(cf.st, cf.cfg)
		if err != nil {
			return fmt.Errorf("%s: NotificationConfiguration: %w", cf.where, err)
		}
		m, _ := v.(map[string]any)
		if _, ok := m["EventBridgeConfiguration"]; ok {
			c.eventBridge[bucket] = true
		}
		for _, kind := range []string{"QueueConfigurations", "TopicConfigurations"} {
			if len(list(m[kind])) > 0 {
				c.skipped = append(c.skipped, fmt.Sprintf("%s: %s of bucket %s are not delivered", cf.where, kind, bucket))
			}
		}
		for i, lc := range list(m["LambdaFunctionConfigurations"]) {
			l, _ := lc.(map[string]any)
			arn, _ := l["LambdaFunctionArn"].(string)
			if arn == "" {
				arn, _ = l["Function"].(string)
			}
			fn := c.functionByName(arn)
			if fn == nil {
				return fmt.Errorf("%s: notification %d of bucket %s names function %s, which the local cloud does not run", cf.where, i, bucket, arn)
			}
			n := &notification{bucket: bucket, events: strs(l["Events"]), function: fn}
			if len(n.events) == 0 {
				n.events = strs(l["Event"])
			}
			f, _ := l["Filter"].(map[string]any)
			if f == nil {
				f, _ = l["Filter"].(map[string]any)
			}
			key, _ := f["Key"].(map[string]any)
			if key == nil {
				key, _ = f["S3Key"].(map[string]any)
			}
			rules := list(key["FilterRules"])
			if rules == nil {
				rules = list(key["Rules"])
			}
			for _, fr := range rules {
				r, _ := fr.(map[string]any)
				switch strings.ToLower(fmt.Sprint(r["Name"])) {
				case "prefix":
					n.prefix = fmt.Sprint(r["Value"])
				case "suffix":
					n.suffix = fmt.Sprint(r["Value"])
				}
			}
			c.notify = append(c.notify, n)
		}
	}
	return nil
}

// matches says whether an event of a key fires the notification.
func (n *notification) matches(bucket, key, event string) bool {
	if bucket != n.bucket || !strings.HasPrefix(key, n.prefix) || !strings.HasSuffix(key, n.suffix) {
		return false
	}
	for _, e := range n.events {
		if e == "s3:"+event || strings.HasSuffix(e, ":*") && strings.HasPrefix("s3:"+event, strings.TrimSuffix(e, "*")) {
			return true
		}
	}
	return false
}

var (
	seqMu   sync.Mutex
	lastSeq int64
)

// sequencer returns a value greater than any returned before.
func sequencer() int64 {
	seqMu.Lock()
	defer seqMu.Unlock()
	s := time.Now().UnixNano()
	if s <= lastSeq {
		s = lastSeq + 1
	}
	lastSeq = s
	return s
}

// objectCreated sends the notifications S3 sends for a new object: to each
// matching function (asynchronous invocation, retried twice) and, when the
// bucket delivers to EventBridge, an "Object Created" event to the rules.
func (c *Cloud) objectCreated(bucket, key, event string) {
	var targets []*notification
	for _, n := range c.notify {
		if n.matches(bucket, key, event) {
			targets = append(targets, n)
		}
	}
	if len(targets) == 0 && !c.eventBridge[bucket] {
		return
	}
	size, etag, version, err := c.head(bucket, key)
	if err != nil {
		c.log.Warn("cloud: reading a new object for its notification", "bucket", bucket, "key", key, "error", err)
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	seq := sequencer()
	for _, n := range targets {
		ev := awsevents.NewS3Event(port.FileDrop{Bucket: bucket, Key: key, Size: size, ETag: etag, VersionID: version,
			EventTime: now.Format("2006-01-02T15:04:05.000Z07:00")}, c.Assembly.Region)
		ev.Records[0].EventName = event
		ev.Records[0].S3.Object.Sequencer = awsevents.Sequencer(seq)
		ev.Records[0].S3.Bucket.Arn = "arn:aws:s3:::" + bucket
		payload, err := json.Marshal(ev)
		if err != nil {
			c.log.Warn("cloud: encoding an S3 notification", "error", err)
			continue
		}
		c.invokeAsync(n.function, "s3:"+bucket, payload)
	}
	if c.eventBridge[bucket] {
		c.putEvent(map[string]any{
			"version": "0", "id": uuidOf(fmt.Sprint(seq, bucket, key)), "detail-type": "Object Created", "source": "aws.s3",
			"account": c.Assembly.Account, "time": now.Format(time.RFC3339), "region": c.Assembly.Region,
			"resources": []any{"arn:aws:s3:::" + bucket},
			"detail": map[string]any{"version": "0", "bucket": map[string]any{"name": bucket},
				"object":     map[string]any{"key": key, "size": float64(size), "etag": etag, "version-id": version, "sequencer": awsevents.Sequencer(seq)},
				"request-id": strconv.FormatInt(seq, 36), "requester": c.Assembly.Account, "source-ip-address": "127.0.0.1", "reason": reason(event)},
		})
	}
}

func reason(event string) string {
	switch event {
	case "ObjectCreated:Copy":
		return "CopyObject"
	case "ObjectCreated:CompleteMultipartUpload":
		return "CompleteMultipartUpload"
	}
	return "PutObject"
}

// invokeAsync invokes a function as Lambda's asynchronous invocation does:
// in the background, retried twice after a function error.
func (c *Cloud) invokeAsync(f *Function, source string, payload []byte) {
	c.track(func() {
		wait := c.opts.MappingBackoff
		for attempt := 1; attempt <= 3; attempt++ {
			_, err := f.Invoke(c.ctx, source, payload)
			if err == nil || c.ctx.Err() != nil {
				return
			}
			c.log.Warn("cloud: asynchronous invocation failed", "function", f.Label, "source", source, "attempt", attempt, "error", err)
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(wait):
			}
			wait *= 2
		}
	})
}

// head reads an object's size, ETag and version ID from the S3 stand-in
// directly (not a recorded call).
func (c *Cloud) head(bucket, key string) (int64, string, string, error) {
	u := c.S3.Endpoint() + "/" + url.PathEscape(bucket) + "/" + escapeKey(key)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodHead, u, nil)
	if err != nil {
		return 0, "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", "", fmt.Errorf("HEAD %s: %s", u, resp.Status)
	}
	return resp.ContentLength, strings.Trim(resp.Header.Get("ETag"), `"`), resp.Header.Get("X-Amz-Version-Id"), nil
}

func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
