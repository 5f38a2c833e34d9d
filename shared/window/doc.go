// Package window is Pulse's event-time window engine (DESIGN.md 4.3): it
// folds events into tumbling, hopping (sliding) and session windows per
// group key, closes windows by watermark or idle timer, reports late events
// with the windows they missed, and keeps its state serialisable and
// idempotent under redelivery. It imports only the standard library.
//
// # Windows
//
// A Window is [Start, End) in UTC; tumbling and hopping windows are aligned
// to the Unix epoch (so to UTC midnight for sizes dividing a day).
//
//	Tumbling(1h):            event 10:30 -> [10:00, 11:00)
//	                         event 11:00 -> [11:00, 12:00)   (End belongs to the next window)
//	Hopping(1h, 15m):        event 10:20 -> [09:30, 10:30) [09:45, 10:45) [10:00, 11:00) [10:15, 11:15)
//	Session(10m), one key:   events 10:00, 10:05 -> [10:00, 10:15); then 10:20 -> a second session
//	                         [10:20, 10:30); then 10:12 -> its own [10:12, 10:22) overlaps both,
//	                         so the three merge into [10:00, 10:30) with all four events
//	                         (aggregates merge: counts and sums add, max and min keep the
//	                         extreme, distinct sets unite; custom aggregates see Aggregate).
//	                         Events exactly gap apart (10:00, 10:10) are two sessions.
//
// Offset shifts the alignment: Tumbling(7*24h).Offset(4*24h) gives weeks
// from Monday 00:00 UTC (the epoch was a Thursday).
//
// A session window runs from its first event to its last event plus gap.
// One Engine may run several assigners over the same events (seed 003: a
// "tumbling" and a "sliding" registration count); each Result names its
// assigner.
//
// # Watermark, final results, late events
//
// The watermark is the largest event time seen minus AllowedLateness
// (default 5 min). It moves with each event, so what is late depends only
// on the order of events, never on how they were batched. A window is
// closed once the watermark is at or past its End; Apply emits each window
// as a Final Result once, at the end of the call in which it closed.
//
//	Tumbling(1h), lateness 5m: events 10:05, 10:59, 11:04 -> watermark 10:59, nothing closed;
//	event 11:05 -> watermark 11:00 -> [10:00, 11:00) final with 2 events (10:05, 10:59);
//	then event 10:58 -> late, Missed [10:00, 11:00)  (see Example).
//
// An event none of whose windows is open is late: it is returned as a
// LateEvent with every window it missed and is not folded anywhere. An
// event with some windows still open (hopping) is folded into those and
// returned as a LateEvent with Partial set, listing the closed ones. For a
// session assigner an event is late if its own window [t, t+gap) is closed
// and overlaps no open session, or if it overlaps a session already closed
// (a closed session is never reopened); Missed then names that closed
// session, or the session [t, t+gap) it would have created. Closed session
// bounds are remembered for gap + AllowedLateness past their end, after
// which only the event's own window is reported.
//
// Accounting: every event received is exactly one of Output.Applied,
// Output.Duplicates, a LateEvent without Partial, or Output.Rejected (event
// time outside the years 1900-2199).
//
// # Idle close
//
// Advance(now) applies the idle rule with processing time: if no new event
// arrived for IdleTimeout (default 1 min) since the last Apply that brought
// one, the watermark moves to now - AllowedLateness (never backwards), so
// windows close without newer events.
//
//	last event 10:10 applied at 10:10:30; Advance(11:05) -> watermark 11:00 -> [10:00, 11:00) final.
//
// The rule assumes event time tracks processing time; for a replay of old
// data disable it (IdleTimeout < 0) and call Flush at the end of the input.
// AdvanceTo(t) moves the watermark to an event time the caller knows has
// passed (a reorder buffer's frontier), without the idle rule.
//
// # Partial results
//
// With Config.EmitPartial, Apply also returns the current value of each
// open window it touched, with Final false, for live dashboards. A later
// result for the same (Assigner, Key, Window) supersedes it.
//
// # Idempotency and state
//
// Each Event has an Origin (partition, offset). The state keeps the highest
// offset applied per partition; an event at or below it is a redelivery and
// is skipped (Output.Duplicates), so applying a batch again, or a retried
// batch that starts with the same records, changes nothing: the snapshot
// stays byte for byte the same. Offsets must increase within a partition.
//
// Snapshot and Restore serialise the whole state as deterministic JSON;
// the Store port keeps it by name with optimistic concurrency (ErrConflict),
// implemented in process by shared/adapters/memory and on DynamoDB, with
// window/storetest as the conformance suite every implementation passes. The safe order for one batch is: Load, Apply, load
// the results into the warehouse (a MERGE keyed by assigner, key and
// window, so repeating it is harmless) and the late events, then Save. A
// crash before Save replays the batch from the old state and produces the
// same results.
//
// # Aggregates
//
// Count, DistinctCount (of Event.Distinct, e.g. user_id), Sum, Avg, Max
// and Min (of Event.Value) and All; custom ones via AggregateFunc. Every
// aggregate keeps its state in Acc, so snapshots need no registry of
// aggregate types. When sessions merge, their accumulators merge: the
// built-ins by Acc's field rules (counts and sums add, the larger max and
// the smaller min win, distinct sets unite), which give exactly the value
// over the merged session's events. A custom aggregate gets the same
// guarantee either by using Acc's fields only the way they merge, or by
// giving its own merge rule (AggregateFunc.M, or the Merger interface);
// see Aggregate. "Max-by" questions (seed 001: the city with the most
// users or sales per platform) are answered by keying events
// JoinKey(platform, city) and passing the results to TopBy.
package window
