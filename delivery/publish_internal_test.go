package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/destination"
)

// recordingPublisher stands in for a broker (a remote peer): it keeps what
// it is asked to publish and answers err.
type recordingPublisher struct {
	got []destination.Message
	tgt []destination.Target
	err error
}

func (p *recordingPublisher) Publish(_ context.Context, t destination.Target, m destination.Message) (string, error) {
	p.got, p.tgt = append(p.got, m), append(p.tgt, t)
	if p.err != nil {
		return "", p.err
	}
	return "stream S, seq 1", nil
}

func (p *recordingPublisher) Close() error { return nil }

// TestPublishMessage checks what a broker endpoint's attempt hands its
// Publisher: the signed body with the Standard Webhooks headers (which a
// consumer verifies with the SDK's Verifier), the event id as message id,
// the subject as ordering key only for an ordered endpoint, and the
// endpoint's config and credentials; and how the outcome becomes the
// attempt.
func TestPublishMessage(t *testing.T) {
	secret := hirehook.NewSecret()
	signer, err := hirehook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	d := New(nil, Config{Owner: "node_test", Publishers: map[string]destination.Publisher{hirehook.KindNATS: pub}})
	d.runCtx = context.Background()
	updated := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ep := &hirehook.Endpoint{ID: "ep_1", Kind: hirehook.KindNATS, Headers: map[string]string{"X-Agency": "acme"}, UpdatedAt: updated,
		Config: map[string]string{"servers": "n:4222", "subject": "hr"}, Credentials: map[string]string{"token": "tok-1234567"}}
	dl := &hirehook.Delivery{ID: "dlv_1", EventID: "evt_1", EventType: "placement.confirmed", OrderingKey: "placement/pl_1"}
	body := []byte(`{"id":"evt_1","type":"placement.confirmed"}`)
	now := time.Now()

	resp := d.publish(ep, dl, body, signer, now)
	if !resp.Delivered || resp.Attempt.ErrorClass != "" || resp.Attempt.ResponseBody != "stream S, seq 1" {
		t.Fatalf("a confirmed publish gave %+v, want delivered with the detail as response", resp)
	}
	m := pub.got[0]
	if m.ID != "evt_1" || m.Type != "placement.confirmed" || string(m.Body) != string(body) {
		t.Fatalf("message = id %q type %q body %q", m.ID, m.Type, m.Body)
	}
	if m.OrderingKey != "" {
		t.Fatalf("an unordered endpoint's message has ordering key %q", m.OrderingKey)
	}
	if m.Headers["X-Agency"] != "acme" || m.Headers["content-type"] != "application/json" {
		t.Fatalf("headers = %v, want the endpoint's own and content-type", m.Headers)
	}
	h := http.Header{}
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	v := receiver.Verifier{Secrets: []string{secret}}
	if err := v.VerifyBody(h, m.Body); err != nil {
		t.Fatalf("the message's headers do not verify: %v", err)
	}
	if tg := pub.tgt[0]; tg.EndpointID != "ep_1" || !tg.Version.Equal(updated) || tg.Credentials["token"] != "tok-1234567" || tg.Config["subject"] != "hr" {
		t.Fatalf("target = %+v", tg)
	}

	ep.Ordered = true
	d.publish(ep, dl, body, signer, now)
	if got := pub.got[1].OrderingKey; got != "placement/pl_1" {
		t.Fatalf("an ordered endpoint's ordering key = %q, want the subject", got)
	}

	// A failure is classified, and a credential a library quoted is cut.
	pub.err = destination.Errorf(hirehook.ErrorClassAuth, "nats: authorization violation for token %s", "tok-1234567")
	resp = d.publish(ep, dl, body, signer, now)
	if resp.Delivered || resp.Attempt.ErrorClass != hirehook.ErrorClassAuth || strings.Contains(resp.Attempt.Error, "tok-1234567") {
		t.Fatalf("an auth failure gave %+v", resp.Attempt)
	}
	pub.err = errors.New("something odd")
	if resp = d.publish(ep, dl, body, signer, now); resp.Attempt.ErrorClass != hirehook.ErrorClassOther || resp.Delivered {
		t.Fatalf("an unclassified failure gave %+v", resp.Attempt)
	}
	ep.Kind = hirehook.KindKafka // no publisher for it in this dispatcher
	if resp = d.publish(ep, dl, body, signer, now); resp.Delivered || !strings.Contains(resp.Attempt.Error, "kafka") {
		t.Fatalf("a kind without a publisher gave %+v", resp.Attempt)
	}
}
