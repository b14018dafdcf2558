package catalog

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/strictjson"
)

// The limits of an event's data, checked with the JSON rules below before
// its schema, in the one pass that decodes it. They keep one event from
// costing the store (SQLite's JSON functions stop at a depth of 1,000) or a
// receiver more than any recruiting record needs.
const (
	// MaxDataDepth is the deepest nesting of objects and arrays in data;
	// data itself counts 1.
	MaxDataDepth = 32
	// MaxDataString is the most bytes of one string in data, as sent.
	MaxDataString = 64 << 10
	// MaxDataKeys is the most object members in data, counted over every
	// object in it.
	MaxDataKeys = 10000
	// MaxDataBytes is the most bytes of data.
	MaxDataBytes = 256 << 10
)

// dataLimits holds data to the limits and to JSON that every parser reads
// alike: valid UTF-8, no lone surrogates, no duplicate keys, numbers
// within float64; and no U+0000, which PostgreSQL cannot store.
var dataLimits = strictjson.Limits{MaxDepth: MaxDataDepth, MaxString: MaxDataString, MaxKeys: MaxDataKeys, MaxBytes: MaxDataBytes, NoNUL: true}

// CheckValue holds raw, a JSON value of an event outside its data (a
// change's "from" or "to"), to the rules and limits of data. The error is
// a *hirehook.Error naming field or the part of it at fault.
func CheckValue(field string, raw []byte) error {
	return valueError(field, strictjson.Check(raw, dataLimits))
}

// valueError turns a strictjson error of the value at field into a
// *hirehook.Error.
func valueError(field string, err error) error {
	if err == nil {
		return nil
	}
	var serr *strictjson.Error
	if errors.As(err, &serr) && !serr.Syntax {
		return hirehook.FieldError(serr.Field(field), "%s", serr.Message)
	}
	return hirehook.FieldError(field, "must be valid JSON")
}

// fieldError turns a failed validation of the decoded data v into the one
// *hirehook.Error a producer most needs to see.
//
// The validator returns a tree: inner nodes say that a $ref or a group of
// keywords failed, leaves name the keyword that did. The deepest leaf is the
// most specific. A missing property counts one level deeper than the object
// that lacks it, since the property itself is what the producer must fix. Ties
// are broken by the rendered path, because the validator walks properties in
// map order and the same data must always give the same error.
func fieldError(v any, verr *jsonschema.ValidationError) *hirehook.Error {
	var best *jsonschema.ValidationError
	var bestDepth int
	var bestField string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, cause := range e.Causes {
				walk(cause)
			}
			return
		}
		depth := len(e.InstanceLocation)
		if _, ok := e.ErrorKind.(*kind.Required); ok {
			depth++
		}
		if best != nil && depth < bestDepth {
			return
		}
		field := leafField(v, e)
		if best == nil || depth > bestDepth || field < bestField {
			best, bestDepth, bestField = e, depth, field
		}
	}
	walk(verr)
	return &hirehook.Error{Code: hirehook.EINVALID, Field: bestField, Message: message(best.ErrorKind)}
}

// leafField returns the dotted path of the property a leaf error is about.
func leafField(v any, e *jsonschema.ValidationError) string {
	var b strings.Builder
	b.WriteString("data")
	for _, tok := range e.InstanceLocation {
		switch x := v.(type) {
		case []any:
			// The token is an index; only the data tells it from a key
			// that happens to be a number.
			b.WriteString("[" + tok + "]")
			v = nil
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(x) {
				v = x[i]
			}
		case map[string]any:
			writeKey(&b, tok)
			v = x[tok]
		default:
			writeKey(&b, tok)
			v = nil
		}
	}
	if req, ok := e.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
		writeKey(&b, req.Missing[0])
	}
	return b.String()
}

// writeKey appends a property name to a dotted path, in brackets and quotes
// when it would be ambiguous as a plain segment.
func writeKey(b *strings.Builder, key string) {
	if key == "" || strings.ContainsAny(key, ".[]\" ") {
		b.WriteString("[" + strconv.Quote(key) + "]")
		return
	}
	b.WriteString("." + key)
}

// patternMessages explains the patterns the schemas use, so producers read
// what is wanted rather than a regular expression.
var patternMessages = map[string]string{
	"^[A-Z]{3}$": "must be a 3-letter ISO 4217 currency code in upper case, such as USD",
}

// message returns a short, user-safe description of what a leaf error wants.
// It never quotes the offending value: data may hold personal details.
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Required:
		return "is required"
	case *kind.Type:
		return "must be " + typeNames(k.Want)
	case *kind.Format:
		switch k.Want {
		case "email":
			return "must be a valid email address"
		case "date":
			return "must be a valid date in the form YYYY-MM-DD"
		case "date-time":
			return "must be a valid date-time in RFC 3339 form, such as 2026-05-01T09:00:00Z"
		}
		return "must be a valid " + k.Want
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			if w != nil {
				want = append(want, fmt.Sprint(w))
			}
		}
		return "must be one of: " + strings.Join(want, ", ")
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long", k.Want)
	case *kind.Pattern:
		if msg, ok := patternMessages[k.Want]; ok {
			return msg
		}
		return "must match the pattern " + k.Want
	case *kind.Minimum:
		return "must be at least " + ratString(k.Want)
	case *kind.Maximum:
		return "must be at most " + ratString(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be greater than " + ratString(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be less than " + ratString(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratString(k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.UniqueItems:
		return "must not contain duplicates"
	case *kind.MinProperties:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must have at least %d properties", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d properties", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.AdditionalProperties:
		return "must not have the properties " + strings.Join(k.Properties, ", ")
	}
	return "is not valid"
}

// typeNames renders JSON types for a message: "a string", "a number or a
// string". Null is left out when there is another choice: the schemas allow
// null on optional properties, and "a string or null" reads as noise.
func typeNames(want []string) string {
	var names []string
	for _, w := range want {
		if w == "null" && len(want) > 1 {
			continue
		}
		switch w {
		case "integer", "object", "array":
			names = append(names, "an "+w)
		case "null":
			names = append(names, "null")
		default:
			names = append(names, "a "+w)
		}
	}
	return strings.Join(names, " or ")
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
