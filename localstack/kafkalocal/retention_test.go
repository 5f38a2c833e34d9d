package kafkalocal

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRetentionKeepsWhatIsNotConsumed: rounds of records are produced and
// a consumer group commits all but the last 200 of each round; each Trim
// deletes exactly the records below the commit but the newest Keep, so
// the partition holds the unconsumed records plus Keep, whatever the
// number of rounds. A topic one of whose groups never committed is kept
// whole.
func TestRetentionKeepsWhatIsNotConsumed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const keep, perRound, consumedPerRound, size = 100, 1000, 800, 512
	c, err := Start(ctx, Options{Topics: []string{"a", "b"}, SegmentBytes: 64 << 10,
		Retention: &Retention{Groups: map[string][]string{"a": {"g"}, "b": {"g", "late"}}, Keep: keep, Every: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers()...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("a", "b"),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()

	value := bytes.Repeat([]byte{'x'}, size)
	next := map[string]int64{} // the offset the group commits up to, per topic
	var got []*kgo.Record
	for round := 1; round <= 10; round++ {
		for _, topic := range []string{"a", "b"} {
			var rs []*kgo.Record
			for range perRound {
				rs = append(rs, &kgo.Record{Topic: topic, Value: value})
			}
			if err := prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		// Consume the round and commit only consumedPerRound of each topic.
		for len(got) < 2*perRound*round {
			fs := cons.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatal(err)
			}
			got = append(got, fs.Records()...)
		}
		var commit []*kgo.Record
		for _, r := range got {
			if r.Offset == next[r.Topic]+consumedPerRound-1 {
				commit = append(commit, r)
			}
		}
		if len(commit) != 2 {
			t.Fatalf("round %d: found %d records to commit, want 2", round, len(commit))
		}
		if err := cons.CommitRecords(ctx, commit...); err != nil {
			t.Fatal(err)
		}
		for _, r := range commit {
			next[r.Topic] = r.Offset + 1 + (perRound - consumedPerRound)
		}
		// The group has committed all but the last perRound-consumedPerRound records.
		committedA := int64(round*perRound - (perRound - consumedPerRound))

		deleted, err := c.Trim()
		if err != nil {
			t.Fatal(err)
		}
		wantDeleted := int64(perRound) // the commit moved on by a round
		if round == 1 {
			wantDeleted = consumedPerRound - keep
		}
		if deleted != wantDeleted {
			t.Errorf("round %d: Trim deleted %d records, want %d (topic a only: b's second group never committed)", round, deleted, wantDeleted)
		}
		pa := c.Kfake().PartitionInfo("a", 0)
		if want := committedA - keep; pa.LogStartOffset != want {
			t.Errorf("round %d: topic a starts at %d, want %d", round, pa.LogStartOffset, want)
		}
		// What a holds is the unconsumed records and the kept ones, at
		// most their size plus the batch framing.
		if held := pa.HighWatermark - pa.LogStartOffset; held != keep+perRound-consumedPerRound {
			t.Errorf("round %d: topic a holds %d records, want %d", round, held, keep+perRound-consumedPerRound)
		}
		if max := int64((keep + perRound - consumedPerRound) * (size + 80)); pa.NumBytes > max {
			t.Errorf("round %d: topic a holds %d bytes, want at most %d", round, pa.NumBytes, max)
		}
		if pb := c.Kfake().PartitionInfo("b", 0); pb.LogStartOffset != 0 {
			t.Errorf("round %d: topic b starts at %d, want 0 (its group \"late\" has not committed)", round, pb.LogStartOffset)
		}
	}
}

// TestNoRetentionKeepsEverything: a cluster without Retention trims nothing.
func TestNoRetentionKeepsEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{Topics: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Trim(); n != 0 || err != nil {
		t.Fatalf("Trim = %d, %v; want 0, nil", n, err)
	}
}
