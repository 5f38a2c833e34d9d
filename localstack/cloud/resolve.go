package cloud

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Resolve evaluates the intrinsic functions in a template value as
// CloudFormation would deploy it here: Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
// Fn::Select, Fn::Split, Fn::ImportValue and the pseudo parameters
// (AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix,
// AWS::StackName; AWS::NoValue drops the key). Resources resolve to the local
// names and ARNs of Name and ARN.
func (a *Assembly) Resolve(st *Stack, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return a.intrinsic(st, k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := a.Resolve(st, e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if r == noValue {
				continue
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			r, err := a.Resolve(st, e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if r == noValue {
				continue
			}
			out = append(out, r)
		}
		return out, nil
	}
	return v, nil
}

// noValue is what AWS::NoValue resolves to: the key or element is dropped.
var noValue = &struct{ noValue bool }{true}

// String resolves v and requires a string (numbers are formatted).
func (a *Assembly) String(st *Stack, v any) (string, error) {
	r, err := a.Resolve(st, v)
	if err != nil {
		return "", err
	}
	switch x := r.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("%s is not a string", clip(r))
}

// Strings resolves v to a list of strings (a single string is a list of one).
func (a *Assembly) Strings(st *Stack, v any) ([]string, error) {
	r, err := a.Resolve(st, v)
	if err != nil {
		return nil, err
	}
	if s, ok := r.(string); ok {
		return []string{s}, nil
	}
	list, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a list", clip(r))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("element %d, %s, is not a string", i, clip(e))
		}
		out[i] = s
	}
	return out, nil
}

func clip(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func (a *Assembly) intrinsic(st *Stack, fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref %s: not a name", clip(arg))
		}
		return a.ref(st, name)
	case "Fn::GetAtt":
		var id, attr string
		switch x := arg.(type) {
		case []any:
			if len(x) == 2 {
				id, _ = x[0].(string)
				attr, _ = x[1].(string)
			}
		case string:
			id, attr, _ = strings.Cut(x, ".")
		}
		if id == "" || attr == "" {
			return nil, fmt.Errorf("Fn::GetAtt %s: want [logicalId, attribute]", clip(arg))
		}
		r, ok := st.Resources[id]
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt: %s has no resource %s", st.Name, id)
		}
		return a.getAtt(r, attr)
	case "Fn::Join":
		x, ok := arg.([]any)
		if !ok || len(x) != 2 {
			return nil, fmt.Errorf("Fn::Join %s: want [separator, list]", clip(arg))
		}
		sep, ok := x[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join separator %s is not a string", clip(x[0]))
		}
		parts, err := a.Strings(st, x[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		x, ok := arg.([]any)
		if !ok || len(x) != 2 {
			return nil, fmt.Errorf("Fn::Select %s: want [index, list]", clip(arg))
		}
		is, err := a.String(st, x[0])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %q: %w", is, err)
		}
		list, err := a.Resolve(st, x[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: %w", err)
		}
		l, ok := list.([]any)
		if !ok || i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select: index %d outside %s", i, clip(list))
		}
		return l[i], nil
	case "Fn::Split":
		x, ok := arg.([]any)
		if !ok || len(x) != 2 {
			return nil, fmt.Errorf("Fn::Split %s: want [separator, string]", clip(arg))
		}
		sep, ok := x[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Split separator %s is not a string", clip(x[0]))
		}
		s, err := a.String(st, x[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Split: %w", err)
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::ImportValue":
		name, err := a.String(st, arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::ImportValue: %w", err)
		}
		e, ok := a.exports[name]
		if !ok {
			return nil, fmt.Errorf("Fn::ImportValue: no stack exports %s", name)
		}
		v, err := a.Resolve(e.stack, e.value)
		if err != nil {
			return nil, fmt.Errorf("export %s of %s: %w", name, e.stack.Name, err)
		}
		return v, nil
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch x := arg.(type) {
		case string:
			tmpl = x
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("Fn::Sub %s: want a string or [string, variables]", clip(arg))
			}
			tmpl, _ = x[0].(string)
			if m, ok := x[1].(map[string]any); ok {
				vars = m
			}
		}
		return a.sub(st, tmpl, vars)
	}
	return nil, fmt.Errorf("%s is not supported by the local cloud", fn)
}

var subRe = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (a *Assembly) sub(st *Stack, tmpl string, vars map[string]any) (string, error) {
	var firstErr error
	out := subRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		var err error
		switch {
		case vars[name] != nil:
			v, err = a.Resolve(st, vars[name])
		case strings.Contains(name, "."):
			id, attr, _ := strings.Cut(name, ".")
			r, ok := st.Resources[id]
			if !ok {
				err = fmt.Errorf("Fn::Sub: %s has no resource %s", st.Name, id)
				break
			}
			v, err = a.getAtt(r, attr)
		default:
			v, err = a.ref(st, name)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return m
		}
		return fmt.Sprint(v)
	})
	if firstErr != nil {
		return "", firstErr
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

func (a *Assembly) ref(st *Stack, name string) (any, error) {
	switch name {
	case "AWS::Region":
		return a.Region, nil
	case "AWS::AccountId":
		return a.Account, nil
	case "AWS::Partition":
		return a.Partition, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return st.Name, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", a.Region, a.Account, st.Name, hash8(st.Name)), nil
	case "AWS::NoValue":
		return noValue, nil
	}
	r, ok := st.Resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref: %s has no resource or parameter %s", st.Name, name)
	}
	switch r.Type {
	case "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic", "AWS::MSK::ServerlessCluster", "AWS::MSK::Cluster":
		return a.ARN(r)
	case "AWS::SQS::Queue":
		n, err := a.Name(r)
		return "https://sqs." + a.Region + ".amazonaws.com/" + a.Account + "/" + n, err
	case "AWS::KMS::Key":
		return keyID(r), nil
	case "AWS::EC2::Subnet":
		return "subnet-" + hash8(r.String()), nil
	case "AWS::EC2::SecurityGroup":
		return "sg-" + hash8(r.String()), nil
	case "AWS::EC2::VPC":
		return "vpc-" + hash8(r.String()), nil
	case "AWS::Lambda::EventSourceMapping":
		return uuidOf(r.String()), nil
	}
	return a.Name(r)
}

