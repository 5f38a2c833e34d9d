// Package stream is Pulse's stream use case (DESIGN.md section 2,
// "Stream"): a batch of Kafka messages, as the MSK event-source mapping
// delivers it, is archived, decoded (JSON, or Avro through a schema
// registry), cleaned with the same dataset specs as the batch files,
// deduplicated by origin, folded into event-time windows and sessions,
// and loaded into the warehouse; rejects are quarantined with their
// reasons. It takes []pipeline.Message and imports no AWS SDK or Lambda
// type; shared/handlers adapts it to events.KafkaEvent.
//
// # One batch, and why a retry is harmless
//
// Each dataset belongs to one processor (its windows or sessions, or
// none); a processor's state, with a ledger of the offsets it has
// accounted per topic partition (the highest, and the gaps below it: see
// Failed batches), lives in a window.Store. A batch runs:
//
//	load-state  load the state of every processor the batch touches; a record whose
//	            offset the ledger accounted was accounted by an earlier committed
//	            run (a redelivery) and is skipped everywhere
//	archive     raw records, whole, to the raw bucket:
//	            stream/<topic>/partition=<p>/<first offset>-<last offset>.ndjson
//	clean       decode and clean; a message that does not decode or clean is
//	            rejected with the field and the reason (it never blocks the partition)
//	dedupe      claim each event's dedupe key at its origin topic/partition/offset:
//	            another origin's key is a duplicate, the same origin (a retry) proceeds
//	apply       fold into windows and sessions; late records are marked (and still loaded)
//	quarantine  rejected records to the quarantine bucket: stream/<dataset>/<batch id>.ndjson
//	merge       MERGE facts and dimensions, metric rows, PULSE_LATE_EVENTS,
//	            PULSE_REJECTS and one PULSE_MANIFESTS row per topic, in one
//	            warehouse transaction (all of the batch lands, or none)
//	save        save each processor's state (optimistic concurrency)
//
// Every write is keyed (object keys and warehouse keys derive from topic,
// partition and offsets), so a crash after any step and the redelivery of
// the batch leave warehouse, window state and dedupe keys exactly as one
// clean run: until save, the old state replays the same results; after
// save, the ledger skips the records. Per topic and batch,
// received = loaded + rejected + duplicate, every record in exactly one.
// A late record is a record: it is loaded into its fact, dimension and
// table outputs like any other, and lateness only keeps it out of the
// windows already closed, each of which it missed is a row in
// PULSE_LATE_EVENTS with the record kept whole. The manifest's late count
// is the loaded records that missed every window they could count in
// ("of which late").
//
// # Windows (seed: metric table)
//
//	003 user_registration_metrics  distinct users, tumbling 1 h and sliding 1 h every 15 min
//	003 session_metrics            active sessions, mean sign-in to sign-out duration, every minute
//	003 movie_sales_metrics        checkouts priced from the catalog, per movie, daily and weekly
//	001 social_platform_metrics    per platform per 5 min: visitors, sales, usage, mean rates, top city
//	004 pageview_window_metrics    views and users per page source: tumbling 1 min,
//	                               hopping 1 min every 30 s, session (gap 30 s)
//	004 pageview_country_metrics   views joined with cleaned users, per country per minute
//
// Watermarks are kept per Kafka topic partition, as Flink's Kafka source
// does: Kafka keeps the order of one partition's messages and no other, so
// a partition's watermark is the largest event time seen on it minus the
// allowed lateness (5 min), and an event is late when it is behind its own
// partition's watermark, whatever the other partitions did meanwhile. A
// processor's frontier is the smallest watermark over the partitions of
// its topics (Config.Partitions of each, as the deployment creates them:
// one not read yet holds the frontier back; one idle for IdleTimeout stops
// holding it back), and windows close when the frontier passes their end.
// So an event on time on its partition always finds its windows open, and
// how the mapping interleaves partitions in its batches, or how far ahead
// one partition's consumer runs, changes nothing (as long as each
// partition's order is kept).
//
// Single-topic processors fold each event into the window engine on
// arrival (partial rows, FINAL false, while a window is open) with its
// partition's watermark, and move the engine's watermark to the frontier,
// which emits the final rows: e.g. registrations at 10:05, 10:59 and 11:06
// on one partition close [10:00, 11:00) with 2 users once every other
// partition has passed 11:05 too; a registration at 10:40 arriving on that
// partition after the 11:06 one is late for the tumbling window and for
// the sliding windows that ended, and partly late for those still open.
//
// Sessions (sign_in + sign_out) and movie sales (checkout_to_cart +
// added_to_cart) join two topics. Each partition of each topic has its own
// watermark, which alone decides what is late on it; a reorder buffer
// releases events in event-time order once the frontier, the smallest
// watermark over every partition of the two topics, has passed them.
// Example, one partition each, lateness 5 min: sign_in u1 10:00, sign_in u2
// 10:02 arrive; nothing is released while sign_out has not been seen (or
// has been idle 1 min); sign_out u1 10:08 arrives: frontier
// min(10:02, 10:08) - 5 min = 09:57; sign_in u3 10:09 moves it to 10:03:
// u1 and u2 sign in, the 10:01, 10:02 and 10:03 metrics are emitted. So the
// results do not depend on how fast each topic is consumed.
//
// What several partitions cannot give is the one-partition result for an
// event that is late on its topic only because of a message of another
// partition: Kafka does not keep the order between partitions, so whether
// that message was produced before the event is not in the data the
// consumer gets. Such an event (in the seeded test stream, one whose own
// partition had no event for its last few minutes) is on time with several
// partitions. tests/e2e runs 1, 3 and 5 partitions against an oracle with
// the per-partition rule, which with one partition is the topic's.
//
// A late event's session window (pageviews, gap 30 s) is the session it
// would have joined, as wide as the events the engine holds when it comes:
// with several partitions another partition's on-time events may have
// widened it, or merged two into one, by then. The late event is the
// same, the bounds of the PULSE_LATE_EVENTS row (and whether it names one
// session or two) may differ; and an event late on its partition that
// overlaps a session another partition has already widened past its
// watermark joins that session instead of being late.
//
// State saved before the watermarks were per partition (one per topic)
// loads as that topic's partition 0, which is what it was with one.
//
// # Concurrency
//
// A Pipeline processes one batch at a time. Across processes (Lambda
// instances: on AWS each topic has its own mapping, so sign_in and
// sign_out batches run side by side on the session processor) a batch
// first takes a lease on each processor it touches, a small item in the
// window.Store next to the state, written with the store's conditional
// write. Another invocation's batch on that processor fails with ErrBusy
// and is retried later, so no MERGE is ever computed from state that
// another invocation is about to replace. A lease is given back at the
// end of the batch; one left by a crash expires after Config.LeaseTTL,
// but the redelivery of the crashed batch takes it over at once: the
// lease names where its batch starts in each partition, and the
// event-source mapping never runs two invocations of one partition at
// once, so a batch that starts in one of those partitions at the same
// offset or later (a redelivery of any size, after a restart or with
// another batch size) shows the holder's invocation is over. The local
// stack, which holds its data folder alone, also releases at start the
// leases a killed process left (ReleaseLeases). The state itself is saved
// conditionally on the version it was loaded at, as a second guard
// (window.ErrConflict). Cost: two small extra writes per processor per
// batch.
//
// # Failed batches
//
// A batch that keeps failing (the warehouse down) ends, after the
// event-source mapping's retries, at its on-failure destination, which
// keeps the whole batch (shared/handlers.FailedBatches; the local stack's
// mapping writes it under _failed-batches/ in the raw bucket), and
// the mapping goes on with the next batch. The ledger then sees a batch
// start past its high-water mark + 1 and keeps the offsets between as a
// gap (Gaps lists them: "offsets 40-79 of social_sales/0 were never
// processed"). A record in a gap, or below the first offset the ledger
// saw of its partition, is no redelivery: when the failed batch comes
// back with its original positions (ProcessFailed, `pulse replay
// --failed`) its records are processed like new ones, their dedupe claims
// made by the failed attempts are retries (same origins), and the gap
// closes when the batch's state is saved. A replayed record meets the
// rule of every arrival: loaded into its facts, late for the windows
// already closed (PULSE_LATE_EVENTS). So the warehouse ends as one clean
// run over the final input handled in the order the effects landed: the
// later batches, then the replayed one.
//
// The failed attempts' dedupe claims hold their keys until
// Config.ClaimTimeout, so the same events produced again at new offsets
// are held (ErrClaimHeld, retried) until then and fresh after; Abandon,
// which the local stack's on-failure destination calls, releases them at
// once (unless the batch's state was saved: then its effect stands). The
// replayed batch then finds its events loaded from the copies: duplicates.
//
// # Replay
//
// Replay takes a dataset's quarantined records (stream/<dataset>/ in the
// quarantine bucket) back through the stream path after a fix, e.g. a
// platform added to the platform registry (`pulse replay --dataset
// social_sales --add-platform Myspace`, pipeline.PlatformRegistry). Each record is re-cleaned with
// today's spec and keeps its original position, topic/partition/offset,
// as its dedupe origin: a record whose event was loaded meanwhile from
// another position is a duplicate, never a second copy. One that passes
// is an arrival at replay time, and meets the same rule as every arrival:
// it is loaded into its fact table, and
//
//   - windows still open: it is folded in, so a fix made while the window
//     is live corrects the live metric;
//   - windows closed (the usual case: the watermark moved on while it sat
//     in quarantine): it is late. It goes to PULSE_LATE_EVENTS with every
//     window it missed, exactly like a message that reached Kafka late.
//
// Two-topic processors apply their own rule to the replayed record's topic:
// a sign-in or sign-out behind its topic's watermark is late with the
// metrics minute it missed, and a session already ended or timed out is
// not reopened; a checkout is priced with the cart additions loaded by then.
//
// Closed windows are not reopened, for the reason they are closed at all:
// a FINAL metric row never changes once written (dashboards, exports and
// the marts built from it rely on that). So a fact table holds every
// record, and its metric table counts those that were on time for each
// window; a reader wanting the corrected totals adds PULSE_LATE_EVENTS to
// the final rows (or reads the facts), as for any late data. Datasets
// without windows (live_streaming, item_view, ...) are never late.
// A replayed snapshot row (users, movies_catalog_enriched) becomes the
// current row of its key, as a batch replay's does.
//
// A replay never moves a processor's ledger: the records it takes are
// accounted by it (a record it has not accounted belongs to a batch still
// in flight, or to a failed batch whose replay will account it, and is
// left in quarantine as pending), so the stream neither skips new records
// nor takes replayed ones for redeliveries. A quarantined record whose
// PULSE_REJECTS rows are all REPLAYED, or that has none, is a stale copy
// (an attempt composed differently, or a failed batch's attempt, wrote it;
// the run that accounted the record replayed or loaded it): it leaves
// quarantine without being applied again. Per quarantine object the
// replay merges facts, metrics, late events, one PULSE_MANIFESTS row
// (FILE_ID replay-kafka-<dataset>-<digest of the object>, STATUS
// replayed; received = loaded + rejected + duplicate over the records
// replayed, late among the loaded) and the REPLAYED marks; then saves the
// processor's state with a marker naming the records it applied; then
// rewrites the object without them; then drops the marker. A crash before
// the save replays the same object again with the same result; after it,
// the next replay sees the marker and only finishes the rewrite. Records
// that still fail stay, with their current reason, and a replay where
// nothing passes writes nothing, so replaying twice is harmless.
//
// # Idle close
//
// Tick (an empty batch) applies the idle rule: a partition with no event
// for IdleTimeout stops holding its processor's frontier back, and a
// processor all of whose partitions are idle follows the clock, closing
// windows without newer events. Flush closes everything at the end of a bounded input.
package stream
