package cloud

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// edge is the one AWS API endpoint every function's AWS_ENDPOINT_URL_<SERVICE>
// names. It tells the caller by the access key in the SigV4 Authorization
// header (each role has its own) and the service by its credential scope,
// records each call as IAM would see it (action and resource ARN), then
// forwards it to the stand-in: S3 to gofakes3, DynamoDB to DynamoDB Local;
// Secrets Manager, Step Functions and MSK's GetBootstrapBrokers are answered
// here. The state machines' Lambda and SNS calls (from the driver) come here
// too.
type edge struct {
	c   *Cloud
	url string
	ln  net.Listener
	srv *http.Server
	s3  *httputil.ReverseProxy
	ddb *httputil.ReverseProxy
}

func startEdge(c *Cloud) (*edge, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the AWS endpoint: %w", err)
	}
	e := &edge{c: c, url: "http://" + ln.Addr().String(), ln: ln}
	s3u, _ := url.Parse(c.S3.Endpoint())
	e.s3 = httputil.NewSingleHostReverseProxy(s3u)
	if c.DynamoDB != nil {
		du, _ := url.Parse(c.DynamoDB.Endpoint())
		e.ddb = httputil.NewSingleHostReverseProxy(du)
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := e.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("cloud: the edge server stopped", "err", err)
		}
	}()
	return e, nil
}

func (e *edge) close() error { return e.srv.Close() }

var credRe = regexp.MustCompile(`Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request`)

// sigv4 reads the access key, region and service of a SigV4-signed request.
func sigv4(r *http.Request) (key, region, service string) {
	m := credRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", "", ""
	}
	return m[1], m[2], m[3]
}

// CallerHeader names the principal of the driver's calls (the state
// machine's role).
const CallerHeader = "X-Pulse-Caller"

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := e.c
	if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") {
		e.lambdaInvoke(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, cfnResponsePath) {
		e.serveCFNResponse(w, r)
		return
	}
	if r.URL.Path == "/sns/publish" {
		e.snsPublish(w, r)
		return
	}
	key, _, service := sigv4(r)
	role, known := c.keys[key]
	if !known && key != TestAccessKey {
		awsError(w, http.StatusForbidden, "InvalidClientTokenId", fmt.Sprintf("The security token included in the request is invalid (access key %q)", key))
		return
	}
	p := &caller{role: role, function: c.functionOf(role)}
	switch service {
	case "s3":
		e.serveS3(w, r, p)
	case "dynamodb":
		e.serveDynamo(w, r, p)
	case "secretsmanager":
		e.serveSecrets(w, r, p)
	case "states":
		e.serveStates(w, r, p)
	case "kafka":
		e.serveKafka(w, r, p)
	case "sts":
		e.serveSTS(w, r, p)
	default:
		c.record(p.call("unknown:"+service, r.Method+" "+r.URL.Path))
		awsError(w, http.StatusBadRequest, "UnknownService", "the local cloud does not serve "+service)
	}
}

// caller is who made a call.
type caller struct {
	role     *Resource
	function string
}

func (p *caller) call(action, resource string) Call {
	return Call{Principal: principal(p.role), Function: p.function, Action: action, Resource: resource}
}

// admit records calls and, with Enforce, says whether IAM would let them all
// through; the first denied one is returned.
func (e *edge) admit(calls ...Call) (denied *Call) {
	for i := range calls {
		if e.c.opts.Enforce && calls[i].Principal != "test" {
			if d := e.c.Decide(calls[i]); !d.Allowed {
				calls[i].Denied = true
				if denied == nil {
					denied = &calls[i]
				}
			}
		}
	}
	e.c.record(calls...)
	return denied
}

func awsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// --- S3 ---

