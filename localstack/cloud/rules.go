package cloud

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Rule is one EventBridge rule of the assembly: an event pattern or a
// schedule, and its targets.
type Rule struct {
	Resource *Resource
	Name     string
	ARN      string
	Pattern  map[string]any // nil for a schedule
	Schedule string         // rate(...) or cron(...)
	Enabled  bool
	Targets  []Target
}

// Target is one target of a rule.
type Target struct {
	ID          string
	ARN         string
	Role        *Resource // the role EventBridge assumes (state machine targets)
	Input       *string   // constant input (JSON text)
	InputPath   string
	Transformer *Transformer
}

// Transformer is a target's InputTransformer.
type Transformer struct {
	Paths    map[string]string
	Template string
}

func (c *Cloud) loadRules() error {
	a := c.Assembly
	for _, r := range a.Resources("AWS::Events::Rule") {
		v, err := a.Resolve(r.Stack, r.Properties)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		p := v.(map[string]any)
		rule := &Rule{Resource: r, Enabled: p["State"] != "DISABLED"}
		if rule.Name, err = a.Name(r); err != nil {
			return err
		}
		if rule.ARN, err = a.ARN(r); err != nil {
			return err
		}
		if bus, _ := p["EventBusName"].(string); bus != "" && bus != "default" {
			c.skipped = append(c.skipped, fmt.Sprintf("%s: rule on event bus %s (only the default bus is served)", r, bus))
			continue
		}
		rule.Schedule, _ = p["ScheduleExpression"].(string)
		if pat, ok := p["EventPattern"].(map[string]any); ok {
			rule.Pattern = pat
		}
		for _, t := range list(p["Targets"]) {
			tm, _ := t.(map[string]any)
			tg := Target{ID: fmt.Sprint(tm["Id"]), ARN: fmt.Sprint(tm["Arn"])}
			if role, _ := tm["RoleArn"].(string); role != "" {
				tg.Role = c.roleByARN(role)
			}
			if in, ok := tm["Input"].(string); ok {
				tg.Input = &in
			}
			tg.InputPath, _ = tm["InputPath"].(string)
			if it, ok := tm["InputTransformer"].(map[string]any); ok {
				tr := &Transformer{Paths: map[string]string{}}
				tr.Template, _ = it["InputTemplate"].(string)
				if pm, ok := it["InputPathsMap"].(map[string]any); ok {
					for k, v := range pm {
						tr.Paths[k] = fmt.Sprint(v)
					}
				}
				tg.Transformer = tr
			}
			rule.Targets = append(rule.Targets, tg)
		}
		c.rules = append(c.rules, rule)
		if c.opts.Schedules && rule.Enabled && strings.HasPrefix(rule.Schedule, "rate(") {
			every, err := rate(rule.Schedule)
			if err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				t := time.NewTicker(every)
				defer t.Stop()
				for {
					select {
					case <-c.ctx.Done():
						return
					case now := <-t.C:
						c.fire(rule, now)
					}
				}
			}()
		}
	}
	return nil
}

var rateRe = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

