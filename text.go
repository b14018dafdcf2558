package hirehook

import (
	"net/url"
	"unicode/utf8"
)

// Truncate returns s cut to at most n bytes, followed by "…" when anything
// was cut; an s of n bytes or fewer comes back unchanged. The cut falls on
// a character boundary: a character that would not fit whole is left out,
// so a valid UTF-8 s gives valid UTF-8. Error messages, audit details and
// form echoes bound the user-supplied text they quote with it.
//
// Truncate bounds bytes, not columns on a screen; the "…" adds three bytes
// beyond n. ResponseExcerpt cuts at the same boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:runeCut(s, n)] + "…"
}

// runeCut returns the largest i <= n (and i <= len(s)) at which s can be cut
// without splitting a UTF-8 character.
func runeCut(s string, n int) int {
	if n <= 0 {
		return 0
	}
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// RedactURL returns the URL s as logs, audit entries, operational events
// and errors may show it: scheme, host and path, without the credentials,
// the query and the fragment, where receivers and providers often put
// tokens. A URL that does not parse gives "", never s.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
