// Package nats publishes hirehook's messages to NATS JetStream: one
// connection per endpoint (destination.Pool), the event published to
// <subject>.<event type> with the webhook headers as NATS headers and
// Nats-Msg-Id = the event id, and an attempt counts as delivered only once
// a stream has answered with a PubAck.
//
// Reconnects are the hub's, not the client's: a connection is made with
// reconnecting off, so when it breaks the client closes, the next Publish
// finds it closed, drops it from the pool and dials again through the
// outbound address guard. A client that reconnected on its own would keep
// publishes in its reconnect buffer and answer them late or never; the
// dispatcher already retries on its schedule and needs each attempt to
// fail fast and say why.
package nats

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
)

// Publisher publishes to NATS JetStream. It is safe for concurrent use.
type Publisher struct {
	opts destination.Options
	pool destination.Pool[*client]
}

// New returns a Publisher with o's defaults filled.
func New(o destination.Options) *Publisher {
	p := &Publisher{opts: o.WithDefaults()}
	p.pool = destination.Pool[*client]{
		OpenFunc:    p.open,
		CloseFunc:   (*client).close,
		IdleTimeout: p.opts.IdleTimeout,
	}
	return p
}

// Close closes every connection.
func (p *Publisher) Close() error {
	p.pool.Close()
	return nil
}

// config is a target's config and credentials, read once per connect.
type config struct {
	servers  []string // host:port
	subject  string   // prefix
	tls      bool
	user     string
	password string
	token    string
}

func parseConfig(t destination.Target) (config, error) {
	c := config{
		subject:  strings.TrimSpace(t.Config["subject"]),
		tls:      t.Config["tls"] == "true",
		user:     t.Credentials["username"],
		password: t.Credentials["password"],
		token:    t.Credentials["token"],
	}
	for _, s := range strings.Split(t.Config["servers"], ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.servers = append(c.servers, s)
		}
	}
	if len(c.servers) == 0 {
		return c, destination.Errorf(hirehook.ErrorClassOther, "nats: config.servers is empty")
	}
	if c.subject == "" {
		return c, destination.Errorf(hirehook.ErrorClassOther, "nats: config.subject is empty")
	}
	if v := t.Config["tls"]; v != "" && v != "true" && v != "false" {
		return c, destination.Errorf(hirehook.ErrorClassOther, "nats: config.tls is %q, want \"true\" or \"false\"", v)
	}
	return c, nil
}

// urls are the servers as the client's URL list. Credentials go in
// options, never in a URL, where an error message could carry them.
func (c config) urls() string {
	scheme := "nats://"
	if c.tls {
		scheme = "tls://"
	}
	u := make([]string, len(c.servers))
	for i, s := range c.servers {
		u[i] = scheme + s
	}
	return strings.Join(u, ",")
}

// who names the credentials in an auth error: the user, never a secret.
func (c config) who() string {
	switch {
	case c.user != "":
		return fmt.Sprintf("user %q", c.user)
	case c.token != "":
		return "the token"
	}
	return "no credentials"
}

// client is one endpoint's connection.
type client struct {
	nc  *natsgo.Conn
	js  jetstream.JetStream
	cfg config

	mu      sync.Mutex
	waiters map[*waiter]bool // publishes in flight, told of a permission violation
}

// waiter is a publish in flight on subject, cancelled when the server
// says the user may not publish there: the server answers a denied
// publish with an asynchronous -ERR and no PubAck, so without it the
// attempt would wait for its whole timeout and report a timeout.
type waiter struct {
	subject string
	cancel  context.CancelCauseFunc
}

var errDenied = errors.New("nats: permission denied")

func (c *client) close() { c.nc.Close() }

// onAsyncError is the connection's ErrorHandler.
func (c *client) onAsyncError(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
	if !errors.Is(err, natsgo.ErrPermissionViolation) {
		return
	}
	msg := strings.ToLower(err.Error())
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.waiters {
		if strings.Contains(msg, "publish to \""+strings.ToLower(w.subject)+"\"") {
			w.cancel(errDenied)
		}
	}
}

func (c *client) watch(ctx context.Context, subject string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &waiter{subject: subject, cancel: cancel}
	c.mu.Lock()
	if c.waiters == nil {
		c.waiters = make(map[*waiter]bool)
	}
	c.waiters[w] = true
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
		cancel(nil)
	}
}

// dialer adapts the guard's DialContext to nats.go's CustomDialer, which
// has no context: the connect's context is held for the connect's span
// (reconnects are off, so nothing dials later). It keeps the last dial
// error because nats.go reports a refused connection as "no servers
// available", which would hide a refusal by the guard or say nothing of
// which server failed.
type dialer struct {
	ctx  context.Context
	dial func(ctx context.Context, network, address string) (net.Conn, error)

	mu      sync.Mutex
	lastErr error
}

