package route

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itchyny/gojq"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// Payload modes of Spec.Payload.
const (
	PayloadFull = "full" // the whole event envelope (the default)
	PayloadThin = "thin" // type, ids, timestamp and a link to the record
)

// RedactPersonalData is the Spec.Redact preset that removes the catalog's
// personal fields of the event's entity (see catalog.PersonalPaths).
const RedactPersonalData = "personal_data"

// Defaults and bounds of a route.
const (
	// DefaultMaxSteps bounds the gojq instructions that one event's
	// evaluation (filter and transform together) may run. A real filter
	// or transform runs tens to thousands; a million takes some 10 to
	// 200 ms and, for the worst runaway recursion (`def f: 1 + f; f`),
	// about 70 MB. Unlike a time limit it gives the same answer whatever
	// the load of the machine, so running out of steps can fail a delivery
	// for good.
	DefaultMaxSteps = 1_000_000
	// DefaultTimeout bounds the wall-clock time of one event's evaluation:
	// the backstop for builtins that run long in one step (sort of a huge
	// array) and for a starved machine. Running out of time is not held
	// against the route: Apply returns ErrTimeout and the delivery is
	// retried.
	DefaultTimeout = time.Second
	// DefaultMaxOutput bounds the size of a transform's output, in bytes.
	DefaultMaxOutput = 1 << 20
	// MaxExpressionLen bounds the length of Spec.Filter and Spec.Transform.
	MaxExpressionLen = 64 << 10
	// MaxRedactPaths bounds the number of entries of Spec.Redact.
	MaxRedactPaths = 100
)

// Spec is a route as an endpoint's owner writes it. The zero Spec delivers
// every event unchanged.
type Spec struct {
	// Filter is a jq expression evaluated on the (redacted) envelope; the
	// event is delivered only when it yields exactly one value, true.
	Filter string `json:"filter,omitempty"`
	// Transform is a jq expression whose single output becomes the body.
	Transform string `json:"transform,omitempty"`
	// Payload is PayloadFull ("" means full) or PayloadThin.
	Payload string `json:"payload,omitempty"`
	// Redact lists paths of object keys to remove from the envelope
	// (".data.candidate.email", `.data["pay_rate"]`) and presets
	// (RedactPersonalData).
	Redact []string `json:"redact,omitempty"`
}

// Options are the operator's settings for compiled routes. Zero fields take
// their defaults.
type Options struct {
	// MaxSteps bounds the jq instructions run for one event
	// (DefaultMaxSteps).
	MaxSteps int64
	// Timeout bounds the wall-clock time of one event's evaluation
	// (DefaultTimeout).
	Timeout time.Duration
	// MaxOutput bounds the encoded output of a transform in bytes
	// (DefaultMaxOutput).
	MaxOutput int
	// RecordBaseURL prefixes the record link of thin bodies, e.g.
	// "https://hub.example.com". Empty leaves the link a path on the hub:
	// "/v1/records/candidate/cand_123".
	RecordBaseURL string
	// Catalog says which fields are personal (catalog.Default()).
	Catalog *catalog.Catalog
}

// Route is a compiled Spec. It is immutable and safe for concurrent use.
type Route struct {
	spec      Spec
	opts      Options
	filter    *gojq.Code
	transform *gojq.Code
	thin      bool
	private   bool // an expression may write to its input; see mayWriteInput
	// redact is what to remove from events of each entity; redactOther
	// from events of an entity the catalog does not know. Both are nil
	// when nothing is redacted.
	redact      map[string]*trie
	redactOther *trie
}

// Result is the outcome of applying a route to one event.
type Result struct {
	// Deliver reports whether the endpoint gets the event, with Body.
	Deliver bool
	// Body is the webhook body to sign and send when Deliver is set. It may
	// be the envelope passed to Apply itself, unchanged.
	Body []byte
	// Reason says, when Deliver is not set, why: the filter did not select
	// the event ("filter yielded false"), or the route could not be applied.
	// It may quote a short preview of a value the expression saw, which is
	// already redacted.
	Reason string
	// Failed reports a configuration error: the filter selected the event
	// but the transform failed, yielded no value or too much, or ran out of
	// steps. Retrying cannot help, so the delivery should fail at once with
	// Reason in its attempt log, to be replayed once the route is fixed.
	// A filter that errors, or yields anything but true, is not a failure:
	// the event is simply not delivered (fail closed).
	Failed bool
}

// Compile checks and compiles spec with the default Options.
func Compile(spec Spec) (*Route, error) {
	return CompileOptions(spec, Options{})
}

