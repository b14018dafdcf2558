package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// AllowList is an operator's list of broker hosts that the guard lets
// through although their addresses are private (--allow-broker-hosts):
// brokers usually live on the agency's own network, where a webhook URL
// must not point. An entry is a host name ("rabbit.internal"), an IP
// address, or a CIDR prefix ("10.20.0.0/16"); a name is matched as the
// endpoint names it, before resolution, case-insensitively.
type AllowList struct {
	names    map[string]bool
	prefixes []netip.Prefix
}

// ParseAllowList reads entries (blank entries are skipped). The error
// names the entry that is neither a host name, an address nor a prefix.
func ParseAllowList(entries []string) (AllowList, error) {
	var a AllowList
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return AllowList{}, fmt.Errorf("allow-list entry %q: not a CIDR prefix", e)
			}
			a.prefixes = append(a.prefixes, p.Masked())
		default:
			if ip, err := netip.ParseAddr(e); err == nil {
				a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
				continue
			}
			if strings.ContainsAny(e, ":@ ") {
				return AllowList{}, fmt.Errorf("allow-list entry %q: want a host name, an IP address or a CIDR prefix, without a port", e)
			}
			if a.names == nil {
				a.names = make(map[string]bool)
			}
			a.names[strings.ToLower(strings.TrimSuffix(e, "."))] = true
		}
	}
	return a, nil
}

// Empty reports whether the list allows nothing.
func (a AllowList) Empty() bool { return len(a.names) == 0 && len(a.prefixes) == 0 }

// AllowsHost reports whether host (a name or an address, no port) is on
// the list by name, or is an address inside one of its prefixes.
func (a AllowList) AllowsHost(host string) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return a.AllowsAddr(ip)
	}
	return a.names[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// AllowsAddr reports whether ip is inside one of the list's prefixes.
func (a AllowList) AllowsAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// DialContext returns the dial function of every broker connection: it
// refuses forbidden addresses (checked on the address actually dialled,
// after resolution) unless allowPrivate is set, the host as named is on
// allow, or the address dialled is inside one of allow's prefixes.
func DialContext(timeout time.Duration, allowPrivate bool, allow AllowList) func(ctx context.Context, network, address string) (net.Conn, error) {
	open := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	guarded := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second,
		Control: func(network, address string, c syscall.RawConn) error {
			if ap, err := netip.ParseAddrPort(address); err == nil && allow.AllowsAddr(ap.Addr()) {
				return nil
			}
			return Control(network, address, c)
		}}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if allowPrivate {
			return open.DialContext(ctx, network, address)
		}
		if host, _, err := net.SplitHostPort(address); err == nil && allow.AllowsHost(host) {
			return open.DialContext(ctx, network, address)
		}
		return guarded.DialContext(ctx, network, address)
	}
}