func (d *dialer) Dial(network, address string) (net.Conn, error) {
	conn, err := d.dial(d.ctx, network, address)
	if err != nil {
		d.mu.Lock()
		d.lastErr = err
		d.mu.Unlock()
	}
	return conn, err
}

func (d *dialer) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastErr
}

// open connects t's client; ctx carries the Publish's deadline.
func (p *Publisher) open(ctx context.Context, t destination.Target) (*client, error) {
	cfg, err := parseConfig(t)
	if err != nil {
		return nil, err
	}
	timeout := p.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return nil, destination.Errorf(hirehook.ErrorClassTimeout, "nats: connect to %s: %w", strings.Join(cfg.servers, ","), context.DeadlineExceeded)
	}
	c := &client{cfg: cfg}
	d := &dialer{ctx: ctx, dial: p.opts.DialContext}
	opts := []natsgo.Option{
		natsgo.Name(p.opts.ClientID),
		natsgo.SetCustomDialer(d),
		natsgo.Timeout(timeout),
		// The guard must see the host as configured (its allow-list
		// matches names), so nats.go must not resolve it first.
		natsgo.SkipHostLookup(),
		// Only the configured servers are dialled: they are what the
		// operator's allow-list was checked against.
		natsgo.IgnoreDiscoveredServers(),
		natsgo.NoReconnect(),
		natsgo.ReconnectBufSize(-1),
		natsgo.ErrorHandler(c.onAsyncError),
		natsgo.NoCallbacksAfterClientClose(),
	}
	if cfg.tls {
		opts = append(opts, natsgo.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	switch {
	case cfg.user != "":
		opts = append(opts, natsgo.UserInfo(cfg.user, cfg.password))
	case cfg.token != "":
		opts = append(opts, natsgo.Token(cfg.token))
	}
	nc, err := natsgo.Connect(cfg.urls(), opts...)
	if err != nil {
		if errors.Is(err, natsgo.ErrNoServers) && d.err() != nil {
			err = fmt.Errorf("%w: %w", err, d.err())
		}
		return nil, connectError(cfg, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, destination.Errorf(hirehook.ErrorClassOther, "nats: jetstream context: %w", err)
	}
	c.nc, c.js = nc, js
	return c, nil
}

// connectError classifies a failed connect.
func connectError(cfg config, err error) *destination.Error {
	servers := strings.Join(cfg.servers, ",")
	var e *destination.Error
	switch {
	case isAuth(err):
		e = destination.Errorf(hirehook.ErrorClassAuth, "nats: %s: authentication failed for %s: %w", servers, cfg.who(), err)
	case errors.Is(err, natsgo.ErrSecureConnWanted):
		// nats.go's text names its own options; say it in config terms.
		e = &destination.Error{Class: hirehook.ErrorClassTLS, Err: err,
			Msg: fmt.Sprintf("nats: config.tls is \"true\" but %s does not offer TLS", servers)}
	case errors.Is(err, natsgo.ErrSecureConnRequired):
		e = &destination.Error{Class: hirehook.ErrorClassTLS, Err: err,
			Msg: fmt.Sprintf("nats: %s requires TLS: set config.tls to \"true\"", servers)}
	case errors.Is(err, natsgo.ErrTLS) || isTLS(err):
		e = destination.Errorf(hirehook.ErrorClassTLS, "nats: connect to %s: %w", servers, err)
	default:
		class := destination.Classify(err)
		if class == hirehook.ErrorClassOther {
			class = hirehook.ErrorClassConnection
		}
		e = destination.Errorf(class, "nats: connect to %s: %w", servers, err)
	}
	return e
}

func isAuth(err error) bool {
	return errors.Is(err, natsgo.ErrAuthorization) || errors.Is(err, natsgo.ErrAuthExpired) ||
		errors.Is(err, natsgo.ErrAuthRevoked) || errors.Is(err, natsgo.ErrAccountAuthExpired)
}

func isTLS(err error) bool {
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	return errors.As(err, &recErr) || errors.As(err, &certErr)
}

// Publish publishes m to <subject>.<m.Type> and waits for a stream's
// PubAck. Errors are *destination.Error: rejected when no stream captures
// the subject or the stream refuses the message, auth for bad
// credentials or a denied subject, connection/timeout/dns/tls/
// forbidden_dest when the server could not be reached, in which case the
// connection is dropped so the next attempt dials again.
func (p *Publisher) Publish(ctx context.Context, t destination.Target, m destination.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	c, release, err := p.get(ctx, t)
	if err != nil {
		return "", p.failed(t, nil, err)
	}
	defer release()
	subject := c.cfg.subject + "." + m.Type
	if !validSubject(subject) {
		// Sent as is, a wildcard or blank would publish somewhere else or
		// make the server close the connection.
		return "", destination.Errorf(hirehook.ErrorClassOther, "nats: %q is not a subject to publish to (event type %q)", subject, m.Type)
	}
	msg := natsgo.NewMsg(subject)
	msg.Data = m.Body
	for k, v := range m.Headers {
		msg.Header.Set(k, v)
	}
	pctx, done := c.watch(ctx, subject)
	defer done()
	ack, err := c.js.PublishMsg(pctx, msg, jetstream.WithMsgID(m.ID))
	if err != nil {
		if errors.Is(context.Cause(pctx), errDenied) {
			err = errDenied
		}
		return "", p.failed(t, c, publishError(c, subject, len(m.Body), err))
	}
	if ack.Duplicate {
		return fmt.Sprintf("duplicate, already stored as seq %d in stream %s", ack.Sequence, ack.Stream), nil
	}
	return fmt.Sprintf("stream %s, seq %d", ack.Stream, ack.Sequence), nil
}

// validSubject reports whether s is a literal subject: dot-separated
// tokens, none empty, no wildcard, no white space.
func validSubject(s string) bool {
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return false
		}
	}
	return true
}

