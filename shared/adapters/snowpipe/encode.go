package snowpipe

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pulse-analytics/pulse/shared/table"
)

// Row is one row to append and the Kafka offset of the message it came
// from. Several rows may share an offset (never split across requests);
// rows are appended in offset order.
type Row struct {
	Offset int64
	Cells  table.Row
}

// appendRowJSON appends r as one NDJSON line ({"COL":value,...}\n, the
// schema's column names as keys) to dst. Timestamps are written as
// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, for TIMESTAMP_NTZ columns), dates as
// "YYYY-MM-DD"; NaN and infinities have no JSON form and are refused.
func appendRowJSON(dst []byte, s *table.Schema, r table.Row) ([]byte, error) {
	if len(r) != len(s.Columns) {
		return dst, fmt.Errorf("row has %d cells, table %s has %d columns", len(r), s.Name, len(s.Columns))
	}
	dst = append(dst, '{')
	for i, col := range s.Columns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, col.Name)
		dst = append(dst, ':')
		c := r[i]
		if c.Null {
			dst = append(dst, "null"...)
			continue
		}
		switch col.Type {
		case table.String:
			dst = appendJSONString(dst, c.S)
		case table.Int:
			dst = strconv.AppendInt(dst, c.I, 10)
		case table.Float:
			if math.IsNaN(c.F) || math.IsInf(c.F, 0) {
				return dst, fmt.Errorf("column %s: %v has no JSON form", col.Name, c.F)
			}
			dst = strconv.AppendFloat(dst, c.F, 'g', -1, 64)
		case table.Bool:
			dst = strconv.AppendBool(dst, c.B)
		case table.Timestamp:
			dst = append(dst, '"')
			dst = time.UnixMicro(c.I).UTC().AppendFormat(dst, "2006-01-02 15:04:05.000000")
			dst = append(dst, '"')
		case table.Date:
			dst = append(dst, '"')
			dst = time.Unix(c.I*86400, 0).UTC().AppendFormat(dst, "2006-01-02")
			dst = append(dst, '"')
		default:
			return dst, fmt.Errorf("column %s: unknown type %v", col.Name, col.Type)
		}
	}
	return append(dst, '}', '\n'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as an RFC 8259 string: quotes, backslashes
// and control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// compressor compresses request bodies; one per Compression, shared.
type compressor struct {
	kind Compression
	zstd *zstd.Encoder // EncodeAll is safe for concurrent use
	gzip sync.Pool
}

var (
	compressorsMu sync.Mutex
	compressors   = map[Compression]*compressor{}
)

func compressorFor(kind Compression) (*compressor, error) {
	compressorsMu.Lock()
	defer compressorsMu.Unlock()
	if c := compressors[kind]; c != nil {
		return c, nil
	}
	c := &compressor{kind: kind}
	if kind == Zstd {
		// Fastest level, one goroutine, a 1 MiB window: a request is at
		// most 4 MiB of NDJSON whose lines repeat their keys, which the
		// fastest level already finds (benchmark: BenchmarkEncode).
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, fmt.Errorf("creating zstd encoder: %w", err)
		}
		c.zstd = e
	}
	compressors[kind] = c
	return c, nil
}

// compress returns raw compressed (raw itself for None), appended to dst[:0].
func (c *compressor) compress(dst, raw []byte) ([]byte, error) {
	switch c.kind {
	case Zstd:
		return c.zstd.EncodeAll(raw, dst[:0]), nil
	case Gzip:
		buf := bytes.NewBuffer(dst[:0])
		w, _ := c.gzip.Get().(*gzip.Writer)
		if w == nil {
			var err error
			if w, err = gzip.NewWriterLevel(buf, gzip.BestSpeed); err != nil {
				return nil, fmt.Errorf("creating gzip writer: %w", err)
			}
		} else {
			w.Reset(buf)
		}
		defer c.gzip.Put(w)
		if _, err := w.Write(raw); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return buf.Bytes(), nil
	}
	return append(dst[:0], raw...), nil
}

// contentEncoding is the header value for c ("" for None).
func (c *compressor) contentEncoding() string {
	if c.kind == None {
		return ""
	}
	return string(c.kind)
}
