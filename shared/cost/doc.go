// Package cost models what Pulse costs a month on AWS (us-east-1) and
// Snowflake for a given event rate and file rate, by service, from three
// things kept apart:
//
//   - the price table (prices.json, embedded): every price with the public
//     page it comes from, the date it was read and a note where the stored
//     page was silent;
//   - the measured figures (figures.go): per-event, per-batch and per-file
//     resource use of Pulse's own code, each with the command that
//     measured it (tests/costfigures and tests/stepfunctions check that
//     the committed figures are the measured ones);
//   - the assumptions (Assumptions): the load, the deployment choices
//     (load mode, dedupe capacity mode, Kafka, workflow type, warehouse
//     size and auto-suspend) and what cannot be measured here (round trips
//     on AWS and Snowflake, warehouse seconds per MERGE).
//
// Estimate multiplies them out; `pulse cost` prints the result. The
// package is domain code: standard library only.
package cost
