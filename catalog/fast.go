package catalog

import (
	"encoding/json"
	"math/big"
	"reflect"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The fast path of validation.
//
// The JSON Schema library validates by building a validator, a scope and an
// error tree per value, which costs more than decoding the data. Almost
// every event is valid, and a valid event needs none of that: only a yes.
// So each compiled schema is also turned into a fastNode tree, which answers
// one question, "is v certainly valid?", without allocating. Yes ends the
// validation; no sends the data to the library, which gives the answer and
// builds its error exactly as before. The fast path can therefore only make
// a valid event cheaper: it never writes an error, and a wrong "no" costs
// time, not a different answer.
//
// A wrong "yes" would let invalid data in, so the tree is built from the
// library's own compiled schema (after $ref inlining, with $ref kept where
// inlining could not merge), and a schema that sets any field of
// jsonschema.Schema outside the subset below gets no tree at all: it keeps
// the library path only. The subset is what the catalog's schemas use
// (TestFast_catalogSupported holds them to it). Formats and patterns are
// checked by the library's own functions (Schema.Format.Validate,
// Schema.Pattern.MatchString), numbers exactly as the library compares them
// (as rationals), string lengths in runes as the library counts them.

// fastNode is one compiled schema's validity check.
type fastNode struct {
	never bool // the schema false

	types  jsonTypes // allowed types; 0: any
	anyNum bool      // types holds number, so an integer needs no check

	hasEnum    bool
	enumNull   bool
	enumBool   [2]bool // false, true
	enumString map[string]struct{}

	format  func(any) error   // the library's checker; nil: none
	quick   func(string) bool // format's quick check (format.go); nil: none
	pattern jsonschema.Regexp

	minLength, maxLength int // -1: none

	minimum, maximum, exclMinimum, exclMaximum *fastBound

	minProps, maxProps int // -1: none
	required           []string
	props              map[string]*fastNode

	items              *fastNode // every item (items, draft 2020-12)
	minItems, maxItems int       // -1: none

	ref *fastNode
}

// jsonTypes is a set of JSON types.
type jsonTypes uint8

const (
	typeNull jsonTypes = 1 << iota
	typeBoolean
	typeNumber
	typeInteger
	typeString
	typeArray
	typeObject
)

var typeByName = map[string]jsonTypes{
	"null": typeNull, "boolean": typeBoolean, "number": typeNumber, "integer": typeInteger,
	"string": typeString, "array": typeArray, "object": typeObject,
}

// fastFields lists the fields of jsonschema.Schema the fast path checks, or
// that do not bear on validity (annotations, identifiers). Any other field
// that is set on a schema means it has no fast path.
var fastFields = map[string]bool{
	// Identity and annotations: no effect on validity. (DraftVersion is
	// checked on its own.)
	"DraftVersion": true, "Location": true, "ID": true, "Anchor": true,
	"Title": true, "Description": true, "Default": true, "Comment": true,
	"ReadOnly": true, "WriteOnly": true, "Examples": true, "Deprecated": true,

	// Checked.
	"Bool": true, "Ref": true, "Types": true, "Enum": true, "Format": true,
	"MinProperties": true, "MaxProperties": true, "Required": true, "Properties": true,
	"MinItems": true, "MaxItems": true, "Items2020": true,
	"MinLength": true, "MaxLength": true, "Pattern": true,
	"Minimum": true, "Maximum": true, "ExclusiveMinimum": true, "ExclusiveMaximum": true,
}

// compileFast returns the fast check of sch, or nil when sch (or any schema
// it reaches) uses something the fast path does not check.
func compileFast(sch *jsonschema.Schema) *fastNode {
	fc := fastCompiler{nodes: make(map[*jsonschema.Schema]*fastNode), ok: true}
	n := fc.node(sch)
	if !fc.ok {
		return nil
	}
	// A chain of $refs that comes back to a schema would validate the same
	// value for ever here; the library reports it as an error. Leave such
	// a schema to the library.
	for _, n := range fc.nodes {
		seen := make(map[*fastNode]bool)
		for r := n; r != nil; r = r.ref {
			if seen[r] {
				return nil
			}
			seen[r] = true
		}
	}
	return n
}

type fastCompiler struct {
	nodes map[*jsonschema.Schema]*fastNode
	ok    bool // false once a schema has something the fast path lacks
}

func (fc *fastCompiler) node(sch *jsonschema.Schema) *fastNode {
	if n, ok := fc.nodes[sch]; ok {
		return n
	}
	n := &fastNode{minLength: -1, maxLength: -1, minProps: -1, maxProps: -1, minItems: -1, maxItems: -1}
	fc.nodes[sch] = n
	if !fastSupported(sch) {
		fc.ok = false
		return n
	}

	if sch.Bool != nil {
		n.never = !*sch.Bool
		return n
	}
	if sch.Types != nil {
		for _, name := range sch.Types.ToStrings() {
			t, ok := typeByName[name]
			if !ok {
				fc.ok = false
			}
			n.types |= t
		}
		n.anyNum = n.types&typeNumber != 0
	}
	if sch.Enum != nil {
		n.hasEnum = true
		n.enumString = make(map[string]struct{})
		for _, v := range sch.Enum.Values {
			switch v := v.(type) {
			case nil:
				n.enumNull = true
			case bool:
				if v {
					n.enumBool[1] = true
				} else {
					n.enumBool[0] = true
				}
			case string:
				n.enumString[v] = struct{}{}
			default:
				// Numbers, arrays and objects compare by the library's
				// rules of equality; not worth copying for now.
				fc.ok = false
			}
		}
	}
	if sch.Format != nil {
		if sch.Format.Validate == nil {
			fc.ok = false
		}
		n.format = sch.Format.Validate
		n.quick = quickFormat(sch.Format)
	}
	n.pattern = sch.Pattern
	n.minLength = intOr(sch.MinLength, -1)
	n.maxLength = intOr(sch.MaxLength, -1)
	n.minimum = newFastBound(sch.Minimum)
	n.maximum = newFastBound(sch.Maximum)
	n.exclMinimum = newFastBound(sch.ExclusiveMinimum)
	n.exclMaximum = newFastBound(sch.ExclusiveMaximum)
	n.minProps = intOr(sch.MinProperties, -1)
	n.maxProps = intOr(sch.MaxProperties, -1)
	n.required = sch.Required
	if len(sch.Properties) > 0 {
		n.props = make(map[string]*fastNode, len(sch.Properties))
		for name, p := range sch.Properties {
			n.props[name] = fc.node(p)
		}
	}
	n.minItems = intOr(sch.MinItems, -1)
	n.maxItems = intOr(sch.MaxItems, -1)
	if sch.Items2020 != nil {
		n.items = fc.node(sch.Items2020)
	}
	if sch.Ref != nil {
		n.ref = fc.node(sch.Ref)
	}
	return n
}

// fastSupported reports whether sch sets only fields that the fast path
// checks or that do not bear on validity. It reads the fields by reflection
// so that a field a later version of the library adds counts as
// unsupported until it is looked at.
func fastSupported(sch *jsonschema.Schema) bool {
	// Draft 2020-12 semantics: $ref is one more keyword beside its
	// siblings (before 2019-09 it replaced them), and items applies to
	// every item.
	if sch.DraftVersion < 2020 {
		return false
	}
	v := reflect.ValueOf(sch).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || fastFields[f.Name] {
			continue
		}
		if !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// valid reports whether v is certainly valid against the schema. False
// means invalid or not known here: the library must decide.
func (n *fastNode) valid(v any) bool {
	if n.never {
		return false
	}
	if n.ref != nil && !n.ref.valid(v) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		if n.types != 0 && n.types&typeObject == 0 {
			return false
		}
		if n.hasEnum {
			return false
		}
		return n.object(x)
	case string:
		if n.types != 0 && n.types&typeString == 0 {
			return false
		}
		if n.hasEnum {
			if _, ok := n.enumString[x]; !ok {
				return false
			}
		}
		return n.string(x)
	case json.Number:
		if n.hasEnum {
			return false
		}
		return n.number(x)
	case nil:
		if n.types != 0 && n.types&typeNull == 0 {
			return false
		}
		return !n.hasEnum || n.enumNull
	case bool:
		if n.types != 0 && n.types&typeBoolean == 0 {
			return false
		}
		if n.hasEnum {
			i := 0
			if x {
				i = 1
			}
			return n.enumBool[i]
		}
		return true
	case []any:
		if n.types != 0 && n.types&typeArray == 0 {
			return false
		}
		if n.hasEnum {
			return false
		}
		return n.array(x)
	}
	// Not a value strictjson.Decode makes (a float64, say): the library
	// decides.
	return false
}

func (n *fastNode) object(obj map[string]any) bool {
	if n.minProps >= 0 && len(obj) < n.minProps {
		return false
	}
	if n.maxProps >= 0 && len(obj) > n.maxProps {
		return false
	}
	for _, name := range n.required {
		if _, ok := obj[name]; !ok {
			return false
		}
	}
	if n.props == nil {
		return true
	}
	// Walk the smaller of the two maps.
	if len(obj) <= len(n.props) {
		for name, pv := range obj {
			if p, ok := n.props[name]; ok && !p.valid(pv) {
				return false
			}
		}
		return true
	}
	for name, p := range n.props {
		if pv, ok := obj[name]; ok && !p.valid(pv) {
			return false
		}
	}
	return true
}

func (n *fastNode) string(s string) bool {
	if n.minLength >= 0 || n.maxLength >= 0 {
		// Runes, as the library counts; a string's byte length bounds it
		// from above, which settles most maxLength checks at once.
		if n.minLength > 0 || len(s) > n.maxLength {
			runes := utf8.RuneCountInString(s)
			if runes < n.minLength || (n.maxLength >= 0 && runes > n.maxLength) {
				return false
			}
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		return false
	}
	if n.format != nil && (n.quick == nil || !n.quick(s)) && n.format(s) != nil {
		return false
	}
	return true
}

func (n *fastNode) number(x json.Number) bool {
	if n.types != 0 && !n.anyNum {
		if n.types&typeInteger == 0 {
			return false
		}
		isInt, ok := decimalIsInt(string(x))
		if !ok || !isInt {
			return false
		}
	}
	if n.minimum != nil {
		c, ok := n.minimum.cmp(string(x))
		if !ok || c < 0 {
			return false
		}
	}
	if n.maximum != nil {
		c, ok := n.maximum.cmp(string(x))
		if !ok || c > 0 {
			return false
		}
	}
	if n.exclMinimum != nil {
		c, ok := n.exclMinimum.cmp(string(x))
		if !ok || c <= 0 {
			return false
		}
	}
	if n.exclMaximum != nil {
		c, ok := n.exclMaximum.cmp(string(x))
		if !ok || c >= 0 {
			return false
		}
	}
	return true
}

func (n *fastNode) array(arr []any) bool {
	if n.minItems >= 0 && len(arr) < n.minItems {
		return false
	}
	if n.maxItems >= 0 && len(arr) > n.maxItems {
		return false
	}
	if n.items != nil {
		for _, item := range arr {
			if !n.items.valid(item) {
				return false
			}
		}
	}
	return true
}

// fastBound is a numeric bound of a schema (minimum, maximum, ...).
type fastBound struct {
	rat   *big.Rat
	isInt bool  // rat is an integer that fits in an int64
	i     int64 // rat, when isInt
}

func newFastBound(r *big.Rat) *fastBound {
	if r == nil {
		return nil
	}
	b := &fastBound{rat: r}
	// Keep the integer well inside int64, so that the decimal comparison
	// below never overflows.
	if r.IsInt() && r.Num().IsInt64() {
		if i := r.Num().Int64(); i > -1e17 && i < 1e17 {
			b.isInt, b.i = true, i
		}
	}
	return b
}

// cmp compares the JSON number num with b exactly, as the library does
// (both as rationals): -1 if num < b, 0 if equal, +1 if num > b. ok is
// false if num is not a number the library can read.
func (b *fastBound) cmp(num string) (c int, ok bool) {
	if b.isInt {
		if d, ok := parseDecimal(num); ok {
			return d.cmpInt(b.i), true
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, false
	}
	return r.Cmp(b.rat), true
}

// decimal is a JSON number without an exponent and with at most 17 digits
// before its point: -(whole + frac) if neg, else whole + frac, 0 <= frac < 1.
type decimal struct {
	neg         bool
	whole       int64
	fracNonZero bool
}

// parseDecimal reads s as a decimal; ok is false if it has an exponent, too
// many digits before the point or is not a number.
func parseDecimal(s string) (d decimal, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d.whole = d.whole*10 + int64(s[i]-'0')
		if i-start >= 17 {
			return decimal{}, false
		}
	}
	if i == start {
		return decimal{}, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fstart := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if s[i] != '0' {
				d.fracNonZero = true
			}
		}
		if i == fstart {
			return decimal{}, false
		}
	}
	if i != len(s) {
		return decimal{}, false // an exponent, or not a number
	}
	return d, true
}

// cmpInt compares d with the integer b.
func (d decimal) cmpInt(b int64) int {
	if !d.neg {
		switch {
		case d.whole < b:
			return -1
		case d.whole > b:
			return 1
		case d.fracNonZero:
			return 1
		}
		return 0
	}
	n := -d.whole
	if !d.fracNonZero {
		switch {
		case n < b:
			return -1
		case n > b:
			return 1
		}
		return 0
	}
	// n-1 < d < n, and b is an integer, so b <= n-1 or b >= n.
	if n <= b {
		return -1
	}
	return 1
}

// decimalIsInt reports whether the JSON number s is an integer, as the
// library decides it: exactly, as a rational ("1.0" and "1e2" are).
func decimalIsInt(s string) (isInt, ok bool) {
	if d, ok := parseDecimal(s); ok {
		return !d.fracNonZero, true
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return false, false
	}
	return r.IsInt(), true
}
