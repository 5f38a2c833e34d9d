package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulse-analytics/pulse/shared/port"
)

// Abandon is told that the event-source mapping gave up on a batch (it
// failed until the mapping's on-failure destination took it) and releases
// the batch's dedupe claims: its work failed, so its records must not
// make later deliveries of the same events duplicates while its claims
// wait out Config.ClaimTimeout (DESIGN.md 4.1). Later batches holding
// such an event would otherwise fail with ErrClaimHeld for that long, and
// go to the on-failure destination in turn. The replay of the batch
// (`pulse replay --failed`) reopens the transaction: its records that no
// other delivery took meanwhile are retries of their own claims; the
// others are duplicates of the delivery that took them.
//
// If any record of the batch is accounted in the saved state (the batch
// failed after its state was saved, e.g. committing its claims), its
// effect stands and nothing is released. Without the call the claims are
// released all the same once ClaimTimeout has passed.
func (p *Pipeline) Abandon(ctx context.Context, msgs []port.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ledgers := map[string]ledger{}
	ptrs := make([]*port.Message, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		ptrs[i] = m
		proc := unknownProc
		if d := p.sets[m.Topic]; d != nil {
			proc = d.proc
		}
		l, ok := ledgers[proc]
		if !ok {
			var err error
			if l, err = p.readLedger(ctx, p.procs[proc]); err != nil {
				return fmt.Errorf("abandoning a failed batch: %w", err)
			}
			ledgers[proc] = l
		}
		if l.accounted(ledgerKey(m.Topic, m.Partition), m.Offset) {
			p.log().Warn("stream: a batch sent to the on-failure destination had saved its state: its claims stay", "record", origin(m))
			return nil
		}
	}
	txn := batchTxn(ptrs)
	if err := p.env.Dedupe.Abort(ctx, txn); err != nil && !errors.Is(err, port.ErrTxnCommitted) {
		return fmt.Errorf("abandoning a failed batch: releasing its dedupe claims (%s): %w", txn, err)
	}
	return nil
}

// ReleaseLeases gives back every processor's lease, whoever holds it. Only
// a process that knows it is the only one using the state store may call
// it: the local stack does when it starts on its data folder (which one
// process holds at a time), so a lease a killed process left does not keep
// the stream waiting for Config.LeaseTTL.
func (p *Pipeline) ReleaseLeases(ctx context.Context) error {
	if p.env.Config.leaseTTL() < 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, name := range p.order {
		slot := p.procs[name]
		lname := p.leaseName(slot)
		data, version, err := p.env.State.Load(ctx, lname)
		if err != nil {
			return fmt.Errorf("reading lease %s: %w", lname, err)
		}
		var l lease
		if len(data) == 0 || json.Unmarshal(data, &l) != nil || l.Owner == "" {
			continue
		}
		// Its holder never finished: the next batch of those partitions
		// checks whether that batch's load landed without its state
		// (batch.orphans).
		if l.Unfinished == nil {
			l.Unfinished = map[string]int64{}
		}
		for k, o := range l.From {
			l.Unfinished[k] = o
		}
		released, _ := json.Marshal(lease{Unfinished: l.Unfinished})
		if err := p.env.State.Save(ctx, lname, released, version); err != nil {
			return fmt.Errorf("releasing lease %s: %w", lname, err)
		}
		p.log().Info("stream: released a lease an earlier process left", "lease", lname, "was", string(data))
	}
	return nil
}
