package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxDepth: 4, MaxString: 40, MaxKeys: 5, MaxBytes: 400, NoNUL: true}
	for _, tc := range []struct {
		name, in string
		path     string // "" with ok
		ok       bool
		syntax   bool
		lim      *Limits
	}{
		{name: "Object", in: ` {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} `, ok: true},
		{name: "Escapes", in: `{"a\u00e9": "\"\\\/\b\f\n\r\t\ud83d\ude00"}`, ok: true},
		{name: "UTF8", in: `{"a": "é😀"}`, ok: true},
		{name: "BigInteger", in: `{"a": 123456789012345678901234567890}`, ok: true},
		{name: "Underflow", in: `{"a": 1e-400}`, ok: true},
		{name: "Scalar", in: `"x"`, ok: true},

		{name: "InvalidUTF8", in: "{\"a\": [\"x\xffy\"]}", path: ".a[0]"},
		{name: "EncodedSurrogate", in: "{\"a\": \"\xed\xa0\x80\"}", path: ".a"},
		{name: "InvalidUTF8Key", in: "{\"a\xff\": 1}", path: ""},
		{name: "LoneHigh", in: `{"a": {"b": "\ud800"}}`, path: ".a.b"},
		{name: "LoneHighThenText", in: `{"a": "\ud800x"}`, path: ".a"},
		{name: "HighThenHigh", in: `{"a": "\ud800\ud800"}`, path: ".a"},
		{name: "LoneLow", in: `{"a": "\udc00"}`, path: ".a"},
		{name: "NUL", in: `{"id": "a\u0000b"}`, path: ".id"},
		{name: "NULKey", in: `{"a\u0000": 1}`, path: ""},
		{name: "DuplicateKey", in: `{"a": 1, "b": {"c": 1, "c": 2}}`, path: ".b.c"},
		{name: "DuplicateEmptyKey", in: `{"": 1, "b": 2, "": 3}`, path: `[""]`},
		{name: "DuplicateKeyEscaped", in: `{"a": 1, "\u0061": 2}`, path: ".a"},
		{name: "Huge", in: `{"a": [0, 1e400]}`, path: ".a[1]"},
		{name: "HugeNegative", in: `{"a": -1E+309}`, path: ".a"},
		{name: "LongInteger", in: `{"a": 1` + strings.Repeat("0", 309) + `}`, path: ".a", lim: &Limits{}},
		{name: "LongNumber", in: `{"a": 1` + strings.Repeat("0", 40) + `}`, path: ".a"},
		{name: "Deep", in: `{"a": [[[{}]]]}`, path: ".a[0][0][0]"},
		{name: "LongString", in: `{"a": "` + strings.Repeat("x", 41) + `"}`, path: ".a"},
		{name: "LongKey", in: `{"` + strings.Repeat("x", 41) + `": 1}`, path: ""},
		{name: "OddKeyPath", in: `{"a b": {"": "\ud800"}}`, path: `["a b"][""]`},
		{name: "TooManyKeys", in: `{"a": 1, "b": {"c": 1, "d": 1}, "e": 1, "f": 1}`, path: ".f"},
		{name: "TooLarge", in: `{"a": "` + strings.Repeat(" ", 400) + `"}`, path: ""},

		{name: "Empty", in: ``, syntax: true},
		{name: "Trailing", in: `{} {}`, syntax: true},
		{name: "Unclosed", in: `{"a": [1, 2}`, syntax: true},
		{name: "ControlChar", in: "{\"a\": \"x\ny\"}", syntax: true},
		{name: "BadEscape", in: `{"a": "\x"}`, syntax: true},
		{name: "ShortU", in: `{"a": "\u12"}`, syntax: true},
		{name: "LeadingZero", in: `{"a": 01}`, syntax: true},
		{name: "BareDot", in: `{"a": 1.}`, syntax: true},
		{name: "TrailingComma", in: `{"a": 1,}`, syntax: true},
		{name: "Literal", in: `{"a": tru}`, syntax: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lim := lim
			if tc.lim != nil {
				lim = *tc.lim
			}
			for _, build := range []bool{false, true} {
				var err error
				if build {
					_, err = Decode([]byte(tc.in), lim)
				} else {
					err = Check([]byte(tc.in), lim)
				}
				if tc.ok {
					if err != nil {
						t.Errorf("build=%v: %v, want nil", build, err)
					}
					continue
				}
				e, ok := err.(*Error)
				if !ok {
					t.Fatalf("build=%v: error %v (%T), want *Error", build, err, err)
				}
				if e.Syntax != tc.syntax {
					t.Errorf("build=%v: %v: Syntax = %v, want %v", build, e, e.Syntax, tc.syntax)
				}
				if !tc.syntax && e.Path != tc.path {
					t.Errorf("build=%v: %v: Path = %q, want %q", build, e, e.Path, tc.path)
				}
			}
		})
	}
}

