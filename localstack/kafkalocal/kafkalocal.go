// Package kafkalocal starts the local stand-ins for MSK and the Confluent
// schema registry: an in-process Kafka cluster (franz-go pkg/kfake, real
// Kafka wire protocol, so kcat and any client work) and an in-process schema
// registry (franz-go pkg/sr/srfake, Confluent REST API).
//
// Both can keep their contents on disk between runs (Options.DataDir,
// RegistryOptions.File): kfake then writes its topics, record batches and
// consumer-group offsets under the folder as it goes and reloads them on
// start; the registry writes its schemas, with their ids, after every
// change and seeds them back at the same ids, so the Avro messages already
// in Kafka still name schemas the registry has.
package kafkalocal

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Options configures Start.
type Options struct {
	Port       int      // listen port on 127.0.0.1; 0 picks a free port
	Topics     []string // created up front
	Partitions int      // per seeded topic and for auto-created topics; default 1
	// DataDir, if set, keeps the cluster on disk (kfake.DataDir): topics,
	// records and committed offsets survive a restart on the same folder.
	// Topics missing from a reloaded cluster are created. Without it the
	// records are held in memory.
	DataDir string
	// Retention, if set, deletes records the consumers are done with, so a
	// long-running cluster keeps bounded memory and disk (see Retention).
	Retention *Retention
	// SegmentBytes is the size of a partition's log segments
	// (log.segment.bytes). Deleted records give their memory or disk back
	// a whole segment at a time, so with Retention it defaults to
	// DefaultSegmentBytes rather than kfake's 100 MiB.
	SegmentBytes int64
}

// DefaultSegmentBytes is the segment size of a cluster with Retention.
const DefaultSegmentBytes = 4 << 20

// Cluster is a running in-process Kafka cluster (one broker).
type Cluster struct {
	c         *kfake.Cluster
	retention *Retention
	stop      chan struct{}
	done      chan struct{}
}

// Start starts a one-broker Kafka cluster. Topics not listed are created on
// first use with Partitions partitions.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("starting kafka: %w", err)
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 1
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(opts.Port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(opts.Partitions),
	}
	if len(opts.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(int32(opts.Partitions), opts.Topics...))
	}
	if opts.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	if opts.SegmentBytes <= 0 && opts.Retention != nil {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.SegmentBytes > 0 {
		kopts = append(kopts, kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.FormatInt(opts.SegmentBytes, 10)}))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("starting kafka on port %d (data folder %q): %w", opts.Port, opts.DataDir, err)
	}
	// A reloaded cluster ignores SeedTopics: create what a newer Pulse
	// consumes and the folder does not have yet.
	for _, t := range opts.Topics {
		if c.TopicInfo(t) != nil {
			continue
		}
		if err := c.CreateTopic(t, int32(opts.Partitions), nil); err != nil {
			c.Close()
			return nil, fmt.Errorf("creating topic %s: %w", t, err)
		}
	}
	cl := &Cluster{c: c, retention: opts.Retention}
	if r := opts.Retention; r != nil && r.Every >= 0 {
		cl.stop, cl.done = make(chan struct{}), make(chan struct{})
		go cl.trimEvery(r.every())
	}
	return cl, nil
}

// Brokers returns the seed broker addresses (host:port).
func (c *Cluster) Brokers() []string { return c.c.ListenAddrs() }

// Kfake returns the underlying kfake cluster, for tests that inject faults.
func (c *Cluster) Kfake() *kfake.Cluster { return c.c }

// Close stops the cluster.
func (c *Cluster) Close() {
	if c.stop != nil {
		close(c.stop)
		<-c.done
		c.stop = nil
	}
	c.c.Close()
}
