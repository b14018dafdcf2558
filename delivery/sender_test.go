package delivery_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
)

// message returns a signed message to url and the secret that signs it.
func message(tb testing.TB, url string) (delivery.Message, string) {
	tb.Helper()
	secret := hirehook.NewSecret()
	signer, err := hirehook.NewSigner(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return delivery.Message{
		URL:    url,
		ID:     hirehook.NewID("evt"),
		Body:   []byte(`{"id":"evt_1","type":"placement.confirmed","data":{"id":"plc_1"}}`),
		Signer: signer,
	}, secret
}

func TestSenderRefusesPrivateDestinations(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer(http.StatusOK))
	u, err := url.Parse(rcv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := delivery.NewSender(delivery.SenderConfig{Timeout: 5 * time.Second})
	t.Cleanup(s.Close)

	for _, tt := range []struct {
		name, url string
	}{
		{"LoopbackIP", rcv.URL},
		{"LocalhostName", "http://localhost:" + u.Port() + "/hook"},
		// The ranges beyond the private ones; the guard refuses them
		// before connecting, so nothing leaves the machine.
		{"CarrierGradeNAT", "http://100.64.0.1/hook"},
		{"ThisNetwork", "http://0.1.2.3/hook"},
		{"Benchmarking", "http://198.18.0.1/hook"},
		{"Reserved", "http://240.0.0.1/hook"},
		{"NAT64", "http://[64:ff9b::a00:1]/hook"},
		{"SixToFour", "http://[2002:a00:1::1]/hook"},
		{"Metadata", "http://169.254.169.254/latest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := message(t, tt.url)
			got := s.Send(context.Background(), m, time.Now()).Attempt
			if got.ErrorClass != hirehook.ErrorClassForbidden {
				t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassForbidden)
			}
			if got.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0", got.StatusCode)
			}
		})
	}
	if n := rcv.count(); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, answer(http.StatusOK))
	redirect := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	m, _ := message(t, redirect.URL)
	got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
	if got.StatusCode != http.StatusFound || got.ErrorClass != hirehook.ErrorClassStatus {
		t.Errorf("attempt = status %d, class %q (%s); want %d, %q", got.StatusCode, got.ErrorClass, got.Error, http.StatusFound, hirehook.ErrorClassStatus)
	}
	if n := redirect.count(); n != 1 {
		t.Errorf("redirecting receiver got %d requests, want 1", n)
	}
	if n := target.count(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

func TestSenderErrorClasses(t *testing.T) {
	t.Parallel()

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		var rcv *receiver
		rcv = newReceiver(t, func(_ http.ResponseWriter, r *http.Request, _ int) { rcv.hang(r) })
		m, _ := message(t, rcv.URL)
		start := time.Now()
		got := newSender(t, 100*time.Millisecond).Send(context.Background(), m, start).Attempt
		if got.ErrorClass != hirehook.ErrorClassTimeout {
			t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassTimeout)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("Send took %v with a 100ms timeout", elapsed)
		}
		if got.Duration < 100*time.Millisecond {
			t.Errorf("Duration = %v, want at least the 100ms timeout", got.Duration)
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		closed := srv.URL
		srv.Close()
		m, _ := message(t, closed)
		got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
		if got.ErrorClass != hirehook.ErrorClassConnection {
			t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassConnection)
		}
	})

	t.Run("DNS", func(t *testing.T) {
		t.Parallel()
		const host = "nonexistent.invalid"
		if addrs, err := net.DefaultResolver.LookupHost(context.Background(), host); err == nil {
			t.Skipf("%s resolves here (%v)", host, addrs)
		}
		m, _ := message(t, "http://"+host+"/hook")
		got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
		if got.ErrorClass != hirehook.ErrorClassDNS {
			t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassDNS)
		}
		if !strings.Contains(got.Error, host) {
			t.Errorf("Error = %q, want it to name %s", got.Error, host)
		}
	})

	t.Run("TLS", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		m, _ := message(t, srv.URL)
		got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
		if got.ErrorClass != hirehook.ErrorClassTLS {
			t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassTLS)
		}
	})

	t.Run("InvalidURL", func(t *testing.T) {
		t.Parallel()
		m, _ := message(t, "http://[::1")
		got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
		if got.ErrorClass != hirehook.ErrorClassOther {
			t.Errorf("ErrorClass = %q (%s), want %q", got.ErrorClass, got.Error, hirehook.ErrorClassOther)
		}
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("boom"))
		})
		m, _ := message(t, rcv.URL)
		got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now())
		a := got.Attempt
		if a.StatusCode != http.StatusInternalServerError || a.ErrorClass != hirehook.ErrorClassStatus || a.ResponseBody != "boom" {
			t.Errorf("attempt = status %d, class %q, body %q; want 500, %q, %q", a.StatusCode, a.ErrorClass, a.ResponseBody, hirehook.ErrorClassStatus, "boom")
		}
		if got.RetryAfter != 0 {
			t.Errorf("RetryAfter = %v without a Retry-After header, want 0", got.RetryAfter)
		}
	})
}

func TestSenderRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status     int
		retryAfter string
		want       time.Duration
	}{
		{http.StatusTooManyRequests, "120", 120 * time.Second},
		{http.StatusServiceUnavailable, "7", 7 * time.Second},
		{http.StatusTooManyRequests, "junk", 0},
		// Retry-After is only a throttling hint on 429 and 503.
		{http.StatusInternalServerError, "120", 0},
		{http.StatusOK, "120", 0},
	} {
		t.Run(strconv.Itoa(tt.status)+"_"+tt.retryAfter, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", tt.retryAfter)
				w.WriteHeader(tt.status)
			})
			m, _ := message(t, rcv.URL)
			got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now())
			if got.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got.RetryAfter, tt.want)
			}
		})
	}
}

func TestSenderResponseExcerpt(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 10<<10/16) // 10 KiB
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Write([]byte(body))
	})
	m, _ := message(t, rcv.URL)
	got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
	if got.StatusCode != http.StatusOK || got.ErrorClass != hirehook.ErrorClassNone {
		t.Fatalf("attempt = status %d, class %q (%s); want 200", got.StatusCode, got.ErrorClass, got.Error)
	}
	if len(got.ResponseBody) != delivery.ResponseExcerptLimit {
		t.Errorf("len(ResponseBody) = %d, want %d", len(got.ResponseBody), delivery.ResponseExcerptLimit)
	}
	if got.ResponseBody != body[:delivery.ResponseExcerptLimit] {
		t.Errorf("ResponseBody is not the first %d bytes of the answer", delivery.ResponseExcerptLimit)
	}
}

// The excerpt is "the first 4 KiB of the answer" (README). Keeping it valid
// UTF-8 must not make it longer than the limit, nor add a character the
// receiver never sent.
func TestSenderResponseExcerptStaysWithinLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body string
	}{
		// 3-byte runes: the 4096th byte cuts the 1366th rune in two.
		{"MultiByteRuneAtTheCut", strings.Repeat("€", 3000)},
		// Each invalid byte becomes a 3-byte U+FFFD.
		{"InvalidBytes", strings.Repeat("a\xff", 3000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Write([]byte(tt.body))
			})
			m, _ := message(t, rcv.URL)
			got := newSender(t, 5*time.Second).Send(context.Background(), m, time.Now()).Attempt
			if n := len(got.ResponseBody); n > delivery.ResponseExcerptLimit {
				t.Errorf("len(ResponseBody) = %d, want at most %d", n, delivery.ResponseExcerptLimit)
			}
		})
	}
}

func TestSenderHeaders(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer(http.StatusNoContent))
	m, secret := message(t, rcv.URL)
	m.Headers = map[string]string{
		"X-Api-Key": "receiver-key",
		"x-tenant":  "acme",
		// Custom headers must not override what the hub signs and sets.
		"webhook-signature": "v1,Zm9yZ2Vk",
		"Webhook-Id":        "evt_forged",
		"Webhook-Timestamp": "1",
		"Content-Type":      "text/plain",
	}
	now := time.Now()
	got := newSender(t, 5*time.Second).Send(context.Background(), m, now).Attempt
	if got.StatusCode != http.StatusNoContent || got.ErrorClass != hirehook.ErrorClassNone {
		t.Fatalf("attempt = status %d, class %q (%s); want 204", got.StatusCode, got.ErrorClass, got.Error)
	}
	if got.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", got.Duration)
	}
	if want := now.UTC().Truncate(time.Microsecond); !got.StartedAt.Equal(want) {
		t.Errorf("StartedAt = %v, want %v", got.StartedAt, want)
	}

	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	h, body := reqs[0].Header, reqs[0].Body
	if string(body) != string(m.Body) {
		t.Errorf("body = %s, want %s", body, m.Body)
	}
	for _, tt := range []struct {
		header, want string
	}{
		{"Content-Type", "application/json"},
		{hirehook.HeaderWebhookID, m.ID},
		{hirehook.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10)},
		{"X-Api-Key", "receiver-key"},
		{"X-Tenant", "acme"},
	} {
		if got := h.Values(tt.header); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s = %q, want [%q]", tt.header, got, tt.want)
		}
	}
	if ua := h.Get("User-Agent"); !strings.HasPrefix(ua, "hirehook/") {
		t.Errorf("User-Agent = %q, want hirehook/...", ua)
	}
	if sigs := h.Values(hirehook.HeaderWebhookSignature); len(sigs) != 1 || strings.Contains(sigs[0], "Zm9yZ2Vk") {
		t.Errorf("webhook-signature = %q, want only the hub's signature", sigs)
	}
	if err := hirehook.Verify(h, body, time.Now(), secret); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := hirehook.Verify(h, body, time.Now(), hirehook.NewSecret()); err == nil {
		t.Error("Verify with another secret succeeded")
	}
}

