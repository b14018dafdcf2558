package hirehook_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"empty", "", 5, ""},
		{"shorter", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"ascii cut", "abcdef", 5, "abcde…"},
		{"zero", "abc", 0, "…"},
		{"two-byte rune fits exactly", "aé", 3, "aé"},
		{"two-byte rune at the cut", "abcdé", 5, "abcd…"}, // é is c3 a9: byte 5 is its second
		{"three-byte rune at the cut", "ab€cd", 3, "ab…"}, // € is e2 82 ac
		{"three-byte rune, cut after its second byte", "ab€cd", 4, "ab…"},
		{"three-byte rune whole before the cut", "ab€cd", 5, "ab€…"},
		{"four-byte rune at the cut", "a😀b", 2, "a…"}, // 😀 is f0 9f 98 80
		{"four-byte rune, cut after its third byte", "a😀b", 4, "a…"},
		{"four-byte rune whole", "a😀b", 5, "a😀…"},
		{"only multi-byte runes", "ééé", 5, "éé…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := hirehook.Truncate(tc.s, tc.n)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q is not valid UTF-8", tc.s, tc.n, got)
			}
			if kept := strings.TrimSuffix(got, "…"); len(kept) > tc.n && got != tc.s {
				t.Errorf("Truncate(%q, %d) kept %d bytes, more than %d", tc.s, tc.n, len(kept), tc.n)
			}
		})
	}
}

func TestResponseExcerpt(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("a", hirehook.ResponseExcerptBytes-1)
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"short", "ok", "ok"},
		{"limit", pad + "b", pad + "b"},
		{"long ascii", pad + "bc", pad + "b"},
		{"rune across the limit", pad + "é", pad},
		{"rune across the limit, four bytes", pad + "😀", pad},
		{"invalid bytes", "a\xffb", "a\uFFFDb"},
		// Each lone invalid byte becomes three bytes of U+FFFD; the excerpt
		// still holds at most ResponseExcerptBytes.
		{"invalid bytes past the limit", strings.Repeat("a\xff", 100), strings.Repeat("a\uFFFD", 50)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := hirehook.ResponseExcerpt(tc.body)
			if got != tc.want {
				t.Errorf("ResponseExcerpt(%q) = %q, want %q", tc.body, got, tc.want)
			}
			if len(got) > hirehook.ResponseExcerptBytes || !utf8.ValidString(got) {
				t.Errorf("ResponseExcerpt(%q) = %q: %d bytes, valid UTF-8 %v", tc.body, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s, want string
	}{
		{"https://hooks.example.com/in", "https://hooks.example.com/in"},
		{"https://hooks.example.com:8443/a/b/", "https://hooks.example.com:8443/a/b/"},
		{"https://user:pass@hooks.example.com/in", "https://hooks.example.com/in"},
		{"https://token@hooks.example.com/in", "https://hooks.example.com/in"},
		{"https://hooks.example.com/in?token=s3cret&x=1", "https://hooks.example.com/in"},
		{"https://hooks.example.com/in#access_token=s3cret", "https://hooks.example.com/in"},
		{"https://u:p@hooks.example.com/in?t=1#f", "https://hooks.example.com/in"},
		{"https://hooks.example.com/a%20b", "https://hooks.example.com/a%20b"},
		{"", ""},
		{"://user:pass@bad", ""}, // does not parse: nothing of it is shown
		{"https://user:pass@[::1", ""},
	} {
		if got := hirehook.RedactURL(tc.s); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
