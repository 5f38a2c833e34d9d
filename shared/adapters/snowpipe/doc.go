// Package snowpipe is a client for Snowflake's Snowpipe Streaming REST API
// (the high-performance architecture), over net/http: no SDK, no Java
// sidecar, no gosnowflake. It loads rows into a table through the table's
// pipe on named channels whose offset tokens are Kafka offsets, so a
// redelivered batch appends nothing twice: the exactly-once model of
// Snowflake's Kafka connector. Snowflake bills this ingest by uncompressed
// bytes and no virtual warehouse runs for it.
//
// Real Snowflake was not reached from here (no account, no network): the
// client is tested against snowpipetest, a local server that checks every
// request against the published reference and simulates restarts, lost
// responses, invalidated channels, throttling and server errors. What the
// reference leaves open is listed below under "Not confirmed".
//
// # API
//
//	c, err := snowpipe.New(snowpipe.Config{Account, User, Key, Database, Schema})
//	ch, err := c.OpenChannel(ctx, snowpipe.ChannelSpec{Table: schema, Name: snowpipe.ChannelName(topic, partition)})
//	res, err := ch.Append(ctx, rows, lastOffset) // rows: []snowpipe.Row{Offset, Cells}
//
// Append = Send (rows above the committed offset token, in requests of at
// most 4 MiB of NDJSON, zstd or gzip) + WaitCommitted (poll the channel's
// status until its committed offset token covers what was sent). Rows at
// or below the committed offset token, or already sent and in flight, are
// skipped. lastOffset is the batch's last offset on the partition and
// becomes the last request's end offset token, whether or not that
// message made a row. Key is the *rsa.PrivateKey that
// snowflake.ParsePrivateKey makes of the PEM in Secrets Manager (the key is
// taken parsed so that this package does not pull gosnowflake into a
// binary). Errors unwrap to port.ErrPermanent when retrying cannot fix
// them (a 4xx other than 408/429, a bad row, a row over the request
// limit), so port.Retryable sorts them; ErrCommitTimeout,
// ErrInvalidated, 429, 5xx and network errors are retryable, and the retry
// of the batch appends only what is not committed.
//
// # Recovery
//
//   - Lost response or 5xx on Append Rows (it may have landed): reopen the
//     channel (the service discards what was not committed and returns the
//     committed offset token), drop the rows at or below it, send the rest.
//   - 429/408: the same request after backoff (exponential, full jitter,
//     Retry-After honoured up to Backoff.Max).
//   - STALE_CONTINUATION_TOKEN_SEQUENCER (another Open Channel, e.g. a new
//     process or another Lambda instance on the partition) or
//     ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED on append: reopen and
//     resume, at most MaxReopens times a call.
//   - Invalidation that reaches the client as no error (its rows in flight
//     were discarded): the committed offset token stands still; after
//     ReopenAfter, reopen and resume. A channel missing from the status
//     answer is reopened too.
//   - 401 on the ingest host: exchange a new scoped token once; the token
//     is also renewed 5 minutes before the JWT it came from expires.
//   - Process restart: a new Client opens the same channel and reads the
//     committed offset token; the redelivered batches skip below it.
//
// # The REST API as found (sources)
//
// [ref]: https://docs.snowflake.com/en/user-guide/snowpipe-streaming/snowpipe-streaming-high-performance-rest-api
// (read in the docs index and in a markdown copy of the page, which has
// the tables the index cut);
// [tut]: https://docs.snowflake.com/en/user-guide/snowpipe-streaming/snowpipe-streaming-high-performance-rest-tutorial
// (Named Channels with cURL and a JWT);
// [jwt]: https://docs.snowflake.com/en/developer-guide/snowflake-rest-api/authentication,
// and gosnowflake v1.19.1 auth.go prepareJWTToken (module cache);
// [chan]: https://docs.snowflake.com/en/user-guide/snowpipe-streaming/snowpipe-streaming-channels;
// [pipe]: https://docs.snowflake.com/en/release-notes/2025/other/2025-12-11-default-pipe.
//
//	JWT [jwt]     RS256; iss ACCOUNT.USER.SHA256:<base64 SHA-256 of the DER public key>, sub ACCOUNT.USER,
//	              iat, exp (at most 1 h); account and user upper-case, a locator's region left out
//	GET  https://<account host>/v2/streaming/hostname                               [ref][tut]
//	     Authorization: Bearer <JWT>, X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT
//	     -> {"hostname": "..."} [ref]; the tutorial reads the bare body. Underscores in the
//	     returned host must be replaced by dashes before use [tut]
//	POST https://<account host>/oauth/token                                         [ref][tut]
//	     Authorization: Bearer <JWT>, Content-Type: application/x-www-form-urlencoded,
//	     grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=<ingest host>
//	     -> {"token": "..."} [ref]; the tutorial reads the bare body
//	PUT  https://<ingest host>/v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}
//	     ?requestId=<uuid>; Authorization: Bearer <scoped token>; Content-Type: application/json;
//	     body {} (optional offset_token, fail_on_uncommitted_rows)                  [ref]
//	     -> {"next_continuation_token", "channel_status": {"last_committed_offset_token",
//	     "rows_error_count", ...}}. Opening an existing channel bumps its client sequencer and
//	     returns the last committed offset token; without fail_on_uncommitted_rows the data in
//	     flight is discarded                                                         [ref]
//	POST https://<ingest host>/v2/streaming/data/databases/{db}/schemas/{schema}/pipes/{pipe}/channels/{channel}/rows
//	     ?continuationToken=&startOffsetToken=&endOffsetToken=&requestId=;
//	     Content-Type: application/x-ndjson; Content-Encoding: gzip|zstd (optional);
//	     NDJSON (RFC 8259, every line ending in \n), rows at most 4 MB, a request at most 16 MB
//	     -> {"next_continuation_token"} for the next append                          [ref]
//	POST https://<ingest host>/v2/streaming/databases/{db}/schemas/{schema}/pipes/{pipe}:bulk-channel-status
//	     body {"channel_names": [...]} (names case-sensitive)
//	     -> {"channel_statuses": {"<name>": {"last_committed_offset_token", "rows_errors",
//	     "last_error_message", ...}}}; an unknown channel has no entry              [ref]
//	DELETE .../channels/{channel}  drops the channel and its offset token           [ref]
//	Errors: {"code": "...", "message": "..."}; STALE_CONTINUATION_TOKEN_SEQUENCER (400,
//	     "Please reopen the channel") [ref]; ERR_CHANNEL_HAS_UNCOMMITTED_DATA (409, only with
//	     fail_on_uncommitted_rows) [ref]; 401 JWT invalid or expired, 404 wrong names, 429 retry
//	     with exponential backoff and jitter [tut]
//	Exactly once: wait until last_committed_offset_token reaches the batch before advancing the
//	     source offset [tut]; named channels are ordered, reused across restarts, and keep
//	     their offset token [chan]. Every table has a default pipe <TABLE>-STREAMING [pipe].
//
// # Not confirmed
//
// Each is handled so that either answer works, or is a stated assumption:
//
//   - Get Hostname and Exchange Scoped Token: JSON object in the reference,
//     a bare string in the tutorial and other clients; both are read.
//   - The scoped token's lifetime is not documented: taken to be the JWT's
//     (1 h), renewed 5 min early, and renewed on any 401.
//   - The ingest calls send no X-Snowflake-Authorization-Token-Type (the
//     tutorial sends none with the scoped token).
//   - An earlier revision of the reference and tutorial had one offsetToken
//     query parameter; the current one has startOffsetToken and
//     endOffsetToken, which are what is sent.
//   - Whether a 5xx means the append was not applied, and what the service
//     does with an append repeated with a used continuation token, are not
//     said: the client never repeats an append that may have landed without
//     reopening first. A 429 is taken as not applied.
//   - The 4 MB rows limit is applied to the uncompressed NDJSON (the
//     reference does not say which).
//   - rows_error_count (Open Channel) and rows_errors (Bulk Get Channel
//     Status) are named differently in the reference: both are read. Rows
//     the pipe rejects are reported in CommitResult.RowErrors, not as an
//     error, because their offsets are committed and a retry would not send
//     them again.
//   - channel_status_code values other than "ACTIVE" are not listed: the
//     client does not act on them (invalidation shows as a stale token, a
//     missing status entry or a commit that stands still).
//   - ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED appears in users'
//     reports, not in the reference.
//   - Timestamps are sent as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) for Pulse's
//     TIMESTAMP_NTZ columns, dates as "YYYY-MM-DD"; the default pipe's
//     parsing of them was not tried.
//   - Status answers are matched by channel name exactly, then ignoring
//     case (names are case-insensitive everywhere else).
//
// # Integration with shared/stream
//
// Appender is port.Appender over this client: the stream's snowpipe
// load mode (shared/stream.LoadSnowpipe, PULSE_LOAD_MODE=snowpipe) appends
// the facts and events of records taken in offset order on a channel per
// table and topic partition (ChannelName), the Kafka offset as token, and
// every other row to the table's _STAGING table on a channel per
// processor, whose token is a version (Open, which reopens the channel to
// read the service's token, + 1); a cadence merge moves the staged rows.
// Records below a partition's high-water mark (a failed batch brought
// back) are staged too: the partition's channel would skip them.
//
// Cost: Append waits for the commit (WaitCommitted) inside the invocation,
// which the Lambda bills; the local server commits on the first poll, real
// Snowflake's commit latency was not measured (it documents 5-10 s ingest
// to query). Per batch and table: one Append Rows request per 4 MiB, and
// one or more status polls (CommitPoll). BenchmarkEncode gives the client's
// CPU and bytes per row.
package snowpipe
