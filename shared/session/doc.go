// Package session builds user sessions, in two ways, with the standard
// library only (plus Pulse's window package for Origin).
//
// Gap-based sessions (seed 002): Sessionize groups a user's activities,
// sorted or not, into sessions that end when the next action is 30 minutes
// or more later, or falls on another UTC date. A session runs from its
// first to its last action; duration = end - start in seconds, so one
// action is a 0-second session.
//
//	u1: 09:00, 09:20, 09:50 (gap exactly 30 min), 23:50, 00:05 next day
//	-> [09:00, 09:20] 2 actions 1200 s; [09:50, 09:50] 1 action 0 s;
//	   [23:50, 23:50] 1 action 0 s (midnight split); [00:05, 00:05] 1 action 0 s
//
// Sign-in/sign-out sessions (seed 003 bonus): a Tracker pairs each user's
// sign-in with the next sign-out. A session with no sign-out closes
// Timeout (default 30 min) after its sign-in, flagged TimedOut, with
// End = Start + Timeout. A sign-out with no active sign-in (or older than
// it) is an orphan: counted and returned, never an error. A second
// sign-in while a session is active is counted and ignored. At each
// tumbling-minute boundary (Config.MetricsEvery) crossed by event time,
// and on demand with Metrics(at), it reports the state at that instant
// with every event at the instant applied (sign-outs before sign-ins): a
// sign-in at 10:02:00 is active in the 10:02 row, a sign-out at 10:02:00
// has ended its session. So a boundary's row is emitted once time is past
// it (an event after it, or Advance beyond it), or by AdvanceThrough when
// the input ends exactly at it:
//
//   - active_sessions_count: sessions signed in at or before the instant,
//     not signed out and not timed out;
//   - average_session_duration: mean sign-out - sign-in, in seconds, over
//     all sessions ended by a sign-out so far (timed-out sessions are left
//     out because their true end is unknown), plus the mean age of the
//     active sessions (AvgActiveAgeSeconds) for "duration of active
//     sessions".
//
// For example (see ExampleTracker):
//
//	sign_in u1 10:00, sign_in u2 10:00:30, sign_out u1 10:10, (no sign-out for u2)
//	-> metrics at 10:01: active 2, avg duration 0;  at 10:11: active 1, avg 600 s;
//	   at 10:31: u2 timed out at 10:30:30, active 0, avg 600 s.
//
// Redelivery: like window.Engine, the Tracker keeps the highest offset per
// origin partition and skips events at or below it, so a retried batch
// changes nothing; Snapshot/Restore serialise the state deterministically
// (store it with a window.Store).
package session
