package stacks_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// TestNagAwsSolutions fails on any unsuppressed AwsSolutions error or warning in any stack.
func TestNagAwsSolutions(t *testing.T) {
	for id, st := range pulse.StacksByID() {
		ann := assertions.Annotations_FromStack(st)
		for _, level := range []string{"error", "warning"} {
			var msgs *[]*cxapi.SynthesisMessage //nolint:staticcheck // SA1019: assertions' FindError/FindWarning still return cxapi.SynthesisMessage in awscdk v2.270.0 (PINS.md)
			if level == "error" {
				msgs = ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			} else {
				msgs = ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			}
			var lines []string
			for _, m := range *msgs {
				lines = append(lines, fmt.Sprintf("%s: %v", *m.Id, firstLine(m.Entry.Data))) //nolint:staticcheck // SA1019: assertions' FindError/FindWarning still return cxapi.SynthesisMessage in awscdk v2.270.0 (PINS.md)
			}
			sort.Strings(lines)
			for _, l := range lines {
				t.Errorf("%s %s %s", id, level, l)
			}
		}
	}
}

func firstLine(v interface{}) string {
	s := fmt.Sprint(v)
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[:i]
	}
	return s
}
