package route

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Match runs the route's redaction and filter on e and reports whether the
// event passes: what ApplyEnvelope decides, without making the body. A
// route without a filter passes every event. reason says why an event does
// not pass. err is set, to retry later, when ctx ends or the evaluation
// ran out of wall-clock time (ErrTimeout).
func (r *Route) Match(ctx context.Context, e *Envelope) (ok bool, reason string, err error) {
	if r.filter == nil {
		return true, "", nil
	}
	env, _ := r.redactEnvelope(e.v)
	if r.private {
		env = deepCopy(env).(map[string]any)
	}
	timed, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	return r.runFilter(&budget{Context: timed, left: r.opts.MaxSteps}, ctx, env)
}

// Cache keeps compiled routes by key (an endpoint id), so that a route is
// compiled once and not per event: Get recompiles only when the spec under
// a key changed. It is safe for concurrent use.
type Cache struct {
	opts Options
	mu   sync.Mutex
	m    map[string]cached
}

type cached struct {
	spec  Spec
	route *Route
	err   error
}

// maxCached bounds the entries of a Cache; past it the cache starts
// afresh (entries of deleted endpoints are otherwise never dropped).
const maxCached = 100_000

// NewCache returns a Cache compiling with opts.
func NewCache(opts Options) *Cache {
	return &Cache{opts: opts, m: map[string]cached{}}
}

// Get returns the compiled spec stored under key, compiling it when the
// key is new or its spec changed. A spec that does not compile returns the
// error of CompileOptions (cached too).
func (c *Cache) Get(key string, spec Spec) (*Route, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok && sameSpec(v.spec, spec) {
		return v.route, v.err
	}
	r, err := CompileOptions(spec, c.opts)
	spec.Redact = slices.Clone(spec.Redact)
	c.mu.Lock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[key] = cached{spec: spec, route: r, err: err}
	c.mu.Unlock()
	return r, err
}

func sameSpec(a, b Spec) bool {
	return a.Filter == b.Filter && a.Transform == b.Transform && a.Payload == b.Payload && slices.Equal(a.Redact, b.Redact)
}

// HasFilter reports whether filter is an expression ("" and blanks are
// none).
func HasFilter(filter string) bool {
	return strings.TrimSpace(filter) != ""
}
