// Package value reads the values of decoded vendor JSON (any, as
// encoding/json decodes it) the way the push connectors (greenhouse,
// lever, ashby) map them onto the catalog: ids, strings, times and dates,
// email addresses, hirehook ids and external_refs.
package value

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// ID renders a vendor id (a JSON number or string) as a string.
func ID(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// Ref returns hirehook's id for a vendor id: prefix + the id, or nil when
// there is none (or it is too long for the catalog's 128 characters).
func Ref(prefix string, v any) any {
	id := ID(v)
	if id == "" || len(id) > 128-len(prefix) {
		return nil
	}
	return prefix + id
}

// WithRefs sets d's id and external_refs from a vendor id of system.
// Without one, d gets no id (and the event is refused as malformed).
func WithRefs(system, prefix string, v any, d map[string]any) map[string]any {
	if r := Ref(prefix, v); r != nil {
		d["id"] = r
		d["external_refs"] = []any{map[string]any{"system": system, "id": ID(v)}}
	}
	return d
}

// FirstNonNil returns the first of vs that is not nil.
func FirstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// Object returns v as a JSON object, or nil.
func Object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// String returns v as a string, or "".
func String(v any) string {
	s, _ := v.(string)
	return s
}

// Nullable returns s, or nil (JSON null) when it is empty.
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FirstNonEmpty returns the first of ss that is not empty.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// RFC3339 returns v, an RFC 3339 time, in UTC, or nil when it is not one.
func RFC3339(v any) any {
	t, err := time.Parse(time.RFC3339Nano, String(v))
	if err != nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Date returns s as a date (YYYY-MM-DD), from a date or an RFC 3339 time,
// or nil.
func Date(s string) any {
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return s
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return nil
}

// DateTimeOrDate returns v as an RFC 3339 time in UTC, from a time or a
// date (midnight UTC), or nil.
func DateTimeOrDate(v any) any {
	if t := RFC3339(v); t != nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, String(v)); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return nil
}

// Email returns v when it is a bare email address, or nil: the catalog
// refuses anything else.
func Email(v any) any {
	s := String(v)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return nil
	}
	return s
}

// EventID is "<prefix>:<dedup key>:<type>" (prefix "gh", "lv", "ab"), with
// the characters ingest refuses in an id replaced by "_" and, if long, the
// key hashed: deterministic, so that a request parsed twice makes the same
// ids and ingest drops the copy.
func EventID(prefix, key, typ string) string {
	if len(key) > 80 {
		sum := sha256.Sum256([]byte(key))
		key = hex.EncodeToString(sum[:16])
	}
	id := []byte(prefix + ":" + key + ":" + strings.ReplaceAll(typ, ".", "_"))
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':') {
			id[i] = '_'
		}
	}
	return string(id)
}

// WithTenant names the vendor account (tenant, if any) in each of d's
// top-level external_refs that names none, as push.Builder.Ref does for
// the refs it makes. Nested refs (a candidate inside an application) are
// left as they are.
func WithTenant(d map[string]any, tenant string) {
	if tenant == "" {
		return
	}
	refs, _ := d["external_refs"].([]any)
	for _, r := range refs {
		if m, ok := r.(map[string]any); ok && m["tenant"] == nil {
			m["tenant"] = tenant
		}
	}
}
