package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/hirehook/hirehook/internal/netguard"
)

// InternalRanges are addresses in each range the guard must refuse beyond
// the obvious private ones; tests of every client dial them.
var internalRanges = []string{
	"100.64.0.1",      // carrier-grade NAT
	"0.1.2.3",         // "this network"
	"198.18.0.1",      // benchmarking
	"240.0.0.1",       // reserved
	"64:ff9b::a00:1",  // NAT64 of 10.0.0.1
	"2002:a00:1::1",   // 6to4 around 10.0.0.1
	"169.254.169.254", // cloud metadata
	"10.0.0.1",
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"172.16.0.1", true},
		{"172.31.255.254", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd00::1", true},       // IPv6 unique local
		{"fd00:ec2::254", true}, // AWS metadata over IPv6
		{"0.0.0.0", true},
		{"::", true},
		{"100.64.0.1", true},       // carrier-grade NAT
		{"0.1.2.3", true},          // "this network"
		{"240.0.0.1", true},        // reserved
		{"2002:7f00:1::1", true},   // 6to4 around 127.0.0.1
		{"2002:a00:1::1", true},    // 6to4 around 10.0.0.1
		{"2002:808:808::1", false}, // 6to4 around 8.8.8.8
		{"100.127.255.254", true},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"192.0.0.1", true},
		{"224.0.0.1", true},        // multicast
		{"ff02::1", true},          // link-local multicast
		{"::ffff:127.0.0.1", true}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:100.64.0.1", true}, // mapped carrier-grade NAT: only Unmap catches it
		{"64:ff9b::7f00:1", true},   // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true},  // NAT64 of anything: the translator is internal
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"2606:4700::1111", false},
		{"::ffff:8.8.8.8", false},
		{"100.63.255.255", false}, // just below carrier-grade NAT
		{"100.128.0.0", false},    // just above it
		{"198.17.255.255", false},
		{"198.20.0.0", false},
		{"172.15.255.255", false},
		{"172.32.0.0", false},
	} {
		a := netip.MustParseAddr(tt.addr)
		if got := netguard.Forbidden(a); got != tt.want {
			t.Errorf("Forbidden(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !netguard.Forbidden(netip.Addr{}) {
		t.Error("Forbidden(zero Addr) = false, want true")
	}
}

// TestDialerRefusesInternalRanges dials each range for real: Control runs
// before connect, so nothing leaves the machine.
func TestDialerRefusesInternalRanges(t *testing.T) {
	t.Parallel()
	d := netguard.Dialer(5*time.Second, false)
	for _, a := range internalRanges {
		conn, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(a, "443"))
		if err == nil {
			conn.Close()
		}
		if !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("dial %s: err = %v, want ErrForbidden", a, err)
		}
	}
}

func TestDialerAllowsPrivateWhenAsked(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if conn, err := netguard.Dialer(5*time.Second, false).Dial("tcp", ln.Addr().String()); !errors.Is(err, netguard.ErrForbidden) {
		if err == nil {
			conn.Close()
		}
		t.Errorf("guarded dial of %s: err = %v, want ErrForbidden", ln.Addr(), err)
	}
	conn, err := netguard.Dialer(5*time.Second, true).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with allowPrivate: %v", err)
	}
	conn.Close()
}

// TestClient holds every outbound client of the hub (they all come from
// Client) to the guard: the internal ranges refused at dial time, loopback
// reached only when allowed, no proxy from the environment, and redirects
// followed or not as asked.
func TestClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/here", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	guarded := netguard.Client(netguard.Options{Timeout: 5 * time.Second})
	for _, u := range append([]string{srv.URL, "http://[::ffff:127.0.0.1]:1/", "http://0.0.0.0:1/"}, hostURLs(internalRanges)...) {
		resp, err := guarded.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("GET %s: err = %v, want ErrForbidden", u, err)
		}
	}
	if tr, ok := guarded.Transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Errorf("transport %T: want an *http.Transport with no proxy", guarded.Transport)
	}

	follow := netguard.Client(netguard.Options{AllowPrivate: true})
	resp, err := follow.Get(srv.URL + "/moved")
	if err != nil {
		t.Fatalf("allowed client: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("following client: status %d, want 204 after the redirect", resp.StatusCode)
	}

	stay := netguard.Client(netguard.Options{AllowPrivate: true, NoRedirects: true})
	resp, err = stay.Get(srv.URL + "/moved")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("NoRedirects client: status %d, want the 302 itself", resp.StatusCode)
	}
}

func hostURLs(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, "http://"+net.JoinHostPort(a, "80")+"/")
	}
	return out
}
