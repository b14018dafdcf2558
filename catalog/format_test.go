package catalog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// libraryFormat returns the library's own checker of format name.
func libraryFormat(t testing.TB, name string) func(any) error {
	t.Helper()
	sch := compileTestSchema(t, `{"format": "`+name+`"}`)
	if quickFormat(sch.Format) == nil {
		t.Fatalf("no quick check for the library's %s", name)
	}
	return sch.Format.Validate
}

// checkQuick fails if the quick check of format name accepts s and the
// library's checker does not, and reports whether the quick one accepted.
func checkQuick(t testing.TB, name, s string, lib func(any) error) bool {
	t.Helper()
	quick := quickFormats[name](s)
	if err := lib(s); quick && err != nil {
		t.Fatalf("%s %q: quick check accepts, the library says %v", name, s, err)
	}
	return quick
}

// TestQuickDate runs the quick date check over every day of many years,
// and months and days just outside their ranges.
func TestQuickDate(t *testing.T) {
	t.Parallel()
	lib := libraryFormat(t, "date")
	var years []int
	for y := range 10 {
		years = append(years, y, 1890+y*11, 9990+y)
	}
	years = append(years, 1900, 2000, 2024, 2025, 2100, 2400)
	for _, y := range years {
		for m := range 14 {
			for d := range 33 {
				s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
				quick := checkQuick(t, "date", s, lib)
				if !quick && lib(s) == nil {
					t.Errorf("date %q: the library accepts it, the quick check does not", s)
				}
			}
		}
	}
}

// TestQuickFormats checks the quick checks on the plain forms they are
// for (they must say yes, else they save nothing) and on near misses
// (which the library decides).
func TestQuickFormats(t *testing.T) {
	t.Parallel()
	for name, cases := range map[string]map[string]bool{
		"date-time": {
			"2026-05-01T09:00:00Z": true, "2026-05-01t09:00:00z": true, "2026-05-01T09:00:00.123456+01:00": true,
			"2026-03-20T09:12:44-05:30": true, "2024-02-29T23:59:59Z": true,
			"2026-05-01T09:00:00": false, "2026-05-01 09:00:00Z": false, "2026-05-01T24:00:00Z": false,
			"2026-05-01T23:59:60Z": false, "2026-05-01T09:00:60Z": false, "2026-05-01T09:00:00.Z": false, "2026-05-01T09:00:00+1:00": false,
			"2026-05-01T09:00:00+24:00": false, "2026-02-30T09:00:00Z": false, "2026-05-01T+9:00:00Z": false,
		},
		"email": {
			"ada.lovelace@example.com": true, "a+b@mail.example.co.uk": true, "x@y": true, "o'brien@x-y.example": true,
			"a@b.": false, ".a@b": false, "a.@b": false, "a..b@c": false, "@b.com": false, "a@-b.com": false,
			"a@b-.com": false, `"a b"@c.com`: false, "a@[127.0.0.1]": false, "é@x.com": false, "a@b..c": false,
			strings.Repeat("a", 65) + "@b.com": false, "a@" + strings.Repeat("b", 64) + ".com": false,
		},
		"date": {"2026-05-01": true, "2026-5-01": false, "+026-05-01": false, "2026-05-01 ": false},
	} {
		lib := libraryFormat(t, name)
		for s, want := range cases {
			if got := checkQuick(t, name, s, lib); got != want {
				t.Errorf("%s %q: quick check says %v, want %v", name, s, got, want)
			}
		}
	}
}

// TestQuickFormat_registered checks that a format registered in place of
// the library's gets no quick check.
func TestQuickFormat_registered(t *testing.T) {
	t.Parallel()
	comp := jsonschema.NewCompiler()
	comp.AssertFormat()
	comp.RegisterFormat(&jsonschema.Format{Name: "email", Validate: func(any) error { return nil }})
	if err := comp.AddResource("urn:x", map[string]any{"format": "email"}); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("urn:x")
	if err != nil {
		t.Fatal(err)
	}
	if quickFormat(sch.Format) != nil {
		t.Error("a registered email format got the quick check")
	}
}

// FuzzQuickFormats holds each quick check to its library checker: it may
// say no where the library says yes, never yes where it says no.
func FuzzQuickFormats(f *testing.F) {
	for _, s := range []string{"2026-05-01", "2026-05-01T09:00:00.5+01:00", "2024-02-29T23:59:59Z", "ada@example.com", "a.b-c@d-e.f", "o'brien@x.y."} {
		f.Add(s)
	}
	libs := map[string]func(any) error{}
	for name := range quickFormats {
		libs[name] = libraryFormat(f, name)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, lib := range libs {
			checkQuick(t, name, s, lib)
		}
	})
}