// CompileOptions checks and compiles spec. The jq expressions are parsed and
// compiled here, once; Apply only runs them. Errors are *hirehook.Error with
// code EINVALID whose Field names the spec field ("filter", "transform",
// "payload", "redact[2]"); for a jq syntax error the message gives the
// byte offset of the bad token and its line and column, all counted from
// the start of the expression ("syntax error at offset 17 (line 1, column
// 18): unexpected token \"and\"").
func CompileOptions(spec Spec, opts Options) (*Route, error) {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.Catalog == nil {
		opts.Catalog = catalog.Default()
	}
	opts.RecordBaseURL = strings.TrimSuffix(opts.RecordBaseURL, "/")
	r := &Route{spec: spec, opts: opts}

	var err error
	var writesF, writesT bool
	if r.filter, writesF, err = compileJQ("filter", spec.Filter); err != nil {
		return nil, err
	}
	if r.transform, writesT, err = compileJQ("transform", spec.Transform); err != nil {
		return nil, err
	}
	r.private = writesF || writesT

	switch spec.Payload {
	case "", PayloadFull:
	case PayloadThin:
		r.thin = true
	default:
		return nil, hirehook.FieldError("payload", "must be %q or %q", PayloadFull, PayloadThin)
	}

	if len(spec.Redact) > MaxRedactPaths {
		return nil, hirehook.FieldError("redact", "must have at most %d entries", MaxRedactPaths)
	}
	var paths [][]string
	personal := false
	for i, s := range spec.Redact {
		if s == RedactPersonalData {
			personal = true
			continue
		}
		p, err := parsePath(s)
		if err != nil {
			return nil, hirehook.FieldError(fmt.Sprintf("redact[%d]", i), "%s", err.Error())
		}
		paths = append(paths, p)
	}
	if len(paths) > 0 || personal {
		// One trie per entity, of the explicit paths plus, with the
		// preset, the entity's personal paths under "data".
		r.redact = make(map[string]*trie)
		r.redactOther = newTrie(paths)
		for _, entity := range opts.Catalog.Entities() {
			all := slices.Clone(paths)
			if personal {
				for _, p := range opts.Catalog.PersonalPaths(entity) {
					all = append(all, append([]string{"data"}, p...))
				}
			}
			r.redact[entity] = newTrie(all)
		}
	}
	return r, nil
}

// compileJQ parses and compiles a jq expression; "" (or blanks) is no
// expression and returns nil. writes reports whether the expression may
// write to its input (see mayWriteInput).
func compileJQ(field, src string) (code *gojq.Code, writes bool, err error) {
	if strings.TrimSpace(src) == "" {
		return nil, false, nil
	} else if len(src) > MaxExpressionLen {
		return nil, false, hirehook.FieldError(field, "must be at most %d bytes", MaxExpressionLen)
	}
	q, err := gojq.Parse(src)
	if err != nil {
		var perr *gojq.ParseError
		if errors.As(err, &perr) {
			// gojq's Offset is where it stopped reading, just after the
			// bad token; point at the token's start, which is what a user
			// (or an editor underlining it) wants.
			off := max(perr.Offset-len(perr.Token), 0)
			line, col := position(src, off)
			return nil, false, hirehook.FieldError(field, "syntax error at offset %d (line %d, column %d): %s", off, line, col, perr.Error())
		}
		return nil, false, hirehook.FieldError(field, "syntax error: %s", err.Error())
	}
	// No environment (so $ENV and env cannot read the hub's secrets), no
	// modules, no input: an expression sees the event and nothing else.
	code, err = gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, false, hirehook.FieldError(field, "%s", err.Error())
	}
	return code, mayWriteInput(q), nil
}

// mayWriteInput reports whether running q may write to the maps and slices
// of its input. gojq copies what it updates, except in delpaths: after
// deleting it walks the whole result and stores every member back
// (deleteEmpty in gojq v0.12.20), shared parts included. The values stay the
// same, but two goroutines doing so on one shared Envelope is a data race,
// which the Go runtime may answer with a fatal "concurrent map writes".
// delpaths is reached through del, delpaths and the update-assignments
// (|=, +=, ...); this over-approximates them from the expression's text: any
// "del", "modify" or an "=" that is not part of ==, !=, <= or >=. A false
// positive only costs a copy of the envelope.
func mayWriteInput(q *gojq.Query) bool {
	s := q.String()
	if strings.Contains(s, "del") || strings.Contains(s, "modify") {
		return true
	}
	s = strings.NewReplacer("==", "", "!=", "", "<=", "", ">=", "").Replace(s)
	return strings.Contains(s, "=")
}

