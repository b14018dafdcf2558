// Package kafka publishes deliveries to a Kafka topic with franz-go: one
// idempotent producer per endpoint, acks from all in-sync replicas, the
// webhook's headers as record headers, the delivery's subject (or the
// event id) as the record key.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
)

// Publisher produces to Kafka; it implements destination.Publisher.
type Publisher struct {
	o    destination.Options
	pool destination.Pool[*client]
}

// client is one endpoint's producer and what its connections last
// reported: franz-go retries a failed connect until the record times out
// and then says only that, so the cause is taken from its connect hook.
type client struct {
	kc       *kgo.Client
	lastConn atomic.Pointer[error] // the last connect's error, nil after one that worked
	// fatal is closed with fatalErr set when a connect failed in a way no
	// retry with this client can fix (the guard refused the address, the
	// broker refused the credentials): Publish need not wait for its
	// deadline.
	fatal     chan struct{}
	fatalOnce sync.Once
	fatalErr  error
	closed    atomic.Bool // for tests
}

// tlsError is a failed TLS handshake.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// OnBrokerConnect implements kgo.HookBrokerConnect; err covers the dial,
// the TLS handshake and the SASL exchange.
func (c *client) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		c.lastConn.Store(nil)
		return
	}
	err = fmt.Errorf("connect to %s: %w", net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), err)
	c.lastConn.Store(&err)
	if errors.Is(err, destination.ErrForbidden) || isAuth(err) {
		c.setFatal(err)
	}
}

// errSASLClosed: the broker closed the connection instead of answering
// the credentials, as some brokers (kfake, old Kafka) do to a wrong
// password where Kafka answers SASL_AUTHENTICATION_FAILED.
var errSASLClosed = errors.New("the broker closed the connection in answer to the SASL credentials")

// OnBrokerRead implements kgo.HookBrokerRead, to see a connection closed
// in answer to the credentials (the connect hook then says only EOF).
func (c *client) OnBrokerRead(meta kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == kmsg.SASLAuthenticate.Int16() && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		c.setFatal(fmt.Errorf("connect to %s: %w", net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), errSASLClosed))
	}
}

func (c *client) setFatal(err error) {
	c.fatalOnce.Do(func() { c.fatalErr = err; close(c.fatal) })
}

// New returns a Publisher; o is completed with its defaults.
func New(o destination.Options) *Publisher {
	p := &Publisher{o: o.WithDefaults()}
	p.pool = destination.Pool[*client]{
		OpenFunc:    p.open,
		CloseFunc:   func(c *client) { c.kc.Close(); c.closed.Store(true) },
		IdleTimeout: p.o.IdleTimeout,
	}
	return p
}

// Close closes every endpoint's producer; records still buffered fail.
func (p *Publisher) Close() error {
	p.pool.Close()
	return nil
}

// Publish produces m to t's topic and returns once every in-sync replica
// holds it, with "partition P, offset O" as its detail.
func (p *Publisher) Publish(ctx context.Context, t destination.Target, m destination.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	c, release, err := p.pool.Get(ctx, t)
	if err != nil {
		return "", p.fail(t, nil, err)
	}
	defer release()

	rec := &kgo.Record{Key: []byte(m.OrderingKey), Value: m.Body}
	if m.OrderingKey == "" {
		rec.Key = []byte(m.ID)
	}
	rec.Headers = make([]kgo.RecordHeader, 0, len(m.Headers)+1)
	for k, v := range m.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	if _, ok := m.Headers[hirehook.HeaderWebhookID]; !ok {
		// The event id travels as webhook-id whatever the caller set:
		// consumers drop duplicates by it.
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: hirehook.HeaderWebhookID, Value: []byte(m.ID)})
	}
	// Buffered so that a promise running after we gave up does not block
	// the client's goroutine.
	done := make(chan error, 1)
	c.kc.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err = <-done:
	case <-c.fatal:
		err = c.fatalErr
	case <-ctx.Done():
		// franz-go fails an in-flight idempotent record only when that is
		// safe for its sequence numbers, which may be later than our
		// deadline; the record is abandoned here, and dropping the client
		// below closes it, so it cannot be delivered behind our back.
		err = ctx.Err()
	}
	if err != nil {
		return "", p.fail(t, c, err)
	}
	// The brokers answered: a connect that failed earlier is no longer
	// the cause of whatever fails next.
	c.lastConn.Store(nil)
	return fmt.Sprintf("partition %d, offset %d", rec.Partition, rec.Offset), nil
}

// fail classifies err as a *destination.Error and drops t's client unless
// the broker answered (a missing topic or an oversized message leaves the
// connection fine).
func (p *Publisher) fail(t destination.Target, c *client, err error) error {
	de := classify(t, c, err)
	if de.Class != hirehook.ErrorClassRejected {
		p.pool.Drop(t.EndpointID, c)
	}
	return de
}

