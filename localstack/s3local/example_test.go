package s3local_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pulse-analytics/pulse/localstack/s3local"
	"github.com/pulse-analytics/pulse/shared/adapters/awsevents"
	s3store "github.com/pulse-analytics/pulse/shared/adapters/s3"
)

func ExampleNotifyingStore() {
	ctx := context.Background()
	srv, err := s3local.Start(ctx, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	if err := srv.CreateBuckets(ctx, "pulse-raw"); err != nil {
		fmt.Println(err)
		return
	}
	client, err := s3store.NewClient(ctx, srv.Endpoint())
	if err != nil {
		fmt.Println(err)
		return
	}
	store := s3local.NotifyingStore(s3store.New(client), "pulse-raw", "incoming/",
		func(ctx context.Context, e events.S3Event) error {
			drops, err := awsevents.S3Drops(e)
			if err != nil {
				return err
			}
			fmt.Println(e.Records[0].S3.Object.Key, "->", drops[0].Key, drops[0].Size)
			return nil
		})
	if _, err := store.Put(ctx, "pulse-raw", "incoming/day 1.csv", strings.NewReader("a,b\n"), -1); err != nil {
		fmt.Println(err)
	}
	// Output: incoming/day+1.csv -> incoming/day 1.csv 4
}
