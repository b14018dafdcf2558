package kafka

import (
	"bytes"
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

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/netguard"
	"github.com/hirehook/hirehook/internal/testwait"
)

// uniqueName is a topic (or endpoint) name of t's own.
func uniqueName(t testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "hh." + name + "." + hex.EncodeToString(b)
}

// newCluster starts an in-process Kafka cluster with topic (of
// partitions) in it; it is closed at the test's end.
func newCluster(t testing.TB, partitions int32, topic string, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic)}, opts...)...)
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// newPublisher returns a Publisher whose dialer allows loopback (the
// guard's own test uses the real guard).
func newPublisher(t testing.TB, timeout time.Duration) *Publisher {
	p := New(destination.Options{
		DialContext: (&net.Dialer{Timeout: timeout}).DialContext,
		Timeout:     timeout,
		ClientID:    "hirehook-test",
	})
	t.Cleanup(func() { p.Close() })
	return p
}

func target(t testing.TB, c *kfake.Cluster, topic string) destination.Target {
	return destination.Target{
		EndpointID: "ep_" + uniqueName(t),
		Version:    time.Unix(1_700_000_000, 0),
		Config:     map[string]string{"brokers": strings.Join(c.ListenAddrs(), ","), "topic": topic},
	}
}

// signed is a message signed as delivery/sender.go signs a webhook.
func signed(t testing.TB, signer *hirehook.Signer, id, key string, body []byte) destination.Message {
	ts := time.Now().Unix()
	return destination.Message{
		ID: id, Type: "placement.confirmed", OrderingKey: key, Body: body,
		Headers: map[string]string{
			"content-type":                  "application/json",
			"x-agency":                      "acme",
			hirehook.HeaderWebhookID:        id,
			hirehook.HeaderWebhookTimestamp: strconv.FormatInt(ts, 10),
			hirehook.HeaderWebhookSignature: signer.Sign(id, ts, body),
		},
	}
}

func newSigner(t testing.TB) (string, *hirehook.Signer) {
	secret := hirehook.NewSecret()
	s, err := hirehook.NewSigner(secret)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	return secret, s
}

// consume reads topic from the start until it has n records.
func consume(t testing.TB, c *kfake.Cluster, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records from %s before the timeout", len(out), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func header(r *kgo.Record) http.Header {
	h := http.Header{}
	for _, rh := range r.Headers {
		h.Add(rh.Key, string(rh.Value))
	}
	return h
}

func classOf(err error) hirehook.ErrorClass {
	var de *destination.Error
	if errors.As(err, &de) {
		return de.Class
	}
	return "not a *destination.Error"
}

func TestPublishConsumeVerify(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 1, topic)
	p := newPublisher(t, 10*time.Second)
	tg := target(t, c, topic)
	secret, signer := newSigner(t)

	body := []byte(`{"type":"placement.confirmed","data":{"id":"pl_1","note":"byte \u00e9xact\n"}}`)
	m1 := signed(t, signer, "evt_1", "", body)
	m2 := signed(t, signer, "evt_2", "candidate/cand_1", []byte(`{"n":2}`))
	for i, m := range []destination.Message{m1, m2} {
		detail, err := p.Publish(context.Background(), tg, m)
		if err != nil {
			t.Fatalf("publish %s: %v", m.ID, err)
		}
		if want := fmt.Sprintf("partition 0, offset %d", i); detail != want {
			t.Errorf("detail = %q, want %q", detail, want)
		}
	}

	recs := consume(t, c, topic, 2)
	v := &receiver.Verifier{Secrets: []string{secret}}
	for i, want := range []struct {
		m   destination.Message
		key string
	}{{m1, "evt_1"}, {m2, "candidate/cand_1"}} {
		r := recs[i]
		if string(r.Value) != string(want.m.Body) {
			t.Errorf("record %d body = %q, want %q", i, r.Value, want.m.Body)
		}
		if string(r.Key) != want.key {
			t.Errorf("record %d key = %q, want %q", i, r.Key, want.key)
		}
		h := header(r)
		for k, v := range want.m.Headers {
			if got := h.Get(k); got != v {
				t.Errorf("record %d header %s = %q, want %q", i, k, got, v)
			}
		}
		if got := h.Get(hirehook.HeaderWebhookID); got != want.m.ID {
			t.Errorf("record %d webhook-id = %q, want %q", i, got, want.m.ID)
		}
		if err := v.VerifyBody(h, r.Value); err != nil {
			t.Errorf("record %d: signature does not verify: %v", i, err)
		}
	}
}