// position returns the 1-based line and column of byte offset off in src.
func position(src string, off int) (line, col int) {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// Spec returns the spec the route was compiled from.
func (r *Route) Spec() Spec {
	s := r.spec
	s.Redact = append([]string(nil), s.Redact...)
	return s
}

// passThrough reports whether the route leaves every event as it is.
func (r *Route) passThrough() bool {
	return r.filter == nil && r.transform == nil && !r.thin && r.redact == nil
}

// Envelope is an event envelope decoded once, so that the routes of all the
// endpoints of an event share one decoding (the bulk of a route's cost). It
// is immutable and safe for concurrent use.
type Envelope struct {
	raw []byte
	v   map[string]any
}

// ParseEnvelope decodes envelope, the webhook body the hub renders at ingest
// (hirehook.WebhookPayload). It fails when envelope is not one JSON object.
func ParseEnvelope(envelope []byte) (*Envelope, error) {
	v, err := decodeEnvelope(envelope)
	if err != nil {
		return nil, fmt.Errorf("route: decode envelope: %w", err)
	}
	return &Envelope{raw: envelope, v: v}, nil
}

// Apply runs the route on one event envelope, the webhook body the hub
// renders at ingest (hirehook.WebhookPayload), in the order redact → filter
// → thin → transform; see the package documentation. A route that changes
// nothing does not decode the envelope.
//
// The evaluation is bounded by Options.MaxSteps: running out of steps is a
// Result (not delivered; Failed for the transform). Apply returns an error
// when the delivery should be retried later: ctx ended (the caller is
// shutting down) or the evaluation ran out of wall-clock time (ErrTimeout:
// the machine may be overloaded). It also returns an error when envelope is
// not a JSON object, a bug in the caller.
func (r *Route) Apply(ctx context.Context, envelope []byte) (Result, error) {
	if r.passThrough() {
		return Result{Deliver: true, Body: envelope}, nil
	}
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return Result{}, err
	}
	return r.ApplyEnvelope(ctx, e)
}

// ApplyEnvelope is Apply on an envelope already decoded, for fanning one
// event out to many endpoints. It does not modify e.
func (r *Route) ApplyEnvelope(ctx context.Context, e *Envelope) (Result, error) {
	if r.passThrough() {
		return Result{Deliver: true, Body: e.raw}, nil
	}
	env, changed := r.redactEnvelope(e.v)
	if r.private {
		env = deepCopy(env).(map[string]any)
	}

	parent := ctx
	if r.filter != nil || r.transform != nil {
		timed, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
		ctx = &budget{Context: timed, left: r.opts.MaxSteps}
	}

	if r.filter != nil {
		ok, reason, err := r.runFilter(ctx, parent, env)
		if err != nil {
			return Result{}, err
		} else if !ok {
			return Result{Reason: reason}, nil
		}
	}

	var out any = env
	if r.thin {
		out = r.thinBody(env)
		changed = true
	}
	if r.transform == nil && !changed {
		return Result{Deliver: true, Body: e.raw}, nil
	}
	limit := 0 // a redacted or thin envelope is never larger than the envelope
	if r.transform != nil {
		v, reason, err := r.runTransform(ctx, parent, out)
		if err != nil {
			return Result{}, err
		} else if reason != "" {
			return Result{Reason: reason, Failed: true}, nil
		}
		out, limit = v, r.opts.MaxOutput
	}
	body, err := encode(out, limit)
	if errors.Is(err, errTooLarge) {
		return Result{Reason: fmt.Sprintf("transform: output is over %d bytes", limit), Failed: true}, nil
	} else if err != nil {
		return Result{Reason: "transform: " + err.Error(), Failed: true}, nil
	}
	return Result{Deliver: true, Body: body}, nil
}

// runFilter evaluates the filter. It returns ok when it yields exactly one
// value, true; otherwise a reason. err is set only when parent has ended.
func (r *Route) runFilter(ctx, parent context.Context, env map[string]any) (ok bool, reason string, err error) {
	iter := r.filter.RunWithContext(ctx, env)
	v, more := iter.Next()
	if !more {
		return false, "filter yielded no value", nil
	}
	if e, isErr := v.(error); isErr {
		reason, err := r.evalError("filter", e, parent)
		return false, reason, err
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fmt.Sprintf("filter yielded %s, not a boolean", preview(v)), nil
	} else if !b {
		return false, "filter yielded false", nil
	}
	if v, more := iter.Next(); more {
		if e, isErr := v.(error); isErr {
			reason, err := r.evalError("filter", e, parent)
			return false, reason, err
		}
		return false, "filter yielded more than one value", nil
	}
	return true, "", nil
}

