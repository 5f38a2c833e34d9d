package stacks_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// cfn is a synthesized template as plain JSON, for walking in Go (one jsii call per stack).
type cfn struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

var jsonTemplates = map[string]cfn{}

// template returns a stack's template as JSON (cached).
func template(t *testing.T, id string) cfn {
	t.Helper()
	if c, ok := jsonTemplates[id]; ok {
		return c
	}
	return toCfn(t, tmpl(t, id))
}

func toCfn(t *testing.T, tp assertions.Template) cfn {
	t.Helper()
	b, err := json.Marshal(tp.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var c cfn
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// ofType returns the resources of a type by logical ID.
func (c cfn) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range c.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// byPath finds the resource whose construct path is path (without the trailing /Resource).
func (c cfn) byPath(t *testing.T, path string) (string, resource) {
	t.Helper()
	for id, r := range c.Resources {
		if p, _ := r.Metadata["aws:cdk:path"].(string); p == path || p == path+"/Resource" {
			return id, r
		}
	}
	t.Fatalf("no resource at %s", path)
	return "", resource{}
}

// statement is one IAM policy statement, its actions and resources as text.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string
}

// policies returns the statements granted to each role (by the role's logical ID), from its
// AWS::IAM::Policy resources.
func (c cfn) policies() map[string][]statement {
	out := map[string][]statement{}
	for _, r := range c.ofType("AWS::IAM::Policy") {
		doc := r.Properties["PolicyDocument"].(map[string]any)
		var sts []statement
		for _, s := range doc["Statement"].([]any) {
			m := s.(map[string]any)
			st := statement{Effect: m["Effect"].(string), Actions: strs(m["Action"]), Resources: texts(m["Resource"])}
			sts = append(sts, st)
		}
		for _, role := range r.Properties["Roles"].([]any) {
			ref := role.(map[string]any)["Ref"].(string)
			out[ref] = append(out[ref], sts...)
		}
	}
	return out
}

// roleOf is the logical ID of a function's role.
func (c cfn) roleOf(t *testing.T, fnPath string) string {
	t.Helper()
	_, fn := c.byPath(t, fnPath)
	return fn.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
}

// grants reports whether some statement of the role allows action on a resource containing
// every one of parts.
func grants(sts []statement, action string, parts ...string) bool {
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Actions {
			if a != action {
				continue
			}
			for _, r := range s.Resources {
				ok := true
				for _, p := range parts {
					ok = ok && strings.Contains(r, p)
				}
				if ok {
					return true
				}
			}
		}
	}
	return false
}

// actionsOn lists the actions a role has whose service prefix is one of services.
func actionsOn(sts []statement, services ...string) []string {
	set := map[string]bool{}
	for _, s := range sts {
		for _, a := range s.Actions {
			for _, svc := range services {
				if strings.HasPrefix(a, svc+":") {
					set[a] = true
				}
			}
		}
	}
	var out []string
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// texts renders resources (strings or intrinsic functions) as compact JSON text.
func texts(v any) []string {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
			continue
		}
		b, _ := json.Marshal(e)
		out = append(out, string(b))
	}
	return out
}

// env returns a function's environment variables (values as text).
func env(fn resource) map[string]string {
	out := map[string]string{}
	vars, _ := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	for k, v := range vars {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}
