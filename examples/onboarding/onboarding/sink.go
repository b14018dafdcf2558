package onboarding

import (
	"errors"
	"io"
	"net"
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