func keyID(r *Resource) string { return uuidOf("kms:" + r.String()) }

func uuidOf(s string) string {
	h := hash8(s) + hash8(s+"1") + hash8(s+"2") + hash8(s+"3")
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// nameProps names, per resource type, the property that sets its name.
var nameProps = map[string]string{
	"AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName", "AWS::Lambda::Function": "FunctionName",
	"AWS::IAM::Role": "RoleName", "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::SNS::Topic": "TopicName",
	"AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName", "AWS::Events::Rule": "Name",
	"AWS::MSK::ServerlessCluster": "ClusterName", "AWS::MSK::Cluster": "ClusterName", "AWS::IAM::Policy": "PolicyName",
}

// Name is the local physical name of a resource: its name property when the
// template sets one, else a name derived from stack and logical ID as
// CloudFormation would generate one.
func (a *Assembly) Name(r *Resource) (string, error) {
	if p, ok := nameProps[r.Type]; ok && r.Properties[p] != nil {
		return a.String(r.Stack, r.Properties[p])
	}
	switch r.Type {
	case "AWS::S3::Bucket":
		return physicalName(r, 63, true), nil
	case "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine":
		return physicalName(r, 64, false), nil
	}
	return physicalName(r, 255, false), nil
}

// ARN is the local ARN of a resource.
func (a *Assembly) ARN(r *Resource) (string, error) {
	name, err := a.Name(r)
	if err != nil {
		return "", err
	}
	p, reg, acct := a.Partition, a.Region, a.Account
	switch r.Type {
	case "AWS::S3::Bucket":
		return "arn:" + p + ":s3:::" + name, nil
	case "AWS::DynamoDB::Table":
		return "arn:" + p + ":dynamodb:" + reg + ":" + acct + ":table/" + name, nil
	case "AWS::Lambda::Function":
		return "arn:" + p + ":lambda:" + reg + ":" + acct + ":function:" + name, nil
	case "AWS::IAM::Role":
		return "arn:" + p + ":iam::" + acct + ":role/" + name, nil
	case "AWS::StepFunctions::StateMachine":
		return "arn:" + p + ":states:" + reg + ":" + acct + ":stateMachine:" + name, nil
	case "AWS::SNS::Topic":
		return "arn:" + p + ":sns:" + reg + ":" + acct + ":" + name, nil
	case "AWS::SQS::Queue":
		return "arn:" + p + ":sqs:" + reg + ":" + acct + ":" + name, nil
	case "AWS::KMS::Key":
		return "arn:" + p + ":kms:" + reg + ":" + acct + ":key/" + keyID(r), nil
	case "AWS::Logs::LogGroup":
		return "arn:" + p + ":logs:" + reg + ":" + acct + ":log-group:" + name + ":*", nil
	case "AWS::Events::Rule":
		return "arn:" + p + ":events:" + reg + ":" + acct + ":rule/" + name, nil
	case "AWS::MSK::ServerlessCluster", "AWS::MSK::Cluster":
		return "arn:" + p + ":kafka:" + reg + ":" + acct + ":cluster/" + name + "/" + uuidOf("msk:"+r.String()) + "-s1", nil
	}
	return "", fmt.Errorf("%s (%s) has no local ARN", r, r.Type)
}

func (a *Assembly) getAtt(r *Resource, attr string) (any, error) {
	switch attr {
	case "Arn":
		return a.ARN(r)
	case "TopicArn":
		if r.Type == "AWS::SNS::Topic" {
			return a.ARN(r)
		}
	case "Name", "QueueName", "TopicName", "StateMachineName":
		return a.Name(r)
	case "QueueUrl":
		return a.ref(r.Stack, r.ID)
	case "KeyId":
		return keyID(r), nil
	case "GroupId":
		return a.ref(r.Stack, r.ID)
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s (%s) has no local value", r.ID, attr, r.Type)
}

// Environment resolves a function's Environment.Variables.
func (a *Assembly) Environment(fn *Resource) (map[string]string, error) {
	env := map[string]string{}
	e, _ := fn.Properties["Environment"].(map[string]any)
	vars, _ := e["Variables"].(map[string]any)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := a.String(fn.Stack, vars[k])
		if err != nil {
			return nil, fmt.Errorf("%s: environment %s: %w", fn, k, err)
		}
		env[k] = v
	}
	return env, nil
}
