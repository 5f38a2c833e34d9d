package cloud

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/raw/x/y.csv", true},
		{"arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/rawx", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"*", "", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*:log-group:G:*", "arn:aws:logs:r:a:log-group:G:log-stream:s", true},
		{"s3:Get*", "s3:GetObjectVersion", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestDecide(t *testing.T) {
	role := &Resource{Stack: &Stack{Name: "S"}, ID: "R"}
	c := &Cloud{}
	c.policyOnce.Do(func() {})
	c.policies = map[string]*RolePolicy{"S/R": {Role: role, Statements: []Statement{
		{Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::b/raw/*"}, Source: "p1"},
		{Effect: "Allow", Actions: []string{"S3:PutObject"}, Resources: []string{"arn:aws:s3:::b/*"}, Source: "p2"},
		{Effect: "Deny", Actions: []string{"s3:PutObject"}, Resources: []string{"arn:aws:s3:::b/secret/*"}, Source: "p3"},
		{Effect: "Allow", Actions: []string{"kms:Decrypt"}, Resources: []string{"*"}, Source: "p4",
			Conditions: map[string]map[string][]string{"StringLike": {"kms:ViaService": {"s3.*.amazonaws.com"}}}},
	}}}
	call := func(action, res string, ctx map[string]string) Call {
		return Call{Principal: "S/R", Action: action, Resource: res, Context: ctx}
	}
	for _, cs := range []struct {
		call Call
		want bool
	}{
		{call("s3:GetObject", "arn:aws:s3:::b/raw/f", nil), true},
		{call("s3:GetObject", "arn:aws:s3:::b/staging/f", nil), false},
		{call("s3:putobject", "arn:aws:s3:::b/staging/f", nil), true}, // actions are case-insensitive
		{call("s3:PutObject", "arn:aws:s3:::b/secret/f", nil), false}, // an explicit deny wins
		{call("kms:Decrypt", "arn:aws:kms:r:a:key/k", map[string]string{"kms:ViaService": "s3.us-east-1.amazonaws.com"}), true},
		{call("kms:Decrypt", "arn:aws:kms:r:a:key/k", map[string]string{"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}), false},
		{call("kms:Decrypt", "arn:aws:kms:r:a:key/k", nil), false}, // the condition's key is absent
	} {
		if d := c.Decide(cs.call); d.Allowed != cs.want || d.Err != nil {
			t.Errorf("%s on %s (%v): allowed %v (%v), want %v", cs.call.Action, cs.call.Resource, cs.call.Context, d.Allowed, d.Err, cs.want)
		}
	}
	if d := c.Decide(Call{Principal: "S/Other", Action: "s3:GetObject", Resource: "x"}); d.Allowed || d.Err == nil {
		t.Errorf("a role the assembly lacks: %+v", d)
	}
}

// TestS3Calls: S3 requests map to the actions and resources IAM evaluates.
func TestS3Calls(t *testing.T) {
	e := &edge{c: &Cloud{buckets: map[string]*Resource{}, Assembly: &Assembly{Region: "us-east-1"}}}
	p := &caller{}
	for _, c := range []struct {
		method, target string
		header         map[string]string
		body           string
		want           []string
	}{
		{"GET", "/b/raw/x.csv", nil, "", []string{"s3:GetObject arn:aws:s3:::b/raw/x.csv"}},
		{"HEAD", "/b/raw/x.csv?versionId=v1", nil, "", []string{"s3:GetObjectVersion arn:aws:s3:::b/raw/x.csv"}},
		{"GET", "/b?list-type=2&prefix=raw%2F", nil, "", []string{"s3:ListBucket arn:aws:s3:::b"}},
		{"PUT", "/b/k%20with%20space", nil, "", []string{"s3:PutObject arn:aws:s3:::b/k with space"}},
		{"PUT", "/b/dst", map[string]string{"X-Amz-Copy-Source": "/src/key?versionId=3"}, "", []string{"s3:PutObject arn:aws:s3:::b/dst", "s3:GetObjectVersion arn:aws:s3:::src/key"}},
		{"POST", "/b/big?uploads", nil, "", []string{"s3:PutObject arn:aws:s3:::b/big"}},
		{"DELETE", "/b/big?uploadId=u", nil, "", []string{"s3:AbortMultipartUpload arn:aws:s3:::b/big"}},
		{"DELETE", "/b/k", nil, "", []string{"s3:DeleteObject arn:aws:s3:::b/k"}},
		{"POST", "/b?delete", nil, `<Delete><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>`,
			[]string{"s3:DeleteObject arn:aws:s3:::b/a", "s3:DeleteObjectVersion arn:aws:s3:::b/b"}},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		calls, err := e.s3Calls(r, []byte(c.body), p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cl := range calls {
			got = append(got, cl.Action+" "+cl.Resource)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.method, c.target, got, c.want)
		}
	}
}

func TestDynamoCalls(t *testing.T) {
	e := &edge{c: &Cloud{Assembly: &Assembly{Region: "us-east-1", Account: "000000000000"}}}
	calls, err := e.dynamoCalls("DynamoDB_20120810.TransactWriteItems",
		[]byte(`{"TransactItems":[{"Put":{"TableName":"D"}},{"Update":{"TableName":"D"}},{"ConditionCheck":{"TableName":"S"}}]}`), &caller{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cl := range calls {
		got = append(got, cl.Action+" "+cl.Resource)
	}
	want := []string{"dynamodb:PutItem arn:aws:dynamodb:us-east-1:000000000000:table/D", "dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:000000000000:table/D",
		"dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:000000000000:table/S"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TransactWriteItems: %v, want %v", got, want)
	}
}

func TestFunctionError(t *testing.T) {
	if fe := functionError([]byte(`{"errorMessage":"boom","errorType":"BadInput"}`)); fe == nil || fe.Type != "BadInput" || fe.Message != "boom" {
		t.Errorf("an error object: %+v", fe)
	}
	for _, ok := range []string{`{"errorMessage":"x","errorType":"y","result":1}`, `{"result":{"errorType":"y"}}`, `[1]`, `"s"`} {
		if fe := functionError([]byte(ok)); fe != nil {
			t.Errorf("%s read as a function error", ok)
		}
	}
}
