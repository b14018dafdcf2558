package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/netguard"
	"github.com/hirehook/hirehook/internal/testbroker"
	"github.com/hirehook/hirehook/internal/testproxy"
	"github.com/hirehook/hirehook/internal/testwait"
)

func unique(tb testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", ".", " ", "_").Replace(tb.Name())
	return "hirehook-test." + name + "." + hex.EncodeToString(b)
}

// admin is the test's own AMQP connection, for declaring, inspecting and
// consuming; each use opens its own channel, since a failed declare closes
// the channel it ran on.
type admin struct {
	tb   testing.TB
	conn *amqp.Connection
}

func newAdmin(tb testing.TB, addr string) *admin {
	tb.Helper()
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		tb.Fatalf("admin connection to RabbitMQ at %s: %v", addr, err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &admin{tb: tb, conn: conn}
}

func (a *admin) channel() *amqp.Channel {
	a.tb.Helper()
	ch, err := a.conn.Channel()
	if err != nil {
		a.tb.Fatalf("admin channel: %v", err)
	}
	a.tb.Cleanup(func() { ch.Close() })
	return ch
}

// queue declares a durable queue, deleted at cleanup.
func (a *admin) queue(name string, args amqp.Table) {
	a.tb.Helper()
	if _, err := a.channel().QueueDeclare(name, true, false, false, false, args); err != nil {
		a.tb.Fatalf("declare queue %s: %v", name, err)
	}
	a.tb.Cleanup(func() {
		if ch, err := a.conn.Channel(); err == nil {
			ch.QueueDelete(name, false, false, false)
			ch.Close()
		}
	})
}

// exchange declares a durable exchange of kind, deleted at cleanup.
func (a *admin) exchange(name, kind string) {
	a.tb.Helper()
	if err := a.channel().ExchangeDeclare(name, kind, true, false, false, false, nil); err != nil {
		a.tb.Fatalf("declare exchange %s: %v", name, err)
	}
	a.tb.Cleanup(func() {
		if ch, err := a.conn.Channel(); err == nil {
			ch.ExchangeDelete(name, false, false)
			ch.Close()
		}
	})
}

func (a *admin) bind(queue, key, exchange string) {
	a.tb.Helper()
	if err := a.channel().QueueBind(queue, key, exchange, false, nil); err != nil {
		a.tb.Fatalf("bind %s to %s with %q: %v", queue, exchange, key, err)
	}
}

// depth is how many messages queue holds.
func (a *admin) depth(queue string, args amqp.Table) int {
	a.tb.Helper()
	q, err := a.channel().QueueDeclarePassive(queue, true, false, false, false, args)
	if err != nil {
		a.tb.Fatalf("inspect queue %s: %v", queue, err)
	}
	return q.Messages
}

// consume returns the next n messages of queue.
func (a *admin) consume(queue string, n int) []amqp.Delivery {
	a.tb.Helper()
	deliveries, err := a.channel().Consume(queue, "", true, false, false, false, nil)
	if err != nil {
		a.tb.Fatalf("consume %s: %v", queue, err)
	}
	var got []amqp.Delivery
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for len(got) < n {
		select {
		case d, ok := <-deliveries:
			if !ok {
				a.tb.Fatalf("consume %s: channel closed after %d of %d messages", queue, len(got), n)
			}
			got = append(got, d)
		case <-deadline.C:
			a.tb.Fatalf("consume %s: got %d of %d messages in 10s", queue, len(got), n)
		}
	}
	return got
}

type bundle struct {
	addr   string
	admin  *admin
	p      *Publisher
	secret string
}

// setup connects to the broker and returns a Publisher whose dialer lets
// private addresses through (the broker is on loopback).
func setup(t *testing.T) *bundle {
	t.Helper()
	addr := testbroker.RabbitMQ(t)
	return &bundle{
		addr:   addr,
		admin:  newAdmin(t, addr),
		p:      newPublisher(t, 5*time.Second),
		secret: hirehook.NewSecret(),
	}
}

func newPublisher(tb testing.TB, timeout time.Duration) *Publisher {
	p := New(destination.Options{
		DialContext: netguard.DialContext(timeout, true, netguard.AllowList{}),
		Timeout:     timeout,
		ClientID:    "hirehook-test",
	})
	tb.Cleanup(func() { p.Close() })
	return p
}

func target(tb testing.TB, addr string, config map[string]string) destination.Target {
	c := map[string]string{"address": addr}
	for k, v := range config {
		c[k] = v
	}
	return destination.Target{
		EndpointID:  "ep_" + unique(tb),
		Version:     time.Unix(1_700_000_000, 0),
		Config:      c,
		Credentials: map[string]string{"username": "guest", "password": "guest"},
	}
}

// message is signed as delivery/sender.go signs a webhook.
func (b *bundle) message(tb testing.TB, eventType string) destination.Message {
	tb.Helper()
	signer, err := hirehook.NewSigner(b.secret)
	if err != nil {
		tb.Fatal(err)
	}
	id := "evt_" + unique(tb)[len("hirehook-test."):]
	ts := time.Now().Unix()
	body := []byte(`{"id":"` + id + `","type":"` + eventType + `","data":{"placement_id":"plc_1","note":"caf\u00e9 \ud83d\ude80"}}`)
	return destination.Message{
		ID:   id,
		Type: eventType,
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

// verify checks that d is m, byte for byte, and that its signature
// verifies as a webhook receiver would check it.
func (b *bundle) verify(tb testing.TB, d amqp.Delivery, m destination.Message) {
	tb.Helper()
	if string(d.Body) != string(m.Body) {
		tb.Errorf("body = %q, want %q", d.Body, m.Body)
	}
	if d.MessageId != m.ID {
		tb.Errorf("message id = %q, want %q", d.MessageId, m.ID)
	}
	if d.Type != m.Type {
		tb.Errorf("type = %q, want %q", d.Type, m.Type)
	}
	if d.ContentType != "application/json" {
		tb.Errorf("content type = %q, want application/json", d.ContentType)
	}
	if d.DeliveryMode != amqp.Persistent {
		tb.Errorf("delivery mode = %d, want persistent", d.DeliveryMode)
	}
	if d.Timestamp.IsZero() {
		tb.Errorf("timestamp not set")
	}
	h := http.Header{}
	for k, v := range d.Headers {
		s, ok := v.(string)
		if !ok {
			tb.Errorf("header %s is a %T, want a string", k, v)
			continue
		}
		h.Set(k, s)
	}
	for k, v := range m.Headers {
		if got := h.Get(k); got != v {
			tb.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	v := receiver.Verifier{Secrets: []string{b.secret}}
	if err := v.VerifyBody(h, d.Body); err != nil {
		tb.Errorf("signature does not verify: %v", err)
	}
}

func class(err error) hirehook.ErrorClass {
	var de *destination.Error
	if !errors.As(err, &de) {
		return "not a *destination.Error"
	}
	return de.Class
}

func TestPublishDefaultExchange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	m := b.message(t, "placement.confirmed")
	detail, err := b.p.Publish(t.Context(), tgt, m)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.Contains(detail, q) {
		t.Errorf("detail = %q, want it to name the routing key %q", detail, q)
	}
	d := b.admin.consume(q, 1)[0]
	b.verify(t, d, m)
	if d.Exchange != "" || d.RoutingKey != q {
		t.Errorf("delivered via exchange %q key %q, want the default exchange, key %q", d.Exchange, d.RoutingKey, q)
	}
}

func TestPublishTopicExchangeRoutesByEventType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x, q := unique(t), unique(t)
	b.admin.exchange(x, amqp.ExchangeTopic)
	b.admin.queue(q, nil)
	b.admin.bind(q, "placement.*", x)
	tgt := target(t, b.addr, map[string]string{"exchange": x})
	m := b.message(t, "placement.confirmed")
	if _, err := b.p.Publish(t.Context(), tgt, m); err != nil {
		t.Fatalf("publish: %v", err)
	}
	d := b.admin.consume(q, 1)[0]
	b.verify(t, d, m)
	if d.Exchange != x || d.RoutingKey != "placement.confirmed" {
		t.Errorf("delivered via exchange %q key %q, want %q and the event type", d.Exchange, d.RoutingKey, x)
	}
	// Another event type matches no binding: unroutable.
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "candidate.created"))
	if class(err) != hirehook.ErrorClassRejected {
		t.Fatalf("unbound event type: class %q (%v), want rejected", class(err), err)
	}
	want := fmt.Sprintf("rabbitmq: message unroutable: exchange %q has no queue bound for routing key %q", x, "candidate.created")
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestPublishUnroutableIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := unique(t)
	b.admin.exchange(x, amqp.ExchangeDirect) // no queue bound
	tgt := target(t, b.addr, map[string]string{"exchange": x, "routing_key": "nowhere"})
	for i := range 2 { // the second on the channel the first used
		_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
		if class(err) != hirehook.ErrorClassRejected || !strings.Contains(err.Error(), "unroutable") || !strings.Contains(err.Error(), x) {
			t.Fatalf("publish %d: class %q, error %v; want rejected, unroutable, naming %s", i, class(err), err, x)
		}
	}
	// The default exchange with no such queue.
	tgt = target(t, b.addr, map[string]string{"routing_key": unique(t)})
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
	if class(err) != hirehook.ErrorClassRejected || !strings.Contains(err.Error(), "no queue named") {
		t.Fatalf("default exchange, no queue: class %q, error %v; want rejected, no queue named", class(err), err)
	}
}

func TestPublishMissingExchangeIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := unique(t) // never declared
	tgt := target(t, b.addr, map[string]string{"exchange": x})
	for i := range 2 {
		_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
		if class(err) != hirehook.ErrorClassRejected {
			t.Fatalf("publish %d: class %q (%v), want rejected", i, class(err), err)
		}
		want := fmt.Sprintf("rabbitmq: exchange %q does not exist in vhost \"/\"", x)
		if err.Error() != want {
			t.Errorf("publish %d: error = %q, want %q", i, err, want)
		}
	}
	// A channel error leaves the connection up: one client, still open.
	c, release, err := b.p.pool.Get(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if b.p.pool.Len() != 1 || c.conn.IsClosed() {
		t.Errorf("after a missing exchange: pool holds %d clients, connection closed %v; want 1, open", b.p.pool.Len(), c.conn.IsClosed())
	}
}

func TestPublishNackIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	args := amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"}
	b.admin.queue(q, args)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	if _, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
	if class(err) != hirehook.ErrorClassRejected || !strings.Contains(err.Error(), "nacked") {
		t.Fatalf("publish to a full queue: class %q, error %v; want rejected, nacked", class(err), err)
	}
	if n := b.admin.depth(q, args); n != 1 {
		t.Errorf("queue holds %d messages, want 1", n)
	}
}

func TestPublishConcurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	const n = 60
	msgs := make([]destination.Message, n)
	for i := range msgs {
		msgs[i] = b.message(t, "placement.confirmed")
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = b.p.Publish(t.Context(), tgt, msgs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	want := make(map[string]destination.Message, n)
	for _, m := range msgs {
		want[m.ID] = m
	}
	for _, d := range b.admin.consume(q, n) {
		m, ok := want[d.MessageId]
		if !ok {
			t.Fatalf("unexpected or duplicate message %q", d.MessageId)
		}
		delete(want, d.MessageId)
		b.verify(t, d, m)
	}
	if b.p.pool.Len() != 1 {
		t.Errorf("pool holds %d clients, want one connection for the endpoint", b.p.pool.Len())
	}
}

func TestPublishBrokerDownAndBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	proxy := testproxy.New(t, b.addr)
	const timeout = 3 * time.Second
	p := newPublisher(t, timeout)
	tgt := target(t, proxy.Addr, map[string]string{"routing_key": q})

	before := b.message(t, "placement.confirmed")
	if _, err := p.Publish(t.Context(), tgt, before); err != nil {
		t.Fatalf("publish before the outage: %v", err)
	}
	proxy.Stop()
	for i := range 2 { // on the broken connection, then dialling a closed port
		start := time.Now()
		_, err := p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
		took := time.Since(start)
		if c := class(err); c != hirehook.ErrorClassConnection && c != hirehook.ErrorClassTimeout {
			t.Fatalf("publish %d while down: class %q (%v), want connection or timeout", i, c, err)
		}
		if took > timeout+time.Second {
			t.Errorf("publish %d while down took %v, want at most the %v timeout", i, took, timeout)
		}
	}
	proxy.Start(t)
	after := b.message(t, "placement.confirmed")
	if _, err := p.Publish(t.Context(), tgt, after); err != nil {
		t.Fatalf("first publish after the broker is back: %v", err)
	}
	if n := b.admin.depth(q, nil); n != 2 {
		t.Fatalf("queue holds %d messages, want 2 (nothing from the outage)", n)
	}
	got := b.admin.consume(q, 2)
	if got[0].MessageId != before.ID || got[1].MessageId != after.ID {
		t.Errorf("consumed %q, %q; want %q, %q", got[0].MessageId, got[1].MessageId, before.ID, after.ID)
	}
}

