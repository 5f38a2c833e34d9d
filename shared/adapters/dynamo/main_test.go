package dynamo

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pulse-analytics/pulse/localstack/ddblocal"
)

// One DynamoDB Local per package run, started by TestMain. If it cannot
// start (the jar is not installed), every test that needs it fails with
// the reason, which says how to install it.
var (
	server      *ddblocal.Server
	serverErr   error
	tableNumber atomic.Int64
)

func TestMain(m *testing.M) {
	server, serverErr = ddblocal.Start(context.Background())
	code := m.Run()
	if server != nil {
		if err := server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// localClient returns a client of the package's DynamoDB Local.
func localClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	if serverErr != nil {
		tb.Fatalf("DynamoDB Local: %v", serverErr)
	}
	client, err := NewClient(context.Background(), server.Endpoint())
	if err != nil {
		tb.Fatal(err)
	}
	return client
}

// freshTable creates a new, empty dedupe table and returns its name.
func freshTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := fmt.Sprintf("dedupe-%03d", tableNumber.Add(1))
	if err := EnsureTable(context.Background(), client, name); err != nil {
		tb.Fatal(err)
	}
	return name
}
