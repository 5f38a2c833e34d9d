// Package kafkalocal starts the local stand-ins for MSK and the Confluent
// schema registry: an in-process Kafka cluster (franz-go pkg/kfake, real
// Kafka wire protocol, so kcat and any client work) and an in-process schema
// registry (franz-go pkg/sr/srfake, Confluent REST API).
package kafkalocal

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Options configures Start.
type Options struct {
	Port       int      // listen port on 127.0.0.1; 0 picks a free port
	Topics     []string // created up front
	Partitions int      // per seeded topic and for auto-created topics; default 1
}

// Cluster is a running in-process Kafka cluster (one broker).
type Cluster struct {
	c *kfake.Cluster
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
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("starting kafka on port %d: %w", opts.Port, err)
	}
	return &Cluster{c: c}, nil
}

// Brokers returns the seed broker addresses (host:port).
func (c *Cluster) Brokers() []string { return c.c.ListenAddrs() }

// Kfake returns the underlying kfake cluster, for tests that inject faults.
func (c *Cluster) Kfake() *kfake.Cluster { return c.c }

// Close stops the cluster.
func (c *Cluster) Close() { c.c.Close() }

// Registry is a running in-process schema registry.
type Registry struct {
	fake *srfake.Registry
	srv  *http.Server
	url  string
	done chan error
}

// StartRegistry starts a schema registry on a free port of 127.0.0.1.
func StartRegistry(ctx context.Context) (*Registry, error) {
	return StartRegistryOn(ctx, 0)
}

// StartRegistryOn starts a schema registry on 127.0.0.1:port (0 = free port).
func StartRegistryOn(ctx context.Context, port int) (*Registry, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("starting schema registry on port %d: %w", port, err)
	}
	fake := srfake.NewRegistry()
	r := &Registry{
		fake: fake,
		srv:  &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// URL returns the registry's base URL, e.g. http://127.0.0.1:41234.
func (r *Registry) URL() string { return r.url }

// Fake returns the underlying srfake registry (seeding, inspection).
func (r *Registry) Fake() *srfake.Registry { return r.fake }

// Close stops the registry.
func (r *Registry) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	<-r.done // http.ErrServerClosed
}