func rate(expr string) (time.Duration, error) {
	m := rateRe.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q is not rate(N unit)", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}

// Rules returns the rules.
func (c *Cloud) Rules() []*Rule { return append([]*Rule(nil), c.rules...) }

// FireRule delivers the scheduled event of the rule whose construct path
// starts with path (e.g. "PulseGold/GoldDaily") as EventBridge would at
// time at, and returns when its deliveries are under way (Idle waits for
// them).
func (c *Cloud) FireRule(path string, at time.Time) error {
	for _, r := range c.rules {
		if strings.HasPrefix(r.Resource.Path, path+"/") {
			if r.Schedule == "" {
				return fmt.Errorf("rule %s has no schedule", path)
			}
			c.fire(r, at)
			return nil
		}
	}
	return fmt.Errorf("no rule at %s", path)
}

func (c *Cloud) fire(r *Rule, at time.Time) {
	ev := map[string]any{"version": "0", "id": uuidOf(r.ARN + at.String()), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": c.Assembly.Account, "time": at.UTC().Format(time.RFC3339), "region": c.Assembly.Region,
		"resources": []any{r.ARN}, "detail": map[string]any{}}
	for _, t := range r.Targets {
		c.deliver(r, t, ev)
	}
}

// putEvent sends an event to the default bus: every enabled rule whose
// pattern matches delivers it to its targets.
func (c *Cloud) putEvent(ev map[string]any) {
	for _, r := range c.rules {
		if !r.Enabled || r.Pattern == nil {
			continue
		}
		ok, err := matchPattern(r.Pattern, ev)
		if err != nil {
			c.log.Warn("cloud: rule pattern", "rule", r.Resource.Path, "error", err)
			continue
		}
		if ok {
			for _, t := range r.Targets {
				c.deliver(r, t, ev)
			}
		}
	}
}

// deliver sends an event to one target, transformed as the target says.
func (c *Cloud) deliver(r *Rule, t Target, ev map[string]any) {
	input, err := targetInput(t, ev)
	if err != nil {
		c.log.Warn("cloud: rule target input", "rule", r.Resource.Path, "target", t.ID, "error", err)
		return
	}
	switch {
	case strings.Contains(t.ARN, ":states:") && strings.Contains(t.ARN, ":stateMachine:"):
		p := &caller{role: t.Role}
		if d := c.edge.admit(p.call("states:StartExecution", t.ARN)); d != nil {
			c.log.Warn("cloud: rule target refused", "rule", r.Resource.Path, "call", d.Action, "resource", d.Resource)
			return
		}
		if _, err := c.startExecution(t.ARN, "", string(input), "events:"+r.Name); err != nil {
			c.log.Warn("cloud: rule target", "rule", r.Resource.Path, "error", err)
		}
	case strings.Contains(t.ARN, ":lambda:"):
		f := c.functionByName(t.ARN)
		if f == nil {
			c.log.Warn("cloud: rule target is not a function the cloud runs", "rule", r.Resource.Path, "target", t.ARN)
			return
		}
		c.invokeAsync(f, "events:"+r.Name, input)
	default:
		c.log.Warn("cloud: rule target kind not served", "rule", r.Resource.Path, "target", t.ARN)
	}
}

// targetInput is what a target receives: the constant Input, the value at
// InputPath, the InputTransformer's template filled from the event, or the
// whole event.
func targetInput(t Target, ev map[string]any) ([]byte, error) {
	switch {
	case t.Input != nil:
		return []byte(*t.Input), nil
	case t.InputPath != "":
		v, _ := jsonPath(ev, t.InputPath)
		return json.Marshal(v)
	case t.Transformer != nil:
		return transform(t.Transformer, ev)
	}
	return json.Marshal(ev)
}

// jsonPath reads a simple $.a.b path.
func jsonPath(v any, path string) (any, bool) {
	if path == "$" {
		return v, true
	}
	for _, p := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

var placeholderRe = regexp.MustCompile(`<([A-Za-z0-9_.\-]+)>`)

// transform fills an InputTemplate: a placeholder inside a JSON string is
// replaced by the value's text, elsewhere by the value as JSON.
func transform(tr *Transformer, ev map[string]any) ([]byte, error) {
	tmpl := tr.Template
	var b strings.Builder
	last := 0
	for _, m := range placeholderRe.FindAllStringSubmatchIndex(tmpl, -1) {
		name := tmpl[m[2]:m[3]]
		var v any
		switch name {
		case "aws.events.event.json":
			v = ev
		case "aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time":
			v = ""
		default:
			path, ok := tr.Paths[name]
			if !ok {
				continue // not a placeholder of ours: left as written
			}
			v, _ = jsonPath(ev, path)
		}
		b.WriteString(tmpl[last:m[0]])
		if inString(tmpl[:m[0]]) {
			if s, ok := v.(string); ok {
				js, _ := json.Marshal(s)
				b.Write(js[1 : len(js)-1])
			} else {
				js, _ := json.Marshal(v)
				b.Write(js)
			}
		} else {
			js, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			b.Write(js)
		}
		last = m[1]
	}
	b.WriteString(tmpl[last:])
	out := b.String()
	if !json.Valid([]byte(out)) {
		return []byte(out), nil // a plain-text template
	}
	return []byte(out), nil
}

// inString says whether the end of s is inside a JSON string.
func inString(s string) bool {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if in {
				i++
			}
		case '"':
			in = !in
		}
	}
	return in
}

// matchPattern is EventBridge's event pattern matching: every key of the
// pattern must match; a list matches when the event's value (or any element
// of it) matches one of its entries (a value, or a prefix, suffix,
// wildcard, exists, anything-but or equals-ignore-case filter); an object
// matches the event's object at that key.
func matchPattern(pattern map[string]any, ev map[string]any) (bool, error) {
	for k, want := range pattern {
		got, present := ev[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok {
				return false, nil
			}
			ok, err := matchPattern(w, sub)
			if err != nil || !ok {
				return false, err
			}
		case []any:
			ok, err := matchList(w, got, present)
			if err != nil || !ok {
				return false, err
			}
		default:
			return false, fmt.Errorf("pattern key %s: %v is neither a list nor an object", k, want)
		}
	}
	return true, nil
}

func matchList(entries []any, got any, present bool) (bool, error) {
	values := []any{got}
	if l, ok := got.([]any); ok {
		values = l
	}
	for _, e := range entries {
		if f, ok := e.(map[string]any); ok {
			if ex, ok := f["exists"].(bool); ok {
				if ex == present {
					return true, nil
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range values {
			ok, err := matchEntry(e, v)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

func matchEntry(e, v any) (bool, error) {
	f, ok := e.(map[string]any)
	if !ok {
		return fmt.Sprint(e) == fmt.Sprint(v) && (e == nil) == (v == nil), nil
	}
	s, isStr := v.(string)
	for op, arg := range f {
		switch op {
		case "prefix":
			return isStr && strings.HasPrefix(s, fmt.Sprint(arg)), nil
		case "suffix":
			return isStr && strings.HasSuffix(s, fmt.Sprint(arg)), nil
		case "wildcard":
			return isStr && glob(fmt.Sprint(arg), s), nil
		case "equals-ignore-case":
			return isStr && strings.EqualFold(s, fmt.Sprint(arg)), nil
		case "anything-but":
			switch a := arg.(type) {
			case []any:
				for _, x := range a {
					if fmt.Sprint(x) == fmt.Sprint(v) {
						return false, nil
					}
				}
				return true, nil
			case map[string]any:
				ok, err := matchEntry(a, v)
				return !ok, err
			default:
				return fmt.Sprint(a) != fmt.Sprint(v), nil
			}
		}
		return false, fmt.Errorf("pattern filter %s is not evaluated by the local cloud", op)
	}
	return false, nil
}
