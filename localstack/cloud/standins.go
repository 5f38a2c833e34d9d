package cloud

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pulse-analytics/pulse/localstack/ddblocal"
	"github.com/pulse-analytics/pulse/localstack/kafkalocal"
	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/localstack/snowflakelocal"
)

// ddbKey is the access key every DynamoDB request reaches DynamoDB Local
// with: DynamoDB Local keeps one database per access key unless -sharedDb,
// and every role must see the same tables.
const ddbKey = "pulselocal"

// warehouse is what the functions' SNOWFLAKE_* environment says about the
// warehouse they share.
type warehouse struct {
	account, host, secret string
	port                  int
	users                 []string
}

// warehouseOf reads the warehouse the functions connect to, or nil when no
// function names one.
func (c *Cloud) warehouseOf() (*warehouse, error) {
	var w *warehouse
	users := map[string]bool{}
	for _, f := range c.functions {
		acct := f.Env["SNOWFLAKE_ACCOUNT"]
		if acct == "" {
			continue
		}
		host, port, proto := f.Env["SNOWFLAKE_HOST"], f.Env["SNOWFLAKE_PORT"], f.Env["SNOWFLAKE_PROTOCOL"]
		if host == "" || port == "" || proto != "http" {
			return nil, fmt.Errorf("function %s would reach Snowflake at %s.snowflakecomputing.com: synth with -c snowflakeHost=127.0.0.1 -c snowflakePort=<port> -c snowflakeProtocol=http to point it at the local warehouse", f.Label, acct)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("function %s's SNOWFLAKE_HOST %s is not a loopback address", f.Label, host)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("function %s's SNOWFLAKE_PORT %q: %w", f.Label, port, err)
		}
		this := &warehouse{account: acct, host: host, port: p, secret: f.Env["SNOWFLAKE_PRIVATE_KEY_SECRET"]}
		if w == nil {
			w = this
		} else if w.account != this.account || w.host != this.host || w.port != this.port || w.secret != this.secret {
			return nil, fmt.Errorf("functions name different warehouses (%+v and %+v): the local cloud runs one", *w, *this)
		}
		if u := f.Env["SNOWFLAKE_USER"]; u != "" {
			users[u] = true
		}
	}
	if w == nil {
		return nil, nil
	}
	for u := range users {
		w.users = append(w.users, u)
	}
	sort.Strings(w.users)
	if w.secret == "" || len(w.users) == 0 {
		return nil, errors.New("the warehouse functions name no SNOWFLAKE_USER or SNOWFLAKE_PRIVATE_KEY_SECRET")
	}
	return w, nil
}

func (c *Cloud) startStandIns(ctx context.Context) error {
	var err error
	if c.opts.Persist {
		c.S3, err = s3local.StartDir(ctx, "127.0.0.1:0", filepath.Join(c.dir, "s3"))
	} else {
		c.S3, err = s3local.Start(ctx, "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	if len(c.Assembly.Resources("AWS::DynamoDB::Table")) > 0 {
		if c.DynamoDB, err = ddblocal.Start(ctx); err != nil {
			return err
		}
	}
	if c.kafkaIAM, err = newKafkaFront(c); err != nil {
		return err
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(c.kafkaIAM.listen),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(c.opts.Partitions))
	if err != nil {
		return fmt.Errorf("starting kafka: %w", err)
	}
	c.Kafka = &kafkaCluster{kc}
	return nil
}

// kafkaCluster is the local Kafka cluster (one broker).
type kafkaCluster struct{ c *kfake.Cluster }

// Brokers are the seed addresses (plain Kafka, or TLS with SASL AWS_MSK_IAM
// on the same port).
func (k *kafkaCluster) Brokers() []string { return k.c.ListenAddrs() }

// Partitions is how many partitions a topic has (0 when it does not exist).
func (k *kafkaCluster) Partitions(topic string) int {
	return len(k.c.PartitionInfos(topic))
}

// Close stops the cluster.
func (k *kafkaCluster) Close() { k.c.Close() }

// createResources makes the buckets, tables, secrets, topics and the
// warehouse the templates and functions name.
func (c *Cloud) createResources(ctx context.Context) error {
	a := c.Assembly
	for _, r := range a.Resources("AWS::S3::Bucket") {
		name, err := a.Name(r)
		if err != nil {
			return err
		}
		if err := c.S3.CreateBuckets(ctx, name); err != nil {
			return err
		}
		c.buckets[name] = r
	}
	for _, r := range a.Resources("AWS::DynamoDB::Table") {
		if err := c.createTable(ctx, r); err != nil {
			return err
		}
	}
	for arn, v := range c.opts.Secrets {
		c.addSecret(arn, v)
	}
	if err := c.startRegistry(ctx); err != nil {
		return err
	}
	w, err := c.warehouseOf()
	if err != nil {
		return err
	}
	if w != nil {
		if err := c.startWarehouse(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cloud) createTable(ctx context.Context, r *Resource) error {
	a := c.Assembly
	name, err := a.Name(r)
	if err != nil {
		return err
	}
	props, err := a.Resolve(r.Stack, r.Properties)
	if err != nil {
		return fmt.Errorf("%s: %w", r, err)
	}
	p := props.(map[string]any)
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for _, d := range list(p["AttributeDefinitions"]) {
		m, _ := d.(map[string]any)
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(fmt.Sprint(m["AttributeName"])), AttributeType: types.ScalarAttributeType(fmt.Sprint(m["AttributeType"]))})
	}
	for _, k := range list(p["KeySchema"]) {
		m, _ := k.(map[string]any)
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
			AttributeName: aws.String(fmt.Sprint(m["AttributeName"])), KeyType: types.KeyType(fmt.Sprint(m["KeyType"]))})
	}
	if len(in.KeySchema) == 0 {
		return fmt.Errorf("%s has no KeySchema", r)
	}
	if p["GlobalSecondaryIndexes"] != nil || p["LocalSecondaryIndexes"] != nil {
		return fmt.Errorf("%s: secondary indexes are not created by the local cloud yet", r)
	}
	client := c.dynamoClient()
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("creating table %s (%s): %w", name, r, err)
	}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(fmt.Sprint(ttl["AttributeName"])), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("enabling TTL on %s: %w", name, err)
		}
	}
	c.tables[name] = r
	return nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// dynamoClient talks to DynamoDB Local directly (not recorded).
