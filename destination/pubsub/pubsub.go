// Package pubsub publishes a delivery's message to a Google Cloud Pub/Sub
// topic (endpoint kind gcp_pubsub). A message is durable once Pub/Sub has
// answered the Publish call with a message id: the service stores a message
// before it gives out its id.
//
// The body is the message's data, byte for byte; every header
// (webhook-id, webhook-timestamp, webhook-signature, content-type, the
// endpoint's own) is an attribute; the delivery's subject is the ordering
// key.
package pubsub

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gpubsub "cloud.google.com/go/pubsub/v2"
	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
)

// googleEndpoint is Pub/Sub's global endpoint. It is named explicitly so
// that PUBSUB_EMULATOR_HOST in the hub's environment, which the library
// honours, cannot send a tenant's messages to an emulator: the library's
// emulator options come before ours, so ours win.
const googleEndpoint = "pubsub.googleapis.com:443"

// Pub/Sub's limits on attributes
// (https://cloud.google.com/pubsub/quotas#resource_limits), checked here
// so the attempt log says which header broke them.
const (
	maxAttributes     = 100
	maxAttributeKey   = 256
	maxAttributeValue = 1024
)

// Publisher publishes to Pub/Sub topics, one client per endpoint.
type Publisher struct {
	o    destination.Options
	pool destination.Pool[*client]
}

// New returns a Publisher; o's zero fields take their defaults.
func New(o destination.Options) *Publisher {
	p := &Publisher{o: o.WithDefaults()}
	p.pool = destination.Pool[*client]{
		OpenFunc:    p.open,
		CloseFunc:   (*client).close,
		IdleTimeout: p.o.IdleTimeout,
	}
	return p
}

// client is one endpoint's connection and its topic's publisher.
type client struct {
	c        *gpubsub.Client
	pub      *gpubsub.Publisher
	where    string // "projects/p/topics/t" and the endpoint, for messages
	endpoint string // host:port dialled
	account  string // the service account's e-mail, "" with an emulator

	mu      sync.Mutex
	dialErr error         // the last dial's error, nil after a dial succeeded
	refused chan struct{} // closed when the guard refused an address
}

// dial opens every gRPC connection of the client through the guard, and
// remembers why the last one failed: gRPC only reports "unavailable", and
// the attempt log should say refused, unresolved or forbidden.
func (c *client) dial(ctx context.Context, dialContext func(context.Context, string, string) (net.Conn, error), addr string) (net.Conn, error) {
	conn, err := dialContext(ctx, "tcp", addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dialErr = err
	if err != nil && errors.Is(err, destination.ErrForbidden) {
		select {
		case <-c.refused:
		default:
			close(c.refused)
		}
	}
	return conn, err
}

func (c *client) lastDialErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dialErr
}

// close closes the connections first: a publish the library still retries
// then fails at once, so Stop does not wait for the retries to run out.
func (c *client) close() {
	_ = c.c.Close()
	c.pub.Stop()
}

