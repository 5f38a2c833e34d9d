// Package memory holds in-process implementations of Pulse's ports, for the
// local demo, the command line and unit tests. They are real
// implementations, safe for concurrent use, and pass the same conformance
// suites as the AWS adapters (shared/pipeline/dedupetest,
// shared/window/storetest). OpenDedupe and OpenWindowStore keep their
// contents in files, so the local stack remembers dedupe keys and the
// stream path's window state between runs.
package memory
