package s3store_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/port/storetest"
)

// TestConformance runs the ObjectStore suite through the SDK against
// gofakes3 (localstack/s3local), a fresh server and bucket per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (port.ObjectStore, string) {
		ctx := t.Context()
		srv, err := s3local.Start(ctx, "127.0.0.1:0")
		if err != nil {
			t.Fatalf("starting s3local: %v", err)
		}
		t.Cleanup(func() {
			if err := srv.Close(); err != nil {
				t.Errorf("closing s3local: %v", err)
			}
		})
		if err := srv.CreateBuckets(ctx, bucket); err != nil {
			t.Fatalf("creating bucket: %v", err)
		}
		client, err := s3store.NewClient(ctx, srv.Endpoint())
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		// Concurrent puts make the transport dial connections it may not
		// use; the server's graceful shutdown waits on such idle-but-new
		// connections, so they are closed first (cleanups run last-in,
		// first-out).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		client = s3.New(client.Options(), func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: tr} })
		return s3store.New(client), bucket
	})
}