func TestField(t *testing.T) {
	t.Parallel()
	e := &Error{Path: ".a[2]"}
	if got := e.Field("data"); got != "data.a[2]" {
		t.Errorf("Field(data) = %q", got)
	}
	if got := e.Field(""); got != "a[2]" {
		t.Errorf("Field() = %q", got)
	}
}

// TestManyKeysOneObject checks that an object of many members is read in
// time (the duplicate check must not compare each key with every other).
func TestManyKeysOneObject(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("{")
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `_` + itoa(i) + `":1`)
	}
	b.WriteString("}")
	if err := Check(b.Bytes(), Limits{}); err != nil {
		t.Fatal(err)
	}
	dup := append(bytes.TrimSuffix(b.Bytes(), []byte("}")), []byte(`,"ka_0":2}`)...)
	if err := Check(dup, Limits{}); err == nil || err.(*Error).Path != ".ka_0" {
		t.Fatalf("duplicate in a large object: %v", err)
	}
	if _, err := Decode(dup, Limits{}); err == nil || err.(*Error).Path != ".ka_0" {
		t.Fatalf("Decode: duplicate in a large object: %v", err)
	}
}

// TestDecodeMembers checks Decode's objects around linearKeys members,
// where it goes from keeping members aside to filling the map as it reads:
// every member is kept, in nested objects too, and a duplicate is found on
// either side.
func TestDecodeMembers(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, linearKeys - 1, linearKeys, linearKeys + 1, linearKeys + 2, 3 * linearKeys} {
		var b bytes.Buffer
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			// Each member holds an object of its own, so members of
			// nested objects are on the stack at the same time.
			fmt.Fprintf(&b, `"k%d":{"i":%d,"s":"v\u00e9%d","n":{"x":[%d]}}`, i, i, i, i)
		}
		b.WriteString("}")
		v, err := Decode(b.Bytes(), Limits{})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		d := json.NewDecoder(bytes.NewReader(b.Bytes()))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("n=%d: Decode = %#v, encoding/json %#v", n, v, want)
		}
		for _, at := range []int{0, n - 1} {
			dup := fmt.Appendf(bytes.TrimSuffix(bytes.Clone(b.Bytes()), []byte("}")), `,"k%d":1}`, at)
			if _, err := Decode(dup, Limits{}); err == nil || err.(*Error).Path != fmt.Sprintf(".k%d", at) {
				t.Fatalf("n=%d: duplicate k%d: %v", n, at, err)
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// FuzzDecode checks strictjson against encoding/json: what it accepts,
// encoding/json accepts and decodes (UseNumber) to the same value, and
// Check and Decode agree.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null,true,{"b":-0.5e-3}]}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, "\"\xff\"", `1e400`, `[[[[[[]]]]]]`, `{"\u0061":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b, Limits{})
		if cerr := Check(b, Limits{}); !reflect.DeepEqual(cerr, err) {
			t.Fatalf("Check = %#v, Decode = %#v", cerr, err)
		}
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted %q, which encoding/json says is not JSON", b)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("Decode(%q) = %#v, encoding/json %#v", b, v, want)
		}
	})
}

// plainRunBytes is plainRun a byte at a time, as str went before it.
func plainRunBytes(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return i
}

