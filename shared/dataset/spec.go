// Package dataset declares Pulse's sources once each, as a Spec (schema,
// event-time field, critical fields, defaults, validations,
// standardizations, derived fields, dedupe key, partitioning and the
// star-schema mapping), and cleans raw records against a Spec.
//
// The cleaning rules follow seed 000 section 3.2 for every dataset:
//
//   - a record missing a critical field is rejected ("missing critical field");
//   - a non-critical null or blank field gets its default ("Unknown", 0, false),
//     except fields declared KeepNull (Age, event times, app interaction
//     durations), which stay NULL; a field declared BlankIsValue keeps a
//     blank text as "" (only null or absent is missing);
//   - strings are trimmed; values are parsed to their type, and a value that
//     does not parse is rejected with the field and the reason;
//   - range checks reject out-of-range values (negative engagement, age
//     outside 13-100);
//   - standardizers map variants to canonical values (Gender M/male/F ->
//     Male/Female/Other, platform names to a canonical list, "Barzil" ->
//     "Brazil", "9:00 PM" -> "21:00");
//   - derived fields (AgeGroup, Hour, rates, parsed price) are computed last.
//
// # Personal data
//
// What is personal: every e-mail address, wherever it appears (a field, free
// text, a member no column reads, a record that did not parse), and every
// field a spec marks Personal: consumer_registration.masked_email and
// user_sessions.user_name. Identifiers (user_id, session_id), demographics
// (age, gender, country, city) and the other columns are not: the dashboards
// group by them and no seed gives a name, phone number or street address
// elsewhere. A Personal field is text and never part of a dedupe or
// surrogate key (Compile refuses it: masked values would collide).
//
// How it is masked (MaskEmails, MaskPersonal): an address keeps only its
// domain ("ana@Gmail.com" -> "****@gmail.com"); a Personal value becomes
// "****" (or "****@domain" when it is an address); in a field that
// identifies records (a dedupe key field, a field a surrogate key hashes)
// an address becomes "****" + the first 16 hex digits of its SHA-256 +
// "@domain", so distinct addresses stay distinct keys. The cleaner masks a
// value before standardizing and parsing it, so neither the staging row
// nor a reject reason holds the original; every mask is a fixed point, so
// re-cleaning a masked record (pulse replay) gives the row, the dedupe key
// and the reject the original gave. A rejected or late record is kept
// whole but masked by the same rule (Cleaner.MaskRecord, MaskInput,
// MaskedJSON): JSON member by member, CSV field by field, a decoded Avro
// record as the JSON object of its masked columns; a record that did not
// parse has its addresses masked (and, when it is JSON, its Personal
// members as far as its tokens go; a name in a malformed CSV line or Avro
// body cannot be told from other text and stays), a binary one byte for
// byte so its framing stays. Log lines go through MaskingHandler; function errors,
// quarantine reasons and manifests through MaskEmails.
//
// Where the original survives: only in the raw bucket, the input itself
// (raw/<dataset>/ files, versioned, and the stream's archive under
// stream/). A whole file that could not be processed is not copied to the
// quarantine bucket: its reason names the raw object's version.
//
// # The registry
//
// The registered specs are the one list of Pulse's datasets (registry.go):
// the warehouse's tables (Tables: the tables the specs map to, plus
// star.Pipeline), the tables Load writes for a file (its spec's), the
// stream engine's datasets without windows (Stream set, not Windowed), and
// infra's raw-prefix notifications (Batch) and topic mappings (Topics) are
// all derived from it. Adding a source means one spec file that declares
// and registers its Spec (and its star tables), its golden test, and for a
// stream its events/schemas/<topic>.avsc; the engine, the handlers and
// infra stay as they are (tests/newdataset shows it). The package imports
// no AWS code.
package dataset

import (
	"github.com/pulse-analytics/pulse/shared/record"
	"github.com/pulse-analytics/pulse/shared/star"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Mode says how records of a dataset are identified.
type Mode int

const (
	// Events are facts: the first record with a dedupe key wins and later
	// ones are duplicates.
	Events Mode = iota
	// Snapshot datasets are tables (users): the latest record per key
	// replaces the earlier one, so nothing is a duplicate.
	Snapshot
)

// Field is one cleaned column and the rules that produce it.
type Field struct {
	Name     string     // staging column name
	From     []string   // input column names tried in order; default {Name}
	Type     table.Type // parsed type
	Critical bool       // a null value rejects the record
	KeepNull bool       // a null value stays NULL instead of taking the default
	Personal bool       // personal data: masked whole in every output but the raw input (see MaskPersonal)
	// BlankIsValue makes a present but blank text ("" or spaces) the value
	// "" instead of a missing one (seed 003's preferred_language, whose
	// values are "eng", "geo" and ""). Only a null or absent input is
	// missing then.
	BlankIsValue bool
	Default      string  // default text for a null non-critical field ("" = type's zero / "Unknown")
	Min, Max     float64 // inclusive range for numeric fields, when Ranged
	Ranged       bool
	// Std standardizes a trimmed, non-empty text value before parsing. It
	// returns the canonical text, or an error naming why the value is invalid.
	// It must be a pure function of its argument: the Cleaner remembers its
	// result for each distinct value (a bounded memo).
	Std func(string) (string, error)
}

// Derived is a column computed from cleaned fields.
type Derived struct {
	Name string
	Type table.Type
	// Fn computes the cell. It may return an error to reject the record
	// (for example a division by zero in a rate).
	Fn func(r Fields) (table.Cell, error)
}

// Partitioning names the staging partition of a cleaned row.
type Partitioning int

const (
	ByIngestDate Partitioning = iota // ingest_date=YYYY-MM-DD (the file's arrival date)
	ByEventDate                      // event_date=YYYY-MM-DD from the event-time field
	ByField                          // <field>=<value> from PartitionField
)

// Spec declares one source dataset.
type Spec struct {
	Name           string
	Seed           string // the requirement document it comes from
	Formats        []record.Format
	Mode           Mode
	Fields         []Field
	Derived        []Derived
	Key            []string // dedupe (Events) or upsert (Snapshot) key fields
	EventTime      string   // event-time field, "" if the source has none
	Partition      Partitioning
	PartitionField string
	Star           []star.TableMap // the star-schema tables this dataset feeds
	// Batch says files of this dataset arrive under RawPrefix (raw/<Name>/)
	// and start the batch workflow (infra routes the prefix to it).
	Batch bool
	// Stream, when set, says records of this dataset also arrive on a
	// Kafka topic (infra maps the topic to the stream function).
	Stream *Stream
}

// Stream says how a dataset arrives on Kafka.
type Stream struct {
	// Avro says the values are Avro in the Confluent wire format (decoded
	// through the schema registry); otherwise they are JSON. Either way the
	// topic's Avro schema is events/schemas/<topic>.avsc.
	Avro bool
	// Windowed says a stream processor with windows (shared/stream)
	// consumes the dataset; otherwise its records are cleaned,
	// deduplicated and loaded without windows.
	Windowed bool
}

// RawPrefix is where the dataset's files arrive in the raw bucket.
func (s *Spec) RawPrefix() string { return "raw/" + s.Name + "/" }

// Topic is the dataset's Kafka topic ("" when it does not arrive as a
// stream): the dataset name (DESIGN.md section 1).
func (s *Spec) Topic() string {
	if s.Stream == nil {
		return ""
	}
	return s.Name
}

// Meta columns appended to every staging row.
const (
	ColSource     = "_SOURCE"      // origin of the file or stream
	ColRow        = "_ROW"         // record position in its source
	ColIngestedAt = "_INGESTED_AT" // ingestion time (UTC)
)
