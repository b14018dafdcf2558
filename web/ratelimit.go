package web

import (
	"math"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in throttling. Each client address may fail signInBurst sign-ins in
// a row; after that one more try is allowed every signInEvery (the bucket
// refills at that rate), and the form answers 429 until then. A success
// costs nothing. With these numbers guessing is limited to 5 tries a
// minute per address, while a person who mistypes a key a few times is
// never held up.
const (
	signInBurst = 5
	signInEvery = 12 * time.Second
	// signInAddrs bounds the addresses remembered. Past it, addresses
	// whose bucket has refilled are dropped first (they hold nothing a
	// new bucket would not), then the least recently seen.
	signInAddrs = 10000
)

// signInLimiter holds a token bucket of failed sign-ins per client address.
type signInLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	max   int
	addrs map[string]*addrLimit
}

type addrLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

func newSignInLimiter(every time.Duration, burst, max int) *signInLimiter {
	return &signInLimiter{every: every, burst: burst, max: max, addrs: map[string]*addrLimit{}}
}

// clientAddr is the address a request's failures count against: the
// remote IP without its port, so that new connections do not reset it.
func clientAddr(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// wait reports how long addr must wait before its next sign-in; zero when
// it may try now.
func (l *signInLimiter) wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[addr]
	if a == nil || a.lim.TokensAt(now) >= 1 {
		return 0
	}
	missing := 1 - a.lim.TokensAt(now)
	return time.Duration(math.Ceil(missing * float64(l.every)))
}

// fail counts one failed sign-in from addr.
func (l *signInLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[addr]
	if a == nil {
		if len(l.addrs) >= l.max {
			l.evict(now)
		}
		a = &addrLimit{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.addrs[addr] = a
	}
	a.seen = now
	a.lim.AllowN(now, 1)
}

// evict makes room for one address: it drops every address whose bucket
// is full again, and if none is, the one seen longest ago. It runs only
// when the map is full, so its linear scan is paid at most once per new
// address under an attack from very many addresses.
func (l *signInLimiter) evict(now time.Time) {
	var oldest string
	for addr, a := range l.addrs {
		if a.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.addrs, addr)
			continue
		}
		if oldest == "" || a.seen.Before(l.addrs[oldest].seen) {
			oldest = addr
		}
	}
	if len(l.addrs) >= l.max && oldest != "" {
		delete(l.addrs, oldest)
	}
}

// len returns the number of addresses remembered.
func (l *signInLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}
