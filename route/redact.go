package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// parsePath parses a redaction path: a chain of object keys from the
// envelope's root, written as in jq: .data.candidate.email,
// .data["pay-rate"], .data."pay-rate", .["data"]. Array indexes, iteration,
// slices and anything else are rejected: a redaction must say exactly what
// it removes.
func parsePath(s string) ([]string, error) {
	const usage = `must be a path of object keys such as .data.candidate.email or .data["pay-rate"]`
	if s == "" {
		return nil, errors.New(usage + `, or "personal_data"`)
	} else if s[0] != '.' {
		return nil, fmt.Errorf(`%s, or "personal_data": it must start with "."`, usage)
	}
	var path []string
	i := 0
	for i < len(s) {
		dot := false
		if s[i] == '.' {
			dot = true
			i++
		}
		switch {
		case i < len(s) && dot && isIdentStart(s[i]):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			path = append(path, s[i:j])
			i = j
		case i < len(s) && dot && s[i] == '"':
			key, n, err := parseString(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%s: at offset %d: %w", usage, i, err)
			}
			path = append(path, key)
			i += n
		case i < len(s) && s[i] == '[':
			if i+1 < len(s) && s[i+1] != '"' {
				return nil, fmt.Errorf("%s: at offset %d: only string keys may follow \"[\" (array indexes and [] are not supported)", usage, i)
			}
			key, n, err := parseString(s[i+1:])
			if err != nil {
				return nil, fmt.Errorf("%s: at offset %d: %w", usage, i+1, err)
			}
			i += 1 + n
			if i >= len(s) || s[i] != ']' {
				return nil, fmt.Errorf("%s: at offset %d: expected \"]\"", usage, i)
			}
			i++
			path = append(path, key)
		case dot && len(path) == 0 && i == len(s):
			return nil, errors.New(`"." is the whole event, which cannot be redacted`)
		default:
			return nil, fmt.Errorf("%s: unexpected %q at offset %d", usage, s[i-btoi(dot):min(i+1, len(s))], i-btoi(dot))
		}
	}
	return path, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || '0' <= c && c <= '9'
}

// parseString parses the JSON string literal at the start of s and returns
// it and its length in s. jq's string interpolation \( ) is rejected.
func parseString(s string) (string, int, error) {
	if s == "" || s[0] != '"' {
		return "", 0, errors.New(`expected a string in double quotes`)
	}
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 < len(s) && s[j+1] == '(' {
				return "", 0, errors.New(`string interpolation is not supported`)
			}
			j++
		case '"':
			var key string
			if err := json.Unmarshal([]byte(s[:j+1]), &key); err != nil {
				return "", 0, errors.New(`invalid string literal`)
			}
			return key, j + 1, nil
		}
	}
	return "", 0, errors.New(`unterminated string`)
}

// trie is a set of redaction paths, merged by prefix so that one walk
// removes them all and copies each object on their way once.
type trie struct {
	leaf     bool // remove the key that leads here, and everything below it
	children map[string]*trie
}

// newTrie returns the trie of paths, or nil when there are none.
func newTrie(paths [][]string) *trie {
	if len(paths) == 0 {
		return nil
	}
	root := &trie{}
	for _, p := range paths {
		n := root
		for _, key := range p {
			if n.leaf {
				break // an ancestor is removed already
			}
			if n.children == nil {
				n.children = make(map[string]*trie)
			}
			c := n.children[key]
			if c == nil {
				c = &trie{}
				n.children[key] = c
			}
			n = c
		}
		n.leaf, n.children = true, nil
	}
	return root
}

// remove returns m without the trie's paths, and whether it removed
// anything. m is not modified: the objects along a removed path are copied
// (once each), the rest is shared with m. A path through a non-object
// removes nothing.
func (t *trie) remove(m map[string]any) (map[string]any, bool) {
	var out map[string]any
	for key, c := range t.children {
		v, ok := m[key]
		if !ok {
			continue
		}
		if c.leaf {
			if out == nil {
				out = maps.Clone(m)
			}
			delete(out, key)
			continue
		}
		sub, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if sub, ok = c.remove(sub); ok {
			if out == nil {
				out = maps.Clone(m)
			}
			out[key] = sub
		}
	}
	if out == nil {
		return m, false
	}
	return out, true
}

// redactEnvelope returns env without the route's paths, and whether it
// removed anything. env is shared (one decoded envelope serves every route
// of an event) and is not modified.
//
// Paths under "data" also remove what "changes" says about them: the
// changes of a redacted field or of fields below it are dropped, and the
// from and to of a change of a field above it lose the field. So removing
// .data.candidate.email also removes the change "candidate.email" and the
// email inside a change of "candidate". An emptied "changes" is removed, as
// the hub leaves it out when there are none.
func (r *Route) redactEnvelope(env map[string]any) (map[string]any, bool) {
	t := r.redactOther
	if entity := envelopeEntity(env, r); entity != "" {
		if et, ok := r.redact[entity]; ok {
			t = et
		}
	}
	if t == nil {
		return env, false
	}
	out, changed := t.remove(env)
	data := t.children["data"]
	changes, ok := out["changes"].(map[string]any)
	if data == nil || !ok {
		return out, changed
	} else if data.leaf {
		// All of data is redacted, so is every change of it.
		out = maps.Clone(out)
		delete(out, "changes")
		return out, true
	}
	var nc map[string]any // a copy of changes, made on the first edit
	for key, ch := range changes {
		// Walk the trie along the changed field's dotted path.
		n := data
		for _, seg := range strings.Split(key, ".") {
			if n = n.children[seg]; n == nil || n.leaf {
				break
			}
		}
		if n == nil {
			continue // nothing redacted at or under this field
		}
		if n.leaf {
			if nc == nil {
				nc = maps.Clone(changes)
			}
			delete(nc, key) // the field, or one of its parents, is redacted
			continue
		}
		// A field below this one is redacted: remove it from the change.
		c, ok := ch.(map[string]any)
		if !ok {
			continue
		}
		var cc map[string]any
		for _, side := range []string{"from", "to"} {
			if m, ok := c[side].(map[string]any); ok {
				if m, ok = n.remove(m); ok {
					if cc == nil {
						cc = maps.Clone(c)
					}
					cc[side] = m
				}
			}
		}
		if cc != nil {
			if nc == nil {
				nc = maps.Clone(changes)
			}
			nc[key] = cc
		}
	}
	if nc == nil {
		return out, changed
	}
	if !changed {
		out = maps.Clone(out) // remove did not copy it
	}
	if len(nc) == 0 {
		delete(out, "changes")
	} else {
		out["changes"] = nc
	}
	return out, true
}

// envelopeEntity returns the entity of the event: the catalog's entity of
// its type, else the subject's entity.
func envelopeEntity(env map[string]any, r *Route) string {
	if typ, ok := env["type"].(string); ok {
		if entity, ok := r.opts.Catalog.Entity(typ); ok {
			return entity
		}
	}
	if subj, ok := env["subject"].(map[string]any); ok {
		entity, _ := subj["entity"].(string)
		return entity
	}
	return ""
}
