package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
	"github.com/pulse-analytics/pulse/shared/window"
)

// processor folds the records of some datasets into windows or sessions.
// Its whole state is what snapshot returns; the pipeline keeps it in the
// window.Store together with the processor's ledger.
type processor interface {
	name() string
	datasets() []string
	restore(data []byte) error // nil data: empty state
	snapshot() ([]byte, error)
	// apply folds the batch's fresh, clean, non-duplicate records of the
	// processor's datasets, in batch order. It marks late records
	// (rec.late) and adds results, late events and table rows to out.
	apply(ctx context.Context, now time.Time, recs []*rec, out *outputs, lk *lookups) error
	// advance applies the idle rule at processing time now.
	advance(ctx context.Context, now time.Time, out *outputs, lk *lookups) error
	// flush closes everything (end of a bounded input).
	flush(ctx context.Context, now time.Time, out *outputs, lk *lookups) error
}

// procSlot holds one processor between batches. The instance is reused
// while the stored state is the one it last saved (a warm Lambda), and
// rebuilt from the store otherwise.
type procSlot struct {
	name   string
	make   func() processor
	proc   processor
	ledger ledger // what the processor accounted of each topic partition
	// replays: quarantine object key -> what a replay of it applied, kept
	// from the save of its effect until the object is rewritten (Replay).
	replays map[string]replayMark
	// commits are dedupe transactions whose effect this state holds and
	// whose commit may not have reached the dedupe store yet.
	commits []string
	version int64
	loaded  []byte // the stored bytes proc and ledger reflect
	valid   bool   // false after a failed batch: reload before use

	leased       bool // this process holds the processor's lease
	leaseVersion int64
	// unfinished: where batches that did not finish (their holder crashed,
	// or released the lease failing) started, per partition: their
	// warehouse load may have landed without their state (batch.orphans).
	unfinished map[string]int64
	from       map[string]int64 // where this holder's batch starts
}

// persisted is the stored form of a processor's state.
type persisted struct {
	Format  int                   `json:"format"`
	Ledger  map[string]int64      `json:"ledger,omitempty"`
	Starts  map[string]int64      `json:"starts,omitempty"`
	Gaps    map[string][]span     `json:"gaps,omitempty"`
	Proc    json.RawMessage       `json:"proc,omitempty"`
	Replays map[string]replayMark `json:"replays,omitempty"`
	Commits []string              `json:"commits,omitempty"`
}

// replayMark is what a replay applied from one quarantine object: the
// origins of the records that left quarantine, and the current field and
// reason of those that still fail.
type replayMark struct {
	Done  []string             `json:"done"`
	Still map[string][2]string `json:"still,omitempty"`
}

const stateFormat = 1

func (p *Pipeline) stateName(slot *procSlot) string {
	return p.env.Config.StatePrefix + slot.proc.name()
}

// loadState makes slot reflect the stored state.
func (p *Pipeline) loadState(ctx context.Context, slot *procSlot) error {
	if slot.proc == nil {
		slot.proc = slot.make()
	}
	name := p.stateName(slot)
	data, version, err := p.env.State.Load(ctx, name)
	if err != nil {
		return fmt.Errorf("loading stream state %s: %w", name, err)
	}
	if slot.valid && version == slot.version && bytes.Equal(data, slot.loaded) {
		return nil
	}
	slot.valid = false
	pr := slot.make()
	ledger, replays := newLedger(), map[string]replayMark{}
	var commits []string
	if len(data) > 0 {
		var st persisted
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("decoding stream state %s: %w", name, err)
		}
		if st.Format != stateFormat {
			return fmt.Errorf("decoding stream state %s: format %d, want %d", name, st.Format, stateFormat)
		}
		if err := pr.restore(st.Proc); err != nil {
			return fmt.Errorf("restoring stream state %s: %w", name, err)
		}
		for k, v := range st.Ledger {
			ledger.high[k] = v
		}
		for k, v := range st.Starts {
			ledger.starts[k] = v
		}
		for k, v := range st.Gaps {
			ledger.gaps[k] = v
		}
		for k, v := range st.Replays {
			replays[k] = v
		}
		commits = st.Commits
	} else if err := pr.restore(nil); err != nil {
		return fmt.Errorf("restoring stream state %s: %w", name, err)
	}
	slot.proc, slot.ledger, slot.replays, slot.version, slot.loaded, slot.valid = pr, ledger, replays, version, data, true
	slot.commits = append([]string(nil), commits...)
	// Roll forward: a batch whose state was saved may have died before
	// committing its dedupe claims.
	return p.commitClaims(ctx, []*procSlot{slot}, "")
}

