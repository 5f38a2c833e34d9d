package port

import "github.com/pulse-analytics/pulse/shared/record"

// FileDrop is one object that landed in the raw bucket, as decoded from an
// S3 event notification (keys URL-decoded). It identifies the exact version
// of the file, so a repeated notification names the same FileDrop. Its JSON
// form is the batch workflow's "file" (the state machine's FileSize choice
// reads "size").
type FileDrop struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"versionId,omitempty"` // "" when the bucket is not versioned
	EventTime string `json:"eventTime,omitempty"` // RFC 3339, as the notification gave it
}

// Message is one record taken from a stream (an MSK/Kafka record), with
// its position, decoded from the trigger payload by an adapter.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64 // Unix milliseconds
	Key       []byte
	Value     []byte
	Headers   map[string][]byte
	// Err, when set, says why the record could not be taken from its
	// trigger payload: the field at fault and the reason (Field "value",
	// Reason "decoding base64: illegal base64 data at input byte 4"); Value
	// then holds the payload's text as it came. Such a message is
	// quarantined by the stream path with that field and reason, never
	// dropped.
	Err *record.RecordError
}

// ErrText is Err as "field: reason" (the reason alone when no field is at
// fault), "" when Err is nil: the form the stream archive keeps.
func (m *Message) ErrText() string {
	switch {
	case m.Err == nil:
		return ""
	case m.Err.Field == "":
		return m.Err.Reason
	}
	return m.Err.Field + ": " + m.Err.Reason
}
