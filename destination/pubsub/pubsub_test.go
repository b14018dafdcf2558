package pubsub

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/netguard"
	"github.com/hirehook/hirehook/internal/testproxy"
	"github.com/hirehook/hirehook/internal/testwait"
)

const project = "hirehook-test"

// server is an in-process Pub/Sub (pstest) with an admin client to make
// topics and subscriptions and read them.
type server struct {
	srv   *pstest.Server
	admin *gpubsub.Client
}

func newServer(tb testing.TB, opts ...pstest.ServerReactorOption) *server {
	tb.Helper()
	srv := pstest.NewServer(opts...)
	admin, err := gpubsub.NewClient(context.Background(), project,
		option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled())
	if err != nil {
		tb.Fatalf("admin client for pstest: %v", err)
	}
	tb.Cleanup(func() {
		admin.Close()
		srv.Close()
	})
	return &server{srv: srv, admin: admin}
}

// uniqueName is tb's name with a random suffix, as a topic id.
func uniqueName(tb testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", "-", "_", "-").Replace(tb.Name())
	return "t-" + strings.ToLower(name) + "-" + hex.EncodeToString(b)
}

// topic makes a topic and a subscription on it (ordered when ordered is
// set), deleted at the test's end.
func (s *server) topic(tb testing.TB, ordered bool) (topic, sub string) {
	tb.Helper()
	ctx := context.Background()
	id := uniqueName(tb)
	topic = "projects/" + project + "/topics/" + id
	sub = "projects/" + project + "/subscriptions/" + id
	if _, err := s.admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		tb.Fatalf("create topic %s: %v", topic, err)
	}
	if _, err := s.admin.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: topic, EnableMessageOrdering: ordered, AckDeadlineSeconds: 10,
	}); err != nil {
		tb.Fatalf("create subscription %s: %v", sub, err)
	}
	tb.Cleanup(func() {
		s.admin.SubscriptionAdminClient.DeleteSubscription(ctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub})
		s.admin.TopicAdminClient.DeleteTopic(ctx, &pubsubpb.DeleteTopicRequest{Topic: topic})
	})
	return id, sub
}

// received collects what a subscription delivers, in arrival order.
type received struct {
	mu   sync.Mutex
	msgs []*gpubsub.Message
}

func (r *received) all() []*gpubsub.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*gpubsub.Message(nil), r.msgs...)
}

func (r *received) len() int { return len(r.all()) }

