package dataset

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Platforms is the built-in canonical platform list. Platforms added after
// the build, by the platform registry (UsePlatforms) or for this process
// only (AddPlatform), come on top: KnownPlatforms lists them all.
var Platforms = []string{"Facebook", "Instagram", "LinkedIn", "Pinterest", "Reddit", "Snapchat", "Telegram", "TikTok", "Twitch", "WhatsApp", "X", "YouTube"}

// builtinAlias maps lower-case names and aliases to built-in platforms.
var builtinAlias = func() map[string]string {
	m := map[string]string{
		"ig": "Instagram", "insta": "Instagram", "fb": "Facebook", "meta": "Facebook", "yt": "YouTube",
		"you tube": "YouTube", "tik tok": "TikTok", "tik-tok": "TikTok", "twitter": "X", "x (twitter)": "X",
		"x.com": "X", "linked in": "LinkedIn", "whats app": "WhatsApp", "snap": "Snapchat",
	}
	for _, p := range Platforms {
		m[strings.ToLower(p)] = p
	}
	return m
}()

// PlatformEntry is one platform of the platform registry: its canonical
// name and the other spellings that mean it (matched in any case).
type PlatformEntry struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

// platformTable is one immutable state of the known platforms; Platform
// reads it without a lock while the registry may be replaced.
type platformTable struct {
	names []string          // canonical: built-in, then registered, then added
	alias map[string]string // lower-case name or alias -> canonical
}

type addedPlatform struct {
	id    int
	entry PlatformEntry
}

var (
	platformMu  sync.Mutex // serialises changes; readers use platformTab
	registered  []PlatformEntry
	added       []addedPlatform
	addedSeq    int
	platformTab atomic.Pointer[platformTable]
	// aliasGeneration counts changes to the platform table, so a Cleaner's
	// memo of standardized values never outlives the platforms it used.
	aliasGeneration atomic.Int64
)

func init() { platformTab.Store(buildPlatforms()) }

// Platform maps a platform name to its canonical, capitalized form and
// rejects names that are not platforms Pulse knows (fix by adding it to
// the platform registry, `pulse replay --add-platform NAME`, then replay).
func Platform(s string) (string, error) {
	t := platformTab.Load()
	if p, ok := t.alias[strings.ToLower(s)]; ok {
		return p, nil
	}
	return "", fmt.Errorf("unknown platform %q (known: %s)", clip(s), strings.Join(t.names, ", "))
}

// BuiltinPlatform returns the built-in platform that name (or an alias)
// means, in any case, whatever the registry holds.
func BuiltinPlatform(name string) (string, bool) {
	p, ok := builtinAlias[strings.ToLower(strings.TrimSpace(name))]
	return p, ok
}

// KnownPlatforms lists every canonical platform: the built-in ones, those
// of the platform registry, and those added with AddPlatform. The data
// test of DIM_PLATFORM accepts exactly these (and "Unknown").
func KnownPlatforms() []string {
	return slices.Clone(platformTab.Load().names)
}

// RegisteredPlatforms returns the platform registry's entries in use.
func RegisteredPlatforms() []PlatformEntry {
	platformMu.Lock()
	defer platformMu.Unlock()
	return slices.Clone(registered)
}

// UsePlatforms makes the entries of a platform registry the registered
// platforms, replacing those of an earlier registry (nil: none). It checks
// them first (see ParsePlatformRegistry) and changes nothing on error. It
// is safe to call while records are being cleaned: a record is cleaned
// with the platforms before or after the change.
func UsePlatforms(entries []PlatformEntry) error {
	entries, err := checkPlatforms(entries)
	if err != nil {
		return err
	}
	platformMu.Lock()
	defer platformMu.Unlock()
	registered = entries
	publishPlatforms()
	return nil
}

// AddPlatform makes a platform (and its aliases) canonical in this process
// only, on top of the registry: a fix in a test, or before `pulse replay`
// in the same process. (A fix that later runs keep goes into the platform
// registry: batch.PlatformRegistry.) The returned func undoes it.
func AddPlatform(name string, aliases ...string) (undo func()) {
	platformMu.Lock()
	defer platformMu.Unlock()
	addedSeq++
	id := addedSeq
	added = append(added, addedPlatform{id: id, entry: PlatformEntry{Name: name, Aliases: aliases}})
	publishPlatforms()
	return func() {
		platformMu.Lock()
		defer platformMu.Unlock()
		added = slices.DeleteFunc(added, func(a addedPlatform) bool { return a.id == id })
		publishPlatforms()
	}
}