// A connection the broker closed while nobody published is found closed
// and dialled again: the first attempt after the outage succeeds.
func TestPublishAfterIdleOutage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	proxy := testproxy.New(t, b.addr)
	p := newPublisher(t, 3*time.Second)
	tgt := target(t, proxy.Addr, map[string]string{"routing_key": q})
	if _, err := p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatalf("publish before the outage: %v", err)
	}
	c, release, err := p.pool.Get(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	proxy.Stop()
	testwait.For(t, 10*time.Second, "the pooled connection to notice the outage", c.conn.IsClosed, nil)
	proxy.Start(t)
	if _, err := p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatalf("first publish after the outage: %v", err)
	}
	if n := b.admin.depth(q, nil); n != 2 {
		t.Errorf("queue holds %d messages, want 2", n)
	}
}

// A server that accepts the connection and never speaks AMQP: the
// handshake is bounded by the timeout.
func TestPublishSilentServerTimesOut(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	const timeout = 500 * time.Millisecond
	p := newPublisher(t, timeout)
	start := time.Now()
	_, err = p.Publish(t.Context(), target(t, ln.Addr().String(), nil), destination.Message{ID: "evt_1", Type: "placement.confirmed", Body: []byte("{}")})
	if class(err) != hirehook.ErrorClassTimeout {
		t.Fatalf("class %q (%v), want timeout", class(err), err)
	}
	if took := time.Since(start); took > timeout+time.Second {
		t.Errorf("took %v, want about the %v timeout", took, timeout)
	}
}

func TestPublishWrongPasswordIsAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	password := "wrong-" + unique(t)
	tgt := target(t, b.addr, map[string]string{"routing_key": "anything"})
	tgt.Credentials = map[string]string{"username": "guest", "password": password}
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
	if class(err) != hirehook.ErrorClassAuth {
		t.Fatalf("class %q (%v), want auth", class(err), err)
	}
	if want := `rabbitmq: authentication failed for user "guest"`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, password) {
			t.Errorf("the error shows the password: %s", s)
		}
	}
}

func TestPublishUnknownVhostIsAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	vhost := unique(t)
	tgt := target(t, b.addr, map[string]string{"vhost": vhost, "routing_key": "anything"})
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
	if class(err) != hirehook.ErrorClassAuth || !strings.Contains(err.Error(), vhost) {
		t.Fatalf("class %q, error %v; want auth naming vhost %s", class(err), err, vhost)
	}
}

func TestPublishGuardRefusesPrivateAddress(t *testing.T) {
	t.Parallel()
	p := New(destination.Options{
		DialContext: netguard.DialContext(time.Second, false, netguard.AllowList{}),
		Timeout:     2 * time.Second,
	})
	t.Cleanup(func() { p.Close() })
	_, err := p.Publish(t.Context(), target(t, "127.0.0.1:5672", map[string]string{"routing_key": "q"}), destination.Message{ID: "evt_1", Type: "t", Body: []byte("{}")})
	if class(err) != hirehook.ErrorClassForbidden {
		t.Fatalf("class %q (%v), want forbidden_dest", class(err), err)
	}
}

// The operator's allow-list lets a private broker through the guard.
func TestPublishGuardAllowList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	host, _, _ := net.SplitHostPort(b.addr)
	allow, err := netguard.ParseAllowList([]string{host})
	if err != nil {
		t.Fatal(err)
	}
	p := New(destination.Options{DialContext: netguard.DialContext(time.Second, false, allow), Timeout: 5 * time.Second})
	t.Cleanup(func() { p.Close() })
	if _, err := p.Publish(t.Context(), target(t, b.addr, map[string]string{"routing_key": q}), b.message(t, "placement.confirmed")); err != nil {
		t.Fatalf("publish to an allow-listed broker: %v", err)
	}
}

// tls="true" speaks TLS: against the plain AMQP port the handshake fails
// as a TLS failure.
func TestPublishTLSAgainstPlainPort(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tgt := target(t, b.addr, map[string]string{"routing_key": "q", "tls": "true"})
	_, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed"))
	if class(err) != hirehook.ErrorClassTLS {
		t.Fatalf("class %q (%v), want tls", class(err), err)
	}
}

