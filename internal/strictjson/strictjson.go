// Package strictjson reads JSON that every JSON parser reads the same way,
// in one pass over the bytes, or says where it is not: it refuses what
// RFC 8259 leaves to the parser (invalid UTF-8, lone surrogates, duplicate
// object keys, numbers beyond float64), and what the hub's stores cannot
// hold (U+0000 in a string, when asked), and holds a value to limits of
// depth, string length, key count and size.
//
// Go's encoding/json replaces invalid UTF-8 and lone surrogates with
// U+FFFD when it decodes into a string but keeps them in a RawMessage,
// keeps the last of duplicate keys, and keeps 1e400 in a RawMessage or
// json.Number; each of those reaches a receiver as JSON its own parser may
// read differently, or not at all.
package strictjson

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Limits bound a value. A zero field is no limit, except MaxDepth, which
// is then DefaultMaxDepth (recursion needs a bound).
type Limits struct {
	// MaxDepth is the deepest nesting of objects and arrays; the
	// outermost object counts 1.
	MaxDepth int
	// MaxString is the most bytes of one string, as sent (an escape
	// counts as written).
	MaxString int
	// MaxKeys is the most object members in the whole value.
	MaxKeys int
	// MaxBytes is the most bytes of the whole value.
	MaxBytes int
	// NoNUL refuses U+0000 in strings (\u0000): PostgreSQL's jsonb and
	// text cannot hold it.
	NoNUL bool
}

// linearKeys is how many keys of one object Check compares one by one.
const linearKeys = 16

// DefaultMaxDepth is the depth a zero Limits allows, encoding/json's own.
const DefaultMaxDepth = 10000

// Error says where and how a value breaks a rule.
type Error struct {
	// Path is where, relative to the value: "" for the value itself, else
	// segments ".name", `["odd name"]` and "[2]".
	Path string
	// Message says what is wrong, in a form that follows a field name
	// ("must be valid UTF-8"); it never quotes the value.
	Message string
	// Offset is the byte offset in the value where the reader stopped.
	Offset int
	// Syntax is set when the bytes are not JSON at all (RFC 8259's
	// grammar); Message then starts "must be valid JSON".
	Syntax bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("json%s %s (at byte %d)", e.Path, e.Message, e.Offset)
}

// Field returns the field the error is about under prefix, the field of
// the value itself ("data", or "" for a whole body).
func (e *Error) Field(prefix string) string {
	if prefix == "" {
		return strings.TrimPrefix(e.Path, ".")
	}
	return prefix + e.Path
}

// AppendKey appends an object member's name to a path: ".name", or
// `["name"]` when the name is empty or holds '.', '[', ']', '"' or a space
// (the form of catalog's field paths).
func AppendKey(path, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]\" ") {
		return path + "[" + strconv.Quote(key) + "]"
	}
	return path + "." + key
}

// Check reads b, one JSON value with optional surrounding white space, and
// returns nil if it keeps every rule and limit, else an *Error.
func Check(b []byte, lim Limits) error {
	r := reader{b: b, lim: lim}
	buf := keyPool.Get().(*keyStacks)
	r.keyBuf, r.keyTab = buf.keys[:0], buf.tab[:0]
	_, err := r.document(false)
	if cap(r.keyBuf) <= maxPooledMembers && cap(r.keyTab) <= 4*maxPooledMembers {
		clear(r.keyBuf[:cap(r.keyBuf)]) // hold on to no caller's bytes
		buf.keys, buf.tab = r.keyBuf[:0], r.keyTab[:0]
		keyPool.Put(buf)
	}
	return err
}

// keyStacks are Check's reader.keyBuf and reader.keyTab.
type keyStacks struct {
	keys [][]byte
	tab  []int32
}

// keyPool keeps Check's key stacks for the next call, as memberPool does
// Decode's.
var keyPool = sync.Pool{New: func() any { return new(keyStacks) }}

// keySeed seeds the hash of keyTab.
var keySeed = maphash.MakeSeed()

