package table

import "strings"

// Memo remembers the results of a pure function of a string for the
// distinct inputs it meets first, up to a bound, so the per-record hot
// paths (standardizing a categorical value, hashing a surrogate key,
// decoding a repeated string) compute each distinct value once and share
// the result instead of allocating it again.
//
// Memory is bounded: past Max entries nothing more is added. A Memo whose
// lookups mostly miss after its first Probe lookups (a high-cardinality
// column, such as a unique id) switches itself off, so it costs a map
// lookup per value only while it pays. The zero Memo is ready to use,
// with Max 4096 and Probe 8192. A Memo is not safe for concurrent use.
type Memo[V any] struct {
	Max   int // entries kept at most (0: 4096)
	Probe int // lookups after which a hit rate under 1/4 turns the memo off (0: 8192)

	m       map[string]V
	lookups int
	hits    int
	off     bool
}

const (
	defaultMemoMax   = 4096
	defaultMemoProbe = 8192
)

// Get returns the remembered value for key. A false ok means the caller
// computes the value (and may Put it).
func (m *Memo[V]) Get(key []byte) (v V, ok bool) {
	if m.off {
		return v, false
	}
	m.lookups++
	if m.m != nil {
		if v, ok = m.m[string(key)]; ok {
			m.hits++
			return v, true
		}
	}
	probe := m.Probe
	if probe == 0 {
		probe = defaultMemoProbe
	}
	if m.lookups == probe && m.hits*4 < m.lookups {
		m.off = true
		m.m = nil
	}
	return v, false
}

// GetString is Get for a string key.
func (m *Memo[V]) GetString(key string) (v V, ok bool) {
	if m.off {
		return v, false
	}
	m.lookups++
	if m.m != nil {
		if v, ok = m.m[key]; ok {
			m.hits++
			return v, true
		}
	}
	probe := m.Probe
	if probe == 0 {
		probe = defaultMemoProbe
	}
	if m.lookups == probe && m.hits*4 < m.lookups {
		m.off = true
		m.m = nil
	}
	return v, false
}

// Put remembers v for key while there is room. key is copied, so it may
// be a substring of a larger buffer the memo must not keep alive.
func (m *Memo[V]) Put(key string, v V) {
	if m.off {
		return
	}
	max := m.Max
	if max == 0 {
		max = defaultMemoMax
	}
	if m.m == nil {
		m.m = make(map[string]V, 64)
	}
	if len(m.m) >= max {
		return
	}
	m.m[strings.Clone(key)] = v
}

// PutBytes is Put for a key held in a byte slice (copied).
func (m *Memo[V]) PutBytes(key []byte, v V) {
	if m.off {
		return
	}
	max := m.Max
	if max == 0 {
		max = defaultMemoMax
	}
	if m.m == nil {
		m.m = make(map[string]V, 64)
	}
	if len(m.m) >= max {
		return
	}
	m.m[string(key)] = v
}

// Reset forgets everything and switches the memo back on.
func (m *Memo[V]) Reset() {
	*m = Memo[V]{Max: m.Max, Probe: m.Probe}
}
