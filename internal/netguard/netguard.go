// Package netguard is the one private-address guard of every outbound
// request the hub makes: webhook deliveries, sources' polls, hydration
// calls to vendors' APIs. The addresses to reach are named by admins and,
// for hydration, by vendors' payloads, so without a guard the hub could be
// pointed at its own network (a cloud metadata service, a database, an
// admin port).
//
// The check runs in a net.Dialer's Control hook, on the address actually
// being dialled after name resolution, so a name that resolves to
// 127.0.0.1 (or that changes its answer between a check and the dial)
// cannot slip past it. Every outbound *http.Client of the hub comes from
// Client, which also uses no proxy from the environment (a proxy would
// dial for it, past the guard), so there is one place that says how the
// hub dials out.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbidden is the cause of every refusal: errors.Is(err, ErrForbidden)
// tells a refused destination from a network failure.
var ErrForbidden = errors.New("destination address is private, loopback, link-local or unspecified")

// forbiddenPrefixes are refused on top of what netip.Addr's predicates
// catch: "this network", reserved, carrier-grade NAT, IETF protocol
// assignments, benchmarking and NAT64, which some clouds and VPNs route to
// internal services.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

var sixToFour = netip.MustParsePrefix("2002::/16")

// Forbidden reports whether a is an internal address: loopback, private,
// link-local, multicast, unspecified, invalid, one of the ranges above, an
// IPv4-mapped form of any of them, or a 6to4 address around one of them.
func Forbidden(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	if sixToFour.Contains(a) {
		// 6to4 embeds an IPv4 address in bytes 2–5: judge that one.
		b := a.As16()
		return Forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return false
}

// Control is a net.Dialer Control hook that refuses a forbidden address
// with an error wrapping ErrForbidden and naming the address (never a
// host name's credentials: the address is all it sees).
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrForbidden, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s (see --allow-private-destinations)", ErrForbidden, ap.Addr())
	}
	return nil
}

// Dialer returns a dialer with the given connect timeout that refuses
// forbidden addresses, or allows every address when allowPrivate is set
// (development and tests).
func Dialer(timeout time.Duration, allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = Control
	}
	return d
}

// Options configure Client. The zero value is a guarded client with the
// defaults below, following redirects (through the same guarded dialer).
type Options struct {
	// AllowPrivate lets the client reach private, loopback and link-local
	// addresses (development and tests: --allow-private-destinations).
	AllowPrivate bool
	// Timeout bounds a whole request, redirects and body included;
	// default 30 s.
	Timeout time.Duration
	// DialTimeout bounds a connect; default 10 s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the answer's headers
	// once the request is written; default Timeout. Negative: none of
	// its own, Timeout alone bounds the wait (a timer fewer per request).
	ResponseHeaderTimeout time.Duration
	// MaxIdleConns and MaxIdleConnsPerHost size the idle pool; zero
	// means net/http's defaults (no overall limit, 2 per host).
	MaxIdleConns, MaxIdleConnsPerHost int
	// NoRedirects makes the client return a redirect as the answer
	// instead of following it (the webhook sender: a receiver must not
	// move a delivery elsewhere).
	NoRedirects bool
}

// Client returns an HTTP client that refuses forbidden addresses at dial
// time (unless AllowPrivate), uses no proxy from the environment, and has
// a transport of its own: http.DefaultTransport's idle connections are
// closed by anyone in the process (httptest.Server.Close does), which
// breaks a request about to reuse one.
func Client(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	switch {
	case o.ResponseHeaderTimeout == 0:
		o.ResponseHeaderTimeout = o.Timeout
	case o.ResponseHeaderTimeout < 0:
		o.ResponseHeaderTimeout = 0 // net/http: no limit
	}
	c := &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           Dialer(o.DialTimeout, o.AllowPrivate).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          o.MaxIdleConns,
			MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		},
	}
	if o.NoRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}