// s3Calls are the IAM actions and resources of one S3 REST request
// (path-style): what IAM evaluates, which for most operations is not the
// operation's name (HeadObject is s3:GetObject, ListObjectsV2 is
// s3:ListBucket on the bucket, multipart steps are s3:PutObject).
func (e *edge) s3Calls(r *http.Request, body []byte, p *caller) ([]Call, error) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	bucket, _ = url.PathUnescape(bucket)
	key, _ = url.PathUnescape(key)
	q := r.URL.Query()
	barn := "arn:aws:s3:::" + bucket
	oarn := barn + "/" + key
	one := func(action, res string) []Call {
		cl := p.call(action, res)
		cl.Context = map[string]string{"aws:SecureTransport": "true"}
		return []Call{cl}
	}
	if bucket == "" {
		return one("s3:ListAllMyBuckets", "*"), nil
	}
	if key == "" {
		switch {
		case r.Method == http.MethodGet && q.Has("versions"):
			return one("s3:ListBucketVersions", barn), nil
		case r.Method == http.MethodGet && q.Has("location"):
			return one("s3:GetBucketLocation", barn), nil
		case r.Method == http.MethodGet && q.Has("versioning"):
			return one("s3:GetBucketVersioning", barn), nil
		case r.Method == http.MethodGet && q.Has("notification"):
			return one("s3:GetBucketNotification", barn), nil
		case r.Method == http.MethodGet && q.Has("uploads"):
			return one("s3:ListBucketMultipartUploads", barn), nil
		case r.Method == http.MethodGet, r.Method == http.MethodHead:
			cl := one("s3:ListBucket", barn)
			cl[0].Context["s3:prefix"] = q.Get("prefix")
			return cl, nil
		case r.Method == http.MethodPost && q.Has("delete"):
			var del struct {
				Objects []struct {
					Key       string `xml:"Key"`
					VersionID string `xml:"VersionId"`
				} `xml:"Object"`
			}
			if err := xml.Unmarshal(body, &del); err != nil {
				return nil, fmt.Errorf("reading DeleteObjects body: %w", err)
			}
			var calls []Call
			for _, o := range del.Objects {
				action := "s3:DeleteObject"
				if o.VersionID != "" {
					action = "s3:DeleteObjectVersion"
				}
				calls = append(calls, one(action, barn+"/"+o.Key)...)
			}
			return calls, nil
		case r.Method == http.MethodPut:
			return one("s3:CreateBucket", barn), nil
		case r.Method == http.MethodDelete:
			return one("s3:DeleteBucket", barn), nil
		}
		return one("s3:Unknown"+r.Method+"Bucket", barn), nil
	}
	var calls []Call
	versioned := q.Get("versionId") != ""
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Has("tagging"):
			calls = one("s3:GetObjectTagging", oarn)
		case q.Has("uploadId"):
			calls = one("s3:ListMultipartUploadParts", oarn)
		case versioned:
			calls = one("s3:GetObjectVersion", oarn)
		default:
			calls = one("s3:GetObject", oarn)
		}
		calls = append(calls, e.kms(p, bucket, "kms:Decrypt")...)
	case http.MethodPut:
		if q.Has("tagging") {
			return one("s3:PutObjectTagging", oarn), nil
		}
		calls = one("s3:PutObject", oarn)
		calls = append(calls, e.kms(p, bucket, "kms:GenerateDataKey")...)
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			su, err := url.Parse(src)
			if err != nil {
				return nil, fmt.Errorf("reading x-amz-copy-source %q: %w", src, err)
			}
			sb, sk, _ := strings.Cut(strings.TrimPrefix(su.Path, "/"), "/")
			action := "s3:GetObject"
			if su.Query().Get("versionId") != "" {
				action = "s3:GetObjectVersion"
			}
			calls = append(calls, one(action, "arn:aws:s3:::"+sb+"/"+sk)...)
			calls = append(calls, e.kms(p, sb, "kms:Decrypt")...)
		}
		if q.Has("uploadId") {
			calls = append(calls, e.kms(p, bucket, "kms:Decrypt")...)
		}
	case http.MethodPost:
		calls = one("s3:PutObject", oarn) // CreateMultipartUpload, CompleteMultipartUpload
		calls = append(calls, e.kms(p, bucket, "kms:GenerateDataKey")...)
		calls = append(calls, e.kms(p, bucket, "kms:Decrypt")...)
	case http.MethodDelete:
		switch {
		case q.Has("uploadId"):
			calls = one("s3:AbortMultipartUpload", oarn)
		case versioned:
			calls = one("s3:DeleteObjectVersion", oarn)
		default:
			calls = one("s3:DeleteObject", oarn)
		}
	default:
		calls = one("s3:Unknown"+r.Method+"Object", oarn)
	}
	return calls, nil
}

