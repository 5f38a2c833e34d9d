package memory

// Claims returns every claimed key as namespace + "#" + key -> the origin
// that holds it, for tests that compare dedupe stores.
func (d *Dedupe) Claims() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]string, len(d.owners))
	for k, origin := range d.owners {
		out[k.namespace+"#"+k.key] = origin
	}
	return out
}
