package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/netguard"
	"github.com/hirehook/hirehook/internal/testbroker"
	"github.com/hirehook/hirehook/internal/testproxy"
	"github.com/hirehook/hirehook/internal/testwait"
)

// sharedServer is the test machine's NATS server with JetStream.
const sharedServer = testbroker.NATS

// serverBinary is the nats-server the auth tests start with credentials.
const serverBinary = testbroker.NATSServerBinary

// allowPrivate dials anything: the brokers under test are on loopback.
var allowPrivate = netguard.DialContext(5*time.Second, true, netguard.AllowList{})

func randHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// uniqueName is a stream name and subject prefix unique to this test run.
func uniqueName(tb testing.TB) string {
	return "hh_" + unsafeName.ReplaceAllString(tb.Name(), "_") + "_" + randHex(tb, 4)
}

// connectAdmin connects a plain client for the test's own stream work
// (a server that is not there: testbroker.Need).
func connectAdmin(tb testing.TB, addr string, opts ...natsgo.Option) jetstream.JetStream {
	tb.Helper()
	nc, err := natsgo.Connect("nats://"+addr, append(opts, natsgo.Timeout(5*time.Second))...)
	if err != nil {
		testbroker.Need(tb, "NATS JetStream at "+addr, err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// newStream creates a stream capturing "<name>.>", deleted at cleanup.
func newStream(tb testing.TB, js jetstream.JetStream, name string) jetstream.Stream {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		tb.Fatalf("create stream %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, name); err != nil {
			tb.Errorf("delete stream %s: %v", name, err)
		}
	})
	return s
}

func streamMsgs(tb testing.TB, s jetstream.Stream) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

// consume reads n messages from s through an ordered consumer.
func consume(tb testing.TB, s jetstream.Stream, n int) []jetstream.Msg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		tb.Fatalf("ordered consumer: %v", err)
	}
	var got []jetstream.Msg
	for len(got) < n && ctx.Err() == nil {
		batch, err := cons.Fetch(n-len(got), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			tb.Fatalf("fetch: %v", err)
		}
		for m := range batch.Messages() {
			got = append(got, m)
		}
	}
	if len(got) != n {
		tb.Fatalf("consumed %d messages, want %d", len(got), n)
	}
	return got
}

func target(servers, subject string) destination.Target {
	return destination.Target{
		EndpointID: "ep_" + subject,
		Version:    time.Unix(1_700_000_000, 0),
		Config:     map[string]string{"servers": servers, "subject": subject},
	}
}

// signedMessage is a message signed as delivery/sender.go signs a webhook.
func signedMessage(tb testing.TB, signer *hirehook.Signer, typ string, body []byte) destination.Message {
	tb.Helper()
	id := "evt_" + randHex(tb, 8)
	ts := time.Now().Unix()
	return destination.Message{
		ID:   id,
		Type: typ,
		Body: body,
		Headers: map[string]string{
			hirehook.HeaderWebhookID:        id,
			hirehook.HeaderWebhookTimestamp: strconv.FormatInt(ts, 10),
			hirehook.HeaderWebhookSignature: signer.Sign(id, ts, body),
			"content-type":                  "application/json",
			"x-agency":                      "acme",
		},
	}
}

func plainMessage(tb testing.TB, typ string) destination.Message {
	tb.Helper()
	id := "evt_" + randHex(tb, 8)
	return destination.Message{ID: id, Type: typ, Body: []byte(`{"id":"` + id + `"}`),
		Headers: map[string]string{hirehook.HeaderWebhookID: id}}
}