// serviceAccount is what the hub checks of a service_account_json before
// the library sees it: a key of another type (an external account, an
// authorized user) could make the library fetch tokens or files the hub's
// host can reach.
type serviceAccount struct {
	Type        string `json:"type"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
}

// parseServiceAccount checks a key without echoing any of it but the
// account's e-mail.
func parseServiceAccount(raw string) (serviceAccount, error) {
	var sa serviceAccount
	if err := json.Unmarshal([]byte(raw), &sa); err != nil {
		return sa, errors.New("pubsub: credentials.service_account_json is not JSON")
	}
	if sa.Type != "service_account" {
		return sa, errors.New(`pubsub: credentials.service_account_json is not a service account key (want "type": "service_account")`)
	}
	if sa.ClientEmail == "" || sa.PrivateKey == "" {
		return sa, errors.New("pubsub: credentials.service_account_json lacks client_email or private_key")
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return sa, fmt.Errorf("pubsub: the private_key of service account %q is not PEM", sa.ClientEmail)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return sa, fmt.Errorf("pubsub: the private_key of service account %q is not an RSA key", sa.ClientEmail)
		}
	}
	return sa, nil
}

// open makes t's client. It does not connect: gRPC dials in the
// background, and the first Publish waits for it.
func (p *Publisher) open(ctx context.Context, t destination.Target) (*client, error) {
	project, topic := t.Config["project_id"], t.Config["topic"]
	if project == "" || topic == "" {
		return nil, destination.Errorf(hirehook.ErrorClassOther, "pubsub: config.project_id and config.topic are required")
	}
	c := &client{endpoint: t.Config["endpoint"], refused: make(chan struct{})}
	opts := []option.ClientOption{
		option.WithGRPCDialOption(grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return c.dial(ctx, p.o.DialContext, addr)
		})),
		// One connection carries an endpoint's concurrent publishes
		// (HTTP/2 streams); the library's default opens up to four for
		// each of its two admin clients.
		option.WithGRPCConnectionPool(1),
		// The library's OpenTelemetry handler would report to whatever
		// global provider the process has; the hub keeps its own metrics.
		option.WithTelemetryDisabled(),
		option.WithUserAgent(p.o.ClientID),
	}
	if c.endpoint != "" {
		opts = append(opts,
			option.WithEndpoint(c.endpoint),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	} else {
		raw := t.Credentials["service_account_json"]
		if raw == "" {
			return nil, destination.Errorf(hirehook.ErrorClassAuth, "pubsub: credentials.service_account_json is required without config.endpoint")
		}
		sa, err := parseServiceAccount(raw)
		if err != nil {
			return nil, &destination.Error{Class: hirehook.ErrorClassAuth, Msg: err.Error()}
		}
		c.account = sa.ClientEmail
		c.endpoint = googleEndpoint
		// Only the tenant's key, never the host's default credentials;
		// the library signs its own tokens with it (self-signed JWT), so
		// no token request leaves the hub besides the gRPC connection.
		opts = append(opts,
			option.WithEndpoint(googleEndpoint),
			option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(raw)))
	}
	c.where = "projects/" + project + "/topics/" + topic
	// NewClient only sets up: the connection is made in the background,
	// so ctx (one attempt's) must not outlive it.
	gc, err := gpubsub.NewClientWithConfig(context.WithoutCancel(ctx), project, clientConfig, opts...)
	if err != nil {
		// The library's text may quote the key: keep it out of Msg.
		if c.account != "" {
			return nil, &destination.Error{Class: hirehook.ErrorClassAuth, Msg: fmt.Sprintf("pubsub: cannot use the key of service account %q", c.account), Err: err}
		}
		return nil, &destination.Error{Class: hirehook.ErrorClassOther, Msg: "pubsub: cannot set up a client for " + c.endpoint, Err: err}
	}
	c.c = gc
	c.pub = gc.Publisher(c.where)
	c.pub.PublishSettings = publishSettings(p.o.Timeout)
	c.pub.EnableMessageOrdering = true
	return c, nil
}

// clientConfig retries a Publish call as the library does (its default
// codes and backoff), but not on Canceled: that is what every call gets
// once the client is closed, and retrying it would hold close (and the
// attempt that dropped the client) until the timeout.
var clientConfig = &gpubsub.ClientConfig{
	TopicAdminCallOptions: &vkit.TopicAdminCallOptions{
		Publish: []gax.CallOption{gax.WithRetry(func() gax.Retryer {
			return gax.OnCodes([]codes.Code{
				codes.Aborted, codes.Internal, codes.ResourceExhausted,
				codes.Unknown, codes.Unavailable, codes.DeadlineExceeded,
			}, gax.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 4})
		})},
	},
}

// publishSettings are tuned for the hub: each attempt waits for its own
// message id, so a message goes out at once in its own call
// (CountThreshold 1). Measured with BenchmarkPublish against pstest: a
// 1 ms DelayThreshold with batches of 100 made one-at-a-time publishes
// (an ordered subject's) ten times slower (1.7 ms against 0.17 ms) and
// concurrent ones no faster. Timeout stops the library retrying a message
// after the attempt has given up on it.
func publishSettings(timeout time.Duration) gpubsub.PublishSettings {
	s := gpubsub.DefaultPublishSettings
	s.CountThreshold = 1
	s.Timeout = timeout
	return s
}

// Publish publishes m to t's topic and waits for Pub/Sub's message id.
func (p *Publisher) Publish(ctx context.Context, t destination.Target, m destination.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	attrs, err := attributes(m)
	if err != nil {
		return "", err
	}
	c, release, err := p.pool.Get(ctx, t)
	if err != nil {
		var de *destination.Error
		if errors.As(err, &de) {
			return "", de
		}
		// Another attempt is connecting and ctx ended first.
		return "", &destination.Error{Class: destination.Classify(err), Msg: fmt.Sprintf("pubsub: no connection to %s within %v", endpointOf(t), p.o.Timeout), Err: err}
	}
	defer release()
	msg := &gpubsub.Message{Data: m.Body, Attributes: attrs, OrderingKey: m.OrderingKey}
	id, err := c.publish(ctx, msg)
	if errors.As(err, new(gpubsub.ErrPublishingPaused)) {
		// An earlier attempt's failure paused the key in the library; the
		// dispatcher orders and retries, so the key goes on. This message
		// was never sent.
		c.pub.ResumePublish(m.OrderingKey)
		id, err = c.publish(ctx, msg)
	}
	if err != nil {
		if m.OrderingKey != "" {
			c.pub.ResumePublish(m.OrderingKey)
		}
		de := p.classify(c, err)
		switch de.Class {
		case hirehook.ErrorClassConnection, hirehook.ErrorClassTimeout, hirehook.ErrorClassDNS,
			hirehook.ErrorClassTLS, hirehook.ErrorClassForbidden:
			p.pool.Drop(t.EndpointID, c)
		}
		return "", de
	}
	return "message id " + id, nil
}

// endpointOf is the host:port t's client dials.
func endpointOf(t destination.Target) string {
	if ep := t.Config["endpoint"]; ep != "" {
		return ep
	}
	return googleEndpoint
}

// errRefused stands for the guard's refusal, seen by the dialer.
var errRefused = errors.New("address refused by the guard")

func (c *client) publish(ctx context.Context, msg *gpubsub.Message) (string, error) {
	r := c.pub.Publish(ctx, msg)
	select {
	case <-r.Ready():
	case <-c.refused:
		// gRPC would retry the forbidden address until the timeout.
		return "", errRefused
	case <-ctx.Done():
	}
	return r.Get(ctx)
}

// attributes are m's headers, checked against Pub/Sub's rules.
func attributes(m destination.Message) (map[string]string, error) {
	attrs := make(map[string]string, len(m.Headers)+1)
	for k, v := range m.Headers {
		attrs[k] = v
	}
	if _, ok := attrs[hirehook.HeaderWebhookID]; !ok && m.ID != "" {
		attrs[hirehook.HeaderWebhookID] = m.ID
	}
	if len(attrs) > maxAttributes {
		return nil, destination.Errorf(hirehook.ErrorClassRejected, "pubsub: %d headers, more than Pub/Sub's %d attributes", len(attrs), maxAttributes)
	}
	for k, v := range attrs {
		switch {
		case k == "" || len(k) > maxAttributeKey || !utf8.ValidString(k):
			return nil, destination.Errorf(hirehook.ErrorClassRejected, "pubsub: header name %.40q is not a Pub/Sub attribute key (1 to %d bytes of UTF-8)", k, maxAttributeKey)
		case strings.HasPrefix(strings.ToLower(k), "goog"):
			return nil, destination.Errorf(hirehook.ErrorClassRejected, "pubsub: header %q: attribute keys starting with \"goog\" are reserved by Pub/Sub", k)
		case len(v) > maxAttributeValue || !utf8.ValidString(v):
			// The value is not shown: an endpoint's header may carry a token.
			return nil, destination.Errorf(hirehook.ErrorClassRejected, "pubsub: header %q: the value is not a Pub/Sub attribute value (at most %d bytes of UTF-8)", k, maxAttributeValue)
		}
	}
	return attrs, nil
}

// classify turns a publish error into a *destination.Error. Pub/Sub's own
// text is kept in Err only: it may quote attributes.
func (p *Publisher) classify(c *client, err error) *destination.Error {
	where, endpoint, account := c.where, c.endpoint, c.account
	dialErr := c.lastDialErr()
	fail := func(class hirehook.ErrorClass, format string, args ...any) *destination.Error {
		return &destination.Error{Class: class, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	who := ""
	if account != "" {
		who = fmt.Sprintf(" (service account %q)", account)
	}
	if errors.Is(err, errRefused) || errors.Is(err, destination.ErrForbidden) {
		return fail(hirehook.ErrorClassForbidden, "pubsub: the outbound guard refused %s's address", endpoint)
	}
	// Deadlines and unavailability: the dialer knows whether the
	// connection itself failed.
	code := status.Code(err)
	if errors.Is(err, context.DeadlineExceeded) || code == codes.DeadlineExceeded || code == codes.Unavailable || code == codes.Canceled {
		if dialErr != nil {
			class := destination.Classify(dialErr)
			if class == hirehook.ErrorClassOther {
				class = hirehook.ErrorClassConnection
			}
			return &destination.Error{Class: class, Msg: fmt.Sprintf("pubsub: cannot connect to %s: %v", endpoint, dialErr), Err: errors.Join(err, dialErr)}
		}
		if code == codes.Unavailable {
			return fail(hirehook.ErrorClassConnection, "pubsub: %s is unavailable", endpoint)
		}
		if errors.Is(err, context.Canceled) || code == codes.Canceled {
			return fail(hirehook.ErrorClassOther, "pubsub: publish to %s canceled", where)
		}
		return fail(hirehook.ErrorClassTimeout, "pubsub: no message id from %s within %v", endpoint, p.o.Timeout)
	}
	switch code {
	case codes.NotFound:
		return fail(hirehook.ErrorClassRejected, "pubsub: topic %s not found", where)
	case codes.PermissionDenied:
		return fail(hirehook.ErrorClassAuth, "pubsub: permission to publish to %s denied%s", where, who)
	case codes.Unauthenticated:
		return fail(hirehook.ErrorClassAuth, "pubsub: credentials refused by %s%s", endpoint, who)
	case codes.InvalidArgument:
		return fail(hirehook.ErrorClassRejected, "pubsub: %s refused the message as invalid (too large, or a bad attribute)", where)
	case codes.ResourceExhausted:
		return fail(hirehook.ErrorClassRejected, "pubsub: %s refused the message: quota or size limit exceeded", where)
	case codes.FailedPrecondition:
		return fail(hirehook.ErrorClassRejected, "pubsub: %s refused the message: failed precondition", where)
	}
	if errors.Is(err, gpubsub.ErrOversizedMessage) {
		return fail(hirehook.ErrorClassRejected, "pubsub: the message is larger than Pub/Sub accepts")
	}
	if errors.Is(err, gpubsub.ErrPublisherStopped) || errors.Is(err, destination.ErrClosed) {
		return fail(hirehook.ErrorClassOther, "pubsub: publisher closed")
	}
	return fail(hirehook.ErrorClassOther, "pubsub: publish to %s failed (%s)", where, code)
}

// Close closes every client.
func (p *Publisher) Close() error {
	p.pool.Close()
	return nil
}