// receive starts receiving sub until the test ends.
func (s *server) receive(tb testing.TB, sub string) *received {
	tb.Helper()
	r := &received{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := s.admin.Subscriber(sub).Receive(ctx, func(_ context.Context, m *gpubsub.Message) {
			r.mu.Lock()
			r.msgs = append(r.msgs, m)
			r.mu.Unlock()
			m.Ack()
		})
		if err != nil && ctx.Err() == nil {
			tb.Errorf("receive %s: %v", sub, err)
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return r
}

func target(endpointID, endpoint, topic string) destination.Target {
	return destination.Target{
		EndpointID: endpointID,
		Version:    time.Unix(1700000000, 0),
		Config:     map[string]string{"project_id": project, "topic": topic, "endpoint": endpoint},
	}
}

// testOptions let the publisher reach pstest on loopback.
func testOptions(timeout time.Duration) destination.Options {
	return destination.Options{
		DialContext: netguard.DialContext(timeout, true, netguard.AllowList{}),
		Timeout:     timeout,
	}
}

func newPublisher(tb testing.TB, o destination.Options) *Publisher {
	p := New(o)
	tb.Cleanup(func() { p.Close() })
	return p
}

// signed is a message signed as delivery/sender.go signs a webhook.
func signed(tb testing.TB, signer *hirehook.Signer, id, orderingKey string, body []byte) destination.Message {
	tb.Helper()
	ts := time.Now().Unix()
	return destination.Message{
		ID: id, Type: "placement.confirmed", OrderingKey: orderingKey, Body: body,
		Headers: map[string]string{
			hirehook.HeaderWebhookID:        id,
			hirehook.HeaderWebhookTimestamp: strconv.FormatInt(ts, 10),
			hirehook.HeaderWebhookSignature: signer.Sign(id, ts, body),
			"content-type":                  "application/json",
			"x-agency":                      "acme",
		},
	}
}

func newSigner(tb testing.TB) (*hirehook.Signer, string) {
	tb.Helper()
	secret := hirehook.NewSecret()
	s, err := hirehook.NewSigner(secret)
	if err != nil {
		tb.Fatalf("signer: %v", err)
	}
	return s, secret
}

func wantClass(tb testing.TB, err error, classes ...hirehook.ErrorClass) *destination.Error {
	tb.Helper()
	var de *destination.Error
	if !errors.As(err, &de) {
		tb.Fatalf("error = %v (%T), want a *destination.Error of class %v", err, err, classes)
	}
	for _, c := range classes {
		if de.Class == c {
			return de
		}
	}
	tb.Fatalf("error class = %q (%q), want one of %v", de.Class, de.Msg, classes)
	return nil
}

func TestPublishVerifies(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, sub := s.topic(t, false)
	got := s.receive(t, sub)
	p := newPublisher(t, testOptions(10*time.Second))
	signer, secret := newSigner(t)
	body := []byte(`{"type":"placement.confirmed","data":{"id":"pl_1","note":"é\u0000 bytes"}}`)
	m := signed(t, signer, "evt_"+uniqueName(t), "", body)

	detail, err := p.Publish(context.Background(), target("ep_1", s.srv.Addr, topic), m)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.HasPrefix(detail, "message id ") {
		t.Errorf("detail = %q, want message id ...", detail)
	}
	testwait.For(t, 10*time.Second, "the message on the subscription", func() bool { return got.len() >= 1 }, nil)
	msg := got.all()[0]
	if "message id "+msg.ID != detail {
		t.Errorf("received message id %q, detail %q", msg.ID, detail)
	}
	if string(msg.Data) != string(body) {
		t.Errorf("body = %q, want %q", msg.Data, body)
	}
	h := http.Header{}
	for k, v := range msg.Attributes {
		h.Set(k, v)
	}
	for k, v := range m.Headers {
		if msg.Attributes[k] != v {
			t.Errorf("attribute %q = %q, want %q", k, msg.Attributes[k], v)
		}
	}
	if h.Get(hirehook.HeaderWebhookID) != m.ID {
		t.Errorf("webhook-id = %q, want %q", h.Get(hirehook.HeaderWebhookID), m.ID)
	}
	v := receiver.Verifier{Secrets: []string{secret}}
	if err := v.VerifyBody(h, msg.Data); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// TestPublishMissingTopicRejected: a missing topic is rejected by name;
// once the topic exists the dispatcher's retry of the same ordering key
// goes through (the library paused the key at the failure).
func TestPublishMissingTopicRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newPublisher(t, testOptions(10*time.Second))
	signer, _ := newSigner(t)
	missing := uniqueName(t)
	tg := target("ep_1", s.srv.Addr, missing)
	m := signed(t, signer, "evt_1", "candidate/cand_1", []byte(`{}`))
	_, err := p.Publish(context.Background(), tg, m)
	de := wantClass(t, err, hirehook.ErrorClassRejected)
	if !strings.Contains(de.Msg, missing) {
		t.Errorf("message %q does not name topic %q", de.Msg, missing)
	}
	name := "projects/" + project + "/topics/" + missing
	if _, err := s.admin.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: name}); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	t.Cleanup(func() {
		s.admin.TopicAdminClient.DeleteTopic(context.Background(), &pubsubpb.DeleteTopicRequest{Topic: name})
	})
	if _, err := p.Publish(context.Background(), tg, m); err != nil {
		t.Fatalf("retry once the topic exists: %v", err)
	}
}

