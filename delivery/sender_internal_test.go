package delivery

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		value string
		want  time.Duration
	}{
		{"120", 120 * time.Second},
		{" 120 ", 120 * time.Second},
		{"0", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), 0}, // in the past
		{now.Format(http.TimeFormat), 0},
		{"99999999999", 365 * 24 * time.Hour}, // capped at a year
		{"-5", 0},
		{"junk", 0},
		{"1.5", 0},
		{"", 0},
	} {
		if got := parseRetryAfter(tt.value, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}

	// An HTTP date has whole seconds: from a now with a fraction, a date
	// 30 s ahead is a little less than 30 s away.
	now = time.Now()
	got := parseRetryAfter(now.Add(30*time.Second).UTC().Format(http.TimeFormat), now)
	if got <= 29*time.Second || got > 30*time.Second {
		t.Errorf("parseRetryAfter(date 30s ahead) = %v, want ~30s", got)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	// A URL with credentials and a token: no class's message may repeat it.
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://user:s3cret@hooks.example.com/in?token=t0ken", Err: err}
	}
	dial := func(err error) error { return wrap(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	for _, tt := range []struct {
		name string
		err  error
		want hirehook.ErrorClass
	}{
		{"Forbidden", dial(ErrForbiddenDestination), hirehook.ErrorClassForbidden},
		{"DNSNotFound", dial(&net.DNSError{Name: "hooks.example.com", Err: "no such host", IsNotFound: true}), hirehook.ErrorClassDNS},
		{"DNSTimeout", dial(&net.DNSError{Name: "hooks.example.com", Err: "i/o timeout", IsTimeout: true}), hirehook.ErrorClassDNS},
		{"TLSUnknownAuthority", wrap(x509.UnknownAuthorityError{}), hirehook.ErrorClassTLS},
		{"TLSHostname", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "hooks.example.com"}), hirehook.ErrorClassTLS},
		{"DeadlineExceeded", wrap(context.DeadlineExceeded), hirehook.ErrorClassTimeout},
		{"ConnectionRefused", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), hirehook.ErrorClassConnection},
		{"ConnectionReset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), hirehook.ErrorClassConnection},
		{"EOF", wrap(io.EOF), hirehook.ErrorClassConnection},
		{"UnexpectedEOF", wrap(io.ErrUnexpectedEOF), hirehook.ErrorClassConnection},
		{"HostUnreachable", dial(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), hirehook.ErrorClassConnection},
		{"OtherDialError", dial(errors.New("something odd")), hirehook.ErrorClassConnection},
		{"Cancelled", wrap(context.Canceled), hirehook.ErrorClassOther},
		{"Unknown", wrap(errors.New("mystery")), hirehook.ErrorClassOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			class, msg := classify(tt.err)
			if class != tt.want {
				t.Errorf("class = %q (%s), want %q", class, msg, tt.want)
			}
			if msg == "" {
				t.Error("message is empty")
			}
			for _, secret := range []string{"s3cret", "t0ken", "user:"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q leaks %q from the URL", msg, secret)
				}
			}
		})
	}
	if _, msg := classify(fmt.Errorf("x: %w", &net.DNSError{Name: "hooks.example.com", IsNotFound: true})); !strings.Contains(msg, "hooks.example.com") {
		t.Errorf("DNS message %q does not name the host", msg)
	}
}