// Decode is Check that also returns the value as encoding/json decodes it
// into an any with UseNumber: map[string]any, []any, string, json.Number,
// bool or nil.
func Decode(b []byte, lim Limits) (any, error) {
	// One string of the whole input, of which every string, key and number
	// without escapes is a substring: a copy per token was a third of the
	// allocations of validating an event.
	r := reader{b: b, s: string(b), lim: lim}
	buf := memberPool.Get().(*[]member)
	r.members = (*buf)[:0]
	v, err := r.document(true)
	if cap(r.members) <= maxPooledMembers {
		*buf = r.members[:0]
		memberPool.Put(buf)
	}
	return v, err
}

// memberPool keeps Decode's member stacks (reader.members), empty, for
// the next call; one larger than maxPooledMembers is left to the
// collector.
var memberPool = sync.Pool{New: func() any { return new([]member) }}

const maxPooledMembers = 1024

type reader struct {
	b     []byte
	s     string // string(b), when building values (Decode)
	i     int
	lim   Limits
	depth int
	keys  int
	// keyBuf holds the keys of the objects being read, for the duplicate
	// check without a map per object (Check only): slices of b, or the
	// unescaped key.
	keyBuf [][]byte
	// keyTab holds the hash sets of the objects being read with more
	// than linearKeys members (Check only), the innermost last: open
	// addressing, each slot 0 or 1 + a key's index in the object's part
	// of keyBuf.
	keyTab []int32
	// plain says the last string str read had no escapes.
	plain bool
	// members holds the members of the objects being built (Decode), so
	// that each map is made once at its final size rather than grown.
	members []member
}

// member is one object member read by Decode.
type member struct {
	key string
	val any
}

func (r *reader) fail(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Offset: r.i}
}

// syntax is fail for bytes that are not JSON.
func (r *reader) syntax(format string, args ...any) *Error {
	e := r.fail("must be valid JSON ("+format+")", args...)
	e.Syntax = true
	return e
}

func (r *reader) document(build bool) (any, error) {
	if r.lim.MaxBytes > 0 && len(r.b) > r.lim.MaxBytes {
		return nil, &Error{Message: fmt.Sprintf("must be at most %d bytes of JSON", r.lim.MaxBytes)}
	}
	if r.lim.MaxDepth <= 0 {
		r.lim.MaxDepth = DefaultMaxDepth
	}
	r.space()
	if r.i == len(r.b) {
		return nil, r.syntax("it is empty")
	}
	v, err := r.value(build)
	if err != nil {
		return nil, err
	}
	r.space()
	if r.i != len(r.b) {
		return nil, r.syntax("more follows the value")
	}
	return v, nil
}

func (r *reader) space() {
	for r.i < len(r.b) {
		// Most bytes after a token are not space: one comparison.
		if c := r.b[r.i]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		r.i++
	}
}

func (r *reader) value(build bool) (any, *Error) {
	if r.i >= len(r.b) {
		return nil, r.syntax("it ends early")
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object(build)
	case c == '[':
		return r.array(build)
	case c == '"':
		s, err := r.str(build, true)
		if err != nil || !build {
			return nil, err
		}
		return s, nil
	case c == '-' || c >= '0' && c <= '9':
		return r.number(build)
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	}
	return nil, r.syntax("unexpected %q", r.b[r.i])
}

func (r *reader) literal(word string) *Error {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return r.syntax("expected %s", word)
	}
	r.i += len(word)
	return nil
}

func (r *reader) enter() *Error {
	r.depth++
	if r.depth > r.lim.MaxDepth {
		return r.fail("must not nest objects and arrays more than %d deep", r.lim.MaxDepth)
	}
	return nil
}