// publishPlatforms rebuilds the table; a change makes cleaners forget
// what they standardized before. Callers hold platformMu.
func publishPlatforms() {
	next, cur := buildPlatforms(), platformTab.Load()
	if cur != nil && slices.Equal(next.names, cur.names) && maps.Equal(next.alias, cur.alias) {
		return
	}
	platformTab.Store(next)
	aliasGeneration.Add(1)
}

func buildPlatforms() *platformTable {
	t := &platformTable{names: slices.Clone(Platforms), alias: maps.Clone(builtinAlias)}
	put := func(e PlatformEntry, override bool) {
		name := strings.TrimSpace(e.Name)
		l := strings.ToLower(name)
		if _, known := t.alias[l]; !known || override {
			if !slices.ContainsFunc(t.names, func(n string) bool { return strings.EqualFold(n, name) }) {
				t.names = append(t.names, name)
			}
			t.alias[l] = name
		}
		for _, a := range e.Aliases {
			if la := strings.ToLower(strings.TrimSpace(a)); la != "" {
				if _, known := t.alias[la]; !known || override {
					t.alias[la] = t.alias[l]
				}
			}
		}
	}
	for _, e := range registered {
		put(e, false)
	}
	for _, a := range added {
		put(a.entry, true)
	}
	return t
}

// checkPlatforms trims the entries and checks them against the built-in
// platforms and each other: a name or alias may not mean another platform
// already; a built-in name listed again is harmless.
func checkPlatforms(entries []PlatformEntry) ([]PlatformEntry, error) {
	means := maps.Clone(builtinAlias)
	listed := map[string]bool{}
	var out []PlatformEntry
	for i, e := range entries {
		name := strings.TrimSpace(e.Name)
		switch {
		case name == "":
			return nil, fmt.Errorf("platform registry entry %d: empty name", i+1)
		case len(name) > 100 || strings.ContainsFunc(name, unicode.IsControl):
			return nil, fmt.Errorf("platform registry entry %d: %q is not a platform name (at most 100 printable characters)", i+1, clip(name))
		}
		l := strings.ToLower(name)
		if listed[l] {
			return nil, fmt.Errorf("platform registry entry %d: %q is listed twice", i+1, name)
		}
		listed[l] = true
		if c, ok := means[l]; ok && !strings.EqualFold(c, name) {
			return nil, fmt.Errorf("platform registry entry %d: %q already means %s", i+1, name, c)
		}
		canon := name
		if c, ok := means[l]; ok {
			canon = c // a built-in platform listed again
		}
		means[l] = canon
		clean := PlatformEntry{Name: name}
		for _, a := range e.Aliases {
			a = strings.TrimSpace(a)
			la := strings.ToLower(a)
			if a == "" {
				return nil, fmt.Errorf("platform registry entry %d (%s): empty alias", i+1, name)
			}
			if c, ok := means[la]; ok && c != canon {
				return nil, fmt.Errorf("platform registry entry %d: alias %q already means %s", i+1, a, c)
			}
			means[la] = canon
			clean.Aliases = append(clean.Aliases, a)
		}
		out = append(out, clean)
	}
	return out, nil
}

// registryFile is the platform registry's file format:
//
//	{"platforms": [{"name": "Myspace", "aliases": ["my space"]}, ...]}
type registryFile struct {
	Platforms []PlatformEntry `json:"platforms"`
}

// ParsePlatformRegistry reads a platform registry file and checks its
// entries: names not empty and listed once, no name or alias that already
// means another platform.
func ParsePlatformRegistry(data []byte) ([]PlatformEntry, error) {
	var f registryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("platform registry: %w (want {\"platforms\": [{\"name\": \"...\", \"aliases\": [...]}]})", err)
	}
	return checkPlatforms(f.Platforms)
}

// EncodePlatformRegistry writes a platform registry file: entries sorted by
// name, indented, so that equal registries are equal bytes and a person
// can edit it.
func EncodePlatformRegistry(entries []PlatformEntry) []byte {
	f := registryFile{Platforms: slices.Clone(entries)}
	if f.Platforms == nil {
		f.Platforms = []PlatformEntry{}
	}
	slices.SortStableFunc(f.Platforms, func(a, b PlatformEntry) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	b, _ := json.MarshalIndent(f, "", "  ") // strings only: cannot fail
	return append(b, '\n')
}
