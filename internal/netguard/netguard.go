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
// cannot slip past it. A client built on Dialer must also use no proxy
// from the environment, which would dial for it.
package netguard

import (
	"errors"
	"fmt"
	"net"
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
