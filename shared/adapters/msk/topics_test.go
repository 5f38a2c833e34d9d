package msk_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pulse-analytics/pulse/shared/adapters/msk"
)

// TestEnsureTopics: seed 004's 5 partitions on a one-broker cluster
// (replication capped at 1), an existing one-partition topic grown to 5,
// and a second run changing nothing.
func TestEnsureTopics(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "old"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	spec := msk.TopicSpec{Topics: []string{"pageviews", "old", "users"}, Partitions: 5, ReplicationFactor: 3}
	res, err := msk.EnsureTopics(ctx, cl, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res), "[{old 5 1 partitions added} {pageviews 5 1 created} {users 5 1 created}]"; got != want {
		t.Errorf("first run: %s, want %s", got, want)
	}
	td, err := kadm.NewClient(cl).ListTopics(ctx, "old", "pageviews", "users")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"old", "pageviews", "users"} {
		if n := len(td[name].Partitions); n != 5 {
			t.Errorf("%s has %d partitions, want 5", name, n)
		}
	}
	res, err = msk.EnsureTopics(ctx, cl, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res), "[{old 5 1 unchanged} {pageviews 5 1 unchanged} {users 5 1 unchanged}]"; got != want {
		t.Errorf("second run: %s, want %s", got, want)
	}
	if _, err := msk.EnsureTopics(ctx, cl, msk.TopicSpec{Topics: []string{"x"}, Partitions: 0, ReplicationFactor: 3}); err == nil {
		t.Error("0 partitions accepted")
	}
}