// TestPublishServerErrors: Pub/Sub's refusals, injected into pstest, map
// onto the attempt log's classes.
func TestPublishServerErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code codes.Code
		want hirehook.ErrorClass
	}{
		{codes.PermissionDenied, hirehook.ErrorClassAuth},
		{codes.Unauthenticated, hirehook.ErrorClassAuth},
		{codes.InvalidArgument, hirehook.ErrorClassRejected},
		{codes.NotFound, hirehook.ErrorClassRejected},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, pstest.WithErrorInjection("Publish", tc.code, "injected "+tc.code.String()))
			topic, _ := s.topic(t, false)
			p := newPublisher(t, testOptions(10*time.Second))
			signer, _ := newSigner(t)
			_, err := p.Publish(context.Background(), target("ep_1", s.srv.Addr, topic), signed(t, signer, "evt_1", "k", []byte(`{}`)))
			de := wantClass(t, err, tc.want)
			if strings.Contains(de.Msg, "injected") {
				t.Errorf("message %q quotes the server's text", de.Msg)
			}
		})
	}
}

// TestPublishRefusedLocally: what Pub/Sub would refuse (a reserved or
// too long attribute, a body over its 10 MB) is rejected before it is
// sent, naming the header but never showing its value.
func TestPublishRefusedLocally(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, _ := s.topic(t, false)
	p := newPublisher(t, testOptions(5*time.Second))
	_, err := p.Publish(context.Background(), target("ep_big", s.srv.Addr, topic), destination.Message{ID: "evt_big", Body: make([]byte, 11<<20)})
	if de := wantClass(t, err, hirehook.ErrorClassRejected); !strings.Contains(de.Msg, "larger than") {
		t.Errorf("message %q does not say the message is too large", de.Msg)
	}
	if n := len(s.srv.Messages()); n != 0 {
		t.Errorf("pstest holds %d messages after an oversized publish", n)
	}

	secret := "tok-" + uniqueName(t)
	for name, headers := range map[string]map[string]string{
		"reserved key": {"goog-thing": "x"},
		"long value":   {"authorization": secret + strings.Repeat("x", maxAttributeValue)},
	} {
		m := destination.Message{ID: "evt_1", Body: []byte(`{}`), Headers: headers}
		_, err := p.Publish(context.Background(), target("ep_1", "127.0.0.1:1", "topic-1"), m)
		de := wantClass(t, err, hirehook.ErrorClassRejected)
		if strings.Contains(de.Msg, secret) {
			t.Errorf("%s: message %q shows the header's value", name, de.Msg)
		}
	}
}