func (c *Cloud) dynamoClient() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: c.Assembly.Region, BaseEndpoint: aws.String(c.DynamoDB.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider(ddbKey, "local", ""),
	})
}

// startWarehouse starts the Snowflake stand-in where the functions' template
// says the warehouse is, with a key pair whose private key is the secret
// they read. It creates nothing in it: the deployment's schema custom
// resource does (runCustomResources).
func (c *Cloud) startWarehouse(ctx context.Context, w *warehouse) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	users := map[string]*rsa.PublicKey{}
	for _, u := range w.users {
		users[u] = &key.PublicKey
	}
	c.Snowflake, err = snowflakelocal.Start(ctx, snowflakelocal.Options{
		Addr: net.JoinHostPort(w.host, strconv.Itoa(w.port)), Account: w.account, Users: users,
		Dir: filepath.Join(c.dir, "warehouse"), File: "warehouse.duckdb", MemoryLimit: 256 << 20, Log: c.log,
	})
	if err != nil {
		return fmt.Errorf("starting the warehouse the template names (%s:%d): %w", w.host, w.port, err)
	}
	c.addSecret(w.secret, keyPEM)
	return nil
}

// secret is one Secrets Manager secret.
type secret struct {
	arn, name, value string
}

// addSecret stores a secret under its ARN (and its name: the ARN's last
// part without Secrets Manager's 6-character suffix).
func (c *Cloud) addSecret(arn, value string) {
	name := arn
	if i := strings.Index(arn, ":secret:"); i >= 0 {
		name = arn[i+len(":secret:"):]
		if j := strings.LastIndexByte(name, '-'); j >= 0 && len(name)-j-1 == 6 {
			name = name[:j]
		}
	}
	s := secret{arn: arn, name: name, value: value}
	c.secrets[arn] = s
	c.secrets[name] = s
}

// startRegistry starts the schema registry the functions' template names
// (PULSE_SCHEMA_REGISTRY_URL on a loopback address), an srfake registry.
func (c *Cloud) startRegistry(ctx context.Context) error {
	addr := ""
	for _, f := range c.functions {
		u := f.Env["PULSE_SCHEMA_REGISTRY_URL"]
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "http" {
			return fmt.Errorf("function %s's PULSE_SCHEMA_REGISTRY_URL %q is not an http URL", f.Label, u)
		}
		if ip := net.ParseIP(pu.Hostname()); pu.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("function %s's schema registry %s is not on a loopback address", f.Label, u)
		}
		if addr != "" && addr != pu.Host {
			return fmt.Errorf("functions name two schema registries, %s and %s", addr, pu.Host)
		}
		addr = pu.Host
	}
	if addr == "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("schema registry port %q: %w", port, err)
	}
	if c.Registry, err = kafkalocal.StartRegistryOn(ctx, p); err != nil {
		return fmt.Errorf("starting the schema registry the template names (%s): %w", addr, err)
	}
	return nil
}
