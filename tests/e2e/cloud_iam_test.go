package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulse-analytics/pulse/localstack/cloud"
)

// The IAM table: every grant of every function's role, from the template,
// marked with what the local cloud runs used (TestCloudBatchFileDrops,
// with the gold and catalog workflows, and TestCloudStreamTopics). A grant
// no call of either run used must be justified below (an error path the
// runs did not take, a call AWS makes that the stand-ins do not); a grant
// listed as removed must not be granted again. The table is written into
// infra/README.md between its markers and checked there, so it cannot go
// stale: when it differs the test fails and prints it
// (PULSE_UPDATE_IAM_TABLE=1 writes it instead).

// unusedGrant justifies grants no call of the runs used: a grant matches
// when its function (or "*"), action and a part of its resource match.
type unusedGrant struct {
	fn, action, resource, why string
	// sometimes: a run may or may not use it (timing, data); the table
	// lists it with its reason either way.
	sometimes bool
}

const dedupeReadBack = "error path: a claim whose conditional PutItem fails is read back to tell a duplicate from a claim held by work in flight"

var unusedGrants = []unusedGrant{
	{"*", "s3:ListBucket", "", "error path: without it a missing object answers 403 instead of 404 (NoSuchKey), which the readers treat as \"not there\"; no object read here was missing", true},
	{"*", "s3:AbortMultipartUpload", "", "error path: the SDK's upload manager aborts a multipart upload that failed; every object here was small enough for one PutObject", false},
	{"clean", "s3:GetObject", "PulseStorage/Staging/_manifests/", "large files: Combine reads the chunk manifests of a file split for the Distributed Map; no file here was above the chunk size (tests/stepfunctions TestLargeFileRunsTheDistributedMap runs it)", false},
	{"clean", "s3:PutObject", "PulseStorage/Quarantine/_files/", "error path: a file the workflow gives up on is quarantined by reference (mode quarantine); every file here loaded (tests/stepfunctions TestLoadFailureRetriesThenQuarantines runs it)", false},
	{"clean", "dynamodb:GetItem", "PulseState/Dedupe", dedupeReadBack, true},
	{"stream", "dynamodb:GetItem", "PulseState/Dedupe", dedupeReadBack, true},
	{"catalog", "s3:PutObject", "PulseStorage/Quarantine/movies_catalog/", "error path: rejected Movies.txt lines are kept with their reasons; the catalog here had none", false},
	{"catalog", "kms:GenerateDataKey", "PulseStorage/DataKey", "error path: for the rejected lines' object (the same write)", false},
	{"stream", "s3:PutObject", "PulseStorage/Raw/aws/lambda/", "error path: the event-source mapping's S3 on-failure destination (a batch that failed every attempt); no batch failed here", false},
	{"stream", "s3:PutObject", "PulseStorage/Quarantine/stream/", "error path: poison messages (bad base64, bad Avro) are quarantined whole", true},
	{"stream", "dynamodb:BatchGetItem", "PulseState/WindowState", "a window state too large for one item is kept in chunks, read back with BatchGetItem; the runs' states fit in one item", true},
	{"stream", "kafka-cluster:DescribeClusterDynamicConfiguration", "", "AWS documents it among an MSK event-source mapping's permissions with IAM auth: the mapping's poller (the Lambda service, as this role) reads the cluster's dynamic configuration; the local mapping does not", false},
	{"stream", "dynamodb:DeleteItem", "PulseState/WindowState", "a window state that shrinks from more chunks to fewer deletes the chunks left over (TransactWriteItems); the run's states may not shrink", true},
	{"stream", "kafka:", "", "CDK's ManagedKafkaEventSource grants the mapping kafka:DescribeCluster, GetBootstrapBrokers and ListScramSecrets on the cluster, and attaches AWSLambdaMSKExecutionRole: on AWS the mapping (the Lambda service, as this role) calls them to find the brokers and place its network interfaces; the local mapping reaches the Kafka stand-in directly. ListScramSecrets serves SASL/SCRAM, which Pulse does not use; it lists secret ARNs only and comes in CDK's statement", false},
	{"stream", "ec2:", "", "AWSLambdaMSKExecutionRole (CDK attaches it for the MSK mapping): on AWS the mapping creates and describes network interfaces in the cluster's VPC; no VPC here", false},
	{"stream", "logs:", "*", "AWSLambdaMSKExecutionRole's logs:* on *: the function's own log group grant is what the runtime uses; the managed policy comes with CDK's MSK mapping (infra/stacks/nag.go)", false},
	{"topics", "kafka-cluster:AlterTopic", "", "a topic that exists with fewer partitions than the deployment asks for is given more (CreatePartitions); the topics here were new", false},
}

// removedGrant is a grant issue 11 removed from the roles of fns after the
// local cloud's runs showed no call needs it; the test fails if one of
// them has it again.
type removedGrant struct {
	fns                   []string
	action, resource, why string
}

var removedGrants = []removedGrant{
	{[]string{"catalog", "clean", "datatests", "load", "model"}, "s3:GetObjectVersion", "", "no function reads an object by version (the S3 adapter never sends versionId)"},
	{[]string{"datatests", "gold", "load", "schema", "stream"}, "secretsmanager:DescribeSecret", "", "came with ISecret.GrantRead; the warehouse functions only call GetSecretValue"},
	{[]string{"model"}, "s3:GetObject", "PulseStorage/Staging/*", "model reads its dataset's parts and the manifests: <dataset>/ and _manifests/ only"},
	{[]string{"model"}, "s3:GetObject", "PulseStorage/Quarantine/*", "model reads its dataset's rejects: <dataset>/ only"},
}