// setCommit names txn as the dedupe transaction whose effect the slot's
// next save holds; the ones named before were committed when the state
// was loaded, or by the batch that named them.
func (s *procSlot) setCommit(txn string) {
	if txn != "" {
		s.commits = []string{txn}
	}
}

// commitClaims commits txn (if not "") and every transaction the slots
// name (committing again is harmless). A transaction aborted meanwhile
// (its claims were taken over after its deadline) is logged: its effect
// stands. The slots keep naming them until their next save names another,
// so a redelivery that changes nothing saves nothing.
func (p *Pipeline) commitClaims(ctx context.Context, slots []*procSlot, txn string) error {
	done := map[string]bool{}
	commit := func(t string) error {
		if done[t] {
			return nil
		}
		done[t] = true
		err := p.env.Dedupe.Commit(ctx, t)
		if errors.Is(err, port.ErrTxnAborted) {
			p.log().Warn("stream: a batch's dedupe claims were taken over before it committed", "txn", t)
			return nil
		}
		return err
	}
	if txn != "" {
		if err := commit(txn); err != nil {
			return err
		}
	}
	for _, s := range slots {
		for _, t := range s.commits {
			if err := commit(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// saveState stores the slot's state if it changed, expecting the version
// it was loaded at. A concurrent writer makes it fail with
// window.ErrConflict: the batch is then retried whole from fresh state.
func (p *Pipeline) saveState(ctx context.Context, slot *procSlot) error {
	procState, err := slot.proc.snapshot()
	if err != nil {
		slot.valid = false
		return fmt.Errorf("snapshotting stream state %s: %w", slot.proc.name(), err)
	}
	ledger, err := json.Marshal(slot.ledger.high)
	if err != nil {
		slot.valid = false
		return fmt.Errorf("encoding stream state %s: %w", slot.proc.name(), err)
	}
	keys, vals := []string{"format", "ledger"}, [][]byte{[]byte(strconv.Itoa(stateFormat)), ledger}
	// Starts and gaps only when there are some: a stream read from offset 0
	// without failed batches saves what it saved before they existed.
	for _, part := range []struct {
		key string
		n   int
		v   any
	}{{"starts", len(slot.ledger.starts), slot.ledger.starts}, {"gaps", len(slot.ledger.gaps), slot.ledger.gaps}} {
		if part.n == 0 {
			continue
		}
		b, err := json.Marshal(part.v)
		if err != nil {
			slot.valid = false
			return fmt.Errorf("encoding stream state %s: %w", slot.proc.name(), err)
		}
		keys, vals = append(keys, part.key), append(vals, b)
	}
	keys, vals = append(keys, "proc"), append(vals, procState)
	if len(slot.commits) > 0 {
		commits, err := json.Marshal(slot.commits)
		if err != nil {
			slot.valid = false
			return fmt.Errorf("encoding stream state %s: %w", slot.proc.name(), err)
		}
		keys, vals = append(keys, "commits"), append(vals, commits)
	}
	if len(slot.replays) > 0 {
		replays, err := json.Marshal(slot.replays)
		if err != nil {
			slot.valid = false
			return fmt.Errorf("encoding stream state %s: %w", slot.proc.name(), err)
		}
		keys, vals = append(keys, "replays"), append(vals, replays)
	}
	data := rawObject(keys, vals)
	if bytes.Equal(data, slot.loaded) {
		return nil
	}
	name := p.stateName(slot)
	if err := p.env.State.Save(ctx, name, data, slot.version); err != nil {
		slot.valid = false
		if errors.Is(err, window.ErrConflict) {
			return fmt.Errorf("saving stream state %s: another invocation saved it meanwhile, retry the batch: %w", name, err)
		}
		return fmt.Errorf("saving stream state %s: %w", name, err)
	}
	slot.version++
	slot.loaded = data
	return nil
}

// ErrBusy is returned when another invocation holds a processor's lease:
// the batch is retried later (Lambda and the local mapping both do).
var ErrBusy = errors.New("another invocation is processing this processor's state")

// lease is the content of a processor's lease item in the state store.
type lease struct {
	Owner string `json:"owner"` // "" when released
	Until int64  `json:"until"` // Unix µs
	// From is where the holder's batch starts in each partition of the
	// processor's topics it holds ("topic/partition" -> first offset).
	From map[string]int64 `json:"from,omitempty"`
	// Failed: the last holder released it after its batch failed, which
	// may have been after the batch's warehouse load landed.
	Failed bool `json:"failed,omitempty"`
	// Unfinished: where batches that did not finish started, per partition
	// ("topic/partition" -> first offset), kept until a batch of that
	// partition finishes (see batch.orphans).
	Unfinished map[string]int64 `json:"unfinished,omitempty"`
}

// redelivers tells whether a batch starting at from (per partition) shows
// that the batch holding a lease that started at held is over: the
// event-source mapping never runs two invocations of one partition at
// once, so once it delivers a partition again from the same offset or a
// later one, the invocation that had it earlier has ended (failed,
// crashed or timed out), whatever the sizes of the two batches.
func redelivers(from, held map[string]int64) bool {
	for k, f := range from {
		if h, ok := held[k]; ok && f >= h {
			return true
		}
	}
	return false
}

const leasePrefix = "lease/"

// releasedLease is a lease item nobody holds.
const releasedLease = `{"owner":"","until":0}`

func (p *Pipeline) leaseName(slot *procSlot) string {
	return p.env.Config.StatePrefix + leasePrefix + slot.name
}

// acquire takes the processor's lease for owner, a name of the batch that
// is the same on every retry of it, starting at from in the partitions it
// holds (nil for sweeps and replays). Another owner's unexpired lease is
// ErrBusy, unless this batch redelivers a partition of that owner's
// (redelivers): so a retry after a crash, of any size, takes the lease
// over at once. The lease makes invocations on one processor exclusive,
// so no MERGE is ever computed from state another invocation is about to
// replace.
func (p *Pipeline) acquire(ctx context.Context, slot *procSlot, owner string, from map[string]int64, now time.Time) error {
	if p.env.Config.leaseTTL() < 0 {
		return nil
	}
	name := p.leaseName(slot)
	data, version, err := p.env.State.Load(ctx, name)
	if err != nil {
		return fmt.Errorf("reading lease %s: %w", name, err)
	}
	var l lease
	if len(data) > 0 {
		if err := json.Unmarshal(data, &l); err != nil {
			return fmt.Errorf("decoding lease %s: %w", name, err)
		}
	}
	if l.Owner != "" && l.Owner != owner && l.Until > now.UnixMicro() && !redelivers(from, l.From) {
		return fmt.Errorf("lease %s held by %s until %s: %w", name, l.Owner, fromMicros(l.Until).Format(time.RFC3339), ErrBusy)
	}
	unfinished := map[string]int64{}
	for k, o := range l.Unfinished {
		unfinished[k] = o
	}
	if l.Owner != "" || l.Failed { // its batch did not finish
		for k, o := range l.From {
			unfinished[k] = o
		}
	}
	if len(unfinished) == 0 {
		unfinished = nil
	}
	slot.unfinished, slot.from = unfinished, from
	b, _ := json.Marshal(lease{Owner: owner, Until: now.Add(p.env.Config.leaseTTL()).UnixMicro(), From: from, Unfinished: unfinished})
	if err := p.env.State.Save(ctx, name, b, version); err != nil {
		if errors.Is(err, window.ErrConflict) {
			return fmt.Errorf("taking lease %s: %w", name, ErrBusy)
		}
		return fmt.Errorf("taking lease %s: %w", name, err)
	}
	slot.leased, slot.leaseVersion = true, version+1
	return nil
}

// release gives the lease back (best effort: an unreleased lease expires),
// saying whether the batch failed.
func (p *Pipeline) release(ctx context.Context, slot *procSlot, failed bool) {
	if !slot.leased {
		return
	}
	slot.leased = false
	name := p.leaseName(slot)
	data := []byte(releasedLease)
	l := lease{Unfinished: slot.unfinished}
	if failed {
		l.Failed, l.From = true, slot.from
	} else {
		for k := range slot.from { // finished: what started there is settled
			delete(l.Unfinished, k)
		}
	}
	if l.Failed || len(l.Unfinished) > 0 {
		data, _ = json.Marshal(l)
	}
	if err := p.env.State.Save(context.WithoutCancel(ctx), name, data, slot.leaseVersion); err != nil {
		p.log().Warn("stream: releasing a lease", "lease", name, "err", err)
	}
}
