package fsstore

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// maxKeyLen is S3's limit on a key's length in bytes.
const maxKeyLen = 1024

// A key maps to a path below its bucket's folder one '/'-separated segment
// at a time, each segment escaped so that any S3 key has a file name and
// no file name is ours by accident:
//
//   - '%', control bytes and DEL become %XX;
//   - a leading '.' becomes %2E, so no object's name starts with '.' (the
//     sidecar files of metadata do, and "." and ".." cannot occur);
//   - an empty segment (the trailing '/' of a "folder marker" key, or
//     "a//b") becomes a lone "%", which no escaped text can be.
//
// Keys read as their files' paths ("raw/live_streaming/x.ndjson" is the
// file raw/live_streaming/x.ndjson), so a store is easy to look at.
func escapeSegment(seg string) string {
	if seg == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' || c < 0x20 || c == 0x7f || (i == 0 && c == '.') {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unescapeSegment(name string) (string, bool) {
	if name == "%" {
		return "", true
	}
	if !strings.Contains(name, "%") {
		return name, true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		hi, ok1 := unhex(name[i+1])
		lo, ok2 := unhex(name[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// relPath is the escaped path of key below its bucket's folder.
func relPath(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("empty key")
	}
	if len(key) > maxKeyLen {
		return "", fmt.Errorf("key of %d bytes is over S3's %d-byte limit", len(key), maxKeyLen)
	}
	if !utf8.ValidString(key) {
		return "", fmt.Errorf("key %q is not UTF-8", key)
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = escapeSegment(s)
	}
	return filepath.Join(segs...), nil
}

// keyOf is the key of the object file at rel (slash-separated, relative to
// its bucket's folder), or false for a file that is not an object.
func keyOf(rel string) (string, bool) {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		if s == "" || s[0] == '.' {
			return "", false
		}
		k, ok := unescapeSegment(s)
		if !ok {
			return "", false
		}
		segs[i] = k
	}
	return strings.Join(segs, "/"), true
}

// metaName is the sidecar file holding an object file's metadata.
func metaName(objectName string) string { return "." + objectName + ".meta" }

// validBucket checks a bucket name is one folder name of ours.
func validBucket(name string) error {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name[0] == '.' || len(name) > 63 {
		return fmt.Errorf("invalid bucket name %q", name)
	}
	return nil
}
