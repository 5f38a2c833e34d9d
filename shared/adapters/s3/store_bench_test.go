package s3store_test

import (
	"bytes"
	"strconv"
	"testing"
)

// BenchmarkPut measures puts of a 4 MiB file through the SDK to s3local,
// with a known size (streamed) and an unknown size (spooled to a temp file).
func BenchmarkPut(b *testing.B) {
	body := bytes.Repeat([]byte("id,kota,sosial_media,usage\n"), 4<<20/27)
	st := newStore(b)
	for _, bc := range []struct {
		name string
		size int64
	}{{"known", int64(len(body))}, {"unknown", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			i := 0
			for b.Loop() {
				i++
				if _, err := st.Put(b.Context(), bucket, "bench/"+bc.name+strconv.Itoa(i%4), opaque{bytes.NewReader(body)}, bc.size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
