package api

import (
	"github.com/hirehook/hirehook"
)

// decodeValid reads b, a body that strictjson.Check has passed whole
// (valid JSON, valid UTF-8, no duplicate keys), into in as decodeChecked
// would, in one pass over the bytes: encoding/json scans a body once to
// find its end, then again to decode it, and a third time over data to
// keep it raw, which was most of the cost of decoding an event. It reads
// only the members a producer sends in the forms it usually sends them
// (exact lower-case names, strings without escapes, no nulls); on anything
// else it returns false with in unchanged, and decodeChecked reads the
// body, with its own rules and error messages.
func (in *eventInput) decodeValid(b []byte) bool {
	var out eventInput
	i := space(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i, ok := members(b, i, func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "id":
			s, j, ok := plainString(b, i)
			out.ID = &s
			return j, ok
		case "type":
			return stringInto(b, i, &out.Type)
		case "occurred_at":
			return stringInto(b, i, &out.OccurredAt)
		case "source":
			return stringInto(b, i, &out.Source)
		case "subject":
			sub := &hirehook.SubjectInput{}
			out.Subject = sub
			return members(b, i, func(key []byte, i int) (int, bool) {
				switch string(key) {
				case "entity":
					return stringInto(b, i, &sub.Entity)
				case "id":
					return stringInto(b, i, &sub.ID)
				}
				return i, false
			})
		case "data":
			j, ok := rawValue(b, i)
			// A slice of the body, which decode reads into a buffer of
			// this request's own.
			out.Data = b[i:j]
			return j, ok
		case "changes":
			out.Changes = map[string]hirehook.Change{}
			return members(b, i, func(field []byte, i int) (int, bool) {
				var c hirehook.Change
				j, ok := members(b, i, func(key []byte, i int) (int, bool) {
					j, ok := rawValue(b, i)
					switch string(key) {
					case "from":
						c.From = b[i:j]
					case "to":
						c.To = b[i:j]
					default:
						ok = false
					}
					return j, ok
				})
				out.Changes[string(field)] = c
				return j, ok
			})
		case "derived":
			return boolInto(b, i, &out.Derived)
		case "partial":
			return boolInto(b, i, &out.Partial)
		}
		return i, false
	})
	if !ok || space(b, i) != len(b) {
		return false
	}
	*in = out
	return true
}

// The readers below take valid JSON (decodeValid's precondition) and i at
// the start of a value; each returns the index after what it read, and
// false for what decodeValid leaves to encoding/json.

// members reads an object, calling member for each member's value with its
// name (unescaped names only).
func members(b []byte, i int, member func(key []byte, i int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = space(b, i+1)
	if b[i] == '}' {
		return i + 1, true
	}
	for {
		start := i + 1
		end, ok := stringEnd(b, i)
		if !ok {
			return i, false
		}
		i = space(b, end) // at ':'
		i = space(b, i+1) // at the value
		if i, ok = member(b[start:end-1], i); !ok {
			return i, false
		}
		i = space(b, i)
		if b[i] == '}' {
			return i + 1, true
		}
		i = space(b, i+1) // past ','
	}
}

// stringEnd returns the index after the string at i, false if it is not a
// string or holds an escape.
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j + 1, true
		case '\\':
			return j, false
		}
	}
	return i, false
}

// plainString reads a string without escapes.
func plainString(b []byte, i int) (string, int, bool) {
	end, ok := stringEnd(b, i)
	if !ok {
		return "", i, false
	}
	return string(b[i+1 : end-1]), end, true
}

func stringInto(b []byte, i int, dst *string) (int, bool) {
	s, j, ok := plainString(b, i)
	*dst = s
	return j, ok
}

func boolInto(b []byte, i int, dst *bool) (int, bool) {
	switch {
	case len(b)-i >= 4 && string(b[i:i+4]) == "true":
		*dst = true
		return i + 4, true
	case len(b)-i >= 5 && string(b[i:i+5]) == "false":
		*dst = false
		return i + 5, true
	}
	return i, false
}

// rawValue returns the end of the value at i, which is not null.
func rawValue(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] == 'n' {
		return i, false
	}
	depth, inString := 0, false
	for j := i; j < len(b); j++ {
		c := b[j]
		switch {
		case inString:
			switch c {
			case '\\':
				j++
			case '"':
				inString = false
				if depth == 0 {
					return j + 1, true
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j, true // the end of a scalar before the closing bracket
			}
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j, true // the end of a scalar
		}
	}
	return len(b), depth == 0 && !inString
}

func space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
