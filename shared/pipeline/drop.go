package pipeline

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
	// Err, when not empty, says why the record could not be taken from its
	// trigger payload (it names the field, e.g. "value: illegal base64 data
	// at input byte 4"); Value then holds the payload's text as it came.
	// Such a message is quarantined by the stream path, never dropped.
	Err string
}
