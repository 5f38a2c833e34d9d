package cloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaFront is the Kafka listener in front of kfake. A connection that
// starts with a TLS handshake is MSK's IAM listener: TLS with a certificate
// of a local CA, then SASL AWS_MSK_IAM, whose signed payload names the
// caller's access key (its role) and the action kafka-cluster:Connect, both
// recorded; the produce requests that follow are recorded as
// kafka-cluster:WriteData on their topics. Any other connection is plain
// Kafka (the event-source mappings, tests, kcat), passed through untouched.
type kafkaFront struct {
	c      *Cloud
	tls    *tls.Config
	caFile string
}

func newKafkaFront(c *Cloud) (*kafkaFront, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Pulse local cloud CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(c.dir, "kafka-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return nil, err
	}
	return &kafkaFront{c: c, caFile: caFile, tls: &tls.Config{MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}, nil
}

func (k *kafkaFront) close() {}

// listen is kfake's ListenFn.
func (k *kafkaFront) listen(network, addr string) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	return &frontListener{Listener: ln, k: k}, nil
}

type frontListener struct {
	net.Listener
	k *kafkaFront
}

func (l *frontListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &frontConn{Conn: conn, k: l.k}, nil
}

// frontConn decides on its first read whether the client speaks TLS.
type frontConn struct {
	net.Conn
	k *kafkaFront

	once    sync.Once
	initErr error
	in      net.Conn // what is read from and written to: the raw or the TLS conn
	iam     bool
	caller  *caller
	pending []byte
	wmu     sync.Mutex
}

func (f *frontConn) init() {
	br := &peekConn{Conn: f.Conn}
	first := make([]byte, 1)
	if _, err := io.ReadFull(f.Conn, first); err != nil {
		f.initErr = err
		return
	}
	br.peeked = first
	if first[0] != 0x16 { // not a TLS handshake record: plain Kafka
		f.in = br
		return
	}
	tc := tls.Server(br, f.k.tls)
	if err := tc.Handshake(); err != nil {
		f.initErr = fmt.Errorf("kafka TLS handshake: %w", err)
		return
	}
	f.in, f.iam = tc, true
}

// peekConn replays bytes already read.
type peekConn struct {
	net.Conn
	peeked []byte
}