// TestPublishOrdered: 3 subjects × 70 messages, each subject's published
// one after another, the subjects concurrently, arrive in order per subject.
func TestPublishOrdered(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, sub := s.topic(t, true)
	got := s.receive(t, sub)
	p := newPublisher(t, testOptions(10*time.Second))
	signer, _ := newSigner(t)
	tg := target("ep_1", s.srv.Addr, topic)
	const perKey = 70
	keys := []string{"candidate/cand_1", "candidate/cand_2", "job/job_1"}
	var wg sync.WaitGroup
	for _, key := range keys {
		wg.Go(func() {
			for i := range perKey {
				m := signed(t, signer, fmt.Sprintf("%s#%03d", key, i), key, []byte(strconv.Itoa(i)))
				if _, err := p.Publish(context.Background(), tg, m); err != nil {
					t.Errorf("publish %s: %v", m.ID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := perKey * len(keys)
	testwait.For(t, 20*time.Second, "every message received", func() bool { return got.len() >= total },
		func() string { return fmt.Sprintf("received %d of %d", got.len(), total) })
	next := map[string]int{}
	for _, m := range got.all() {
		n, _ := strconv.Atoi(string(m.Data))
		if n != next[m.OrderingKey] {
			t.Fatalf("key %s: received %d, want %d", m.OrderingKey, n, next[m.OrderingKey])
		}
		next[m.OrderingKey]++
	}
	for _, key := range keys {
		if next[key] != perKey {
			t.Errorf("key %s: received %d, want %d", key, next[key], perKey)
		}
	}
}

// TestPublishDownAndBack: pstest behind a proxy; while it is down an
// attempt fails in time with a connection-level class and nothing of it
// is reported delivered; once it is back the next attempt goes through.
func TestPublishDownAndBack(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, _ := s.topic(t, false)
	proxy := testproxy.New(t, s.srv.Addr)
	const timeout = 2 * time.Second
	p := newPublisher(t, testOptions(timeout))
	signer, _ := newSigner(t)
	tg := target("ep_1", proxy.Addr, topic)
	ctx := context.Background()

	if _, err := p.Publish(ctx, tg, signed(t, signer, "evt_before", "k", []byte(`{"n":1}`))); err != nil {
		t.Fatalf("publish before the stop: %v", err)
	}
	before := p.pool.Len()
	proxy.Stop()
	for _, id := range []string{"evt_down_1", "evt_down_2"} {
		start := time.Now()
		_, err := p.Publish(ctx, tg, signed(t, signer, id, "k", []byte(`{"n":2}`)))
		took := time.Since(start)
		de := wantClass(t, err, hirehook.ErrorClassConnection, hirehook.ErrorClassTimeout)
		t.Logf("down: %s after %v", de.Msg, took)
		if took > timeout+500*time.Millisecond {
			t.Errorf("publish while down took %v, timeout %v", took, timeout)
		}
		// The broken client is dropped: the next attempt dials afresh
		// rather than wait out gRPC's reconnect backoff.
		if n := p.pool.Len(); n != 0 {
			t.Errorf("after a connection failure the pool holds %d clients (%d before), want 0", n, before)
		}
	}
	proxy.Start(t)
	detail, err := p.Publish(ctx, tg, signed(t, signer, "evt_after", "k", []byte(`{"n":3}`)))
	if err != nil {
		t.Fatalf("publish after the start: %v", err)
	}
	t.Logf("back: %s", detail)
	for _, m := range s.srv.Messages() {
		if id := m.Attributes[hirehook.HeaderWebhookID]; strings.HasPrefix(id, "evt_down") {
			t.Errorf("%s reached the topic although its attempt failed", id)
		}
	}
}

// TestPublishGuard: the outbound guard refusing loopback gives
// forbidden_dest, well before the timeout.
func TestPublishGuard(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, _ := s.topic(t, false)
	const timeout = 5 * time.Second
	p := newPublisher(t, destination.Options{DialContext: netguard.DialContext(timeout, false, netguard.AllowList{}), Timeout: timeout})
	start := time.Now()
	_, err := p.Publish(context.Background(), target("ep_1", s.srv.Addr, topic), destination.Message{ID: "evt_1", Body: []byte(`{}`)})
	wantClass(t, err, hirehook.ErrorClassForbidden)
	if took := time.Since(start); took > timeout/2 {
		t.Errorf("refusal took %v", took)
	}
}

// TestPublishBadServiceAccount: without an endpoint the publisher needs a
// service account key; a bad one is class auth and its text never shows.
func TestPublishBadServiceAccount(t *testing.T) {
	t.Parallel()
	const secret = "SECRETKEYMATERIAL0123456789"
	p := newPublisher(t, testOptions(time.Second))
	for name, key := range map[string]string{
		"none":            "",
		"not json":        "{" + secret,
		"not an account":  `{"type":"authorized_user","refresh_token":"` + secret + `"}`,
		"no email":        `{"type":"service_account","private_key":"` + secret + `"}`,
		"key not pem":     `{"type":"service_account","client_email":"hub@p.iam.gserviceaccount.com","private_key":"` + secret + `"}`,
		"key not decoded": `{"type":"service_account","client_email":"hub@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\n` + secret + `\n-----END PRIVATE KEY-----\n"}`,
	} {
		tg := target("ep_"+name, "", "topic-1")
		tg.Credentials = map[string]string{"service_account_json": key}
		_, err := p.Publish(context.Background(), tg, destination.Message{ID: "evt_1", Body: []byte(`{}`)})
		de := wantClass(t, err, hirehook.ErrorClassAuth)
		if strings.Contains(de.Msg, secret) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: message %q shows key material", name, de.Msg)
		}
	}
	// The domain refuses such an endpoint before it exists.
	if err := hirehook.ValidateDestination(hirehook.KindPubSub, map[string]string{"project_id": project, "topic": "topic-1"}, nil); err == nil {
		t.Error("ValidateDestination accepted no service_account_json and no endpoint")
	}
}

// TestCloseStopsClients: Close stops every client; Publish fails after it.
func TestCloseStopsClients(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, _ := s.topic(t, false)
	p := New(testOptions(10 * time.Second))
	tg := target("ep_1", s.srv.Addr, topic)
	ctx := context.Background()
	if _, err := p.Publish(ctx, tg, destination.Message{ID: "evt_1", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	c, release, err := p.pool.Get(ctx, tg)
	if err != nil {
		t.Fatalf("pool get: %v", err)
	}
	release()
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.pub.Publish(ctx, &gpubsub.Message{Data: []byte("x")}).Get(ctx); !errors.Is(err, gpubsub.ErrPublisherStopped) {
		t.Errorf("the client's publisher after Close: %v, want ErrPublisherStopped", err)
	}
	if _, err := p.Publish(ctx, tg, destination.Message{ID: "evt_2", Body: []byte(`{}`)}); err == nil {
		t.Error("publish after Close succeeded")
	}
}

// TestVersionChangeReconnects: a new Target.Version gets a new client and
// the old one is closed.
func TestVersionChangeReconnects(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	topic, _ := s.topic(t, false)
	p := newPublisher(t, testOptions(10*time.Second))
	signer, _ := newSigner(t)
	tg := target("ep_1", s.srv.Addr, topic)
	ctx := context.Background()
	if _, err := p.Publish(ctx, tg, signed(t, signer, "evt_1", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish: %v", err)
	}
	old, release, err := p.pool.Get(ctx, tg)
	if err != nil {
		t.Fatalf("pool get: %v", err)
	}
	release()
	tg.Version = tg.Version.Add(time.Second)
	if _, err := p.Publish(ctx, tg, signed(t, signer, "evt_2", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish after the version change: %v", err)
	}
	cur, release, err := p.pool.Get(ctx, tg)
	if err != nil {
		t.Fatalf("pool get: %v", err)
	}
	release()
	if cur == old {
		t.Fatal("the client was kept across a version change")
	}
	if n := p.pool.Len(); n != 1 {
		t.Errorf("pool holds %d clients, want 1", n)
	}
	testwait.For(t, 5*time.Second, "the old client closed", func() bool {
		_, err := old.pub.Publish(ctx, &gpubsub.Message{Data: []byte("x")}).Get(ctx)
		return errors.Is(err, gpubsub.ErrPublisherStopped)
	}, nil)
}

// serviceAccountJSON is a well-formed key for a made-up account, and its
// PEM private key.
func serviceAccountJSON(tb testing.TB) (raw, privateKey string) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	privateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "0123abcd",
		"private_key": privateKey, "client_email": "hub@" + project + ".iam.gserviceaccount.com",
		"client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b), privateKey
}

// recordingDialer refuses every dial, as a host with no route out would,
// and records the addresses asked for.
type recordingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (d *recordingDialer) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+addr)
	d.mu.Unlock()
	return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no route in this test")}
}

func (d *recordingDialer) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// TestPublishServiceAccountDialsGoogleThroughGuard: with a service
// account key and no endpoint the client dials Google's endpoint, and
// only through Options.DialContext; its failure names neither the key nor
// anything but the account. PUBSUB_EMULATOR_HOST in the hub's environment
// does not redirect a tenant's messages.
func TestPublishServiceAccountDialsGoogleThroughGuard(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")
	raw, privateKey := serviceAccountJSON(t)
	var d recordingDialer
	p := newPublisher(t, destination.Options{DialContext: d.DialContext, Timeout: time.Second})
	tg := target("ep_sa", "", "topic-1")
	tg.Credentials = map[string]string{"service_account_json": raw}
	_, err := p.Publish(context.Background(), tg, destination.Message{ID: "evt_1", Body: []byte(`{}`)})
	de := wantClass(t, err, hirehook.ErrorClassConnection)
	keyBody := strings.Split(privateKey, "\n")[1]
	if strings.Contains(de.Msg, keyBody) || strings.Contains(de.Msg, "0123abcd") {
		t.Errorf("message %q shows key material", de.Msg)
	}
	seen := d.seen()
	if len(seen) == 0 {
		t.Fatal("the client never dialled through Options.DialContext")
	}
	for _, a := range seen {
		if a != "tcp "+googleEndpoint {
			t.Errorf("dialled %q, want tcp %s only", a, googleEndpoint)
		}
	}
}