// runTransform evaluates the transform on in and returns its one output, or
// a reason why there is none. err is set only when parent has ended.
func (r *Route) runTransform(ctx, parent context.Context, in any) (out any, reason string, err error) {
	iter := r.transform.RunWithContext(ctx, in)
	v, more := iter.Next()
	if !more {
		return nil, "transform yielded no value", nil
	}
	if e, isErr := v.(error); isErr {
		reason, err := r.evalError("transform", e, parent)
		return nil, reason, err
	}
	if w, more := iter.Next(); more {
		if e, isErr := w.(error); isErr {
			reason, err := r.evalError("transform", e, parent)
			return nil, reason, err
		}
		return nil, "transform yielded more than one value; wrap it in [ ] to send an array", nil
	}
	return v, "", nil
}

// ErrTimeout is returned (wrapped) by Apply when evaluating one event took
// longer than Options.Timeout but stayed within Options.MaxSteps: a slow
// builtin or a starved machine, not a route that never ends. Retry later.
var ErrTimeout = errors.New("route evaluation timed out")

// errStepLimit is the error of a budget that ran out of steps.
var errStepLimit = errors.New("step limit reached")

// budget is the context that evaluations run under: ctx's deadline plus a
// budget of steps. gojq checks its context's Done at every instruction
// (execute.go, env.Next, in v0.12.20), so counting the calls counts the
// instructions. A budget serves one evaluation on one goroutine.
type budget struct {
	context.Context
	left int64
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done spends one step and returns a closed channel once the steps are
// spent.
func (b *budget) Done() <-chan struct{} {
	b.left--
	if b.left < 0 {
		return closedChan
	}
	return b.Context.Done()
}

// Err returns errStepLimit once the steps are spent.
func (b *budget) Err() error {
	if b.left < 0 {
		return errStepLimit
	}
	return b.Context.Err()
}

// evalError turns an evaluation error into a reason, or into an error when
// the caller should retry: parent ended (shutdown) or time ran out.
func (r *Route) evalError(stage string, e error, parent context.Context) (string, error) {
	if parent.Err() != nil {
		return "", fmt.Errorf("route: %s: %w", stage, parent.Err())
	} else if errors.Is(e, context.DeadlineExceeded) {
		return "", fmt.Errorf("route: %s: %w after %s", stage, ErrTimeout, r.opts.Timeout)
	} else if errors.Is(e, errStepLimit) {
		return fmt.Sprintf("%s: evaluation took more than %d steps", stage, r.opts.MaxSteps), nil
	}
	msg := e.Error()
	var halt *gojq.HaltError
	if errors.As(e, &halt) {
		msg = "halted: " + msg
	} else if ve, ok := e.(interface{ Value() any }); ok {
		// error("no client code"): the expression's own message, as is.
		if s, ok := ve.Value().(string); ok {
			msg = s
		}
	}
	return stage + " error: " + hirehook.Truncate(msg, 300), nil
}

// thinBody returns the thin body of env: its id, type, timestamp, source
// (if any), subject and the link to the subject's record.
func (r *Route) thinBody(env map[string]any) map[string]any {
	out := make(map[string]any, 6)
	for _, k := range []string{"id", "type", "timestamp", "source", "subject"} {
		if v, ok := env[k]; ok {
			out[k] = v
		}
	}
	if subj, ok := env["subject"].(map[string]any); ok {
		entity, _ := subj["entity"].(string)
		id, _ := subj["id"].(string)
		if entity != "" && id != "" {
			out["record_url"] = r.opts.RecordBaseURL + "/v1/records/" + url.PathEscape(entity) + "/" + url.PathEscape(id)
		}
	}
	return out
}

// decodeEnvelope decodes a JSON object keeping numbers as json.Number, which
// gojq computes with and encodes back as they were written.
func decodeEnvelope(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		return nil, err
	} else if env == nil {
		return nil, errors.New("not a JSON object")
	} else if dec.More() {
		return nil, errors.New("trailing data after the object")
	}
	return env, nil
}

// deepCopy returns a copy of the objects and arrays of v, a decoded JSON
// value; strings and numbers are immutable and shared.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// preview describes v for a reason: its jq type and a short rendering.
func preview(v any) string {
	var typ string
	switch v.(type) {
	case nil:
		return "null"
	case string:
		typ = "string"
	case int, float64, *big.Int, json.Number:
		typ = "number"
	case []any:
		typ = "array"
	case map[string]any:
		typ = "object"
	default:
		typ = fmt.Sprintf("%T", v)
	}
	b, err := encode(v, 64)
	if err != nil {
		return "a " + typ
	}
	return fmt.Sprintf("a %s (%s)", typ, b)
}