// kms is the KMS call S3 makes with the caller's permissions for an object
// of a bucket encrypted with a customer-managed key (SSE-KMS).
func (e *edge) kms(p *caller, bucket, action string) []Call {
	key := e.c.bucketKey(bucket)
	if key == "" {
		return nil
	}
	cl := p.call(action, key)
	cl.Implied = "s3"
	cl.Context = map[string]string{"kms:ViaService": "s3." + e.c.Assembly.Region + ".amazonaws.com"}
	return []Call{cl}
}

func (e *edge) serveS3(w http.ResponseWriter, r *http.Request, p *caller) {
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	calls, err := e.s3Calls(r, body, p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if d := e.admit(calls...); d != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>User: %s is not authorized to perform: %s on resource: %s</Message></Error>`,
			d.Principal, d.Action, d.Resource)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	e.s3.ServeHTTP(rec, r)
	if rec.status/100 == 2 && creates(r) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
		bucket, _ = url.PathUnescape(bucket)
		key, _ = url.PathUnescape(key)
		event := "ObjectCreated:Put"
		switch {
		case r.Header.Get("X-Amz-Copy-Source") != "":
			event = "ObjectCreated:Copy"
		case r.Method == http.MethodPost:
			event = "ObjectCreated:CompleteMultipartUpload"
		}
		e.c.objectCreated(bucket, key, event)
	}
}

// creates says whether a successful request made a new object version.
func creates(r *http.Request) bool {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		return !q.Has("uploadId") && !q.Has("tagging") && !q.Has("acl")
	case http.MethodPost:
		return q.Has("uploadId")
	}
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// --- DynamoDB ---

func (e *edge) dynamoCalls(target string, body []byte, p *caller) ([]Call, error) {
	op := strings.TrimPrefix(target, "DynamoDB_20120810.")
	var req struct {
		TableName     string
		IndexName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("reading %s request: %w", op, err)
	}
	table := func(name string) string {
		return "arn:aws:dynamodb:" + e.c.Assembly.Region + ":" + e.c.Assembly.Account + ":table/" + name
	}
	var calls []Call
	add := func(action, res string) {
		cl := p.call(action, res)
		cl.Context = map[string]string{"aws:SecureTransport": "true"}
		calls = append(calls, cl)
	}
	switch op {
	case "ListTables":
		add("dynamodb:ListTables", "*")
	case "BatchGetItem", "BatchWriteItem":
		for name := range req.RequestItems {
			add("dynamodb:"+op, table(name))
		}
	case "TransactWriteItems", "TransactGetItems":
		// IAM evaluates each item as its own action on its table.
		actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		for _, item := range req.TransactItems {
			for kind, it := range item {
				a, ok := actions[kind]
				if !ok {
					return nil, fmt.Errorf("%s: unknown item kind %s", op, kind)
				}
				add("dynamodb:"+a, table(it.TableName))
			}
		}
	default:
		res := table(req.TableName)
		if req.IndexName != "" {
			res += "/index/" + req.IndexName
		}
		add("dynamodb:"+op, res)
	}
	return calls, nil
}

func (e *edge) serveDynamo(w http.ResponseWriter, r *http.Request, p *caller) {
	if e.ddb == nil {
		awsError(w, http.StatusBadRequest, "ResourceNotFoundException", "the assembly has no DynamoDB tables")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	calls, err := e.dynamoCalls(r.Header.Get("X-Amz-Target"), body, p)
	if err != nil {
		awsError(w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	if d := e.admit(calls...); d != nil {
		awsError(w, http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	key, _, _ := sigv4(r)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential="+key+"/", "Credential="+ddbKey+"/", 1))
	e.ddb.ServeHTTP(w, r)
}

// --- Secrets Manager ---

func (e *edge) serveSecrets(w http.ResponseWriter, r *http.Request, p *caller) {
	target := r.Header.Get("X-Amz-Target")
	var req struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		awsError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	s, ok := e.c.secrets[req.SecretId]
	res := req.SecretId
	if ok {
		res = s.arn
	}
	if d := e.admit(p.call("secretsmanager:"+strings.TrimPrefix(target, "secretsmanager."), res)); d != nil {
		awsError(w, http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource))
		return
	}
	if target != "secretsmanager.GetSecretValue" {
		awsError(w, http.StatusBadRequest, "InvalidRequestException", "the local cloud answers GetSecretValue only, not "+target)
		return
	}
	if !ok {
		awsError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret "+req.SecretId)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"ARN": s.arn, "Name": s.name, "SecretString": s.value, "VersionId": "local-v1",
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(time.Now().Unix())})
}

// --- STS ---

// serveSTS answers GetCallerIdentity (gosnowflake's platform detection asks
// it at start), which IAM allows every principal without a grant; any other
// STS action is recorded and refused.
func (e *edge) serveSTS(w http.ResponseWriter, r *http.Request, p *caller) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.Form.Get("Action")
	if action != "GetCallerIdentity" {
		e.c.record(p.call("sts:"+action, "*"))
		awsError(w, http.StatusBadRequest, "InvalidAction", "the local cloud answers sts:GetCallerIdentity only, not "+action)
		return
	}
	e.c.record(p.call("sts:GetCallerIdentity", "*"))
	arn := "arn:aws:iam::" + e.c.Assembly.Account + ":user/test"
	if p.role != nil {
		name, _ := e.c.Assembly.Name(p.role)
		arn = "arn:aws:sts::" + e.c.Assembly.Account + ":assumed-role/" + name + "/" + p.function
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AROALOCAL:%s</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		arn, p.function, e.c.Assembly.Account, uuidOf(arn+time.Now().String()))
}

// --- MSK control plane ---

var brokersRe = regexp.MustCompile(`^/v1/clusters/(.+)/bootstrap-brokers$`)

func (e *edge) serveKafka(w http.ResponseWriter, r *http.Request, p *caller) {
	m := brokersRe.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		e.c.record(p.call("kafka:Unknown", r.URL.Path))
		awsError(w, http.StatusBadRequest, "BadRequestException", "the local cloud answers GetBootstrapBrokers only")
		return
	}
	arn, _ := url.PathUnescape(m[1])
	if d := e.admit(p.call("kafka:GetBootstrapBrokers", arn)); d != nil {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource)})
		return
	}
	if !e.c.isCluster(arn) {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"message": "cluster " + arn + " not found"})
		return
	}
	brokers := strings.Join(e.c.Kafka.Brokers(), ",")
	json.NewEncoder(w).Encode(map[string]string{"bootstrapBrokerStringSaslIam": brokers})
}

// isCluster says whether arn is the MSK cluster the assembly defines or names.
func (c *Cloud) isCluster(arn string) bool {
	for _, r := range c.Assembly.Resources("AWS::MSK::ServerlessCluster") {
		if a, err := c.Assembly.ARN(r); err == nil && a == arn {
			return true
		}
	}
	for _, m := range c.mappings {
		if m.Cluster == arn {
			return true
		}
	}
	for _, r := range c.Assembly.Resources("AWS::Lambda::EventSourceMapping") {
		if src, err := c.Assembly.String(r.Stack, r.Properties["EventSourceArn"]); err == nil && src == arn {
			return true
		}
	}
	return false
}

// --- Lambda Invoke and SNS Publish, from the state machines' driver ---

func (e *edge) lambdaInvoke(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	name, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), prefix), suffix))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad invoke request", http.StatusBadRequest)
		return
	}
	role := e.c.keys[r.Header.Get(CallerHeader)]
	p := &caller{role: role}
	f := e.c.functionByName(name)
	res := name
	if f != nil {
		res = f.ARN
	}
	if d := e.admit(p.call("lambda:InvokeFunction", res)); d != nil {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource)})
		return
	}
	if f == nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": "Function not found: " + name})
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	source := "invoke"
	if s := r.Header.Get("X-Pulse-Source"); s != "" {
		source = s
	}
	out, err := f.Invoke(r.Context(), source, payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		json.NewEncoder(w).Encode(map[string]any{"errorType": fe.Type, "errorMessage": fe.Message})
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"Type": "Service", "Message": err.Error()})
	default:
		w.Write(out)
	}
}

// functionByName finds a function by name or ARN (qualified or not).
func (c *Cloud) functionByName(name string) *Function {
	if f := c.byARN[name]; f != nil {
		return f
	}
	for _, f := range c.functions {
		if f.Name == name || strings.HasPrefix(name, f.ARN+":") {
			return f
		}
	}
	return nil
}

// Publish is one SNS message a state machine published.
type Publish struct {
	TopicArn, Subject, Message string
}

func (e *edge) snsPublish(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TopicArn string          `json:"TopicArn"`
		Subject  string          `json:"Subject"`
		Message  json.RawMessage `json:"Message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.TopicArn == "" {
		http.Error(w, fmt.Sprintf("sns publish needs TopicArn and Message: %v", err), http.StatusBadRequest)
		return
	}
	p := &caller{role: e.c.keys[r.Header.Get(CallerHeader)]}
	calls := []Call{p.call("sns:Publish", in.TopicArn)}
	if k := e.c.topicKey(in.TopicArn); k != "" {
		for _, a := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
			cl := p.call(a, k)
			cl.Implied = "sns"
			calls = append(calls, cl)
		}
	}
	if d := e.admit(calls...); d != nil {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", d.Principal, d.Action, d.Resource)})
		return
	}
	msg := string(in.Message)
	var text string
	if json.Unmarshal(in.Message, &text) == nil {
		msg = text
	}
	e.c.mu.Lock()
	e.c.publishes = append(e.c.publishes, Publish{TopicArn: in.TopicArn, Subject: in.Subject, Message: msg})
	n := len(e.c.publishes)
	e.c.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{"MessageId": fmt.Sprintf("local-%d", n)})
}

