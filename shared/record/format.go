package record

import "strings"

// FormatOf tells a file's format from its key's extension: .ndjson, .jsonl
// and .json are NDJSON, .csv is CSV, .parquet is Parquet, each optionally
// followed by .gz (gzipped). The match is case-insensitive; ok is false for
// any other extension.
func FormatOf(key string) (f Format, gzipped bool, ok bool) {
	k := strings.ToLower(key)
	if strings.HasSuffix(k, ".gz") {
		gzipped = true
		k = strings.TrimSuffix(k, ".gz")
	}
	switch {
	case strings.HasSuffix(k, ".ndjson"), strings.HasSuffix(k, ".jsonl"), strings.HasSuffix(k, ".json"):
		return NDJSON, gzipped, true
	case strings.HasSuffix(k, ".csv"):
		return CSV, gzipped, true
	case strings.HasSuffix(k, ".parquet"):
		return Parquet, gzipped, true
	}
	return "", false, false
}
