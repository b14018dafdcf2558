package web

import (
	"regexp"
	"strings"

	"github.com/hirehook/hirehook"
)

// This file holds the plain words the dashboard uses for things the API
// and the command line name in their own terms (scopes, flags): its
// readers run recruiting operations, not the hub.

// flagNote matches a parenthesised command-line flag in a key's name, as
// the hub's first key is named ("operator (--admin-key)").
var flagNote = regexp.MustCompile(`\s*\(\s*--[a-z0-9-]+[^)]*\)`)

// keyLabel is a key's name as the header shows it: without a note of the
// command-line flag it was given with.
func keyLabel(name string) string {
	if s := strings.TrimSpace(flagNote.ReplaceAllString(name, "")); s != "" {
		return s
	}
	return name
}

// roleOf says in plain words what a key's scope may do in the dashboard.
func roleOf(s hirehook.Scope) (short, long string) {
	switch s {
	case hirehook.ScopeOperator:
		return "full access", "Full access: can change every setting and replay deliveries, for every tenant of this hub."
	case hirehook.ScopeAdmin:
		return "admin", "Admin: can add and change endpoints and sources and replay deliveries, for this tenant."
	case hirehook.ScopeViewer:
		return "view only", "View only: can see everything of this tenant but change nothing."
	case hirehook.ScopeProducer:
		return "sends events", "Can only send events; it cannot use the dashboard."
	}
	return string(s), string(s)
}

// Who is the signed-in key's name, as the header shows it.
func (p *principal) Who() string { return keyLabel(p.keyName) }

// Role is what the signed-in key may do, in a few words.
func (p *principal) Role() string { short, _ := roleOf(p.scope); return short }

// RoleLong is Role in a sentence, for a tooltip.
func (p *principal) RoleLong() string { _, long := roleOf(p.scope); return long }
