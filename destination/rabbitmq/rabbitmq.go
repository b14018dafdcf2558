// Package rabbitmq publishes deliveries to a RabbitMQ exchange over AMQP
// 0-9-1 (github.com/rabbitmq/amqp091-go).
//
// Durable means: the message is published persistent and mandatory on a
// channel in confirm mode, and the broker acked it without returning it.
// RabbitMQ sends basic.return (unroutable) before basic.ack, so an acked
// publish can still have reached no queue; each publish therefore has a
// channel to itself while it waits, and a return seen on that channel
// before the ack is that publish's. A nack, a return, a missing exchange or
// a refused permission is class rejected (or auth); anything that breaks
// the connection drops the pooled connection so the next attempt dials
// again.
package rabbitmq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
)

// maxIdleChannels is how many confirm-mode channels a connection keeps
// open between publishes; more concurrent publishes open more channels and
// close the extra ones afterwards.
const maxIdleChannels = 32

// Publisher publishes to RabbitMQ; one AMQP connection per endpoint.
type Publisher struct {
	o    destination.Options
	pool destination.Pool[*client]
}

// New returns a Publisher; o's zero fields take their defaults.
func New(o destination.Options) *Publisher {
	o = o.WithDefaults()
	p := &Publisher{o: o}
	p.pool = destination.Pool[*client]{
		OpenFunc: func(ctx context.Context, t destination.Target) (*client, error) {
			cfg, err := parseConfig(t)
			if err != nil {
				return nil, err
			}
			return p.dial(ctx, cfg)
		},
		CloseFunc:   func(c *client) { c.close(p.o.Timeout) },
		IdleTimeout: o.IdleTimeout,
	}
	return p
}

// config is a Target's config and credentials.
type config struct {
	address    string
	vhost      string
	exchange   string
	routingKey string // "" = the event type
	tls        bool
	username   string
	password   string
}

func parseConfig(t destination.Target) (config, error) {
	c := config{
		address:    t.Config["address"],
		vhost:      t.Config["vhost"],
		exchange:   t.Config["exchange"],
		routingKey: t.Config["routing_key"],
		username:   t.Credentials["username"],
		password:   t.Credentials["password"],
	}
	if c.vhost == "" {
		c.vhost = "/"
	}
	if _, _, err := net.SplitHostPort(c.address); err != nil {
		return config{}, destination.Errorf(hirehook.ErrorClassOther, "rabbitmq: config address %q is not host:port", c.address)
	}
	switch t.Config["tls"] {
	case "", "false":
	case "true":
		c.tls = true
	default:
		return config{}, destination.Errorf(hirehook.ErrorClassOther, "rabbitmq: config tls %q is neither \"true\" nor \"false\"", t.Config["tls"])
	}
	return c, nil
}

// client is one endpoint's connection and its idle confirm channels.
type client struct {
	conn *amqp.Connection
	raw  net.Conn // under conn (and its TLS); closing it aborts every call blocked on conn
	cfg  config

	mu   sync.Mutex
	idle []*channel
}

// channel is a confirm-mode channel, used by one publish at a time.
type channel struct {
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
}

// Publish publishes m to t's exchange and waits for the broker's ack.
func (p *Publisher) Publish(ctx context.Context, t destination.Target, m destination.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	cfg, err := parseConfig(t)
	if err != nil {
		return "", err
	}
	c, release, err := p.get(ctx, t, cfg)
	if err != nil {
		return "", err
	}
	defer release()
	detail, err := c.publish(ctx, p.o.Timeout, m)
	if err != nil {
		// A connection that failed or stayed silent until the deadline is
		// not reused: the next attempt dials again.
		if c.conn.IsClosed() || ctx.Err() != nil {
			p.pool.Drop(t.EndpointID, c)
		}
		return "", err
	}
	return detail, nil
}

// get returns t's connection. A pooled connection the broker has closed
// since its last use (a restart, a proxy in between) is dropped and dialled
// again, so the first attempt after an outage does not fail on it.
func (p *Publisher) get(ctx context.Context, t destination.Target, cfg config) (*client, func(), error) {
	for try := 0; ; try++ {
		c, release, err := p.pool.Get(ctx, t)
		if err != nil {
			return nil, nil, p.connectError(ctx, cfg, err)
		}
		if !c.conn.IsClosed() || try > 0 {
			return c, release, nil
		}
		release()
		p.pool.Drop(t.EndpointID, c)
	}
}

// Close closes every connection.
func (p *Publisher) Close() error {
	p.pool.Close()
	return nil
}