// get returns t's client, dialling again when the pooled one has closed
// (the server went away since the last publish): there is no point
// failing an attempt on a connection known to be dead.
func (p *Publisher) get(ctx context.Context, t destination.Target) (*client, func(), error) {
	c, release, err := p.pool.Get(ctx, t)
	if err != nil || !c.nc.IsClosed() {
		return c, release, err
	}
	release()
	p.pool.Drop(t.EndpointID, c)
	return p.pool.Get(ctx, t)
}

// failed drops t's client c (nil when none was had) when err says its connection is unusable and
// returns err as a *destination.Error.
func (p *Publisher) failed(t destination.Target, c *client, err error) error {
	var e *destination.Error
	if !errors.As(err, &e) {
		class := destination.Classify(err)
		e = destination.Errorf(class, "nats: %w", err)
	}
	switch e.Class {
	case hirehook.ErrorClassConnection, hirehook.ErrorClassTimeout, hirehook.ErrorClassDNS,
		hirehook.ErrorClassTLS, hirehook.ErrorClassForbidden, hirehook.ErrorClassOther:
		if c != nil {
			p.pool.Drop(t.EndpointID, c)
		}
	}
	return e
}

// publishError classifies a failed JetStream publish.
func publishError(c *client, subject string, size int, err error) *destination.Error {
	var apiErr *jetstream.APIError
	var e *destination.Error
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, natsgo.ErrNoResponders):
		e = destination.Errorf(hirehook.ErrorClassRejected, "nats: no JetStream stream captures subject %q: %w", subject, err)
	case errors.As(err, &apiErr):
		e = destination.Errorf(hirehook.ErrorClassRejected, "nats: JetStream refused the message on %q: %s (code %d): %w",
			subject, apiErr.Description, apiErr.ErrorCode, err)
	case errors.Is(err, natsgo.ErrMaxPayload):
		e = destination.Errorf(hirehook.ErrorClassRejected, "nats: message of %d bytes is over the server's max_payload of %d: %w",
			size, c.nc.MaxPayload(), err)
	case errors.Is(err, errDenied) || errors.Is(err, natsgo.ErrPermissionViolation):
		e = destination.Errorf(hirehook.ErrorClassAuth, "nats: %s may not publish to %q: %w", c.cfg.who(), subject, err)
	case isAuth(err):
		e = destination.Errorf(hirehook.ErrorClassAuth, "nats: authentication failed for %s: %w", c.cfg.who(), err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, natsgo.ErrTimeout):
		e = destination.Errorf(hirehook.ErrorClassTimeout, "nats: no PubAck for %q within the timeout: %w", subject, err)
	case errors.Is(err, natsgo.ErrConnectionClosed) || errors.Is(err, natsgo.ErrDisconnected) ||
		errors.Is(err, natsgo.ErrStaleConnection) || errors.Is(err, natsgo.ErrConnectionDraining):
		cause := err
		if last := c.nc.LastError(); last != nil {
			cause = fmt.Errorf("%w (%v)", err, last)
		}
		e = destination.Errorf(hirehook.ErrorClassConnection, "nats: publish to %q: %w", subject, cause)
	default:
		class := destination.Classify(err)
		if class == hirehook.ErrorClassOther && errors.Is(err, context.Canceled) {
			class = hirehook.ErrorClassTimeout
		}
		e = destination.Errorf(class, "nats: publish to %q: %w", subject, err)
	}
	return e
}
