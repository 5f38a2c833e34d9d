package kafkalocal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Retention bounds what a long-running local cluster keeps. Kafka's own
// retention (retention.ms, retention.bytes) deletes records by age or size
// whether or not anyone has read them, which on a laptop that was asleep,
// or a stack that fell behind, would drop records the stream path never
// handled. This one deletes only records that every consumer group of
// their topic has committed past, and keeps the newest Keep of those per
// partition for people reading the topic by hand (kcat -C). Records not
// yet consumed are kept however many there are: a backlog is work still
// to do, not garbage.
type Retention struct {
	// Groups maps a topic to the consumer groups that read it (the stack's
	// event-source mappings). A topic not listed, or a partition one of its
	// groups has not committed yet, is left whole.
	Groups map[string][]string
	// Keep is how many consumed records each partition keeps
	// (DefaultKeepRecords when 0; negative keeps none).
	Keep int64
	// Every is how often the cluster trims (DefaultRetentionEvery when 0;
	// negative: never by itself, only through Trim).
	Every time.Duration
	// Log, if set, hears about trims that failed.
	Log *slog.Logger
}

// Retention defaults.
const (
	DefaultKeepRecords    = 10_000
	DefaultRetentionEvery = 30 * time.Second
)

func (r *Retention) keep() int64 {
	switch {
	case r.Keep == 0:
		return DefaultKeepRecords
	case r.Keep < 0:
		return 0
	}
	return r.Keep
}

func (r *Retention) every() time.Duration {
	if r.Every == 0 {
		return DefaultRetentionEvery
	}
	return r.Every
}

// Trim deletes, in every partition of the topics Retention lists, the
// records all of the topic's groups have committed past, but the newest
// Keep of them. It returns how many records it deleted. A cluster without
// Retention deletes nothing.
func (c *Cluster) Trim() (int64, error) {
	r := c.retention
	if r == nil {
		return 0, nil
	}
	var deleted int64
	var errs []error
	for topic, groups := range r.Groups {
		if len(groups) == 0 {
			continue
		}
		committed := map[int32]int64{} // partition -> lowest commit over the groups
		seen := map[int32]int{}
		for _, g := range groups {
			info := c.c.GroupInfo(g)
			if info == nil {
				break
			}
			for p, gc := range info.Commits[topic] {
				if n, ok := committed[p]; !ok || gc.Offset < n {
					committed[p] = gc.Offset
				}
				seen[p]++
			}
		}
		for _, pi := range c.c.PartitionInfos(topic) {
			if seen[pi.Partition] != len(groups) {
				continue // a group has not read this partition yet
			}
			to := min(committed[pi.Partition], pi.HighWatermark) - r.keep()
			if to <= pi.LogStartOffset {
				continue
			}
			if err := c.c.DeleteRecords(topic, pi.Partition, to); err != nil {
				errs = append(errs, fmt.Errorf("deleting records of %s/%d below %d: %w", topic, pi.Partition, to, err))
				continue
			}
			deleted += to - pi.LogStartOffset
		}
	}
	return deleted, errors.Join(errs...)
}

func (c *Cluster) trimEvery(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if _, err := c.Trim(); err != nil && c.retention.Log != nil {
				c.retention.Log.Warn("kafka: trimming consumed records", "err", err)
			}
		}
	}
}