func (r *reader) object(build bool) (any, *Error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	r.i++ // {
	// Decode keeps the members on r.members until the object ends, then
	// makes its map at the final size; past linearKeys members it puts
	// them in m as they come, which also finds duplicates.
	var m map[string]any
	mark, mmark, tmark := len(r.keyBuf), len(r.members), len(r.keyTab)
	var keyBits uint64 // the keyBit of each key so far (Check, up to linearKeys)
	defer func() {
		clear(r.members[mmark:]) // let the values go with the tree (the stack is pooled)
		r.keyBuf, r.members, r.keyTab = r.keyBuf[:mark], r.members[:mmark], r.keyTab[:tmark]
	}()
	r.space()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.depth--
		if build {
			return map[string]any{}, nil
		}
		return nil, nil
	}
	for {
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return nil, r.syntax("expected a member name")
		}
		var key string
		var raw []byte // the key, without a string made of it (Check)
		var err *Error
		if build {
			key, err = r.str(true, false)
		} else {
			raw, err = r.keyBytes()
		}
		if err != nil {
			return nil, err
		}
		r.keys++
		if r.lim.MaxKeys > 0 && r.keys > r.lim.MaxKeys {
			err := r.fail("must have at most %d object members in all", r.lim.MaxKeys)
			err.Path = AppendKey("", keyName(key, raw))
			return nil, err
		}
		dup := false
		switch {
		case build && m != nil:
			_, dup = m[key]
		case build:
			for _, k := range r.members[mmark:] {
				if k.key == key {
					dup = true
					break
				}
			}
		case len(r.keyTab) > tmark:
			dup = r.addKey(raw, mark, tmark)
		default:
			// A key whose bit is not yet in keyBits is not among those
			// before it: most are compared with none.
			if bit := keyBit(raw); keyBits&bit == 0 {
				keyBits |= bit
			} else {
				for _, k := range r.keyBuf[mark:] {
					if string(k) == string(raw) {
						dup = true
						break
					}
				}
			}
			r.keyBuf = append(r.keyBuf, raw)
			if len(r.keyBuf)-mark > linearKeys {
				// Past a few members a hash set is cheaper than
				// comparing each key with all before it.
				r.rehash(mark, tmark, 4*linearKeys)
			}
		}
		if dup {
			err := r.fail("must not appear twice in one object")
			err.Path = AppendKey("", keyName(key, raw))
			return nil, err
		}
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return nil, r.syntax("expected ':'")
		}
		r.i++
		r.space()
		v, err := r.value(build)
		if err != nil {
			err.Path = AppendKey("", keyName(key, raw)) + err.Path
			return nil, err
		}
		if build {
			if m != nil {
				m[key] = v
			} else if r.members = append(r.members, member{key, v}); len(r.members)-mmark > linearKeys {
				m = make(map[string]any, 2*linearKeys)
				for _, kv := range r.members[mmark:] {
					m[kv.key] = kv.val
				}
			}
		}
		r.space()
		if r.i >= len(r.b) {
			return nil, r.syntax("it ends early")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			if !build {
				return nil, nil
			}
			if m == nil {
				m = make(map[string]any, len(r.members)-mmark)
				for _, kv := range r.members[mmark:] {
					m[kv.key] = kv.val
				}
			}
			return m, nil
		default:
			return nil, r.syntax("expected ',' or '}'")
		}
	}
}

// keyBit is one of 64 bits chosen by k's length and first and last bytes.
func keyBit(k []byte) uint64 {
	h := uint(len(k))
	if len(k) > 0 {
		h = h*31 + uint(k[0])*7 + uint(k[len(k)-1])
	}
	return 1 << (h & 63)
}

// addKey adds raw to the hash set at r.keyTab[tmark:] of the object whose
// keys start at r.keyBuf[mark], and says whether it was there already.
func (r *reader) addKey(raw []byte, mark, tmark int) (dup bool) {
	tab := r.keyTab[tmark:]
	mask := uint64(len(tab) - 1)
	j := maphash.Bytes(keySeed, raw) & mask
	for ; tab[j] != 0; j = (j + 1) & mask {
		if string(r.keyBuf[mark+int(tab[j])-1]) == string(raw) {
			return true
		}
	}
	r.keyBuf = append(r.keyBuf, raw)
	if n := len(r.keyBuf) - mark; 2*n > len(tab) {
		r.rehash(mark, tmark, 2*len(tab))
	} else {
		tab[j] = int32(n)
	}
	return false
}

