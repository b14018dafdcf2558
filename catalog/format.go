package catalog

import (
	"reflect"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Quick checks of the formats the catalog uses.
//
// The library's format checkers take an any (so each string is boxed) and
// parse with time.Parse, strings.Split and strings.SplitN, which allocate.
// A quick check accepts the plain form of each format: 2026-05-01,
// 2026-05-01T09:00:00.123+01:00, ada.lovelace@example.com. It says yes only
// to strings the library's checker accepts too (FuzzQuickFormats and
// TestQuickDate hold it to that); to anything else, it says "not sure" and
// the library's checker decides. So it changes no answer, only how fast a
// plain value gets one.

// quickFormat returns the quick check of format f, or nil. It is used only
// when f's checker is the library's own for that name, not one registered
// in its place.
func quickFormat(f *jsonschema.Format) func(string) bool {
	quick, ok := quickFormats[f.Name]
	if !ok || reflect.ValueOf(f.Validate).Pointer() != libraryFormats[f.Name] {
		return nil
	}
	return quick
}

var quickFormats = map[string]func(string) bool{
	"date":      quickDate,
	"date-time": quickDateTime,
	"email":     quickEmail,
}

// libraryFormats holds the address of the library's own checker of each
// format in quickFormats, from a schema compiled with no format
// registered.
var libraryFormats = func() map[string]uintptr {
	m := make(map[string]uintptr)
	for name := range quickFormats {
		comp := jsonschema.NewCompiler()
		comp.AssertFormat()
		if err := comp.AddResource("urn:format", map[string]any{"format": name}); err != nil {
			panic(err)
		}
		sch, err := comp.Compile("urn:format")
		if err != nil {
			panic(err)
		}
		m[name] = reflect.ValueOf(sch.Format.Validate).Pointer()
	}
	return m
}()

// quickDate accepts YYYY-MM-DD, a day that exists (time.Parse's rules).
func quickDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// quickDateTime accepts YYYY-MM-DDTHH:MM:SS, optionally a fraction of a
// second, then Z or an offset ±HH:MM; no leap second.
func quickDateTime(s string) bool {
	if len(s) < 20 || (s[10] != 'T' && s[10] != 't') || !quickDate(s[:10]) {
		return false
	}
	t := s[11:]
	if t[2] != ':' || t[5] != ':' {
		return false
	}
	h, ok1 := digits(t[0:2])
	m, ok2 := digits(t[3:5])
	sec, ok3 := digits(t[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return false
	}
	t = t[8:]
	if len(t) > 0 && t[0] == '.' {
		i := 1
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		t = t[i:]
	}
	switch {
	case t == "Z" || t == "z":
		return true
	case len(t) == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':':
		zh, ok1 := digits(t[1:3])
		zm, ok2 := digits(t[4:6])
		return ok1 && ok2 && zh <= 23 && zm <= 59
	}
	return false
}

// quickEmail accepts local@domain where local is dot-separated atoms of
// letters, digits and !#$%&'*+-/=?^_`{|}~ (at most 64 bytes) and domain a
// host name of letters, digits and hyphens; at most 254 bytes in all.
func quickEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	prev := byte('.')
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.':
			if prev == '.' {
				return false // leading dot or two in a row
			}
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
		prev = c
	}
	if prev == '.' {
		return false // a trailing dot
	}
	// A host name: labels of 1 to 63 letters, digits and hyphens, not
	// starting or ending with a hyphen; no trailing dot (the library allows
	// one; it decides those).
	if len(domain) == 0 || len(domain) > 253 {
		return false
	}
	label := 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '.' {
			if label == 0 || label > 63 || domain[i-1] == '-' || domain[i-label] == '-' {
				return false
			}
			label = 0
			continue
		}
		c := domain[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
		label++
	}
	return true
}

// digits returns the value of s, ASCII digits only.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
