package cloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Assembly is a synthesized cloud assembly (the cdk.out folder): its stacks'
// templates and asset manifests, with CloudFormation's intrinsic functions
// resolved to local names and ARNs (see Resolve).
type Assembly struct {
	Dir       string
	Region    string // what AWS::Region resolves to
	Account   string // what AWS::AccountId resolves to
	Partition string

	Stacks  []*Stack // in the manifest's order
	byName  map[string]*Stack
	exports map[string]exported  // Export.Name -> where its value is
	assets  map[string]assetFile // asset object key (<hash>.zip) -> its source
}

type exported struct {
	stack *Stack
	value any
}

type assetFile struct {
	path      string // under Dir
	packaging string // "zip" (a folder) or "file"
}

// Stack is one CloudFormation template of the assembly.
type Stack struct {
	Name      string
	Resources map[string]*Resource
	Outputs   map[string]Output
	a         *Assembly
}

// Output is one stack output.
type Output struct {
	Value  any
	Export any // the export name (an expression), nil when not exported
}

// Resource is one template resource.
type Resource struct {
	Stack      *Stack
	ID         string // logical ID
	Type       string
	Properties map[string]any
	Path       string // the construct path (aws:cdk:path metadata), e.g. PulseBatch/Clean/Resource
}

func (r *Resource) String() string { return r.Stack.Name + "/" + r.ID }

// LoadAssembly reads the cloud assembly in dir. region and account are what
// the pseudo parameters resolve to.
func LoadAssembly(dir, region, account string) (*Assembly, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the cloud assembly: %w (run cdk synth)", err)
	}
	var man struct {
		Artifacts map[string]struct {
			Type         string   `json:"type"`
			Dependencies []string `json:"dependencies"`
			Properties   struct {
				TemplateFile string `json:"templateFile"`
				File         string `json:"file"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("decoding %s/manifest.json: %w", dir, err)
	}
	a := &Assembly{Dir: dir, Region: region, Account: account, Partition: "aws",
		byName: map[string]*Stack{}, exports: map[string]exported{}, assets: map[string]assetFile{}}
	ids := make([]string, 0, len(man.Artifacts))
	for id := range man.Artifacts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		art := man.Artifacts[id]
		switch art.Type {
		case "aws:cloudformation:stack":
			st, err := a.loadStack(id, filepath.Join(dir, art.Properties.TemplateFile))
			if err != nil {
				return nil, err
			}
			a.Stacks = append(a.Stacks, st)
			a.byName[id] = st
		case "cdk:asset-manifest":
			if err := a.loadAssets(filepath.Join(dir, art.Properties.File)); err != nil {
				return nil, err
			}
		}
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("the cloud assembly in %s has no stacks", dir)
	}
	for _, st := range a.Stacks {
		for id, o := range st.Outputs {
			if o.Export == nil {
				continue
			}
			name, err := a.String(st, o.Export)
			if err != nil {
				return nil, fmt.Errorf("%s: output %s: export name: %w", st.Name, id, err)
			}
			a.exports[name] = exported{stack: st, value: o.Value}
		}
	}
	return a, nil
}

func (a *Assembly) loadStack(name, file string) (*Stack, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading stack %s: %w", name, err)
	}
	var t struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
			Metadata   struct {
				Path string `json:"aws:cdk:path"`
			} `json:"Metadata"`
		} `json:"Resources"`
		Outputs map[string]struct {
			Value  any `json:"Value"`
			Export *struct {
				Name any `json:"Name"`
			} `json:"Export"`
		} `json:"Outputs"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", file, err)
	}
	st := &Stack{Name: name, Resources: map[string]*Resource{}, Outputs: map[string]Output{}, a: a}
	for id, r := range t.Resources {
		st.Resources[id] = &Resource{Stack: st, ID: id, Type: r.Type, Properties: r.Properties, Path: r.Metadata.Path}
	}
	for id, o := range t.Outputs {
		out := Output{Value: o.Value}
		if o.Export != nil {
			out.Export = o.Export.Name
		}
		st.Outputs[id] = out
	}
	return st, nil
}

func (a *Assembly) loadAssets(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading asset manifest: %w", err)
	}
	var m struct {
		Files map[string]struct {
			Source struct {
				Path      string `json:"path"`
				Packaging string `json:"packaging"`
			} `json:"source"`
			Destinations map[string]struct {
				ObjectKey string `json:"objectKey"`
			} `json:"destinations"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decoding %s: %w", file, err)
	}
	for _, f := range m.Files {
		for _, d := range f.Destinations {
			a.assets[d.ObjectKey] = assetFile{path: f.Source.Path, packaging: f.Source.Packaging}
		}
	}
	return nil
}

// Stack returns the stack of that name, or nil.
func (a *Assembly) Stack(name string) *Stack { return a.byName[name] }

// Resources returns every resource of a type, in stack then logical-ID order.
func (a *Assembly) Resources(typ string) []*Resource {
	var out []*Resource
	for _, st := range a.Stacks {
		ids := make([]string, 0, len(st.Resources))
		for id, r := range st.Resources {
			if r.Type == typ {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			out = append(out, st.Resources[id])
		}
	}
	return out
}

// AssetDir returns the folder of the asset a function's Code names (its
// S3Key in the asset manifest).
func (a *Assembly) AssetDir(fn *Resource) (string, error) {
	code, ok := fn.Properties["Code"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("%s has no Code", fn)
	}
	if _, inline := code["ZipFile"]; inline {
		return "", fmt.Errorf("%s has inline code (not a Pulse function)", fn)
	}
	key, err := a.String(fn.Stack, code["S3Key"])
	if err != nil {
		return "", fmt.Errorf("%s: Code.S3Key: %w", fn, err)
	}
	f, ok := a.assets[key]
	if !ok {
		return "", fmt.Errorf("%s: no asset with object key %s in the asset manifests", fn, key)
	}
	if f.packaging != "zip" {
		return "", fmt.Errorf("%s: asset %s is packaged as %q, not a zip folder", fn, key, f.packaging)
	}
	return filepath.Join(a.Dir, f.path), nil
}

// hash8 is 8 hex digits derived from s (stable local IDs).
func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// physicalName is the name CloudFormation would give a resource that names
// none: <stack>-<logical ID>, shortened to max (lower case for buckets).
func physicalName(r *Resource, max int, lower bool) string {
	n := r.Stack.Name + "-" + r.ID
	if len(n) > max {
		n = n[:max-9] + "-" + hash8(n)
	}
	if lower {
		n = strings.ToLower(n)
	}
	return n
}