func (p *peekConn) Read(b []byte) (int, error) {
	if len(p.peeked) > 0 {
		n := copy(b, p.peeked)
		p.peeked = p.peeked[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

func (f *frontConn) Read(b []byte) (int, error) {
	f.once.Do(f.init)
	if f.initErr != nil {
		return 0, f.initErr
	}
	if !f.iam {
		return f.in.Read(b)
	}
	for len(f.pending) == 0 {
		frame, err := readFrame(f.in)
		if err != nil {
			return 0, err
		}
		forward, err := f.intercept(frame)
		if err != nil {
			return 0, err
		}
		if forward {
			f.pending = frame
		}
	}
	n := copy(b, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func (f *frontConn) Write(b []byte) (int, error) {
	f.once.Do(f.init)
	if f.initErr != nil {
		return 0, f.initErr
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	return f.in.Write(b)
}

// readFrame reads one size-prefixed Kafka request, size included.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 256<<20 {
		return nil, fmt.Errorf("kafka request of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// header reads a request header: key, version, correlation ID and where
// the body starts (after the client ID and, for flexible versions, the
// header's tagged fields).
func header(frame []byte) (key, version int16, corr int32, body []byte, err error) {
	b := frame[4:]
	if len(b) < 10 {
		return 0, 0, 0, nil, errors.New("short kafka request header")
	}
	key = int16(binary.BigEndian.Uint16(b[0:]))
	version = int16(binary.BigEndian.Uint16(b[2:]))
	corr = int32(binary.BigEndian.Uint32(b[4:]))
	cl := int16(binary.BigEndian.Uint16(b[8:]))
	off := 10
	if cl > 0 {
		off += int(cl)
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return key, version, corr, nil, nil
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		// Tagged fields: a count, then (tag, size, bytes) each, as uvarints.
		n, w := binary.Uvarint(b[off:])
		off += w
		for i := uint64(0); i < n; i++ {
			_, w := binary.Uvarint(b[off:])
			off += w
			size, w := binary.Uvarint(b[off:])
			off += w + int(size)
		}
	}
	if off > len(b) {
		return 0, 0, 0, nil, errors.New("kafka request header overruns the frame")
	}
	return key, version, corr, b[off:], nil
}

// intercept answers the SASL requests of the IAM listener itself and
// records produce requests; it says whether the frame goes on to kfake.
func (f *frontConn) intercept(frame []byte) (bool, error) {
	key, version, corr, body, err := header(frame)
	if err != nil {
		return false, err
	}
	switch key {
	case 17: // SaslHandshake
		req := kmsg.NewSASLHandshakeRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err != nil {
			return false, fmt.Errorf("reading SaslHandshake: %w", err)
		}
		resp := kmsg.NewSASLHandshakeResponse()
		resp.SetVersion(version)
		resp.SupportedMechanisms = []string{"AWS_MSK_IAM"}
		if req.Mechanism != "AWS_MSK_IAM" {
			resp.ErrorCode = 33 // UNSUPPORTED_SASL_MECHANISM
		}
		return false, f.respond(corr, &resp)
	case 36: // SaslAuthenticate
		req := kmsg.NewSASLAuthenticateRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err != nil {
			return false, fmt.Errorf("reading SaslAuthenticate: %w", err)
		}
		resp := kmsg.NewSASLAuthenticateResponse()
		resp.SetVersion(version)
		if msg := f.authenticate(req.SASLAuthBytes); msg != "" {
			resp.ErrorCode = 58 // SASL_AUTHENTICATION_FAILED
			resp.ErrorMessage = &msg
		} else {
			resp.SASLAuthBytes = []byte(`{"version":"2020_10_22","request-id":"` + uuidOf(fmt.Sprint(time.Now().UnixNano())) + `"}`)
			resp.SessionLifetimeMillis = int64(time.Hour / time.Millisecond)
		}
		return false, f.respond(corr, &resp)
	case 0: // Produce: kafka-cluster:WriteData on each topic
		if f.caller == nil {
			return true, nil
		}
		req := kmsg.NewProduceRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err == nil {
			for _, t := range req.Topics {
				topic := t.Topic
				if version >= 13 && f.k.c.Kafka != nil {
					// Produce v13+ names the topic by its ID.
					if info := f.k.c.Kafka.c.TopicIDInfo(t.TopicID); info != nil {
						topic = info.Topic
					}
				}
				f.k.c.record(f.caller.call("kafka-cluster:WriteData", f.k.c.kafkaARN("topic", topic)))
			}
		}
	case 22: // InitProducerID: an idempotent producer needs kafka-cluster:WriteDataIdempotently on the
		// cluster, a transactional one kafka-cluster:AlterTransactionalId on its transactional ID
		if f.caller == nil {
			return true, nil
		}
		req := kmsg.NewInitProducerIDRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err == nil {
			if req.TransactionalID == nil {
				f.k.c.record(f.caller.call("kafka-cluster:WriteDataIdempotently", f.k.c.kafkaARN("cluster", "")))
			} else {
				f.k.c.record(f.caller.call("kafka-cluster:AlterTransactionalId", f.k.c.kafkaARN("transactional-id", *req.TransactionalID)))
			}
		}
	case 19: // CreateTopics: kafka-cluster:CreateTopic on each topic
		if f.caller == nil {
			return true, nil
		}
		req := kmsg.NewCreateTopicsRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err == nil {
			for _, t := range req.Topics {
				f.k.c.record(f.caller.call("kafka-cluster:CreateTopic", f.k.c.kafkaARN("topic", t.Topic)))
			}
		}
	case 37: // CreatePartitions: kafka-cluster:AlterTopic on each topic
		if f.caller == nil {
			return true, nil
		}
		req := kmsg.NewCreatePartitionsRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err == nil {
			for _, t := range req.Topics {
				f.k.c.record(f.caller.call("kafka-cluster:AlterTopic", f.k.c.kafkaARN("topic", t.Topic)))
			}
		}
	case 3: // Metadata: kafka-cluster:DescribeTopic on each topic named
		if f.caller == nil {
			return true, nil
		}
		req := kmsg.NewMetadataRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(body); err == nil {
			for _, t := range req.Topics {
				if t.Topic != nil {
					f.k.c.record(f.caller.call("kafka-cluster:DescribeTopic", f.k.c.kafkaARN("topic", *t.Topic)))
				}
			}
		}
	}
	return true, nil
}

var mskCredRe = regexp.MustCompile(`^([^/]+)/`)

// authenticate checks an AWS_MSK_IAM payload and records its Connect call;
// it returns why authentication fails, or "".
func (f *frontConn) authenticate(payload []byte) string {
	var p struct {
		Version    string `json:"version"`
		Action     string `json:"action"`
		Credential string `json:"x-amz-credential"`
		Signature  string `json:"x-amz-signature"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return "the AWS_MSK_IAM payload is not JSON: " + err.Error()
	}
	m := mskCredRe.FindStringSubmatch(p.Credential)
	if p.Version != "2020_10_22" || p.Action != "kafka-cluster:Connect" || m == nil || p.Signature == "" {
		return fmt.Sprintf("the AWS_MSK_IAM payload is not a signed kafka-cluster:Connect of version 2020_10_22 (%s, %s)", p.Version, p.Action)
	}
	c := f.k.c
	role, known := c.keys[m[1]]
	if !known && m[1] != TestAccessKey {
		return "unknown access key " + m[1]
	}
	f.caller = &caller{role: role, function: c.functionOf(role)}
	if d := c.edge.admit(f.caller.call("kafka-cluster:Connect", c.kafkaARN("cluster", ""))); d != nil {
		return fmt.Sprintf("Access denied: %s is not authorized to perform %s on %s", d.Principal, d.Action, d.Resource)
	}
	return ""
}

// respond writes a response frame for a request.
func (f *frontConn) respond(corr int32, resp kmsg.Response) error {
	buf := make([]byte, 4, 64)
	buf = binary.BigEndian.AppendUint32(buf, uint32(corr))
	if resp.IsFlexible() {
		buf = append(buf, 0) // response header tagged fields
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_, err := f.in.Write(buf)
	return err
}

// kafkaARN is the ARN of the cluster ("cluster", "") or of a topic or
// group of it.
func (c *Cloud) kafkaARN(kind, name string) string {
	cluster := ""
	for _, m := range c.mappings {
		cluster = m.Cluster
		break
	}
	if cluster == "" {
		for _, r := range c.Assembly.Resources("AWS::Lambda::EventSourceMapping") {
			if src, err := c.Assembly.String(r.Stack, r.Properties["EventSourceArn"]); err == nil && strings.Contains(src, ":kafka:") {
				cluster = src
				break
			}
		}
	}
	if cluster == "" {
		for _, r := range c.Assembly.Resources("AWS::MSK::ServerlessCluster") {
			cluster, _ = c.Assembly.ARN(r)
		}
	}
	if kind == "cluster" {
		return cluster
	}
	return regexp.MustCompile(`:cluster/`).ReplaceAllString(cluster, ":"+kind+"/") + "/" + name
}