// rehash makes the hash set at r.keyTab[tmark:] size slots (a power of 2)
// and puts in it the object's keys, r.keyBuf[mark:], which are distinct.
func (r *reader) rehash(mark, tmark, size int) {
	r.keyTab = append(r.keyTab[:tmark], make([]int32, size)...)
	tab := r.keyTab[tmark:]
	for i, k := range r.keyBuf[mark:] {
		put(tab, k, i+1)
	}
}

// put puts key, the object's key n (1 + its index in the object's keys),
// in the hash set tab, which does not hold it.
func put(tab []int32, key []byte, n int) {
	mask := uint64(len(tab) - 1)
	j := maphash.Bytes(keySeed, key) & mask
	for tab[j] != 0 {
		j = (j + 1) & mask
	}
	tab[j] = int32(n)
}

func (r *reader) array(build bool) (any, *Error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	r.i++ // [
	var a []any
	if build {
		a = []any{}
	}
	r.space()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.depth--
		return a, nil
	}
	for n := 0; ; n++ {
		r.space()
		v, err := r.value(build)
		if err != nil {
			err.Path = "[" + strconv.Itoa(n) + "]" + err.Path
			return nil, err
		}
		if build {
			a = append(a, v)
		}
		r.space()
		if r.i >= len(r.b) {
			return nil, r.syntax("it ends early")
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			if build {
				return a, nil
			}
			return nil, nil
		default:
			return nil, r.syntax("expected ',' or ']'")
		}
	}
}

// str reads a string token. It returns the string when build is set (or
// for a key, always), else "". value says whether it is a value (a key is
// not held to MaxString's message, but to the same limit).
func (r *reader) str(build, value bool) (string, *Error) {
	start := r.i
	r.i++         // "
	plain := true // no escapes: the string is the bytes as they are
	for {
		r.i = plainRun(r.b, r.i)
		if r.i >= len(r.b) {
			return "", r.syntax("a string does not end")
		}
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			r.plain = plain
			if n := r.i - start - 2; r.lim.MaxString > 0 && n > r.lim.MaxString {
				e := &Error{Message: fmt.Sprintf("must be at most %d bytes long", r.lim.MaxString), Offset: start}
				if !value {
					e.Message = fmt.Sprintf("is a member name longer than %d bytes", r.lim.MaxString)
				}
				return "", e
			}
			if !build {
				return "", nil
			}
			if plain {
				if r.s != "" {
					return r.s[start+1 : r.i-1], nil
				}
				return string(r.b[start+1 : r.i-1]), nil
			}
			return unescape(r.b[start+1 : r.i-1]), nil
		case c == '\\':
			plain = false
			if err := r.escape(); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", r.syntax("a control character in a string must be escaped")
		case c < utf8.RuneSelf:
			r.i++
		default:
			ru, size := utf8.DecodeRune(r.b[r.i:])
			if ru == utf8.RuneError && size <= 1 {
				return "", r.fail("must be valid UTF-8")
			}
			r.i += size
		}
	}
}

// Masks of plainRun's word at a time: one in each byte, and each byte's
// top bit.
const (
	ones = 0x0101010101010101
	tops = 0x8080808080808080
)