func (rg removedGrant) of(fn string) bool {
	for _, f := range rg.fns {
		if f == fn {
			return true
		}
	}
	return false
}

var (
	iamMu      sync.Mutex
	iamReports = map[string]iamRun{} // by test name
)

// iamRun is what one cloud test's run used.
type iamRun struct {
	c      *cloud.Cloud
	grants []cloud.GrantUse
}

// iamTests are the runs whose calls the table is made of.
var iamTests = []string{"TestCloudBatchFileDrops", "TestCloudStreamTopics"}

// recordIAM keeps a run's grants; once every run of iamTests has passed,
// it checks the table.
func recordIAM(t *testing.T, c *cloud.Cloud, rep *cloud.Report) {
	t.Helper()
	if t.Failed() {
		return
	}
	iamMu.Lock()
	iamReports[t.Name()] = iamRun{c: c, grants: rep.Grants}
	var runs []iamRun
	for _, name := range iamTests {
		if r, ok := iamReports[name]; ok {
			runs = append(runs, r)
		}
	}
	iamMu.Unlock()
	if len(runs) < len(iamTests) {
		t.Logf("IAM table: checked once %v have all run", iamTests)
		return
	}
	checkIAMTable(t, runs)
}

var arnPrefix = regexp.MustCompile(`arn:aws:([a-z0-9-]+):[a-z0-9-]*:[0-9]*:`)

func short(c *cloud.Cloud, s string) string {
	s = c.Shorten(s)
	s = strings.ReplaceAll(s, cloud.LocalClusterARN[strings.Index(cloud.LocalClusterARN, "cluster/")+len("cluster/"):], "{cluster}")
	return arnPrefix.ReplaceAllString(s, "$1:")
}

type grantRow struct {
	action, resource string
	used             bool
	source           string
}

func checkIAMTable(t *testing.T, runs []iamRun) {
	t.Helper()
	byFn := map[string]map[string]*grantRow{}
	for _, r := range runs {
		for _, g := range r.grants {
			res := short(r.c, g.Resource)
			if byFn[g.Function] == nil {
				byFn[g.Function] = map[string]*grantRow{}
			}
			k := g.Action + " " + res
			row := byFn[g.Function][k]
			if row == nil {
				row = &grantRow{action: g.Action, resource: res, source: g.Source}
				byFn[g.Function][k] = row
			}
			row.used = row.used || g.Used
		}
	}
	matches := func(fn, action, resource string, row *grantRow, f string) bool {
		return (fn == "*" || fn == f) && strings.HasPrefix(row.action, action) && strings.Contains(row.resource, resource)
	}
	justified := make([]int, len(unusedGrants))
	var fns []string
	for f := range byFn {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	var b strings.Builder
	b.WriteString("| function | calls made (IAM action on the granted resource) | granted and not called in the runs (or not in every run), and why kept | removed (issue 11) |\n|---|---|---|---|\n")
	for _, f := range fns {
		var keys []string
		for k := range byFn[f] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var used, kept []string
		for _, k := range keys {
			row := byFn[f][k]
			cell := "`" + row.action + "` on `" + row.resource + "`"
			for _, rg := range removedGrants {
				if rg.of(f) && row.action == rg.action && (rg.resource == "" || row.resource == rg.resource) {
					t.Errorf("IAM: %s is granted %s on %s again, which issue 11 removed: %s", f, row.action, row.resource, rg.why)
				}
			}
			why, sometimes := "", false
			for i, u := range unusedGrants {
				if matches(u.fn, u.action, u.resource, row, f) {
					if !row.used {
						justified[i]++
					}
					why, sometimes = u.why, u.sometimes
					break
				}
			}
			switch {
			case sometimes:
				// Used or not depending on the run's timing and data: listed
				// with its reason either way, so that the table is the same
				// after every run.
				kept = append(kept, cell+" (may be unused): "+why)
				continue
			case row.used:
				used = append(used, cell)
				continue
			case why == "":
				t.Errorf("IAM: %s is granted %s on %s (%s) and no call of the runs used it: remove it from the role in infra/stacks, or justify it in unusedGrants (tests/e2e/cloud_iam_test.go)",
					f, row.action, row.resource, row.source)
				why = "**not justified**"
			}
			kept = append(kept, cell+": "+why)
		}
		var removed []string
		for _, rg := range removedGrants {
			if rg.of(f) {
				r := "`" + rg.action + "`"
				if rg.resource != "" {
					r += " on `" + rg.resource + "`"
				}
				removed = append(removed, r+": "+rg.why)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f, strings.Join(used, "<br>"), strings.Join(kept, "<br>"), strings.Join(removed, "<br>"))
	}
	for i, u := range unusedGrants {
		if justified[i] == 0 && !u.sometimes {
			t.Errorf("IAM: the justification for %s %s %q matches no unused grant: the grant is gone or now used; remove the entry", u.fn, u.action, u.resource)
		}
	}
	table := b.String()
	t.Logf("IAM per function:\n%s", table)
	readme := filepath.Join("..", "..", "infra", "README.md")
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- iam-table:begin (tests/e2e/cloud_iam_test.go writes it) -->\n", "<!-- iam-table:end -->"
	i, j := strings.Index(string(text), begin), strings.Index(string(text), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", readme, begin, end)
	}
	if string(text[i+len(begin):j]) == table {
		return
	}
	if os.Getenv("PULSE_UPDATE_IAM_TABLE") == "1" {
		if err := os.WriteFile(readme, []byte(string(text[:i+len(begin)])+table+string(text[j:])), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("IAM table written to %s", readme)
		return
	}
	t.Errorf("the IAM table in %s is not what the runs found: run again with PULSE_UPDATE_IAM_TABLE=1 to write it (it is printed above)", readme)
}
