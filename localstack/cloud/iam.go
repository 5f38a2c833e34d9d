package cloud

import (
	"fmt"
	"sort"
	"strings"
)

// Statement is one IAM policy statement of a role, resolved.
type Statement struct {
	Effect       string
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	// Conditions maps an operator (StringEquals, ArnLike, ...) to its keys'
	// values.
	Conditions map[string]map[string][]string
	Source     string // the policy it comes from (construct path or managed policy name)
}

// RolePolicy is every identity-based statement attached to a role.
type RolePolicy struct {
	Role       *Resource
	Statements []Statement
	// Unknown lists managed policies whose content the local cloud does
	// not know (they are evaluated as granting nothing).
	Unknown []string
}

// managedPolicies are the AWS managed policies CDK attaches to Pulse's
// roles, as AWS publishes them.
var managedPolicies = map[string][]Statement{
	"AWSLambdaBasicExecutionRole": {{Effect: "Allow", Actions: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"*"}}},
	"AWSLambdaVPCAccessExecutionRole": {{Effect: "Allow", Actions: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
		"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
		"ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}, Resources: []string{"*"}}},
	"AWSLambdaMSKExecutionRole": {{Effect: "Allow", Actions: []string{"kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers",
		"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets",
		"ec2:DescribeSecurityGroups", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"*"}}},
}

// Policies returns the identity-based policies of every role in the
// assembly, by principal name (<stack>/<logical ID>).
func (c *Cloud) Policies() (map[string]*RolePolicy, error) {
	c.policyOnce.Do(func() { c.policies, c.policyErr = c.loadPolicies() })
	return c.policies, c.policyErr
}

func (c *Cloud) loadPolicies() (map[string]*RolePolicy, error) {
	a := c.Assembly
	out := map[string]*RolePolicy{}
	byName := map[string]*RolePolicy{}
	for _, r := range a.Resources("AWS::IAM::Role") {
		rp := &RolePolicy{Role: r}
		out[principal(r)] = rp
		name, err := a.Name(r)
		if err != nil {
			return nil, err
		}
		byName[name] = rp
		for i, p := range list(r.Properties["Policies"]) {
			doc, _ := p.(map[string]any)
			sts, err := c.statements(r.Stack, doc["PolicyDocument"], fmt.Sprintf("%s inline policy %d", r.Path, i))
			if err != nil {
				return nil, err
			}
			rp.Statements = append(rp.Statements, sts...)
		}
		arns, err := a.Strings(r.Stack, r.Properties["ManagedPolicyArns"])
		if err != nil && r.Properties["ManagedPolicyArns"] != nil {
			return nil, fmt.Errorf("%s: ManagedPolicyArns: %w", r, err)
		}
		for _, arn := range arns {
			name := arn[strings.LastIndexByte(arn, '/')+1:]
			sts, ok := managedPolicies[name]
			if !ok || !strings.Contains(arn, ":iam::aws:policy/") {
				rp.Unknown = append(rp.Unknown, arn)
				continue
			}
			for _, st := range sts {
				st.Source = "AWS managed policy " + name
				rp.Statements = append(rp.Statements, st)
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, p := range a.Resources(typ) {
			roles, err := a.Strings(p.Stack, p.Properties["Roles"])
			if err != nil {
				if p.Properties["Roles"] == nil {
					continue
				}
				return nil, fmt.Errorf("%s: Roles: %w", p, err)
			}
			sts, err := c.statements(p.Stack, p.Properties["PolicyDocument"], p.Path)
			if err != nil {
				return nil, err
			}
			for _, name := range roles {
				rp := byName[name]
				if rp == nil {
					return nil, fmt.Errorf("%s is attached to role %s, which the assembly does not define", p, name)
				}
				rp.Statements = append(rp.Statements, sts...)
			}
		}
	}
	return out, nil
}

func (c *Cloud) statements(st *Stack, doc any, source string) ([]Statement, error) {
	v, err := c.Assembly.Resolve(st, doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	m, _ := v.(map[string]any)
	var out []Statement
	raw := m["Statement"]
	if one, ok := raw.(map[string]any); ok {
		raw = []any{one}
	}
	for i, s := range list(raw) {
		sm, _ := s.(map[string]any)
		stmt := Statement{Source: source, Conditions: map[string]map[string][]string{}}
		stmt.Effect, _ = sm["Effect"].(string)
		if stmt.Effect != "Allow" && stmt.Effect != "Deny" {
			return nil, fmt.Errorf("%s: statement %d: Effect %v is neither Allow nor Deny", source, i, sm["Effect"])
		}
		if _, ok := sm["Principal"]; ok {
			return nil, fmt.Errorf("%s: statement %d has a Principal: not an identity-based policy", source, i)
		}
		stmt.Actions = strs(sm["Action"])
		stmt.NotActions = strs(sm["NotAction"])
		stmt.Resources = strs(sm["Resource"])
		stmt.NotResources = strs(sm["NotResource"])
		if cond, ok := sm["Condition"].(map[string]any); ok {
			for op, kv := range cond {
				keys, _ := kv.(map[string]any)
				stmt.Conditions[op] = map[string][]string{}
				for k, vals := range keys {
					stmt.Conditions[op][k] = strs(vals)
				}
			}
		}
		out = append(out, stmt)
	}
	return out, nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case bool:
		return []string{fmt.Sprint(x)}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// glob matches IAM's wildcards: * any run of characters, ? one character.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	nextP, nextS := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextP, nextS = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextS > 0 && nextS <= len(s) {
			px, sx = nextP, nextS
			continue
		}
		return false
	}
	return true
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if glob(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if glob(p, s) {
			return true
		}
	}
	return false
}

// matches says whether a statement applies to a call (action, resource and
// conditions), and why not when it does not.
func (s Statement) matches(cl Call) (bool, error) {
	switch {
	case s.Actions != nil && !anyMatch(s.Actions, cl.Action, true):
		return false, nil
	case s.NotActions != nil && anyMatch(s.NotActions, cl.Action, true):
		return false, nil
	case s.Resources != nil && !anyMatch(s.Resources, cl.Resource, false):
		return false, nil
	case s.NotResources != nil && anyMatch(s.NotResources, cl.Resource, false):
		return false, nil
	}
	for op, keys := range s.Conditions {
		for key, want := range keys {
			ok, err := condition(op, cl.Context, key, want)
			if err != nil {
				return false, fmt.Errorf("%s: %w", s.Source, err)
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

// condition evaluates one condition key with IAM's operators (single-valued
// keys; ForAnyValue:/ForAllValues: treat the value as a one-element set).
func condition(op string, ctx map[string]string, key string, want []string) (bool, error) {
	base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")
	got, present := ctx[key]
	if base == "Null" {
		return (len(want) == 1 && want[0] == "true") == !present, nil
	}
	if !present {
		return ifExists, nil
	}
	any := func(f func(w string) bool) bool {
		for _, w := range want {
			if f(w) {
				return true
			}
		}
		return false
	}
	switch base {
	case "StringEquals", "ArnEquals":
		return any(func(w string) bool { return w == got }), nil
	case "StringNotEquals", "ArnNotEquals":
		return !any(func(w string) bool { return w == got }), nil
	case "StringEqualsIgnoreCase":
		return any(func(w string) bool { return strings.EqualFold(w, got) }), nil
	case "StringLike", "ArnLike":
		return any(func(w string) bool { return glob(w, got) }), nil
	case "StringNotLike", "ArnNotLike":
		return !any(func(w string) bool { return glob(w, got) }), nil
	case "Bool":
		return any(func(w string) bool { return strings.EqualFold(w, got) }), nil
	}
	return false, fmt.Errorf("condition operator %s is not evaluated by the local cloud", op)
}

// Decision is IAM's answer to one call.
type Decision struct {
	Allowed bool
	By      []Statement // the Allow statements that grant it
	Deny    *Statement  // an explicit Deny that refuses it
	Err     error       // a policy the cloud cannot evaluate
}

// Decide evaluates a call against its principal's identity-based policies
// as IAM does: an explicit Deny wins, else any Allow, else it is denied.
// (Resource policies, permission boundaries and SCPs are not evaluated.)
func (c *Cloud) Decide(cl Call) Decision {
	pols, err := c.Policies()
	if err != nil {
		return Decision{Err: err}
	}
	if strings.EqualFold(cl.Action, "sts:GetCallerIdentity") {
		// IAM needs no grant for it ("No permissions are required").
		return Decision{Allowed: true}
	}
	rp := pols[cl.Principal]
	if rp == nil {
		return Decision{Err: fmt.Errorf("no role %s in the assembly", cl.Principal)}
	}
	var d Decision
	for _, s := range rp.Statements {
		ok, err := s.matches(cl)
		if err != nil {
			d.Err = err
			continue
		}
		if !ok {
			continue
		}
		if s.Effect == "Deny" {
			s := s
			d.Deny = &s
		} else {
			d.By = append(d.By, s)
		}
	}
	d.Allowed = d.Deny == nil && len(d.By) > 0 && d.Err == nil
	return d
}

// Denial is a recorded call IAM would refuse.
type Denial struct {
	Call   Call
	Reason string
}

// Grant is one action on one resource pattern a role's policy allows.
type Grant struct {
	Principal string
	Function  string
	Action    string
	Resource  string
	Source    string
}

func (g Grant) String() string {
	return fmt.Sprintf("%s (%s): %s on %s [%s]", g.Function, g.Principal, g.Action, g.Resource, g.Source)
}

// GrantUse is a grant and whether the run used it.
type GrantUse struct {
	Grant
	Used bool
}

// Report is the IAM check of a run.
type Report struct {
	// Denied are the calls their caller's role does not allow.
	Denied []Denial
	// Unused are the grants of the functions' roles no recorded call used.
	Unused []Grant
	// Grants are every grant of the functions' roles (one action on one
	// resource pattern), each with whether a recorded call used it.
	Grants []GrantUse
	// Calls lists per function the distinct calls made: action and resource.
	Calls map[string][]string
	// Unknown lists managed policies not evaluated.
	Unknown []string
}

// CheckIAM judges every recorded call against its caller's role and lists
// the functions' grants no call used.
func (c *Cloud) CheckIAM() (*Report, error) {
	pols, err := c.Policies()
	if err != nil {
		return nil, err
	}
	rep := &Report{Calls: map[string][]string{}}
	calls := c.Calls()
	seen := map[string]bool{}
	for _, cl := range calls {
		if cl.Principal == "test" {
			continue
		}
		d := c.Decide(cl)
		if d.Err != nil {
			rep.Denied = append(rep.Denied, Denial{Call: cl, Reason: d.Err.Error()})
		} else if !d.Allowed {
			reason := "no statement allows it"
			if d.Deny != nil {
				reason = "denied by " + d.Deny.Source
			}
			rep.Denied = append(rep.Denied, Denial{Call: cl, Reason: reason})
		}
		who := cl.Function
		if who == "" {
			who = cl.Principal
		}
		k := who + "\x00" + cl.Action + "\x00" + cl.Resource
		if !seen[k] {
			seen[k] = true
			line := cl.Action + " " + cl.Resource
			if cl.Implied != "" {
				line += " (by " + cl.Implied + ")"
			}
			rep.Calls[who] = append(rep.Calls[who], line)
		}
	}
	for who := range rep.Calls {
		sort.Strings(rep.Calls[who])
	}
	for _, f := range c.functions {
		rp := pols[principal(f.Role)]
		if rp == nil {
			continue
		}
		for _, u := range rp.Unknown {
			rep.Unknown = append(rep.Unknown, f.Label+": "+u)
		}
		for _, s := range rp.Statements {
			if s.Effect != "Allow" {
				continue
			}
			for _, act := range s.Actions {
				for _, res := range s.Resources {
					g := Grant{Principal: principal(f.Role), Function: f.Label, Action: act, Resource: res, Source: s.Source}
					u := used(calls, principal(f.Role), act, res)
					if !u {
						rep.Unused = append(rep.Unused, g)
					}
					rep.Grants = append(rep.Grants, GrantUse{Grant: g, Used: u})
				}
			}
		}
	}
	return rep, nil
}

// used says whether some allowed call of the principal falls under an
// action pattern and a resource pattern.
func used(calls []Call, who, action, resource string) bool {
	for _, cl := range calls {
		if cl.Principal == who && !cl.Denied && glob(strings.ToLower(action), strings.ToLower(cl.Action)) && glob(resource, cl.Resource) {
			return true
		}
	}
	return false
}

// Shorten names a resource ARN or pattern by the construct paths of the
// assembly's resources instead of their local names and ARNs
// (arn:aws:s3:::pulsestorage-raw72517081/raw/* reads
// PulseStorage/Raw/raw/*), for reports a person reads.
func (c *Cloud) Shorten(s string) string {
	c.shortOnce.Do(func() {
		var pairs []string
		for _, typ := range []string{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Lambda::Function",
			"AWS::StepFunctions::StateMachine", "AWS::Logs::LogGroup"} {
			for _, r := range c.Assembly.Resources(typ) {
				path := strings.TrimSuffix(r.Path, "/Resource")
				if arn, err := c.Assembly.ARN(r); err == nil && arn != "" && path != "" {
					pairs = append(pairs, strings.TrimSuffix(arn, ":*"), path)
				}
			}
		}
		c.short = strings.NewReplacer(pairs...)
	})
	return c.short.Replace(s)
}
