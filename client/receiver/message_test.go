package receiver_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
)

// hubMessage is a message as the hub publishes it to a broker: the
// webhook's body and its Standard Webhooks headers (see delivery/publish.go).
type hubMessage struct {
	headers map[string]string
	body    []byte
}

func signMessage(tb testing.TB, secret, id string, body []byte) hubMessage {
	tb.Helper()
	s, err := hirehook.NewSigner(secret)
	if err != nil {
		tb.Fatal(err)
	}
	ts := time.Now().Unix()
	return hubMessage{body: body, headers: map[string]string{
		"content-type":                  "application/json",
		hirehook.HeaderWebhookID:        id,
		hirehook.HeaderWebhookTimestamp: strconv.FormatInt(ts, 10),
		hirehook.HeaderWebhookSignature: s.Sign(id, ts, body),
	}}
}

// Each broker client's header shape, built as that client hands it over.
func (m hubMessage) kafka() *kgo.Record {
	r := &kgo.Record{Value: m.body}
	for k, v := range m.headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return r
}

func (m hubMessage) amqp() amqp.Delivery {
	d := amqp.Delivery{Body: m.body, Headers: amqp.Table{}}
	for k, v := range m.headers {
		if k == hirehook.HeaderWebhookSignature {
			d.Headers[k] = []byte(v) // RabbitMQ may hand a long string over as bytes
		} else {
			d.Headers[k] = v
		}
	}
	d.Headers["x-retry-count"] = int32(0) // a value of another type is left out
	return d
}

func (m hubMessage) nats() *nats.Msg {
	msg := &nats.Msg{Data: m.body, Header: nats.Header{}}
	for k, v := range m.headers {
		msg.Header.Set(k, v) // case-sensitive: stays "webhook-id"
	}
	msg.Header.Set("Nats-Msg-Id", m.headers[hirehook.HeaderWebhookID])
	return msg
}

// TestVerifyMessage: a message signed as the hub signs it verifies from
// each broker's header shape; a tampered body, a wrong secret and a
// missing header fail, the last naming the header.
func TestVerifyMessage(t *testing.T) {
	t.Parallel()
	secret := hirehook.NewSecret()
	body := []byte(`{"id":"evt_1","type":"application.created","data":{"id":"app_1"}}`)
	v := receiver.Verifier{Secrets: []string{secret}}

	shapes := map[string]func(hubMessage) (map[string]string, []byte){
		"pubsub": func(m hubMessage) (map[string]string, []byte) { return m.headers, m.body },
		"kafka": func(m hubMessage) (map[string]string, []byte) {
			r := m.kafka()
			return receiver.HeadersFromPairs(r.Headers), r.Value
		},
		"rabbitmq": func(m hubMessage) (map[string]string, []byte) {
			d := m.amqp()
			return receiver.HeadersFromTable(d.Headers), d.Body
		},
		"nats": func(m hubMessage) (map[string]string, []byte) {
			msg := m.nats()
			return receiver.HeadersFromMultimap(msg.Header), msg.Data
		},
		"upper-case names": func(m hubMessage) (map[string]string, []byte) {
			h := map[string]string{}
			for k, v := range m.headers {
				h[strings.ToUpper(k)] = v
			}
			return h, m.body
		},
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, b := shape(signMessage(t, secret, "evt_1", body))
			if err := v.VerifyMessage(h, b); err != nil {
				t.Errorf("a message signed as the hub signs it: %v", err)
			}
			if err := receiver.VerifyMessage(h, b, secret); err != nil {
				t.Errorf("receiver.VerifyMessage: %v", err)
			}

			tampered := append([]byte(nil), b...)
			tampered[len(tampered)-2] = 'X'
			if err := v.VerifyMessage(h, tampered); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
				t.Errorf("tampered body: %v, want ErrNoMatchingSignature", err)
			}
			if err := receiver.VerifyMessage(h, b, hirehook.NewSecret()); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
				t.Errorf("another secret: %v, want ErrNoMatchingSignature", err)
			}

			for _, missing := range []string{hirehook.HeaderWebhookID, hirehook.HeaderWebhookTimestamp, hirehook.HeaderWebhookSignature} {
				m := signMessage(t, secret, "evt_1", body)
				delete(m.headers, missing)
				h, b := shape(m)
				err := v.VerifyMessage(h, b)
				if !errors.Is(err, hirehook.ErrMissingHeaders) || !strings.Contains(err.Error(), "no "+missing+" header") {
					t.Errorf("without %s: %v, want ErrMissingHeaders naming it", missing, err)
				}
			}
		})
	}
}

// TestVerifyMessageTimestamp: the timestamp's tolerance holds for
// messages too, and NowFunc moves it for a consumer that reads old
// messages on purpose.
func TestVerifyMessageTimestamp(t *testing.T) {
	t.Parallel()
	secret := hirehook.NewSecret()
	s, err := hirehook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	body := []byte(`{}`)
	h := map[string]string{
		"webhook-id":        "evt_old",
		"webhook-timestamp": strconv.FormatInt(old.Unix(), 10),
		"webhook-signature": s.Sign("evt_old", old.Unix(), body),
	}
	v := receiver.Verifier{Secrets: []string{secret}}
	if err := v.VerifyMessage(h, body); !errors.Is(err, hirehook.ErrTimestampTooOld) {
		t.Errorf("an hour-old message: %v, want ErrTimestampTooOld", err)
	}
	v.NowFunc = func() time.Time { return old }
	if err := v.VerifyMessage(h, body); err != nil {
		t.Errorf("with NowFunc at the message's time: %v", err)
	}
}

// TestVerifyMessageEd25519: an ed25519 endpoint's message verifies with
// its whpk_ public key.
func TestVerifyMessageEd25519(t *testing.T) {
	t.Parallel()
	key := hirehook.NewSigningKey()
	pub, err := hirehook.PublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	m := signMessage(t, key, "evt_ed", []byte(`{"a":1}`))
	if err := receiver.VerifyMessage(receiver.HeadersFromPairs(m.kafka().Headers), m.body, pub); err != nil {
		t.Errorf("v1a message: %v", err)
	}
}