// TestBrokerDownAndBack takes the cluster down (its data on disk) and
// brings it back on the same port: attempts fail fast while it is down,
// the next one after it is back succeeds, and what failed is not there.
func TestBrokerDownAndBack(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	dir := t.TempDir()
	c := newCluster(t, 1, topic, kfake.DataDir(dir))
	_, port, _ := net.SplitHostPort(c.ListenAddrs()[0])
	portN, _ := strconv.Atoi(port)
	const timeout = 2 * time.Second
	p := newPublisher(t, timeout)
	tg := target(t, c, topic)
	_, signer := newSigner(t)

	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_before", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish before: %v", err)
	}
	c.Close()
	for i := range 2 {
		start := time.Now()
		_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_down", "", []byte(`{}`)))
		elapsed := time.Since(start)
		if err == nil {
			t.Fatalf("publish %d while down: no error", i)
		}
		if cl := classOf(err); cl != hirehook.ErrorClassConnection && cl != hirehook.ErrorClassTimeout {
			t.Errorf("publish %d while down: class %q (%v), want connection or timeout", i, cl, err)
		}
		if elapsed > timeout+500*time.Millisecond {
			t.Errorf("publish %d while down took %v, want within %v", i, elapsed, timeout)
		}
		t.Logf("while down: %v after %v", err, elapsed)
	}

	c2 := newCluster(t, 1, topic, kfake.DataDir(dir), kfake.Ports(portN))
	detail, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_after", "", []byte(`{}`)))
	if err != nil {
		t.Fatalf("publish after the broker came back: %v", err)
	}
	t.Logf("after: %s", detail)
	recs := consume(t, c2, topic, 2)
	var ids []string
	for _, r := range recs {
		ids = append(ids, string(r.Key))
	}
	if got := strings.Join(ids, ","); got != "evt_before,evt_after" {
		t.Errorf("topic holds %s, want evt_before,evt_after", got)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "hub", "right-horse-battery", "wr0ng-pa55word-staple"
	for _, mech := range []struct{ config, kfake string }{
		{"plain", "PLAIN"}, {"scram-sha-256", "SCRAM-SHA-256"}, {"scram-sha-512", "SCRAM-SHA-512"},
	} {
		t.Run(mech.config, func(t *testing.T) {
			t.Parallel()
			topic := uniqueName(t)
			c := newCluster(t, 1, topic, kfake.EnableSASL(), kfake.Superuser(mech.kfake, user, pass))
			p := newPublisher(t, 5*time.Second)
			tg := target(t, c, topic)
			tg.Config["sasl_mechanism"] = mech.config
			tg.Credentials = map[string]string{"username": user, "password": pass}
			_, signer := newSigner(t)
			if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_ok", "", []byte(`{}`))); err != nil {
				t.Fatalf("publish with the right password: %v", err)
			}

			tg.Version = tg.Version.Add(time.Second)
			tg.Credentials = map[string]string{"username": user, "password": wrong}
			start := time.Now()
			_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_bad", "", []byte(`{}`)))
			if err == nil {
				t.Fatal("publish with a wrong password: no error")
			}
			t.Logf("wrong password: %v after %v", err, time.Since(start))
			if cl := classOf(err); cl != hirehook.ErrorClassAuth {
				t.Errorf("class = %q, want auth (%v)", cl, err)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), wrong) || strings.Contains(e.Error(), pass) {
					t.Errorf("error text contains a password: %q", e.Error())
				}
			}
			if !strings.Contains(err.Error(), user) {
				t.Errorf("error %q does not name the user", err)
			}
		})
	}
}