func (p *Publisher) dial(ctx context.Context, cfg config) (*client, error) {
	// DialConfig calls Dial in this goroutine, before it returns: c.raw
	// is set before c is shared.
	c := &client{cfg: cfg}
	acfg := amqp.Config{
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: cfg.username, Password: cfg.password}},
		Vhost:      cfg.vhost,
		Properties: amqp.NewConnectionProperties(),
		Dial: func(network, addr string) (net.Conn, error) {
			conn, err := p.o.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The TLS and AMQP handshakes are not context-aware: the
			// socket's deadline bounds them (amqp091 clears it once the
			// connection is open).
			if dl, ok := ctx.Deadline(); ok {
				if err := conn.SetDeadline(dl); err != nil {
					conn.Close()
					return nil, err
				}
			}
			c.raw = conn
			return conn, nil
		},
	}
	acfg.Properties.SetClientConnectionName(p.o.ClientID)
	scheme := "amqp"
	if cfg.tls {
		scheme = "amqps"
		host, _, _ := net.SplitHostPort(cfg.address)
		acfg.TLSClientConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	// The URL carries only the address: credentials and vhost are in acfg.
	conn, err := amqp.DialConfig(scheme+"://"+cfg.address+"/", acfg)
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return c, nil
}

// close closes the connection, waiting at most timeout for the broker's
// close-ok.
func (c *client) close(timeout time.Duration) {
	c.conn.CloseDeadline(time.Now().Add(timeout))
	c.abort()
}

// abort closes the socket under the connection: every call blocked on it
// returns.
func (c *client) abort() {
	if c.raw != nil {
		c.raw.Close()
	}
}

// guard runs f, which may block on the connection without heeding ctx
// (opening or closing a channel, writing a publish while the broker applies
// flow control); if ctx ends first the connection is aborted so f returns
// and Publish keeps to its timeout. Other publishes on the connection fail
// with it, as they would have soon: a broker that does not answer a
// channel.open within the timeout is not one to keep a connection to.
func (c *client) guard(ctx context.Context, f func() error) error {
	stop := context.AfterFunc(ctx, c.abort)
	err := f()
	stop()
	return err
}

func (c *client) channel(ctx context.Context) (*channel, error) {
	c.mu.Lock()
	for len(c.idle) > 0 {
		ch := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if !ch.ch.IsClosed() {
			c.mu.Unlock()
			return ch, nil
		}
	}
	c.mu.Unlock()
	var ch *channel
	err := c.guard(ctx, func() error {
		ach, err := c.conn.Channel()
		if err != nil {
			return err
		}
		if err := ach.Confirm(false); err != nil {
			ach.Close()
			return err
		}
		ch = &channel{
			ch:      ach,
			returns: ach.NotifyReturn(make(chan amqp.Return, 4)),
			closes:  ach.NotifyClose(make(chan *amqp.Error, 1)),
		}
		return nil
	})
	return ch, err
}

// put returns ch to the idle channels after a publish that ended with its
// ack or nack, or closes it when enough are idle.
func (c *client) put(ctx context.Context, ch *channel) {
	c.mu.Lock()
	if len(c.idle) < maxIdleChannels && !ch.ch.IsClosed() {
		c.idle = append(c.idle, ch)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.guard(ctx, ch.ch.Close)
}

func (c *client) publish(ctx context.Context, timeout time.Duration, m destination.Message) (string, error) {
	exchange, key := c.cfg.exchange, c.cfg.routingKey
	if key == "" {
		key = m.Type
	}
	ch, err := c.channel(ctx)
	if err != nil {
		return "", c.publishError(ctx, timeout, exchange, key, err)
	}
	headers := make(amqp.Table, len(m.Headers))
	for k, v := range m.Headers {
		headers[k] = v
	}
	msg := amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    m.ID,
		Type:         m.Type,
		Timestamp:    time.Now(),
		Body:         m.Body,
	}
	var dc *amqp.DeferredConfirmation
	err = c.guard(ctx, func() error {
		var err error
		dc, err = ch.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
		return err
	})
	if err != nil {
		// The channel may hold a half-sent publish: never reuse it.
		ch.ch.Close()
		return "", c.publishError(ctx, timeout, exchange, key, err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		// A late ack or return would land on the next publish: the
		// channel goes (Publish drops the whole connection).
		return "", c.publishError(ctx, timeout, exchange, key, err)
	}
	// The reader goroutine hands a basic.return to ch.returns before it
	// handles the basic.ack that follows it, so once dc is done any return
	// for this publish is already buffered.
	returned := false
	for drained := false; !drained; {
		select {
		case r, ok := <-ch.returns:
			// Closed with the channel (a missing exchange closes it).
			drained = !ok
			if ok && r.MessageId == m.ID {
				returned = true
			}
		default:
			drained = true
		}
	}
	if !acked {
		// Done without an ack: a nack, or the channel or connection closed.
		select {
		case cerr := <-ch.closes:
			if cerr != nil {
				return "", c.publishError(ctx, timeout, exchange, key, cerr)
			}
		default:
		}
		if c.conn.IsClosed() || ch.ch.IsClosed() {
			return "", c.publishError(ctx, timeout, exchange, key, amqp.ErrClosed)
		}
		c.put(ctx, ch)
		return "", &destination.Error{Class: hirehook.ErrorClassRejected,
			Msg: fmt.Sprintf("rabbitmq: the broker nacked the message (exchange %q, routing key %q): it did not take it durably", exchange, key)}
	}
	c.put(ctx, ch)
	if returned {
		if exchange == "" {
			return "", &destination.Error{Class: hirehook.ErrorClassRejected,
				Msg: fmt.Sprintf("rabbitmq: message unroutable: the default exchange has no queue named %q (the routing key)", key)}
		}
		return "", &destination.Error{Class: hirehook.ErrorClassRejected,
			Msg: fmt.Sprintf("rabbitmq: message unroutable: exchange %q has no queue bound for routing key %q", exchange, key)}
	}
	return fmt.Sprintf("confirmed: exchange %q, routing key %q", exchange, key), nil
}

// publishError classifies an error of a publish on an open connection.
func (c *client) publishError(ctx context.Context, timeout time.Duration, exchange, key string, err error) *destination.Error {
	var de *destination.Error
	if errors.As(err, &de) {
		return de
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &destination.Error{Class: hirehook.ErrorClassTimeout, Err: err,
				Msg: fmt.Sprintf("rabbitmq: no confirmation from %s within %v", c.cfg.address, timeout)}
		}
		return &destination.Error{Class: hirehook.ErrorClassOther, Err: err, Msg: "rabbitmq: publish cancelled"}
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) || c.conn.IsClosed() || !ae.Server {
		return &destination.Error{Class: hirehook.ErrorClassConnection, Err: err,
			Msg: fmt.Sprintf("rabbitmq: connection to %s lost before the broker confirmed", c.cfg.address)}
	}
	switch ae.Code {
	case amqp.NotFound:
		return &destination.Error{Class: hirehook.ErrorClassRejected, Err: err,
			Msg: fmt.Sprintf("rabbitmq: exchange %q does not exist in vhost %q", exchange, c.cfg.vhost)}
	case amqp.AccessRefused:
		return &destination.Error{Class: hirehook.ErrorClassAuth, Err: err,
			Msg: fmt.Sprintf("rabbitmq: user %q may not publish to exchange %q in vhost %q", c.cfg.username, exchange, c.cfg.vhost)}
	}
	// The broker's reason names what it refused (a size limit, a
	// precondition); it never carries a credential.
	return &destination.Error{Class: hirehook.ErrorClassRejected, Err: err,
		Msg: fmt.Sprintf("rabbitmq: the broker closed the channel: %d %s (exchange %q, routing key %q)", ae.Code, ae.Reason, exchange, key)}
}