// Publishes returns the SNS messages published so far.
func (c *Cloud) Publishes() []Publish {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Publish(nil), c.publishes...)
}

// bucketKey is the ARN of the customer-managed KMS key a bucket is
// encrypted with, or "".
func (c *Cloud) bucketKey(bucket string) string {
	r := c.buckets[bucket]
	if r == nil {
		return ""
	}
	enc, err := c.Assembly.Resolve(r.Stack, r.Properties["BucketEncryption"])
	if err != nil {
		return ""
	}
	m, _ := enc.(map[string]any)
	for _, rule := range list(m["ServerSideEncryptionConfiguration"]) {
		d, _ := rule.(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)
		if d["SSEAlgorithm"] == "aws:kms" {
			if k, _ := d["KMSMasterKeyID"].(string); k != "" {
				return k
			}
		}
	}
	return ""
}

// topicKey is the ARN of the KMS key an SNS topic is encrypted with, or "".
func (c *Cloud) topicKey(topicARN string) string {
	for _, r := range c.Assembly.Resources("AWS::SNS::Topic") {
		if arn, err := c.Assembly.ARN(r); err != nil || arn != topicARN {
			continue
		}
		k, err := c.Assembly.String(r.Stack, r.Properties["KmsMasterKeyId"])
		if err != nil || k == "" {
			return ""
		}
		return k
	}
	return ""
}
