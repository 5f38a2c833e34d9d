package cloud

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeAssembly writes a cloud assembly of the given templates (stack name
// -> template JSON) with one asset manifest.
func writeAssembly(t *testing.T, templates map[string]string, assets map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	arts := map[string]any{}
	for name, tmpl := range templates {
		if err := os.WriteFile(filepath.Join(dir, name+".template.json"), []byte(tmpl), 0o644); err != nil {
			t.Fatal(err)
		}
		arts[name] = map[string]any{"type": "aws:cloudformation:stack", "properties": map[string]any{"templateFile": name + ".template.json"}}
	}
	files := map[string]any{}
	for key, path := range assets {
		files[strings.TrimSuffix(key, ".zip")] = map[string]any{"source": map[string]any{"path": path, "packaging": "zip"},
			"destinations": map[string]any{"d": map[string]any{"objectKey": key}}}
	}
	b, _ := json.Marshal(map[string]any{"files": files})
	if err := os.WriteFile(filepath.Join(dir, "A.assets.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	arts["A.assets"] = map[string]any{"type": "cdk:asset-manifest", "properties": map[string]any{"file": "A.assets.json"}}
	b, _ = json.Marshal(map[string]any{"artifacts": arts})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const storageTemplate = `{
 "Resources": {
  "Raw1234": {"Type": "AWS::S3::Bucket", "Properties": {}},
  "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},
  "Key1": {"Type": "AWS::KMS::Key", "Properties": {}}
 },
 "Outputs": {
  "ExportsRaw": {"Value": {"Ref": "Raw1234"}, "Export": {"Name": "Storage:ExportsRaw"}},
  "ExportsRawArn": {"Value": {"Fn::GetAtt": ["Raw1234", "Arn"]}, "Export": {"Name": "Storage:ExportsRawArn"}},
  "ExportsKey": {"Value": {"Fn::GetAtt": ["Key1", "Arn"]}, "Export": {"Name": "Storage:ExportsKey"}}
 }
}`

const appTemplate = `{
 "Resources": {
  "Fn1": {"Type": "AWS::Lambda::Function", "Properties": {
    "Code": {"S3Bucket": {"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "abc.zip"},
    "Role": {"Fn::GetAtt": ["Role1", "Arn"]},
    "Environment": {"Variables": {
      "BUCKET": {"Fn::ImportValue": "Storage:ExportsRaw"},
      "PREFIXED": {"Fn::Join": ["", [{"Fn::ImportValue": "Storage:ExportsRawArn"}, "/raw/*"]]},
      "SUB": {"Fn::Sub": ["arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Name}/${Fn1.Arn}", {"Name": "n"}]},
      "CLUSTER": {"Fn::Join": ["", ["arn:aws:kafka:", {"Ref": "AWS::Region"}, ":topic/",
          {"Fn::Select": [1, {"Fn::Split": ["/", "arn:aws:kafka:r:a:cluster/pulse/uuid-1"]}]}, "/",
          {"Fn::Select": [2, {"Fn::Split": ["/", "arn:aws:kafka:r:a:cluster/pulse/uuid-1"]}]}, "/t"]]},
      "NUMBER": 42
    }}}},
  "Role1": {"Type": "AWS::IAM::Role", "Properties": {}}
 }
}`

func TestResolve(t *testing.T) {
	dir := writeAssembly(t, map[string]string{"Storage": storageTemplate, "App": appTemplate}, map[string]string{"abc.zip": "asset.abc"})
	a, err := LoadAssembly(dir, "us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	fn := a.Stack("App").Resources["Fn1"]
	env, err := a.Environment(fn)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"BUCKET":   "storage-raw1234",
		"PREFIXED": "arn:aws:s3:::storage-raw1234/raw/*",
		"SUB":      "arn:aws:x:us-east-1:000000000000:n/arn:aws:lambda:us-east-1:000000000000:function:App-Fn1",
		"CLUSTER":  "arn:aws:kafka:us-east-1:topic/pulse/uuid-1/t",
		"NUMBER":   "42",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("environment\n got %v\nwant %v", env, want)
	}
	if d, err := a.AssetDir(fn); err != nil || d != filepath.Join(dir, "asset.abc") {
		t.Errorf("asset dir %q, %v", d, err)
	}
	named, _ := a.Name(a.Stack("Storage").Resources["Named"])
	if named != "my-bucket" {
		t.Errorf("a named bucket resolves to %q", named)
	}
	if _, err := a.Resolve(fn.Stack, map[string]any{"Fn::GetAtt": []any{"Role1", "Bogus"}}); err == nil || !strings.Contains(err.Error(), "Role1.Bogus") {
		t.Errorf("an unknown attribute: %v", err)
	}
	if _, err := a.Resolve(fn.Stack, map[string]any{"Fn::ImportValue": "Nope"}); err == nil || !strings.Contains(err.Error(), "no stack exports Nope") {
		t.Errorf("an unknown export: %v", err)
	}
	if _, err := a.Resolve(fn.Stack, map[string]any{"Fn::If": []any{}}); err == nil || !strings.Contains(err.Error(), "Fn::If") {
		t.Errorf("an unsupported function: %v", err)
	}
}