func TestVersionChangeReconnects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	if _, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatal(err)
	}
	old, release, err := b.p.pool.Get(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	tgt.Version = tgt.Version.Add(time.Second)
	if _, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatal(err)
	}
	cur, release, err := b.p.pool.Get(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if cur == old {
		t.Fatal("the new version publishes on the old client")
	}
	testwait.For(t, 5*time.Second, "the old version's connection to close", old.conn.IsClosed, nil)
	if b.p.pool.Len() != 1 {
		t.Errorf("pool holds %d clients, want 1", b.p.pool.Len())
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	if _, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err != nil {
		t.Fatal(err)
	}
	c, release, err := b.p.pool.Get(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if err := b.p.Close(); err != nil {
		t.Fatal(err)
	}
	if !c.conn.IsClosed() {
		t.Error("connection open after Close")
	}
	if err := b.p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := b.p.Publish(t.Context(), tgt, b.message(t, "placement.confirmed")); err == nil {
		t.Error("publish after Close succeeded")
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tgt := destination.Target{Config: map[string]string{"address": "rabbit.internal:5671", "tls": "true"}}
	c, err := parseConfig(tgt)
	if err != nil || !c.tls || c.vhost != "/" {
		t.Errorf("parseConfig = %+v, %v; want tls, vhost /", c, err)
	}
	tgt.Config["tls"] = "yes"
	if _, err := parseConfig(tgt); err == nil {
		t.Error("tls=yes accepted")
	}
	if _, err := parseConfig(destination.Target{Config: map[string]string{"address": "no-port"}}); err == nil {
		t.Error("address without a port accepted")
	}
}

func TestPublishHonoursCallerContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.p.Publish(ctx, target(t, b.addr, map[string]string{"routing_key": "q"}), b.message(t, "placement.confirmed"))
	if err == nil {
		t.Fatal("publish with a cancelled context succeeded")
	}
	var de *destination.Error
	if !errors.As(err, &de) {
		t.Errorf("error %v (%T) is not a *destination.Error", err, err)
	}
}

// The dispatcher keeps one attempt in flight per subject of an ordered
// endpoint; with each publish waiting for its confirm, a subject's
// messages reach the queue in publish order while subjects interleave.
func TestPublishPerSubjectOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := unique(t)
	b.admin.queue(q, nil)
	tgt := target(t, b.addr, map[string]string{"routing_key": q})
	subjects := []string{"candidate/cand_1", "candidate/cand_2", "job/job_1"}
	const total = 200
	sent := make(map[string][]string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for si, subject := range subjects {
		n := total / len(subjects)
		if si == 0 {
			n += total % len(subjects)
		}
		msgs := make([]destination.Message, n)
		for i := range msgs {
			msgs[i] = b.message(t, "placement.confirmed")
			msgs[i].OrderingKey = subject
			msgs[i].Headers["x-subject"] = subject
		}
		wg.Go(func() {
			for _, m := range msgs {
				if _, err := b.p.Publish(t.Context(), tgt, m); err != nil {
					t.Errorf("publish %s: %v", subject, err)
					return
				}
				mu.Lock()
				sent[subject] = append(sent[subject], m.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := make(map[string][]string)
	for _, d := range b.admin.consume(q, total) {
		s, _ := d.Headers["x-subject"].(string)
		got[s] = append(got[s], d.MessageId)
	}
	for _, s := range subjects {
		if strings.Join(got[s], " ") != strings.Join(sent[s], " ") {
			t.Errorf("subject %s consumed out of order:\n got %v\nwant %v", s, got[s], sent[s])
		}
	}
}

// Returns belong to their own publish: concurrent publishes to one
// endpoint, half of them unroutable, each get their own outcome.
func TestPublishConcurrentReturnsCorrelate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x, q := unique(t), unique(t)
	b.admin.exchange(x, amqp.ExchangeTopic)
	b.admin.queue(q, nil)
	b.admin.bind(q, "placement.*", x)
	tgt := target(t, b.addr, map[string]string{"exchange": x})
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		typ := "placement.confirmed"
		if i%2 == 1 {
			typ = "candidate.created" // bound to nothing
		}
		m := b.message(t, typ)
		wg.Go(func() { _, errs[i] = b.p.Publish(t.Context(), tgt, m) })
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Errorf("publish %d (routable): %v", i, err)
		}
		if i%2 == 1 && (class(err) != hirehook.ErrorClassRejected || !strings.Contains(fmt.Sprint(err), "unroutable")) {
			t.Errorf("publish %d (unroutable): class %q, error %v; want rejected, unroutable", i, class(err), err)
		}
	}
	if got := b.admin.depth(q, nil); got != n/2 {
		t.Errorf("queue holds %d messages, want %d", got, n/2)
	}
}
