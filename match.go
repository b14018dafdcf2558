package hirehook

import "strings"

// MatchEventType reports whether an endpoint's event-type pattern matches
// typ. A pattern is an exact type ("offer.signed"), an entity wildcard
// ("placement.*") or "*" for every type.
func MatchEventType(pattern, typ string) bool {
	if pattern == "*" || pattern == typ {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(typ, prefix) && len(typ) > len(prefix) && typ[len(prefix)] == '.'
	}
	return false
}

// ValidEventTypePattern reports whether p is syntactically a pattern: "*", or
// dot-separated words of [a-z0-9_] where the last word may be "*".
func ValidEventTypePattern(p string) bool {
	if p == "*" {
		return true
	}
	parts := strings.Split(p, ".")
	if len(parts) < 2 {
		return false
	}
	for i, w := range parts {
		if w == "*" && i == len(parts)-1 {
			continue
		}
		if w == "" {
			return false
		}
		for j := 0; j < len(w); j++ {
			c := w[j]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
	}
	return true
}