func classify(t destination.Target, c *client, err error) *destination.Error {
	var de *destination.Error
	if errors.As(err, &de) {
		return de
	}
	topic := t.Config["topic"]
	user := t.Credentials["username"]
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return &destination.Error{Class: hirehook.ErrorClassRejected, Err: err,
			Msg: fmt.Sprintf("kafka: topic %q does not exist", topic)}
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return &destination.Error{Class: hirehook.ErrorClassRejected, Err: err,
			Msg: fmt.Sprintf("kafka: message too large for topic %q", topic)}
	case isAuth(err):
		return &destination.Error{Class: hirehook.ErrorClassAuth, Err: err,
			Msg: fmt.Sprintf("kafka: authentication failed for user %q", user)}
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return &destination.Error{Class: hirehook.ErrorClassAuth, Err: err,
			Msg: fmt.Sprintf("kafka: user %q may not write to topic %q", user, topic)}
	}
	if c != nil {
		if cerr := c.lastConn.Load(); cerr != nil {
			// Whatever franz-go reports (a record timeout, our deadline),
			// the cause is the connection that could not be made.
			return connFailure(*cerr)
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		// The broker answered, but with an error that franz-go did not
		// retry past (not enough in-sync replicas, a corrupt record, ...).
		return &destination.Error{Class: hirehook.ErrorClassRejected, Err: err,
			Msg: fmt.Sprintf("kafka: broker refused the record for topic %q: %s", topic, ke.Message)}
	}
	switch {
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, context.DeadlineExceeded):
		return &destination.Error{Class: hirehook.ErrorClassTimeout, Err: err,
			Msg: fmt.Sprintf("kafka: no acknowledgement from the brokers for topic %q in time", topic)}
	case errors.Is(err, kgo.ErrClientClosed), errors.Is(err, destination.ErrClosed):
		return &destination.Error{Class: hirehook.ErrorClassOther, Err: err, Msg: "kafka: publisher closed"}
	}
	if class := destination.Classify(err); class != hirehook.ErrorClassOther {
		return &destination.Error{Class: class, Err: err, Msg: "kafka: " + err.Error()}
	}
	return &destination.Error{Class: hirehook.ErrorClassOther, Err: err, Msg: "kafka: " + err.Error()}
}

// connFailure classifies a failed connect.
func connFailure(err error) *destination.Error {
	var te *tlsError
	class := destination.Classify(err)
	switch {
	case errors.As(err, &te):
		class = hirehook.ErrorClassTLS
	case class == hirehook.ErrorClassOther:
		class = hirehook.ErrorClassConnection
	}
	return &destination.Error{Class: class, Err: err, Msg: "kafka: " + err.Error()}
}

func isAuth(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, errSASLClosed) || errors.Is(err, kerr.IllegalSaslState) ||
		errors.Is(err, kerr.UnsupportedSaslMechanism)
}

// open makes t's producer. franz-go connects lazily, on the first
// produce, so open fails only on a config it cannot use.
func (p *Publisher) open(_ context.Context, t destination.Target) (*client, error) {
	brokers := splitList(t.Config["brokers"])
	topic := t.Config["topic"]
	if len(brokers) == 0 || topic == "" {
		return nil, destination.Errorf(hirehook.ErrorClassOther, "kafka: config needs brokers and topic")
	}
	c := &client{fatal: make(chan struct{})}
	var tlsConfig *tls.Config
	if t.Config["tls"] == "true" {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12} // system roots
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(p.o.ClientID),
		kgo.Dialer(dialer(p.o.DialContext, p.o.Timeout/2, tlsConfig)),
		kgo.WithHooks(c),
		kgo.DefaultProduceTopic(topic),
		// Idempotent producing (franz-go's default) needs acks=all: a
		// record is durable once every in-sync replica holds it, and a
		// retried produce is not written twice.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Every Publish waits for its ack, so lingering would only add
		// latency; concurrent publishes still share requests.
		kgo.ProducerLinger(0),
		// Bounded so an attempt fails within Timeout instead of franz-go
		// retrying forever; the dispatcher owns the retries.
		kgo.RecordDeliveryTimeout(p.o.Timeout),
		kgo.RecordRetries(10),
		kgo.ProduceRequestTimeout(p.o.Timeout),
		kgo.RequestTimeoutOverhead(p.o.Timeout),
		kgo.RetryTimeout(p.o.Timeout),
		kgo.DialTimeout(p.o.Timeout),
		// Not kgo.AllowAutoTopicCreation: a topic that does not exist is
		// the endpoint's mistake, to be shown, not a topic to make.
	}
	mech, err := saslMechanism(t)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	kc, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, destination.Errorf(hirehook.ErrorClassOther, "kafka: client for topic %q: %w", topic, err)
	}
	c.kc = kc
	return c, nil
}

// dialer dials through the guard (every connection, seeds and the
// brokers metadata names alike) and adds TLS itself (franz-go refuses
// DialTLSConfig beside a custom Dialer). A connect gets half a Publish's
// time, so that a hung handshake is seen as the cause when the Publish
// times out.
func dialer(dial func(ctx context.Context, network, address string) (net.Conn, error), timeout time.Duration, tlsConfig *tls.Config) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := dial(ctx, network, address)
		if err != nil || tlsConfig == nil {
			return conn, err
		}
		cfg := tlsConfig.Clone()
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, &tlsError{fmt.Errorf("tls handshake: %w", err)}
		}
		return tc, nil
	}
}

// saslMechanism returns t's SASL mechanism, nil for none.
func saslMechanism(t destination.Target) (sasl.Mechanism, error) {
	user, pass := t.Credentials["username"], t.Credentials["password"]
	switch m := t.Config["sasl_mechanism"]; m {
	case "":
		return nil, nil
	case "plain":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "scram-sha-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	default:
		return nil, destination.Errorf(hirehook.ErrorClassOther, "kafka: unknown sasl_mechanism %q", m)
	}
}

// splitList splits the brokers list as hirehook.ValidateDestination
// does: comma-separated, blanks trimmed, empty entries dropped.
func splitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var _ destination.Publisher = (*Publisher)(nil)