func newPublisher(tb testing.TB, o destination.Options) *Publisher {
	tb.Helper()
	if o.DialContext == nil {
		o.DialContext = allowPrivate
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	p := New(o)
	tb.Cleanup(func() { p.Close() })
	return p
}

func class(err error) hirehook.ErrorClass {
	var e *destination.Error
	if errors.As(err, &e) {
		return e.Class
	}
	return "not a *destination.Error"
}

func TestPublishConsumeVerify(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	s := newStream(t, js, name)
	p := newPublisher(t, destination.Options{ClientID: "hirehook-test"})

	secret := hirehook.NewSecret()
	signer, err := hirehook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"placement.confirmed","data":{"id":"plc_1","note":"ünïcode \u0000 bytes"}}`)
	m := signedMessage(t, signer, "placement.confirmed", body)
	detail, err := p.Publish(context.Background(), target(sharedServer, name), m)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if want := "stream " + name + ", seq 1"; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}

	got := consume(t, s, 1)[0]
	if want := name + ".placement.confirmed"; got.Subject() != want {
		t.Errorf("subject = %q, want %q", got.Subject(), want)
	}
	if string(got.Data()) != string(body) {
		t.Errorf("body = %q, want %q", got.Data(), body)
	}
	h := http.Header{}
	for k, vs := range got.Headers() {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range m.Headers {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if id := got.Headers().Get(jetstream.MsgIDHeader); id != m.ID {
		t.Errorf("Nats-Msg-Id = %q, want %q", id, m.ID)
	}
	v := receiver.Verifier{Secrets: []string{secret}}
	if err := v.VerifyBody(h, got.Data()); err != nil {
		t.Errorf("VerifyBody: %v", err)
	}
}

func TestPublishNoStreamRejected(t *testing.T) {
	t.Parallel()
	connectAdmin(t, sharedServer)
	name := uniqueName(t) // no stream captures it
	p := newPublisher(t, destination.Options{})
	_, err := p.Publish(context.Background(), target(sharedServer, name), plainMessage(t, "candidate.created"))
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassRejected {
		t.Fatalf("err = %v (class %s), want class rejected", err, class(err))
	}
	if want := fmt.Sprintf("nats: no JetStream stream captures subject %q", name+".candidate.created"); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start with %q", err, want)
	}
	if p.pool.Len() != 1 {
		t.Errorf("pool holds %d clients after a rejection, want 1 (the connection is fine)", p.pool.Len())
	}
}

func TestPublishTooLargeRejected(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	newStream(t, js, name)
	p := newPublisher(t, destination.Options{})
	m := plainMessage(t, "candidate.created")
	m.Body = make([]byte, 2<<20) // over the server's 1 MiB max_payload
	_, err := p.Publish(context.Background(), target(sharedServer, name), m)
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassRejected {
		t.Fatalf("err = %v (class %s), want class rejected", err, class(err))
	}
}

func TestPublishDedupByMsgID(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	s := newStream(t, js, name)
	p := newPublisher(t, destination.Options{})
	tg := target(sharedServer, name)
	m := plainMessage(t, "offer.accepted")
	if _, err := p.Publish(context.Background(), tg, m); err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	detail, err := p.Publish(context.Background(), tg, m)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	if want := "duplicate, already stored as seq 1 in stream " + name; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}
	if n := streamMsgs(t, s); n != 1 {
		t.Errorf("stream holds %d messages, want 1", n)
	}
}

func TestPublishBrokerDownAndBack(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	s := newStream(t, js, name)
	proxy := testproxy.New(t, sharedServer)
	const timeout = 2 * time.Second
	p := newPublisher(t, destination.Options{Timeout: timeout})
	tg := target(proxy.Addr, name)

	before := plainMessage(t, "job.created")
	if _, err := p.Publish(context.Background(), tg, before); err != nil {
		t.Fatalf("Publish before the broker went down: %v", err)
	}
	proxy.Stop()
	var lost []string
	for range 2 {
		m := plainMessage(t, "job.created")
		lost = append(lost, m.ID)
		start := time.Now()
		detail, err := p.Publish(context.Background(), tg, m)
		if err == nil {
			t.Fatalf("Publish while down succeeded: %q", detail)
		}
		t.Logf("err while down: %v", err)
		if c := class(err); c != hirehook.ErrorClassConnection && c != hirehook.ErrorClassTimeout {
			t.Errorf("err = %v (class %s), want connection or timeout", err, c)
		}
		if d := time.Since(start); d > timeout+500*time.Millisecond {
			t.Errorf("Publish while down took %v, want at most the timeout %v", d, timeout)
		}
	}
	proxy.Start(t)
	after := plainMessage(t, "job.created")
	if _, err := p.Publish(context.Background(), tg, after); err != nil {
		t.Fatalf("Publish after the broker came back: %v", err)
	}
	var ids []string
	for _, m := range consume(t, s, 2) {
		ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
	}
	if want := []string{before.ID, after.ID}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("stream holds %v, want %v (nothing published while down: %v)", ids, want, lost)
	}
	if n := streamMsgs(t, s); n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}
}

func TestPublishGuardRefusesPrivate(t *testing.T) {
	t.Parallel()
	p := newPublisher(t, destination.Options{DialContext: netguard.DialContext(time.Second, false, netguard.AllowList{})})
	_, err := p.Publish(context.Background(), target(sharedServer, uniqueName(t)), plainMessage(t, "job.created"))
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassForbidden {
		t.Fatalf("err = %v (class %s), want forbidden_dest", err, class(err))
	}
	if !errors.Is(err, destination.ErrForbidden) {
		t.Errorf("err = %v, want it to wrap destination.ErrForbidden", err)
	}
	if p.pool.Len() != 0 {
		t.Errorf("pool holds %d clients after a refused connect, want 0", p.pool.Len())
	}
}

// TestPublishTLSNotOffered: tls="true" against a server without TLS is a
// TLS failure, not a generic connection error.
func TestPublishTLSNotOffered(t *testing.T) {
	t.Parallel()
	connectAdmin(t, sharedServer)
	p := newPublisher(t, destination.Options{})
	tg := target(sharedServer, uniqueName(t))
	tg.Config["tls"] = "true"
	_, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created"))
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassTLS {
		t.Fatalf("err = %v (class %s), want tls", err, class(err))
	}
}

func TestPublishConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := newPublisher(t, destination.Options{})
	_, err = p.Publish(context.Background(), target(addr, uniqueName(t)), plainMessage(t, "job.created"))
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassConnection {
		t.Fatalf("err = %v (class %s), want connection", err, class(err))
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %q, want it to name %s", err, addr)
	}
}

func TestPublishVersionChangeReconnects(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	newStream(t, js, name)
	p := newPublisher(t, destination.Options{})
	tg := target(sharedServer, name)
	current := func() *client {
		c, release, err := p.pool.Get(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		release()
		return c
	}
	if _, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created")); err != nil {
		t.Fatal(err)
	}
	old := current()
	tg.Version = tg.Version.Add(time.Second)
	if _, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created")); err != nil {
		t.Fatal(err)
	}
	if current() == old {
		t.Fatal("the client is the same after a Version change")
	}
	testwait.For(t, 5*time.Second, "the old client to close", old.nc.IsClosed, nil)
	if p.pool.Len() != 1 {
		t.Errorf("pool holds %d clients, want 1", p.pool.Len())
	}
}

func TestPublishOrderPerSubject(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	s := newStream(t, js, name)
	p := newPublisher(t, destination.Options{})
	tg := target(sharedServer, name)
	keys := []string{"candidate/c1", "candidate/c2", "job/j1"}
	const total = 200
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for k, key := range keys {
		wg.Go(func() {
			// Each subject's messages in order, as the dispatcher sends an
			// ordered endpoint's: the next only after the last was acked.
			for i := k; i < total; i += len(keys) {
				m := plainMessage(t, "application.moved")
				m.OrderingKey = key
				m.Headers["x-key"] = key
				m.Headers["x-seq"] = strconv.Itoa(i)
				if _, err := p.Publish(context.Background(), tg, m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Publish: %v", err)
	}
	last := map[string]int{}
	for _, m := range consume(t, s, total) {
		key := m.Headers().Get("x-key")
		seq, _ := strconv.Atoi(m.Headers().Get("x-seq"))
		if prev, ok := last[key]; ok && seq <= prev {
			t.Fatalf("subject %s: message %d after %d", key, seq, prev)
		}
		last[key] = seq
	}
}

// authServer is a nats-server run by one test as a subprocess, with
// JetStream on a file store in the test's temp dir and a user allowed
// everything but publishing to "denied.>". Stop kills it; Start runs it
// again on the same port and store, so its streams survive.
type authServer struct {
	addr, user, password string
	confPath             string

	mu  sync.Mutex
	cmd *exec.Cmd
}

func startAuthServer(t *testing.T) *authServer {
	t.Helper()
	if _, err := os.Stat(serverBinary); err != nil {
		testbroker.Need(t, serverBinary, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	s := &authServer{addr: addr, user: "hub", password: "pw-" + randHex(t, 12)}
	dir := t.TempDir()
	conf := fmt.Sprintf(`host: %q
port: %s
jetstream { store_dir: %q }
authorization {
  users = [
    { user: %q, password: %q, permissions: { publish: { allow: [">"], deny: ["denied.>"] } } }
  ]
}
`, host, port, filepath.Join(dir, "js"), s.user, s.password)
	s.confPath = filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(s.confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.Start(t)
	return s
}

// Start runs the server and waits until it is ready.
func (s *authServer) Start(t *testing.T) {
	t.Helper()
	var out testwait.Buffer
	cmd := exec.Command(serverBinary, "-c", s.confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", serverBinary, err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	testwait.ForOutput(t, 10*time.Second, "nats-server to be ready", &out, func() bool {
		return strings.Contains(out.String(), "Server is ready")
	})
}

// Stop kills the server (no goodbye to clients) and waits for it to exit.
func (s *authServer) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func TestPublishAuth(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t)
	js := connectAdmin(t, srv.addr, natsgo.UserInfo(srv.user, srv.password))
	name := uniqueName(t)
	newStream(t, js, name)
	p := newPublisher(t, destination.Options{})

	t.Run("good password", func(t *testing.T) {
		tg := target(srv.addr, name)
		tg.EndpointID = "ep_good"
		tg.Credentials = map[string]string{"username": srv.user, "password": srv.password}
		if _, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created")); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		wrong := "wrong-" + randHex(t, 12)
		tg := target(srv.addr, name)
		tg.EndpointID = "ep_wrong"
		tg.Credentials = map[string]string{"username": srv.user, "password": wrong}
		_, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created"))
		t.Logf("err: %v", err)
		if class(err) != hirehook.ErrorClassAuth {
			t.Fatalf("err = %v (class %s), want auth", err, class(err))
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(fmt.Sprintf("%+v", err), wrong) {
			t.Errorf("err %q contains the password", err)
		}
		if !strings.Contains(err.Error(), `user "hub"`) {
			t.Errorf("err = %q, want it to name the user", err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		token := "tok-" + randHex(t, 12)
		tg := target(srv.addr, name)
		tg.EndpointID = "ep_token"
		tg.Credentials = map[string]string{"token": token}
		_, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created"))
		t.Logf("err: %v", err)
		if class(err) != hirehook.ErrorClassAuth {
			t.Fatalf("err = %v (class %s), want auth", err, class(err))
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("err %q contains the token", err)
		}
	})
	t.Run("denied subject", func(t *testing.T) {
		tg := target(srv.addr, "denied")
		tg.EndpointID = "ep_denied"
		tg.Credentials = map[string]string{"username": srv.user, "password": srv.password}
		start := time.Now()
		_, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created"))
		t.Logf("err: %v", err)
		if class(err) != hirehook.ErrorClassAuth {
			t.Fatalf("err = %v (class %s), want auth", err, class(err))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a denied publish took %v; want it answered without waiting for the 5s timeout", d)
		}
		if strings.Contains(err.Error(), srv.password) {
			t.Errorf("err %q contains the password", err)
		}
	})
}

func TestValidSubject(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"hirehook.placement.confirmed": true,
		"hirehook.":                    false,
		"hirehook.*":                   false,
		"hirehook.a.>":                 false,
		"hirehook.a b":                 false,
		"hirehook..a":                  false,
	} {
		if got := validSubject(s); got != want {
			t.Errorf("validSubject(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(destination.Target{Config: map[string]string{"servers": " a:4222, b:4223 ,", "subject": "hirehook", "tls": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.urls(), "tls://a:4222,tls://b:4223"; got != want {
		t.Errorf("urls = %q, want %q", got, want)
	}
	for _, cfg := range []map[string]string{
		{"subject": "x"},
		{"servers": "a:1"},
		{"servers": "a:1", "subject": "x", "tls": "yes"},
	} {
		if _, err := parseConfig(destination.Target{Config: cfg}); err == nil {
			t.Errorf("parseConfig(%v) = nil error", cfg)
		}
	}
}

// BenchmarkPublish compares a Publish through the Publisher with the same
// JetStream publish (PubAck awaited, Nats-Msg-Id set) straight through
// nats.go on one connection.
func BenchmarkPublish(b *testing.B) {
	js := connectAdmin(b, sharedServer)
	name := uniqueName(b)
	newStream(b, js, name)
	body := make([]byte, 1024)
	headers := map[string]string{"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,abc", "content-type": "application/json"}

	run := randHex(b, 4) // ids unique to this run: a duplicate is acked faster
	b.Run("hub_publisher", func(b *testing.B) {
		p := newPublisher(b, destination.Options{})
		tg := target(sharedServer, name)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			m := destination.Message{ID: fmt.Sprintf("hub-%s-%d", run, i), Type: "bench.hub", Body: body, Headers: headers}
			if _, err := p.Publish(ctx, tg, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			msg := natsgo.NewMsg(name + ".bench.direct")
			msg.Data = body
			for k, v := range headers {
				msg.Header.Set(k, v)
			}
			if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(fmt.Sprintf("direct-%s-%d", run, i))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPublishGuardAllowsListedName: an operator's allow-list entry names
// the broker's host as the endpoint does; the guard must see that name,
// so nats.go must not resolve it to an address first.
func TestPublishGuardAllowsListedName(t *testing.T) {
	t.Parallel()
	js := connectAdmin(t, sharedServer)
	name := uniqueName(t)
	newStream(t, js, name)
	allow, err := netguard.ParseAllowList([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(sharedServer)
	p := newPublisher(t, destination.Options{DialContext: netguard.DialContext(time.Second, false, allow)})
	if _, err := p.Publish(context.Background(), target("localhost:"+port, name), plainMessage(t, "job.created")); err != nil {
		t.Fatalf("Publish to an allow-listed name: %v", err)
	}
}

// TestPublishServerRestart kills the broker process and starts it again
// on the same port and store: attempts fail while it is down, the first
// attempt after it is back succeeds on a new connection, and the stream
// holds what was acked before and after, nothing else.
func TestPublishServerRestart(t *testing.T) {
	t.Parallel()
	srv := startAuthServer(t)
	js := connectAdmin(t, srv.addr, natsgo.UserInfo(srv.user, srv.password))
	name := uniqueName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A file stream survives the restart; newStream's memory stream would not.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}}); err != nil {
		t.Fatal(err)
	}
	const timeout = 2 * time.Second
	p := newPublisher(t, destination.Options{Timeout: timeout})
	tg := target(srv.addr, name)
	tg.Credentials = map[string]string{"username": srv.user, "password": srv.password}

	before := plainMessage(t, "job.created")
	if _, err := p.Publish(context.Background(), tg, before); err != nil {
		t.Fatalf("Publish before the restart: %v", err)
	}
	srv.Stop()
	start := time.Now()
	_, err := p.Publish(context.Background(), tg, plainMessage(t, "job.created"))
	t.Logf("err while down: %v", err)
	if c := class(err); c != hirehook.ErrorClassConnection && c != hirehook.ErrorClassTimeout {
		t.Errorf("err = %v (class %s), want connection or timeout", err, c)
	}
	if d := time.Since(start); d > timeout+500*time.Millisecond {
		t.Errorf("Publish while down took %v, want at most the timeout %v", d, timeout)
	}
	srv.Start(t)
	after := plainMessage(t, "job.created")
	// JetStream may need a moment after "Server is ready" to load the
	// stream; until then nothing captures the subject (class rejected).
	var detail string
	testwait.For(t, 10*time.Second, "a Publish to succeed after the restart", func() bool {
		detail, err = p.Publish(context.Background(), tg, after)
		return err == nil
	}, func() string { return fmt.Sprint(err) })
	if want := "stream " + name + ", seq 2"; detail != want {
		t.Errorf("detail = %q, want %q (one message before, none while down)", detail, want)
	}
}

// TestPublishBlackHoleTimesOut: a server that accepts the connection and
// never speaks must cost an attempt its timeout, no more, and say so.
func TestPublishBlackHoleTimesOut(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); ln.Close(); held.Wait() })
	held.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held.Go(func() { <-stop; c.Close() })
		}
	})
	const timeout = 500 * time.Millisecond
	p := newPublisher(t, destination.Options{Timeout: timeout})
	start := time.Now()
	_, err = p.Publish(context.Background(), target(ln.Addr().String(), uniqueName(t)), plainMessage(t, "job.created"))
	t.Logf("err: %v", err)
	if class(err) != hirehook.ErrorClassTimeout {
		t.Errorf("err = %v (class %s), want timeout", err, class(err))
	}
	if d := time.Since(start); d > timeout+500*time.Millisecond {
		t.Errorf("Publish took %v, want about the timeout %v", d, timeout)
	}
}
