package catalog

import (
	"encoding/json"
	"strings"
)

// The fast path on the raw JSON.
//
// Once strictjson.Check has accepted data, the fast check runs over its
// bytes (scanValid), so a valid event is neither decoded into maps nor
// validated by the library: building the maps had become the larger part
// of the cost. It answers exactly what fastNode.valid answers on the
// decoded value (TestFast_differential and FuzzFastValidate compare the
// two with the library), and like it, a no hands the data to the usual
// decode and library validation.

// scanner reads one JSON document that strictjson.Check accepted, so it
// checks no syntax: every byte is where the grammar puts it.
type scanner struct {
	s string // the document: keys and strings without escapes are its substrings
	i int
	// id is the top-level object's "id" member when it is a string.
	id    string
	depth int
	bad   bool // a string that encoding/json could not read
}

// scanValid reports whether data, a JSON object strictjson.Check accepted,
// is certainly valid against n, and returns its "id" member if it is a
// string.
func (n *fastNode) scanValid(data []byte) (ok bool, id string) {
	if n.ref != nil {
		return false, "" // scanTree would not see the id
	}
	sc := scanner{s: string(data)}
	sc.space()
	if !n.scan(&sc) || sc.bad {
		return false, ""
	}
	return true, sc.id
}

func (sc *scanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// scan checks the value at sc.i against n and moves past it. After false,
// sc is left anywhere: the caller gives up.
func (n *fastNode) scan(sc *scanner) bool {
	if n == nil {
		sc.skip()
		return true
	}
	if n.never {
		return false
	}
	if n.ref != nil {
		// Two schemas over one value: read it into a tree, as the
		// catalog never does now that inlineRefs merges its $refs.
		return n.scanTree(sc)
	}
	switch c := sc.s[sc.i]; {
	case c == '{':
		if !n.allows(typeObject) || n.hasEnum {
			return false
		}
		return n.scanObject(sc)
	case c == '[':
		if !n.allows(typeArray) || n.hasEnum {
			return false
		}
		return n.scanArray(sc)
	case c == '"':
		if !n.allows(typeString) {
			return false
		}
		s := sc.str()
		if n.hasEnum {
			if _, ok := n.enumString[s]; !ok {
				return false
			}
		}
		return n.string(s)
	case c == 't' || c == 'f':
		if !n.allows(typeBoolean) {
			return false
		}
		b := c == 't'
		sc.skipLiteral()
		if n.hasEnum {
			i := 0
			if b {
				i = 1
			}
			return n.enumBool[i]
		}
		return true
	case c == 'n':
		if !n.allows(typeNull) {
			return false
		}
		sc.skipLiteral()
		return !n.hasEnum || n.enumNull
	default:
		if n.hasEnum {
			return false
		}
		return n.number(json.Number(sc.number()))
	}
}

func (n *fastNode) allows(t jsonTypes) bool {
	return n.types == 0 || n.types&t != 0
}

// scanTree decodes the value at sc.i and checks it with valid.
func (n *fastNode) scanTree(sc *scanner) bool {
	start := sc.i
	sc.skip()
	var v any
	d := json.NewDecoder(strings.NewReader(sc.s[start:sc.i]))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return false
	}
	return n.valid(v)
}

func (n *fastNode) scanObject(sc *scanner) bool {
	sc.depth++
	top := sc.depth == 1
	sc.i++ // {
	var members int
	var found uint64 // bit k: required[k] is present
	if len(n.required) > 64 {
		return false
	}
	sc.space()
	if sc.s[sc.i] == '}' {
		sc.i++
	} else {
		for {
			sc.space()
			key := sc.str()
			members++
			for k, r := range n.required {
				if r == key {
					found |= 1 << k
				}
			}
			sc.space()
			sc.i++ // :
			sc.space()
			if top && key == "id" && sc.s[sc.i] == '"' {
				start := sc.i
				sc.id = sc.str()
				sc.i = start
			}
			if !n.props[key].scan(sc) {
				return false
			}
			sc.space()
			c := sc.s[sc.i]
			sc.i++ // , or }
			if c == '}' {
				break
			}
		}
	}
	sc.depth--
	if n.minProps >= 0 && members < n.minProps {
		return false
	}
	if n.maxProps >= 0 && members > n.maxProps {
		return false
	}
	return found == 1<<len(n.required)-1
}

func (n *fastNode) scanArray(sc *scanner) bool {
	sc.depth++
	sc.i++ // [
	items := 0
	sc.space()
	if sc.s[sc.i] == ']' {
		sc.i++
	} else {
		for {
			sc.space()
			items++
			if !n.items.scan(sc) {
				return false
			}
			sc.space()
			c := sc.s[sc.i]
			sc.i++ // , or ]
			if c == ']' {
				break
			}
		}
	}
	sc.depth--
	if n.minItems >= 0 && items < n.minItems {
		return false
	}
	return n.maxItems < 0 || items <= n.maxItems
}

// str reads a string (at its opening quote) and returns its value.
func (sc *scanner) str() string {
	start := sc.i
	sc.i++
	// Most strings are short and have no escape: their end is the next
	// quote. (A plain loop beats strings.IndexByte's call on them.)
	for j := sc.i; ; j++ {
		if c := sc.s[j]; c == '"' {
			sc.i = j + 1
			return sc.s[start+1 : j]
		} else if c == '\\' {
			break
		}
	}
	for {
		switch sc.s[sc.i] {
		case '"':
			sc.i++
			// Escapes are rare; encoding/json reads them as strictjson
			// does for the JSON strictjson accepts (strictjson's
			// FuzzDecode holds the two together).
			var s string
			if err := json.Unmarshal([]byte(sc.s[start:sc.i]), &s); err != nil {
				sc.bad = true // cannot be; if it were, the slow path decides
			}
			return s
		case '\\':
			sc.i += 2 // the escape's letter; the rest of \uXXXX are plain bytes
		default:
			sc.i++
		}
	}
}

// number reads a number token and returns it as it is written.
func (sc *scanner) number() string {
	start := sc.i
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			sc.i++
			continue
		}
		break
	}
	return sc.s[start:sc.i]
}

func (sc *scanner) skipLiteral() {
	for sc.i < len(sc.s) && sc.s[sc.i] >= 'a' && sc.s[sc.i] <= 'z' {
		sc.i++
	}
}

// skip moves past the value at sc.i.
func (sc *scanner) skip() {
	switch sc.s[sc.i] {
	case '"':
		sc.skipString()
	case '{', '[':
		// Count brackets, stepping over strings whole.
		level := 0
		for {
			switch sc.s[sc.i] {
			case '"':
				sc.skipString()
				continue
			case '{', '[':
				level++
			case '}', ']':
				level--
			}
			sc.i++
			if level == 0 {
				return
			}
		}
	case 't', 'f', 'n':
		sc.skipLiteral()
	default:
		sc.number()
	}
}

func (sc *scanner) skipString() {
	sc.i++
	for {
		j := strings.IndexAny(sc.s[sc.i:], `"\\`)
		sc.i += j
		if sc.s[sc.i] == '"' {
			sc.i++
			return
		}
		sc.i += 2 // \ and the escape's letter
	}
}
