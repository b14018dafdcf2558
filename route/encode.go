package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// errTooLarge is returned by encode when the output would pass its limit.
var errTooLarge = errors.New("output too large")

// encode returns the JSON encoding of v, a value as gojq yields it (nil,
// bool, int, float64, *big.Int, json.Number, string, []any, map[string]any),
// or errTooLarge as soon as it would pass limit bytes (limit 0: no limit).
// It stops early on purpose: a transform can build a value whose encoding is
// gigabytes ([limit(1e6; "x" * 1000)] shares one string), and
// gojq.Marshal or json.Marshal would write all of it before we could look.
//
// The encoding follows gojq.Marshal (and jq): object keys sorted, NaN as
// null, infinities clamped, and no HTML escaping.
func encode(v any, limit int) ([]byte, error) {
	e := encoder{limit: limit, buf: make([]byte, 0, 512)}
	e.value(v)
	if e.err == nil && limit > 0 && len(e.buf) > limit {
		e.err = errTooLarge // escapes can pass the limit by a few bytes
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

type encoder struct {
	buf   []byte
	limit int
	err   error
}

// room reports whether n more bytes fit, and records errTooLarge if not.
func (e *encoder) room(n int) bool {
	if e.err != nil {
		return false
	} else if e.limit > 0 && len(e.buf)+n > e.limit {
		e.err = errTooLarge
		return false
	}
	return true
}

func (e *encoder) value(v any) {
	if e.err != nil {
		return
	}
	switch v := v.(type) {
	case nil:
		e.raw("null")
	case bool:
		if v {
			e.raw("true")
		} else {
			e.raw("false")
		}
	case int:
		if e.room(20) {
			e.buf = strconv.AppendInt(e.buf, int64(v), 10)
		}
	case float64:
		e.float(v)
	case *big.Int:
		if e.room(v.BitLen()/3 + 2) {
			e.buf = v.Append(e.buf, 10)
		}
	case json.Number:
		e.raw(v.String())
	case string:
		e.string(v)
	case []any:
		e.raw("[")
		for i, x := range v {
			if i > 0 {
				e.raw(",")
			}
			e.value(x)
			if e.err != nil {
				return
			}
		}
		e.raw("]")
	case map[string]any:
		e.raw("{")
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				e.raw(",")
			}
			e.string(k)
			e.raw(":")
			e.value(v[k])
			if e.err != nil {
				return
			}
		}
		e.raw("}")
	default:
		e.err = fmt.Errorf("cannot encode a %T", v)
	}
}

func (e *encoder) raw(s string) {
	if e.room(len(s)) {
		e.buf = append(e.buf, s...)
	}
}

// float writes f as encoding/json and gojq do.
func (e *encoder) float(f float64) {
	if math.IsNaN(f) {
		e.raw("null")
		return
	}
	if !e.room(32) {
		return
	}
	f = min(max(f, -math.MaxFloat64), math.MaxFloat64)
	format := byte('f')
	if x := math.Abs(f); x != 0 && x < 1e-6 || x >= 1e21 {
		format = 'e'
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		b := e.buf[start:]
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
	}
}

// string writes s as a JSON string. Its length is checked first, so a huge
// string is refused before it is copied.
func (e *encoder) string(s string) {
	if !e.room(len(s) + 2) {
		return
	}
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if ' ' <= b && b != '"' && b != '\\' && b != 0x7f {
				i++
				continue
			}
			e.buf = append(e.buf, s[start:i]...)
			switch b {
			case '"':
				e.buf = append(e.buf, `\"`...)
			case '\\':
				e.buf = append(e.buf, `\\`...)
			case '\n':
				e.buf = append(e.buf, `\n`...)
			case '\r':
				e.buf = append(e.buf, `\r`...)
			case '\t':
				e.buf = append(e.buf, `\t`...)
			default:
				const hex = "0123456789abcdef"
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			if !e.room(len(s) - i + 1) {
				return
			}
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			e.buf = append(e.buf, s[start:i]...)
			e.buf = append(e.buf, `\ufffd`...)
			i += size
			start = i
			if !e.room(len(s) - i + 1) {
				return
			}
			continue
		}
		i += size
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
}
