// Package destination is the contract between the dispatcher and the
// broker kinds an endpoint may deliver to besides a webhook URL (Kafka,
// RabbitMQ, NATS JetStream, Google Pub/Sub; one package each below this
// one). A Publisher makes one attempt: it publishes the message a webhook
// would carry, with the Standard Webhooks headers as message headers, and
// returns nil only once the broker holds it durably. Retries, backoff,
// ordering, pausing and the attempt log are the dispatcher's, the same for
// every kind.
package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/netguard"
)

// Message is one delivery's message.
type Message struct {
	// ID is the event id (webhook-id): the same on every attempt, set as
	// each kind's message id (Kafka header, AMQP message_id, NATS
	// Nats-Msg-Id, a Pub/Sub attribute) so consumers, and JetStream
	// itself, can drop the duplicates at-least-once allows.
	ID string
	// Type is the event type ("placement.confirmed").
	Type string
	// OrderingKey is the delivery's subject ("candidate/cand_1") when the
	// endpoint is ordered, "" otherwise: Kafka's record key and Pub/Sub's
	// ordering key.
	OrderingKey string
	// Body is the signed body, byte for byte what a webhook would carry.
	Body []byte
	// Headers are the message's headers: webhook-id, webhook-timestamp,
	// webhook-signature, content-type, and the endpoint's own headers.
	Headers map[string]string
}

// Target is one endpoint's destination.
type Target struct {
	EndpointID string
	// Version changes whenever Config or Credentials change (the
	// endpoint's UpdatedAt): a Publisher holding a client for an older
	// version closes it and connects again.
	Version     time.Time
	Config      map[string]string
	Credentials map[string]string
}

// Publisher publishes to one kind of destination.
type Publisher interface {
	// Publish makes one attempt to publish m to t. It returns nil only when
	// the broker has confirmed that it holds the message durably, with a
	// short detail for the attempt log ("partition 2, offset 41"); any
	// other outcome is an error, an *Error when the Publisher can say what
	// kind of failure it was. An error never contains a credential.
	Publish(ctx context.Context, t Target, m Message) (detail string, err error)
	// Close closes every connection; Publish may not be called after it.
	Close() error
}

// Error is a failed publish, classified for the attempt log.
type Error struct {
	Class hirehook.ErrorClass
	Msg   string // safe to store and show: no credential, no body
	Err   error  // the cause, for errors.Is; never shown
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of class c.
func Errorf(c hirehook.ErrorClass, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Class: c, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Options configure a Publisher; every kind's New takes them.
type Options struct {
	// DialContext opens every connection a Publisher makes: it applies
	// the outbound address guard (private addresses refused unless
	// allowed, the operator's broker allow-list) and the connect timeout.
	// Nil means a guarded dialer allowing nothing private.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
	// Timeout bounds one Publish, the connect included when the client is
	// new; default 15 s.
	Timeout time.Duration
	// IdleTimeout closes a target's client after it has published nothing
	// for this long; default 5 minutes.
	IdleTimeout time.Duration
	// ClientID names the hub to the broker where the protocol has a name
	// (Kafka client.id, AMQP connection_name, NATS name).
	ClientID string
}

// WithDefaults fills o's zero fields.
func (o Options) WithDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.ClientID == "" {
		o.ClientID = "hirehook/" + hirehook.Version
	}
	if o.DialContext == nil {
		o.DialContext = netguard.Dialer(o.Timeout, false).DialContext
	}
	return o
}

// Classify turns a connection-level error into an error class: a
// timeout, a refused or reset connection, a name that did not resolve, a
// TLS failure, an address the guard refused. It returns ErrorClassOther
// when it cannot tell.
func Classify(err error) hirehook.ErrorClass {
	var de *Error
	var dnsErr *net.DNSError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &de):
		return de.Class
	case errors.Is(err, ErrForbidden):
		return hirehook.ErrorClassForbidden
	case errors.Is(err, context.DeadlineExceeded):
		return hirehook.ErrorClassTimeout
	case errors.As(err, &dnsErr):
		return hirehook.ErrorClassDNS
	case errors.As(err, &netErr) && netErr.Timeout():
		return hirehook.ErrorClassTimeout
	case errors.As(err, &opErr):
		return hirehook.ErrorClassConnection
	}
	return hirehook.ErrorClassOther
}

// ErrForbidden is what DialContext wraps when the guard refuses an
// address.
var ErrForbidden = netguard.ErrForbidden
