package snowpipe_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe"
	"github.com/pulse-analytics/pulse/shared/adapters/snowpipe/snowpipetest"
	"github.com/pulse-analytics/pulse/shared/table"
)

// One channel per topic partition and table; a redelivered batch appends
// nothing twice.
func ExampleChannel_Append() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048) // in Pulse: snowflake.ParsePrivateKey(secret)
	srv, _ := snowpipetest.New(snowpipetest.Options{Account: "myorg-pulse", User: "loader", PublicKey: &key.PublicKey,
		Database: "PULSE", Schema: "PUBLIC", Tables: []table.Schema{events}})
	defer srv.Close()

	client, err := snowpipe.New(snowpipe.Config{Account: "myorg-pulse", User: "loader", Key: key,
		Database: "PULSE", Schema: "PUBLIC", AccountURL: srv.AccountURL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	ch, err := client.OpenChannel(ctx, snowpipe.ChannelSpec{Table: events, Name: snowpipe.ChannelName("consumer_registration", 0)})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The Kafka batch: offsets 100-104; offset 104 was a duplicate, so no row.
	rows := eventRows(100, 103)
	for try := 1; try <= 2; try++ { // the second try is Lambda redelivering the batch
		res, err := ch.Append(ctx, rows, 104)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("try %d: sent %d, skipped %d, committed %d\n", try, res.Sent, res.Skipped, res.Commit.Committed)
	}
	fmt.Println("rows in the table:", srv.Count(events.Name))
	// Output:
	// try 1: sent 4, skipped 0, committed 104
	// try 2: sent 0, skipped 4, committed 104
	// rows in the table: 4
}
