package s3store_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/pulse-analytics/pulse/shared/port"
)

// TestGetRange reads parts of an object through HTTP Range requests.
func TestGetRange(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	body := []byte("0123456789abcdefghij")
	if _, err := st.Put(ctx, bucket, "raw/r.txt", bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		off, length int64
		want        string
	}{
		{"head", 0, 4, "0123"},
		{"middle", 10, 5, "abcde"},
		{"tail", 15, 5, "fghij"},
		{"past the end", 18, 10, "ij"},
		{"empty", 7, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := st.GetRange(ctx, bucket, "raw/r.txt", tc.off, tc.length)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("bytes [%d,+%d) = %q, want %q", tc.off, tc.length, got, tc.want)
			}
		})
	}
	if _, err := st.GetRange(ctx, bucket, "raw/missing", 0, 4); !errors.Is(err, port.ErrNotFound) {
		t.Errorf("missing key: %v, want ErrNotFound", err)
	}
}
