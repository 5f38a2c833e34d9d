package table

import (
	"strconv"
	"testing"
)

func TestMemo(t *testing.T) {
	var m Memo[int]
	calls := 0
	get := func(k string) int {
		if v, ok := m.Get([]byte(k)); ok {
			return v
		}
		calls++
		v := len(k)
		m.Put(k, v)
		return v
	}
	for range 3 {
		for _, k := range []string{"a", "bb", "ccc"} {
			if got := get(k); got != len(k) {
				t.Fatalf("get(%q) = %d", k, got)
			}
		}
	}
	if calls != 3 {
		t.Errorf("computed %d times for 3 distinct keys, want 3", calls)
	}
	if v, ok := m.GetString("bb"); !ok || v != 2 {
		t.Errorf("GetString(bb) = %d, %v", v, ok)
	}
}

// Put copies its key: a key that is a window of a reused buffer stays right.
func TestMemoCopiesKey(t *testing.T) {
	var m Memo[string]
	buf := []byte("hello")
	m.Put(string(buf[:3]), "x") // a string conversion copies; also check a shared-backing key
	key := "hello world"[:5]
	m.Put(key, "y")
	if v, ok := m.GetString("hello"); !ok || v != "y" {
		t.Errorf("GetString(hello) = %q, %v", v, ok)
	}
	if v, ok := m.Get([]byte("hel")); !ok || v != "x" {
		t.Errorf("Get(hel) = %q, %v", v, ok)
	}
}

func TestMemoBounded(t *testing.T) {
	m := Memo[int]{Max: 10, Probe: 1 << 30}
	for i := range 100 {
		k := strconv.Itoa(i)
		if _, ok := m.GetString(k); !ok {
			m.Put(k, i)
		}
	}
	if len(m.m) != 10 {
		t.Errorf("memo holds %d entries, want at most 10", len(m.m))
	}
	if v, ok := m.GetString("3"); !ok || v != 3 {
		t.Errorf("an early key is gone: %d, %v", v, ok)
	}
	if _, ok := m.GetString("50"); ok {
		t.Errorf("a key past the bound was kept")
	}
}

// A memo that keeps missing switches itself off and frees its map.
func TestMemoSwitchesOff(t *testing.T) {
	m := Memo[int]{Probe: 100}
	for i := range 1000 {
		k := strconv.Itoa(i)
		if _, ok := m.GetString(k); !ok {
			m.Put(k, i)
		}
	}
	if !m.off || m.m != nil {
		t.Errorf("memo of unique keys still on (%d entries)", len(m.m))
	}
	m.Reset()
	m.Put("k", 1)
	if v, ok := m.GetString("k"); !ok || v != 1 {
		t.Errorf("after Reset: %d, %v", v, ok)
	}
	// Repeated keys keep it on.
	r := Memo[int]{Probe: 100}
	for i := range 1000 {
		k := strconv.Itoa(i % 7)
		if _, ok := r.GetString(k); !ok {
			r.Put(k, i)
		}
	}
	if r.off || r.hits != 993 {
		t.Errorf("memo of 7 repeated keys: off %v, hits %d; want on, 993 hits", r.off, r.hits)
	}
}
