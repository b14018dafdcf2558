package onboarding

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message an SMTP sink accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Subject is the mail's Subject header, with encoded words (RFC 2047)
// decoded; "" if the mail has none or cannot be parsed.
func (m Mail) Subject() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	subject := msg.Header.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		return dec
	}
	return subject
}

// FirstLines returns up to n non-blank lines of the mail's body, trimmed,
// with a quoted-printable or base64 transfer encoding undone.
func (m Mail) FirstLines(n int) []string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil
	}
	body := msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	var lines []string
	sc := bufio.NewScanner(body)
	for len(lines) < n && sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// Sink is a real SMTP server that keeps what it is sent in memory: the
// development stand-in for the agency's mail relay (tests, `hirehook
// demo`). It accepts any sender and recipient, without authentication.
type Sink struct {
	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	mails    []Mail
	failNext int
	notify   chan struct{}
}

// StartSink listens on addr ("127.0.0.1:0" for any free port) and serves
// until Close.
func StartSink(addr string) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{ln: ln, notify: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(sinkBackend{s})
	s.srv.Domain = "sink.localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.MaxMessageBytes = 1 << 20
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Sink) Close() error { return s.srv.Close() }

// FailNext makes the next n messages fail with a temporary error (451), as
// a relay does when it is overloaded.
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Mails returns the messages accepted so far.
func (s *Sink) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Received is signalled (without blocking) after each accepted message.
func (s *Sink) Received() <-chan struct{} { return s.notify }

type sinkBackend struct{ s *Sink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct {
	s    *Sink
	from string
	to   []string
}

func (x *sinkSession) Reset()        { x.from, x.to = "", nil }
func (x *sinkSession) Logout() error { return nil }

func (x *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

var errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

func (x *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(x.to) == 0 {
		return errors.New("no recipient")
	}
	x.s.mu.Lock()
	if x.s.failNext > 0 {
		x.s.failNext--
		x.s.mu.Unlock()
		return errTemporary
	}
	x.s.mails = append(x.s.mails, Mail{From: x.from, To: x.to, Data: data, At: time.Now()})
	x.s.mu.Unlock()
	select {
	case x.s.notify <- struct{}{}:
	default:
	}
	return nil
}
