package ddblocal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestStartAnswersAndCloses(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Fatalf("Endpoint() = %q", s.Endpoint())
	}
	client := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(s.Endpoint()),
		Credentials:                     credentials.NewStaticCredentialsProvider("k", "s", ""),
		DisableValidateResponseChecksum: true,
	})
	out, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if len(out.TableNames) != 0 {
		t.Fatalf("fresh in-memory server has tables %v", out.TableNames)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := client.ListTables(cctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestStartWithoutJarSaysHowToInstall(t *testing.T) {
	t.Setenv("PULSE_TOOLS_DIR", t.TempDir())
	_, err := Start(context.Background())
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Start without the jar: err = %v, want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "bash localstack/tools/dynamodb-local.sh") {
		t.Fatalf("error %q does not say how to install", err)
	}
}