// TestPlainRun compares plainRun with a byte at a time on every byte value
// and every pair of byte values (the pair catches a borrow from one byte
// into the next), at every position of a word and across two words.
func TestPlainRun(t *testing.T) {
	t.Parallel()
	fill := bytes.Repeat([]byte("a"), 19)
	b := make([]byte, len(fill))
	for x := range 256 {
		for y := range 256 {
			for at := range len(b) - 1 {
				copy(b, fill)
				b[at], b[at+1] = byte(x), byte(y)
				for _, start := range []int{0, 1, at} {
					if got, want := plainRun(b, start), plainRunBytes(b, start); got != want {
						t.Fatalf("plainRun(%q, %d) = %d, want %d", b, start, got, want)
					}
				}
			}
		}
	}
}

// FuzzPlainRun compares plainRun with a byte at a time.
func FuzzPlainRun(f *testing.F) {
	for _, s := range []string{"abcdefgh\"", "abcdefghi\\", "é", "\x1f\x20\x21", "0123456789abcdef\x7f\x80"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, start uint8) {
		i := int(start) % (len(b) + 1)
		if got, want := plainRun(b, i), plainRunBytes(b, i); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}

// TestCheckMembers checks Check's duplicate check around linearKeys and
// the sizes where its hash set grows, in nested objects of many members
// too: every member is accepted, and a duplicate is found wherever it is,
// with the error Decode (a map) gives.
func TestCheckMembers(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, linearKeys - 1, linearKeys, linearKeys + 1, 2 * linearKeys, 2*linearKeys + 1, 4 * linearKeys, 4*linearKeys + 1, 300} {
		var b bytes.Buffer
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":`, i)
			if i%7 == 3 { // an object of many members of its own, inside
				b.WriteString("{")
				for j := range n {
					if j > 0 {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, `"k%d":%d`, j, j)
				}
				b.WriteString("}")
			} else {
				fmt.Fprintf(&b, "%d", i)
			}
		}
		b.WriteString("}")
		if err := Check(b.Bytes(), Limits{}); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for _, at := range []int{0, 1, n / 2, n - 2, n - 1} {
			if at < 0 || at >= n {
				continue
			}
			for _, key := range []string{fmt.Sprintf(`"k%d"`, at), fmt.Sprintf(`"\u006b%d"`, at)} {
				dup := fmt.Appendf(bytes.TrimSuffix(bytes.Clone(b.Bytes()), []byte("}")), `,%s:1}`, key)
				cerr := Check(dup, Limits{})
				_, derr := Decode(dup, Limits{})
				if cerr == nil || cerr.(*Error).Path != fmt.Sprintf(".k%d", at) {
					t.Fatalf("n=%d: duplicate %s: %v", n, key, cerr)
				}
				if !reflect.DeepEqual(cerr, derr) {
					t.Fatalf("n=%d: duplicate %s: Check %#v, Decode %#v", n, key, cerr, derr)
				}
			}
		}
	}
}

// FuzzCheckKeys checks Check's duplicate check against Decode's (a map
// past linearKeys) on objects of many short keys, nested: each byte is a
// member named by its low 7 bits, whose value is an object of the next
// bytes when the top bit is set.
func FuzzCheckKeys(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 2))
	f.Add([]byte{0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0x81, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, in []byte) {
		var b bytes.Buffer
		var obj func(n int)
		obj = func(n int) {
			b.WriteString("{")
			for i := 0; i < n && len(in) > 0; i++ {
				c := in[0]
				in = in[1:]
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `"%d":`, c&0x7f)
				if c&0x80 != 0 {
					obj(int(c&0x7f) + 1)
				} else {
					b.WriteString("0")
				}
			}
			b.WriteString("}")
		}
		obj(len(in))
		cerr := Check(b.Bytes(), Limits{})
		_, derr := Decode(b.Bytes(), Limits{})
		if !reflect.DeepEqual(cerr, derr) {
			t.Fatalf("%s: Check %v, Decode %v", b.Bytes(), cerr, derr)
		}
	})
}