// TestAuthErrorCode: Kafka itself answers a wrong password with
// SASL_AUTHENTICATION_FAILED (kfake just closes the connection, which
// TestAuth covers); the cluster is made to answer as Kafka does.
func TestAuthErrorCode(t *testing.T) {
	t.Parallel()
	const user, pass, wrong = "hub", "right-horse-battery", "wr0ng-pa55word-staple"
	topic := uniqueName(t)
	c := newCluster(t, 1, topic, kfake.EnableSASL(), kfake.Superuser("PLAIN", user, pass))
	c.ControlKey(kmsg.SASLAuthenticate.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.SASLAuthenticateRequest)
		if !bytes.Contains(r.SASLAuthBytes, []byte(wrong)) {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	p := newPublisher(t, 5*time.Second)
	tg := target(t, c, topic)
	tg.Config["sasl_mechanism"] = "plain"
	tg.Credentials = map[string]string{"username": user, "password": wrong}
	_, signer := newSigner(t)
	start := time.Now()
	_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_bad", "", []byte(`{}`)))
	t.Logf("wrong password: %v after %v", err, time.Since(start))
	if cl := classOf(err); cl != hirehook.ErrorClassAuth {
		t.Fatalf("class = %q, want auth (%v)", cl, err)
	}
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("error does not wrap kerr.SaslAuthenticationFailed: %v", err)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), wrong) {
			t.Errorf("error text contains the password: %q", e.Error())
		}
	}
	tg.Version = tg.Version.Add(time.Second)
	tg.Credentials["password"] = pass
	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_ok", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish with the password fixed: %v", err)
	}
}

