// Package gold computes seed 002's gold layer (daily and monthly active
// users, sessions) from FACT_APP_INTERACTIONS, one UTC day at a time, in
// the warehouse (set-based SQL that DuckDB and Snowflake both run; the few
// dialect differences come from shared/sqlmodel). It imports no AWS
// code: the gold Lambda (shared/handlers.Gold), `pulse backfill` and the
// demo all call it with a port.Warehouse.
//
// # Active users
//
// A user is active on a day when they have at least one interaction that
// counts. An interaction counts when
//
//   - its action is one of page_view, edit, create, delete, share (the
//     batch cleaning rejects any other action before it reaches the fact);
//   - its duration is valid: 0 <= duration_ms <= 7 200 000 (0 to 2 hours,
//     both ends included); longer (outliers), negative or missing durations
//     (NULL DURATION_MS: the cleaning keeps a blank duration NULL, never 0)
//     are excluded;
//   - it is not a same-timestamp duplicate: all counting interactions of one
//     user at one exact timestamp (to the microsecond) are one action; the
//     others are excluded (exact duplicate records never reach the fact:
//     the batch path de-duplicates on user_id + timestamp + action_type).
//     The action's duration is the longest of the collapsed ones.
//
// DAU is the number of active users of the UTC day. MAU for a day is the
// number of distinct users active on any of the 30 UTC days ending that day
// (day-29 .. day): a rolling window rather than a calendar month, so every
// day has a comparable MAU and the DAU/MAU ratio has no month-start saw
// tooth. WAU likewise uses 7 days.
//
// # Sessions
//
// A session is a run of one user's counting actions, in time order, on one
// UTC day: it starts with the user's first action of the day or with an
// action 30 minutes or more after the previous one (a gap of exactly 30
// minutes starts a new session), and it ends at the last action before the
// next gap, at midnight (a new day starts new sessions), or at the user's
// last action. Its duration is last action time - first action time, in
// seconds (a one-action session lasts 0 s); its actions are its counting
// actions. Average session duration and actions per session are means over
// the day's sessions. This is shared/session.Sessionize's rule, computed in
// SQL with LAG and a running SUM.
//
// # Incremental and order-free
//
// Compute(from, to) replaces every gold row of the days in [from, to]
// (GOLD_SESSIONS, GOLD_ACTIVE_USERS, GOLD_DAILY) in one transaction, from
// those days' facts only. Because sessions never cross midnight and a
// day's rows depend on nothing but that day's facts, computing days one at
// a time, in any order, in parallel or twice, leaves exactly the tables one
// Compute over the whole range leaves. MAU is not stored: the GOLD_DAU_MAU
// view counts it from GOLD_ACTIVE_USERS when read, so it never depends on
// the order in which days were computed. Backfill runs Day over a range
// with a worker pool and reports progress.
package gold
