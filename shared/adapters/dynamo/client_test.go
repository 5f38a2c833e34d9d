package dynamo

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// isolateAWSEnv clears the AWS settings the config chain would read.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, v := range []string{
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestNewClientWithEndpoint(t *testing.T) {
	localClient(t) // fails with the install hint if the server is missing
	isolateAWSEnv(t)
	client, err := NewClient(context.Background(), server.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	if got := client.Options().Region; got != "us-east-1" {
		t.Fatalf("region = %q, want us-east-1", got)
	}
	if !client.Options().DisableValidateResponseChecksum {
		t.Fatal("response checksum validation is on against an emulator")
	}
	if _, err := client.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables with dummy credentials: %v", err)
	}
}

func TestNewClientFromEnvironment(t *testing.T) {
	localClient(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", server.Endpoint())
	client, err := NewClient(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := client.Options().Region; got != "eu-west-1" {
		t.Fatalf("region = %q, want eu-west-1", got)
	}
	if _, err := client.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables via AWS_ENDPOINT_URL_DYNAMODB: %v", err)
	}
}
