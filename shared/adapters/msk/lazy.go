package msk

import (
	"context"
	"sync"

	"github.com/pulse-analytics/pulse/shared/catalog"
)

var _ catalog.Producer = (*LazyProducer)(nil)

// LazyProducer builds its Producer on the first Produce, not when the
// function starts: making one may ask MSK for the bootstrap brokers and
// register the Avro schema, network calls that Lambda would bill in the
// init phase of every cold start, and that fail the whole init (with no
// invocation to retry) when the network is slow. A failed build is that
// call's error; the next call tries again.
type LazyProducer struct {
	build func(ctx context.Context) (*Producer, error)

	mu sync.Mutex
	p  *Producer
}

// NewLazyProducer defers build to the first Produce.
func NewLazyProducer(build func(ctx context.Context) (*Producer, error)) *LazyProducer {
	return &LazyProducer{build: build}
}

// Produce implements catalog.Producer.
func (l *LazyProducer) Produce(ctx context.Context, movies []catalog.Movie) error {
	p, err := l.producer(ctx)
	if err != nil {
		return err
	}
	return p.Produce(ctx, movies)
}

func (l *LazyProducer) producer(ctx context.Context) (*Producer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		return l.p, nil
	}
	p, err := l.build(ctx)
	if err != nil {
		return nil, err
	}
	l.p = p
	return p, nil
}
