package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/netguard"
)

// ResponseExcerptLimit is how much of a receiver's answer an attempt keeps.
const ResponseExcerptLimit = 4 << 10

// drainLimit is how much more of an answer is read (and thrown away) so the
// connection can be reused; larger answers close the connection instead.
const drainLimit = 64 << 10

// ErrForbiddenDestination is returned when a destination resolves to an
// address the guard refuses (package netguard, shared by every outbound
// client of the hub).
var ErrForbiddenDestination = netguard.ErrForbidden

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Timeout bounds one attempt: connect, send, and read the answer.
	Timeout time.Duration
	// AllowPrivate lets deliveries reach private, loopback and link-local
	// addresses (development and tests).
	AllowPrivate bool
	// UserAgent is sent with every request.
	UserAgent string
}

// Sender POSTs signed webhooks through netguard's client: the address check
// happens at dial time, on the address actually being dialled after DNS
// resolution, so a name that resolves to 127.0.0.1 cannot slip past it;
// redirects are not followed, and no proxy from the environment is used
// (it would dial for us).
type Sender struct {
	client    *http.Client
	userAgent string
	timeout   time.Duration
}

// Timeout is the longest one attempt takes.
func (s *Sender) Timeout() time.Duration { return s.timeout }

// maxIdleConns is the most idle connections the sender keeps, to one
// host or to all.
const maxIdleConns = 4096

// NewSender returns a Sender.
func NewSender(cfg SenderConfig) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	client := netguard.Client(netguard.Options{
		AllowPrivate: cfg.AllowPrivate,
		Timeout:      cfg.Timeout,
		DialTimeout:  cfg.Timeout,
		// Keep every connection the endpoints' max_concurrency may use:
		// endpoints often share a host (a hundred endpoints of one
		// onboarding system), so a host may see the sum of their limits,
		// past any one endpoint's maximum. A connection closed after its
		// request is dialled again for the next (bench --mode fanout, 100
		// endpoints × 16 on one host: a tenth of the hub's CPU went to
		// dialling and closing with 256 idle per host). Idle connections
		// are no more than the attempts in flight left open, and close
		// after netguard's idle timeout.
		MaxIdleConns:        maxIdleConns,
		MaxIdleConnsPerHost: maxIdleConns,
		NoRedirects:         true,
		// Timeout bounds the whole attempt, the wait for the answer's
		// headers included: a header timeout of the same length would
		// only add a timer to every request.
		ResponseHeaderTimeout: -1,
	})
	ua := cfg.UserAgent
	if ua == "" {
		ua = "hirehook/" + hirehook.Version + " (+https://github.com/hirehook/hirehook)"
	}
	return &Sender{
		client:    client,
		userAgent: ua,
		timeout:   cfg.Timeout,
	}
}

// Close drops idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Message is one signed webhook to send.
type Message struct {
	URL string
	ID  string // webhook-id: the event id, the same on every retry
	// Body is sent as it is, not copied: it must not change once Send is
	// called (the transport may still be writing it when an early answer
	// returns).
	Body    []byte
	Headers map[string]string
	Signer  *hirehook.Signer
}

// Response is what a Send (or a broker publish) learned; Attempt is filled
// but for its ids.
type Response struct {
	Attempt hirehook.Attempt
	// Delivered is set when the receiver has the message: a 2xx answer,
	// or a broker's confirmation that it holds it durably.
	Delivered  bool
	RetryAfter time.Duration // the receiver's Retry-After hint, 0 if none
}

// Send makes one attempt. It never returns an error: a failure is described
// in the attempt, classified.
func (s *Sender) Send(ctx context.Context, m Message, now time.Time) Response {
	start := time.Now()
	a := hirehook.Attempt{StartedAt: now.UTC().Truncate(time.Microsecond)}
	// A bytes.Reader sends m.Body without copying it (the request's
	// ContentLength and GetBody come with it).
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		a.ErrorClass, a.Error = hirehook.ErrorClassOther, "invalid destination URL"
		return Response{Attempt: a}
	}
	ts := now.Unix()
	req.Header = s.header(m, ts)

	resp, err := s.client.Do(req)
	if err != nil {
		a.Duration = time.Since(start)
		a.ErrorClass, a.Error = classify(err)
		return Response{Attempt: a}
	}
	a.ResponseBody = readAnswer(resp.Body, resp.ContentLength)
	a.Duration = time.Since(start)
	a.StatusCode = resp.StatusCode
	out := Response{Attempt: a, Delivered: resp.StatusCode >= 200 && resp.StatusCode <= 299}
	if !out.Delivered {
		out.Attempt.ErrorClass = hirehook.ErrorClassStatus
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			out.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		}
	}
	return out
}