// TestClose: Close closes the clients, and Publish fails afterwards.
func TestClose(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 1, topic)
	p := newPublisher(t, 5*time.Second)
	tg := target(t, c, topic)
	_, signer := newSigner(t)
	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_1", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish: %v", err)
	}
	cl, release, err := p.pool.Get(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if !cl.closed.Load() {
		t.Error("client still open after Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_2", "", []byte(`{}`))); err == nil {
		t.Error("publish after Close: no error")
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	t.Run("unknown topic", func(t *testing.T) {
		t.Parallel()
		topic := uniqueName(t)
		c := newCluster(t, 1, topic)
		const timeout = 10 * time.Second
		p := newPublisher(t, timeout)
		tg := target(t, c, topic+".missing")
		_, signer := newSigner(t)
		start := time.Now()
		_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_1", "", []byte(`{}`)))
		t.Logf("unknown topic: %v after %v", err, time.Since(start))
		if cl := classOf(err); cl != hirehook.ErrorClassRejected {
			t.Fatalf("class = %q, want rejected (%v)", cl, err)
		}
		if !strings.Contains(err.Error(), topic+".missing") {
			t.Errorf("error %q does not name the topic", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		topic := uniqueName(t)
		c := newCluster(t, 1, topic, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2048"}))
		p := newPublisher(t, 10*time.Second)
		tg := target(t, c, topic)
		_, signer := newSigner(t)
		big := make([]byte, 8<<10) // random, so that compression cannot shrink it
		rand.Read(big)
		_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_big", "", []byte(hex.EncodeToString(big))))
		t.Logf("too large: %v", err)
		if cl := classOf(err); cl != hirehook.ErrorClassRejected {
			t.Fatalf("class = %q, want rejected (%v)", cl, err)
		}
		// The connection is fine: the next, smaller message goes through.
		if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_small", "", []byte(`{}`))); err != nil {
			t.Fatalf("publish after a rejected one: %v", err)
		}
	})
}

// TestOrdering publishes three subjects concurrently, each subject's
// messages one after the other as the hub's ordered lanes do: each
// subject stays on one partition, in order.
func TestOrdering(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 3, topic)
	p := newPublisher(t, 10*time.Second)
	tg := target(t, c, topic)
	_, signer := newSigner(t)
	subjects := []string{"candidate/cand_1", "candidate/cand_2", "job/job_7"}
	const perSubject = 70
	var wg sync.WaitGroup
	errs := make(chan error, len(subjects))
	for _, s := range subjects {
		wg.Go(func() {
			for i := range perSubject {
				id := fmt.Sprintf("%s#%03d", s, i)
				if _, err := p.Publish(context.Background(), tg, signed(t, signer, id, s, []byte(id))); err != nil {
					errs <- fmt.Errorf("publish %s: %w", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	recs := consume(t, c, topic, len(subjects)*perSubject)
	next := map[string]int{}
	partition := map[string]int32{}
	for _, r := range recs {
		key := string(r.Key)
		if p, ok := partition[key]; ok && p != r.Partition {
			t.Errorf("subject %s on partitions %d and %d", key, p, r.Partition)
		}
		partition[key] = r.Partition
		if want := fmt.Sprintf("%s#%03d", key, next[key]); string(r.Value) != want {
			t.Fatalf("subject %s: got %s, want %s", key, r.Value, want)
		}
		next[key]++
	}
	for _, s := range subjects {
		if next[s] != perSubject {
			t.Errorf("subject %s: %d records, want %d", s, next[s], perSubject)
		}
	}
	t.Logf("partitions: %v", partition)
}

// TestVersionChange: an endpoint edited (a new Version) gets a new
// client, and the old one is closed.
func TestVersionChange(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 1, topic)
	p := newPublisher(t, 10*time.Second)
	tg := target(t, c, topic)
	_, signer := newSigner(t)
	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_1", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish v1: %v", err)
	}
	old, release, err := p.pool.Get(context.Background(), tg)
	if err != nil {
		t.Fatalf("get v1 client: %v", err)
	}
	release()

	tg.Version = tg.Version.Add(time.Minute)
	if _, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_2", "", []byte(`{}`))); err != nil {
		t.Fatalf("publish v2: %v", err)
	}
	testwait.For(t, 5*time.Second, "the v1 client to be closed", old.closed.Load, nil)
	if err := old.kc.ProduceSync(context.Background(), &kgo.Record{Value: []byte("x")}).FirstErr(); !errors.Is(err, kgo.ErrClientClosed) {
		t.Errorf("producing on the v1 client: %v, want kgo.ErrClientClosed", err)
	}
	cur, release, err := p.pool.Get(context.Background(), tg)
	if err != nil {
		t.Fatalf("get v2 client: %v", err)
	}
	release()
	if cur == old || cur.closed.Load() {
		t.Errorf("v2 client is the old one or closed")
	}
	if n := p.pool.Len(); n != 1 {
		t.Errorf("pool holds %d clients, want 1", n)
	}
}

// TestGuard: the outbound address guard's dialer refuses the loopback
// broker, and the attempt says so.
func TestGuard(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 1, topic)
	const timeout = 5 * time.Second
	p := New(destination.Options{DialContext: netguard.DialContext(timeout, false, netguard.AllowList{}), Timeout: timeout})
	t.Cleanup(func() { p.Close() })
	_, signer := newSigner(t)
	start := time.Now()
	_, err := p.Publish(context.Background(), target(t, c, topic), signed(t, signer, "evt_1", "", []byte(`{}`)))
	t.Logf("guarded: %v after %v", err, time.Since(start))
	if cl := classOf(err); cl != hirehook.ErrorClassForbidden {
		t.Fatalf("class = %q, want forbidden_dest (%v)", cl, err)
	}
	if !errors.Is(err, destination.ErrForbidden) {
		t.Errorf("error does not wrap destination.ErrForbidden: %v", err)
	}
}

// TestConfig: tls="true" speaks TLS (which a plain broker does not
// answer), and an unknown SASL mechanism is refused before any dial.
func TestConfig(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	c := newCluster(t, 1, topic)
	p := newPublisher(t, 3*time.Second)
	_, signer := newSigner(t)

	tg := target(t, c, topic)
	tg.Config["tls"] = "true"
	_, err := p.Publish(context.Background(), tg, signed(t, signer, "evt_1", "", []byte(`{}`)))
	t.Logf("tls to a plain broker: %v", err)
	if cl := classOf(err); cl != hirehook.ErrorClassTLS {
		t.Errorf("tls to a plain broker: class %q, want tls (%v)", cl, err)
	}

	tg = target(t, c, topic)
	tg.Config["sasl_mechanism"] = "gssapi"
	_, err = p.Publish(context.Background(), tg, signed(t, signer, "evt_1", "", []byte(`{}`)))
	if cl := classOf(err); cl != hirehook.ErrorClassOther || !strings.Contains(err.Error(), "gssapi") {
		t.Errorf("unknown sasl_mechanism: class %q, error %v", cl, err)
	}
}

// BenchmarkPublish compares a Publish with producing straight through
// franz-go with the same settings (acks=all, idempotent, no linger),
// one record at a time waiting for each ack.
func BenchmarkPublish(b *testing.B) {
	topic := uniqueName(b)
	c := newCluster(b, 1, topic)
	_, signer := newSigner(b)
	m := signed(b, signer, "evt_bench", "", []byte(strings.Repeat(`{"k":"v"}`, 100)))

	b.Run("hub_publisher", func(b *testing.B) {
		p := newPublisher(b, 10*time.Second)
		tg := target(b, c, topic)
		for b.Loop() {
			if _, err := p.Publish(context.Background(), tg, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		var hs []kgo.RecordHeader
		for k, v := range m.Headers {
			hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		for b.Loop() {
			r := &kgo.Record{Key: []byte(m.ID), Value: m.Body, Headers: hs}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
