package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CustomResource is one custom resource of the assembly whose provider is a
// function the cloud runs (the warehouse schema, the Kafka topics): brought
// up as CloudFormation creates it, by a Create request to the function,
// which answers at the request's ResponseURL.
type CustomResource struct {
	Resource *Resource
	Function *Function
	// Response is what the function answered CloudFormation (Status
	// SUCCESS or FAILED, Reason, PhysicalResourceId, Data).
	Response map[string]any
}

// cfnResponses holds the answers posted to the cloud's ResponseURLs.
type cfnResponses struct {
	mu  sync.Mutex
	got map[string]map[string]any // by request ID
}

const cfnResponsePath = "/cloudformation-response/"

// serveCFNResponse takes a custom resource provider's answer (on AWS a PUT
// to a presigned S3 URL).
func (e *edge) serveCFNResponse(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, cfnResponsePath)
	var body map[string]any
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	if r.Method != http.MethodPut || err != nil {
		http.Error(w, fmt.Sprintf("a CloudFormation response is a PUT of JSON: %v", err), http.StatusBadRequest)
		return
	}
	c := e.c
	c.cfn.mu.Lock()
	if c.cfn.got == nil {
		c.cfn.got = map[string]map[string]any{}
	}
	c.cfn.got[id] = body
	c.cfn.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// isCustomResource says whether a template resource type is a custom
// resource.
func isCustomResource(typ string) bool {
	return strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource"
}

// runCustomResources creates, stack by stack, the custom resources whose
// ServiceToken is a function the cloud runs, as CloudFormation would: a
// Create request with the resolved properties, synchronously; a FAILED
// answer (or none) fails the deployment. Custom resources of CDK's own
// providers (inline code: the bucket notifications) are what the cloud
// wires itself.
func (c *Cloud) runCustomResources(ctx context.Context) error {
	a := c.Assembly
	for _, st := range a.Stacks {
		ids := make([]string, 0)
		for id, r := range st.Resources {
			if isCustomResource(r.Type) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			r := st.Resources[id]
			token, err := a.String(st, r.Properties["ServiceToken"])
			if err != nil {
				return fmt.Errorf("%s: ServiceToken: %w", r, err)
			}
			f := c.functionByName(token)
			if f == nil {
				c.skipped = append(c.skipped, fmt.Sprintf("%s (%s): its provider %s is not a function the local cloud runs", r, r.Type, token))
				continue
			}
			if err := c.createCustomResource(ctx, r, f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Cloud) createCustomResource(ctx context.Context, r *Resource, f *Function) error {
	props, err := c.Assembly.Resolve(r.Stack, r.Properties)
	if err != nil {
		return fmt.Errorf("%s: %w", r, err)
	}
	if n := c.opts.TopicPartitions; n > 0 && r.Type == "Custom::PulseKafkaTopics" {
		m, _ := props.(map[string]any)
		m["Partitions"] = strconv.Itoa(n)
	}
	reqID := uuidOf(r.String() + time.Now().String())
	ev := map[string]any{
		"RequestType": "Create", "ServiceToken": f.ARN, "ResponseURL": c.edge.url + cfnResponsePath + reqID,
		"StackId":   "arn:aws:cloudformation:" + c.Assembly.Region + ":" + c.Assembly.Account + ":stack/" + r.Stack.Name + "/" + uuidOf(r.Stack.Name),
		"RequestId": reqID, "ResourceType": r.Type, "LogicalResourceId": r.ID, "ResourceProperties": props,
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := f.Invoke(ctx, "cloudformation:"+r.String(), payload); err != nil {
		log, _ := c.Log(f.Label)
		if len(log) > 3000 {
			log = log[len(log)-3000:]
		}
		return fmt.Errorf("creating %s (%s): %s failed: %w; its log ends:\n%s", r, r.Type, f.Label, err, log)
	}
	c.cfn.mu.Lock()
	resp := c.cfn.got[reqID]
	c.cfn.mu.Unlock()
	if resp == nil {
		return fmt.Errorf("creating %s (%s): %s answered nothing at the ResponseURL", r, r.Type, f.Label)
	}
	if resp["Status"] != "SUCCESS" {
		return fmt.Errorf("creating %s (%s): %s answered %v: %v", r, r.Type, f.Label, resp["Status"], resp["Reason"])
	}
	c.custom = append(c.custom, &CustomResource{Resource: r, Function: f, Response: resp})
	return nil
}

// CustomResources returns the custom resources created, in order.
func (c *Cloud) CustomResources() []*CustomResource {
	return append([]*CustomResource(nil), c.custom...)
}