// The canonical forms of the headers the hub sets (http.Header.Set would
// canonicalise them on every request).
var (
	headerWebhookID        = http.CanonicalHeaderKey(hirehook.HeaderWebhookID)
	headerWebhookTimestamp = http.CanonicalHeaderKey(hirehook.HeaderWebhookTimestamp)
	headerWebhookSignature = http.CanonicalHeaderKey(hirehook.HeaderWebhookSignature)
)

// header returns the request header of m signed at ts: the endpoint's
// custom headers, then the hub's own, which no custom header overrides.
// It is what Header.Set would make, with the values of all the headers in
// one allocation.
func (s *Sender) header(m Message, ts int64) http.Header {
	const own = 5
	h := make(http.Header, len(m.Headers)+own)
	vals := make([]string, 0, len(m.Headers)+own)
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	for k, v := range m.Headers {
		set(http.CanonicalHeaderKey(k), v)
	}
	set("Content-Type", "application/json")
	set("User-Agent", s.userAgent)
	set(headerWebhookID, m.ID)
	set(headerWebhookTimestamp, strconv.FormatInt(ts, 10))
	set(headerWebhookSignature, m.Signer.Sign(m.ID, ts, m.Body))
	return h
}

// answerBuf holds the excerpt of an answer while it is read.
var answerBuf = sync.Pool{New: func() any { return new([ResponseExcerptLimit]byte) }}

// readAnswer reads the first ResponseExcerptLimit bytes of an answer for the
// attempt's excerpt, reads and throws away up to drainLimit more so the
// connection can be reused, and closes body. A read error ends the answer
// where it happened. size is the answer's Content-Length (-1: unknown); an
// empty answer (204, or Content-Length: 0) is not read: the transport has
// already taken its connection back.
func readAnswer(body io.ReadCloser, size int64) string {
	defer body.Close()
	if size == 0 || body == http.NoBody {
		return ""
	}
	buf := answerBuf.Get().(*[ResponseExcerptLimit]byte)
	defer answerBuf.Put(buf)
	n, err := readFull(body, buf[:])
	excerpt := excerptText(buf[:n])
	for drained := 0; err == nil && drained < drainLimit; {
		var k int
		k, err = body.Read(buf[:min(len(buf), drainLimit-drained)])
		drained += k
	}
	return excerpt
}

// readFull reads into b until it is full, r ends or fails: io.ReadFull
// without its errors, as io.ReadAll of an io.LimitReader reads.
func readFull(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// excerptText turns the first bytes of an answer into valid UTF-8 of at most
// ResponseExcerptLimit bytes: a character cut by the limit is dropped, and
// invalid bytes become U+FFFD as long as the result stays within the limit.
func excerptText(b []byte) string {
	if len(b) >= ResponseExcerptLimit {
		// Drop a trailing incomplete character, cut by the read limit.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > ResponseExcerptLimit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// classify turns a transport error into an error class and a message that
// is safe to store and show (no secrets: URLs are reduced to their host).
func classify(err error) (hirehook.ErrorClass, string) {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var unknownAuth x509.UnknownAuthorityError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrForbiddenDestination):
		return hirehook.ErrorClassForbidden, "refused: " + ErrForbiddenDestination.Error() + " (see --allow-private-destinations)"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return hirehook.ErrorClassDNS, fmt.Sprintf("DNS: host %q not found", dnsErr.Name)
		}
		return hirehook.ErrorClassDNS, fmt.Sprintf("DNS: lookup of %q failed", dnsErr.Name)
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &unknownAuth), errors.As(err, &recordErr):
		return hirehook.ErrorClassTLS, "TLS: " + tlsMessage(err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return hirehook.ErrorClassTimeout, "timeout: no answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return hirehook.ErrorClassConnection, "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return hirehook.ErrorClassConnection, "connection reset by the receiver"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return hirehook.ErrorClassConnection, "host unreachable"
	case errors.Is(err, context.Canceled):
		return hirehook.ErrorClassOther, "cancelled: the hub was shutting down"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return hirehook.ErrorClassConnection, "connection failed: " + opErr.Err.Error()
	}
	return hirehook.ErrorClassOther, "request failed"
}

func tlsMessage(err error) string {
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) && certErr.Err != nil {
		return certErr.Err.Error()
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return hostErr.Error()
	}
	return "handshake failed"
}
