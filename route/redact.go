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

// redactEnvelope returns env without the route's paths, and whether it
// removed anything. env is shared (one decoded envelope serves every route
// of an event) and is never modified: the objects along a removed path are
// copied, the rest is shared with env.
func (r *Route) redactEnvelope(env map[string]any) (map[string]any, bool) {
	changed := false
	for _, p := range r.redact {
		var ok bool
		env, ok = redactPath(env, p)
		changed = changed || ok
	}
	if r.personal != nil {
		for _, p := range r.personal[envelopeEntity(env, r)] {
			var ok bool
			env, ok = redactPath(env, p)
			changed = changed || ok
		}
	}
	return env, changed
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

// redactPath returns env without path. A path under "data" also removes
// what "changes" says about it: the changes of that field or of fields below
// it are dropped, and the from and to of a change of a field above it lose
// the field. So removing .data.candidate.email also removes the change
// "candidate.email" and the email inside a change of "candidate". An emptied
// "changes" is removed, as the hub leaves it out when there are none.
func redactPath(env map[string]any, path []string) (map[string]any, bool) {
	env, changed := without(env, path)
	if len(path) < 2 || path[0] != "data" {
		return env, changed
	}
	changes, ok := env["changes"].(map[string]any)
	if !ok {
		return env, changed
	}
	rel := path[1:]
	var out map[string]any // a copy of changes, made on the first edit
	edit := func() {
		if out == nil {
			out = maps.Clone(changes)
		}
	}
	for key, ch := range changes {
		kp := strings.Split(key, ".")
		if hasPrefix(kp, rel) {
			edit()
			delete(out, key)
			continue
		}
		c, ok := ch.(map[string]any)
		if !ok || !hasPrefix(rel, kp) {
			continue
		}
		var nc map[string]any
		for _, side := range []string{"from", "to"} {
			m, ok := c[side].(map[string]any)
			if !ok {
				continue
			}
			if m, ok = without(m, rel[len(kp):]); ok {
				if nc == nil {
					nc = maps.Clone(c)
				}
				nc[side] = m
			}
		}
		if nc != nil {
			edit()
			out[key] = nc
		}
	}
	if out == nil {
		return env, changed
	}
	if !changed {
		env = maps.Clone(env) // without did not copy it
	}
	if len(out) == 0 {
		delete(env, "changes")
	} else {
		env["changes"] = out
	}
	return env, true
}

// without returns m without the key at path, and whether it was there. The
// objects along the path are copied; m is not modified. A path through a
// non-object removes nothing.
func without(m map[string]any, path []string) (map[string]any, bool) {
	v, ok := m[path[0]]
	if !ok {
		return m, false
	}
	if len(path) == 1 {
		c := maps.Clone(m)
		delete(c, path[0])
		return c, true
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return m, false
	}
	nsub, ok := without(sub, path[1:])
	if !ok {
		return m, false
	}
	c := maps.Clone(m)
	c[path[0]] = nsub
	return c, true
}

// hasPrefix reports whether p starts with prefix.
func hasPrefix(p, prefix []string) bool {
	if len(prefix) > len(p) {
		return false
	}
	for i := range prefix {
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}