// plainRun returns the index of the first byte at or after i that str
// must look at (a control character, '"', '\\' or a byte of a non-ASCII
// character), or len(b): the bytes before it are printable ASCII, which str
// would pass one at a time. It tests 8 bytes at a time.
func plainRun(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// A byte's top bit is set in m where it is >= 0x80 (x), < 0x20
		// (x - 0x20), '"' or '\\' (zero after the xor, so 0xff after
		// the subtraction). A borrow runs only upward, from a byte that
		// is flagged rightly, so the lowest flagged byte is the first.
		m := (x | (x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones)) & tops
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// keyName is the key an error names: key (Decode) or raw (Check).
func keyName(key string, raw []byte) string {
	if raw != nil {
		return string(raw)
	}
	return key
}

// keyBytes reads a member name as str does, returning its bytes: a slice
// of the input when it has no escapes, so that Check makes no string.
func (r *reader) keyBytes() ([]byte, *Error) {
	start := r.i
	if _, err := r.str(false, false); err != nil {
		return nil, err
	}
	raw := r.b[start+1 : r.i-1]
	if !r.plain {
		return []byte(unescape(raw)), nil
	}
	return raw, nil
}

// escape reads one escape sequence at r.i (a backslash).
func (r *reader) escape() *Error {
	if r.i+1 >= len(r.b) {
		return r.syntax("a string does not end")
	}
	switch r.b[r.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		r.i += 2
		return nil
	case 'u':
	default:
		return r.syntax("unknown escape \\%c", r.b[r.i+1])
	}
	u, ok := hex4(r.b, r.i+2)
	if !ok {
		return r.syntax("\\u needs 4 hex digits")
	}
	switch {
	case u == 0 && r.lim.NoNUL:
		return r.fail("must not contain U+0000 (\\u0000)")
	case u >= 0xDC00 && u <= 0xDFFF:
		return r.fail("must not hold a lone surrogate (\\u%04x); a character beyond U+FFFF is a \\ud8xx\\udcxx pair", u)
	case u >= 0xD800 && u <= 0xDBFF:
		if r.i+7 < len(r.b) && r.b[r.i+6] == '\\' && r.b[r.i+7] == 'u' {
			if lo, ok := hex4(r.b, r.i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				r.i += 12
				return nil
			}
		}
		return r.fail("must not hold a lone surrogate (\\u%04x); a character beyond U+FFFF is a \\ud8xx\\udcxx pair", u)
	}
	r.i += 6
	return nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var u rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		u = u<<4 | rune(c)
	}
	return u, true
}

// unescape decodes the inside of a string already checked by str.
func unescape(s []byte) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			u, _ := hex4(s, i+2)
			if u >= 0xD800 && u <= 0xDBFF {
				lo, _ := hex4(s, i+8)
				u = 0x10000 + (u-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
			b.WriteRune(u)
			i += 6
			continue
		default: // " \ /
			b.WriteByte(s[i+1])
		}
		i += 2
	}
	return b.String()
}

// number reads a number token; one beyond float64's range is refused,
// since most parsers (JavaScript's, Go's into float64) cannot read it.
func (r *reader) number(build bool) (any, *Error) {
	start := r.i
	if r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	switch {
	case r.i < len(r.b) && r.b[r.i] == '0':
		r.i++
	case r.i < len(r.b) && r.b[r.i] >= '1' && r.b[r.i] <= '9':
		r.digits()
	default:
		return nil, r.syntax("a number needs a digit")
	}
	intDigits := r.i - digits
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if r.digits() == 0 {
			return nil, r.syntax("a digit must follow '.'")
		}
	}
	exp := false
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		exp = true
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if r.digits() == 0 {
			return nil, r.syntax("a digit must follow the exponent")
		}
	}
	tok := r.b[start:r.i]
	if r.lim.MaxString > 0 && len(tok) > r.lim.MaxString {
		return nil, &Error{Message: fmt.Sprintf("must be a number of at most %d characters", r.lim.MaxString), Offset: start}
	}
	// Without an exponent, fewer than 309 integer digits always fit.
	if exp || intDigits > 308 {
		if _, err := strconv.ParseFloat(string(tok), 64); err != nil {
			return nil, &Error{Message: "must be a number within the range of a 64-bit float (about ±1.8e308)", Offset: start}
		}
	}
	if !build {
		return nil, nil
	}
	if r.s != "" {
		return json.Number(r.s[start:r.i]), nil
	}
	return json.Number(tok), nil
}

func (r *reader) digits() int {
	n := 0
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
		n++
	}
	return n
}