// connectError classifies an error of dialling and opening a connection.
func (p *Publisher) connectError(ctx context.Context, cfg config, err error) *destination.Error {
	var de *destination.Error
	if errors.As(err, &de) {
		return de
	}
	addr := cfg.address
	e := func(class hirehook.ErrorClass, format string, args ...any) *destination.Error {
		return &destination.Error{Class: class, Err: err, Msg: fmt.Sprintf(format, args...)}
	}
	var ae *amqp.Error
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	var alert tls.AlertError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, destination.ErrForbidden):
		return e(hirehook.ErrorClassForbidden, "rabbitmq: %s is a private address, refused by the outbound address guard", addr)
	case errors.Is(err, amqp.ErrCredentials), errors.Is(err, amqp.ErrSASL):
		return e(hirehook.ErrorClassAuth, "rabbitmq: authentication failed for user %q", cfg.username)
	case errors.Is(err, amqp.ErrVhost):
		return e(hirehook.ErrorClassAuth, "rabbitmq: user %q may not access vhost %q", cfg.username, cfg.vhost)
	case errors.As(err, &ae) && ae.Server && ae.Code == amqp.AccessRefused:
		return e(hirehook.ErrorClassAuth, "rabbitmq: authentication failed for user %q", cfg.username)
	case errors.As(err, &ae) && ae.Server && ae.Code == amqp.NotAllowed:
		// 530: no access to the vhost, or a connection limit reached; the
		// broker's reason says which and names no secret.
		return e(hirehook.ErrorClassAuth, "rabbitmq: user %q may not open vhost %q: %s", cfg.username, cfg.vhost, ae.Reason)
	case errors.As(err, &recErr), errors.As(err, &certErr), errors.As(err, &alert),
		errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return e(hirehook.ErrorClassTLS, "rabbitmq: TLS handshake with %s failed: %v", addr, err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return e(hirehook.ErrorClassOther, "rabbitmq: connecting to %s cancelled", addr)
	}
	// The socket's deadline (ctx's) ends a silent handshake a moment
	// before ctx itself expires, with an error that amqp091 flattens to text.
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) ||
		destination.Classify(err) == hirehook.ErrorClassTimeout {
		return e(hirehook.ErrorClassTimeout, "rabbitmq: connecting to %s timed out after %v", addr, p.o.Timeout)
	}
	switch destination.Classify(err) {
	case hirehook.ErrorClassDNS:
		return e(hirehook.ErrorClassDNS, "rabbitmq: cannot resolve %s", addr)
	case hirehook.ErrorClassConnection:
		return e(hirehook.ErrorClassConnection, "rabbitmq: cannot connect to %s: %v", addr, err)
	}
	if errors.As(err, &ae) && !ae.Server {
		// The socket closed during the handshake.
		return e(hirehook.ErrorClassConnection, "rabbitmq: %s closed the connection during the handshake", addr)
	}
	return e(hirehook.ErrorClassOther, "rabbitmq: connecting to %s: %v", addr, err)
}