func TestSenderUserAgent(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer(http.StatusOK))
	s := delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, UserAgent: "custom-agent/1"})
	t.Cleanup(s.Close)
	m, _ := message(t, rcv.URL)
	m.Headers = map[string]string{"User-Agent": "override/0"}
	s.Send(context.Background(), m, time.Now())
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	if got := reqs[0].Header.Get("User-Agent"); got != "custom-agent/1" {
		t.Errorf("User-Agent = %q, want %q", got, "custom-agent/1")
	}
}

func TestSenderCancelled(t *testing.T) {
	t.Parallel()
	var rcv *receiver
	arrived := make(chan struct{}, 1)
	rcv = newReceiver(t, func(_ http.ResponseWriter, r *http.Request, _ int) {
		arrived <- struct{}{}
		rcv.hang(r)
	})
	m, _ := message(t, rcv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-arrived:
			cancel()
		case <-ctx.Done():
		}
	}()
	got := newSender(t, 10*time.Second).Send(ctx, m, time.Now()).Attempt
	if got.StatusCode != 0 || got.ErrorClass != hirehook.ErrorClassOther {
		t.Errorf("attempt = status %d, class %q (%s); want 0, %q", got.StatusCode, got.ErrorClass, got.Error, hirehook.ErrorClassOther)
	}
}

// An answer is read (the excerpt, then up to 64 KiB more, thrown away) so
// that the connection serves the next attempt; a larger answer closes it.
func TestSenderReusesConnections(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		size  int
		conns int64
	}{
		{"NoBody", 0, 1},
		{"Small", 100, 1},
		{"BeyondTheExcerpt", 10 << 10, 1},
		{"BeyondTheDrain", 200 << 10, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := strings.Repeat("x", tt.size)
			var conns atomic.Int64
			rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if body == "" {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				_, _ = io.WriteString(w, body)
			}))
			rcv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			rcv.Start()
			t.Cleanup(rcv.Close)
			s := newSender(t, 5*time.Second)
			m, _ := message(t, rcv.URL)
			for range 3 {
				got := s.Send(context.Background(), m, time.Now()).Attempt
				if got.StatusCode/100 != 2 {
					t.Fatalf("attempt = status %d, class %q (%s); want 2xx", got.StatusCode, got.ErrorClass, got.Error)
				}
				if want := body[:min(len(body), delivery.ResponseExcerptLimit)]; got.ResponseBody != want {
					t.Fatalf("ResponseBody has %d bytes, want the first %d of the answer", len(got.ResponseBody), len(want))
				}
			}
			if got := conns.Load(); got != tt.conns {
				t.Errorf("3 attempts used %d connections, want %d", got, tt.conns)
			}
		})
	}
}

// TestSenderKeepsConnectionsOfManyEndpoints: endpoints that share a host
// may have more attempts in flight to it together than one endpoint's
// maximum; the connections they used are kept for the next wave, not
// closed and dialled again (with 256 idle per host, the second wave of
// 300 dialled 44 more).
func TestSenderKeepsConnectionsOfManyEndpoints(t *testing.T) {
	t.Parallel()
	const inFlight = hirehook.MaxMaxConcurrency + 44
	var conns, arrived atomic.Int64
	var mu sync.Mutex
	release := make(chan struct{})
	rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// Answer once the whole wave is in flight, so that it holds
		// inFlight connections at once.
		mu.Lock()
		wave := release
		if arrived.Add(1)%inFlight == 0 {
			close(release)
			release = make(chan struct{})
		}
		mu.Unlock()
		<-wave
		w.WriteHeader(http.StatusNoContent)
	}))
	rcv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	rcv.Start()
	t.Cleanup(rcv.Close)
	s := newSender(t, 30*time.Second)
	m, _ := message(t, rcv.URL)
	for wave := range 2 {
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				if got := s.Send(context.Background(), m, time.Now()).Attempt; got.StatusCode != http.StatusNoContent {
					t.Errorf("wave %d: attempt = status %d, class %q (%s); want 204", wave+1, got.StatusCode, got.ErrorClass, got.Error)
				}
			})
		}
		wg.Wait()
	}
	if got := conns.Load(); got != inFlight {
		t.Errorf("2 waves of %d attempts in flight at once used %d connections, want %d", inFlight, got, inFlight)
	}
}
