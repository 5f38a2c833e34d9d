package snowpipe

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pulse-analytics/pulse/shared/port"
)

// Error codes of the Snowpipe Streaming REST API that this client acts on
// (package doc: where each comes from).
const (
	// CodeStaleContinuation: the channel was reopened (by another client, a
	// restart of this one, or the service); the client's continuation token
	// is void. The client reopens and resumes from the committed offset.
	CodeStaleContinuation = "STALE_CONTINUATION_TOKEN_SEQUENCER"
	// CodeChannelNotFound: the channel is gone (dropped) or not authorized;
	// on append the client reopens it once, on open it is permanent.
	CodeChannelNotFound = "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED"
	// CodeUncommittedData: only with fail_on_uncommitted_rows, which this
	// client does not set.
	CodeUncommittedData = "ERR_CHANNEL_HAS_UNCOMMITTED_DATA"
)

// ErrCommitTimeout: the rows were sent but their offset token was not
// committed within Config.CommitTimeout. Retryable: the redelivered batch
// appends only what is still above the committed offset.
var ErrCommitTimeout = errors.New("snowpipe: offset token not committed in time")

// ErrInvalidated: the channel kept being invalidated (reopened elsewhere)
// past Config.MaxReopens within one call. Retryable.
var ErrInvalidated = errors.New("snowpipe: channel invalidated too often")

// APIError is an unsuccessful response of the service. It unwraps to
// port.ErrPermanent when retrying cannot help (a bad request,
// authentication, a missing pipe), so port.Retryable sorts it.
type APIError struct {
	Op         string // "get hostname", "exchange scoped token", "open channel", "append rows", "channel status", "drop channel"
	Target     string // the pipe/channel or host the request was about
	Status     int
	Code       string // the body's "code", if any
	Message    string // the body's "message" (or the body itself, cut)
	RequestID  string // the requestId this client sent, for Snowflake support
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("snowpipe %s %s: HTTP %d", e.Op, e.Target, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if hint := e.hint(); hint != "" {
		s += " (" + hint + ")"
	}
	if e.RequestID != "" {
		s += " [requestId " + e.RequestID + "]"
	}
	return s
}

func (e *APIError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "authentication: check the user's RSA_PUBLIC_KEY_FP against the key, the account identifier and the clock"
	case http.StatusForbidden:
		return "not authorized: the role needs OPERATE on the pipe and INSERT on the table"
	case http.StatusNotFound:
		return "database, schema, pipe or channel does not exist or is not authorized"
	}
	return ""
}

// Unwrap returns port.ErrPermanent for errors retrying cannot fix.
func (e *APIError) Unwrap() error {
	if e.retryable() {
		return nil
	}
	return port.ErrPermanent
}

// retryable: throttling, timeouts and server errors. A stale continuation
// token is handled (reopen) before it could surface; if it does surface
// (reopens exhausted) it is retryable too.
func (e *APIError) retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout, e.Status >= 500:
		return true
	case e.Code == CodeStaleContinuation:
		return true
	}
	return false
}

// invalidates: the channel's continuation token is void.
func (e *APIError) invalidates() bool {
	return e.Code == CodeStaleContinuation || e.Code == CodeChannelNotFound
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
