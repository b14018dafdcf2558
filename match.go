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

// Recipients returns the endpoints, of the tenant's enabled ones, that an
// event goes to before the endpoints' filters are applied, and whether
// those filters apply. It is the rule the stores' ingest follows (written
// once in store/sqlstore's Ingest): an event with a TargetEndpointID goes to that endpoint alone
// (if enabled), its filter not consulted (a test must reach the endpoint
// whatever it would select); any other event goes to every endpoint that
// subscribes to its type, each of whose filters then decides
// (EventIngestParams.MatchFunc).
func (e *Event) Recipients(enabled []*Endpoint) (eps []*Endpoint, filter bool) {
	if e.TargetEndpointID != "" {
		for _, ep := range enabled {
			if ep.ID == e.TargetEndpointID {
				return []*Endpoint{ep}, false
			}
		}
		return nil, false
	}
	for _, ep := range enabled {
		if ep.Subscribes(e.Type) {
			eps = append(eps, ep)
		}
	}
	return eps, true
}
