package receiver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hirehook/hirehook"
)

// A hub publishes to a broker endpoint (Kafka, RabbitMQ, NATS JetStream,
// Google Cloud Pub/Sub) the body a webhook would carry, signed the same
// way, with webhook-id, webhook-timestamp and webhook-signature as the
// message's headers (Pub/Sub: attributes). A consumer verifies it with
// the endpoint's secret as a webhook receiver does, through VerifyMessage.
// Each broker client has its own header type; the Headers* functions turn
// them into the map VerifyMessage takes without this package importing
// any broker library.

// VerifyMessage checks the signature of a message taken from a broker:
// headers are its headers (names in any case; Pub/Sub attributes as they
// are, or one of the Headers* functions' results) and body its payload,
// byte for byte. It fails as VerifyBody does; a missing header is
// hirehook.ErrMissingHeaders, wrapped in an error that names it.
//
// The timestamp must be within 5 minutes of now, as for a webhook: a
// consumer that reads messages older than that (a replay, a lagging
// consumer group) sets NowFunc to return the time to check against, or
// checks the signature before the message waits.
func (v *Verifier) VerifyMessage(headers map[string]string, body []byte) error {
	h := make(http.Header, 3)
	for k, val := range headers {
		h.Set(k, val) // canonical names: "webhook-id" and "Webhook-ID" are one
	}
	for _, name := range []string{hirehook.HeaderWebhookID, hirehook.HeaderWebhookTimestamp, hirehook.HeaderWebhookSignature} {
		if h.Get(name) == "" {
			return fmt.Errorf("message has no %s header: %w", name, hirehook.ErrMissingHeaders)
		}
	}
	return v.VerifyBody(h, body)
}

// VerifyMessage checks a broker message with the secrets, as the
// Verifier's method does with its defaults.
func VerifyMessage(headers map[string]string, body []byte, secrets ...string) error {
	v := Verifier{Secrets: secrets}
	return v.VerifyMessage(headers, body)
}

// HeadersFromPairs returns the headers of a Kafka record as VerifyMessage
// takes them. It accepts a slice of any struct of Key string and Value
// []byte: franz-go's []kgo.RecordHeader, confluent-kafka-go's
// []kafka.Header and segmentio/kafka-go's []kafka.Header.
//
//	err := v.VerifyMessage(receiver.HeadersFromPairs(rec.Headers), rec.Value)
//
// When a name repeats, its first value counts.
func HeadersFromPairs[H ~struct {
	Key   string
	Value []byte
}](pairs []H) map[string]string {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		kv := struct {
			Key   string
			Value []byte
		}(p)
		k := strings.ToLower(kv.Key)
		if _, ok := out[k]; !ok {
			out[k] = string(kv.Value)
		}
	}
	return out
}

// HeadersFromTable returns the headers of an AMQP message (RabbitMQ,
// amqp091-go's amqp.Table, which is a map[string]any) as VerifyMessage
// takes them: string and []byte values as they are, other values (numbers,
// nested tables), which the hub never sets, left out.
//
//	err := v.VerifyMessage(receiver.HeadersFromTable(d.Headers), d.Body)
func HeadersFromTable(table map[string]any) map[string]string {
	out := make(map[string]string, len(table))
	for k, val := range table {
		switch s := val.(type) {
		case string:
			out[strings.ToLower(k)] = s
		case []byte:
			out[strings.ToLower(k)] = string(s)
		}
	}
	return out
}

// HeadersFromMultimap returns headers held as map[string][]string (NATS's
// nats.Header, net/http's http.Header) as VerifyMessage takes them, the
// first value of each name, names in any case: nats.Header is
// case-sensitive, so its Get("Webhook-Id") would miss "webhook-id".
//
//	err := v.VerifyMessage(receiver.HeadersFromMultimap(msg.Header), msg.Data)
func HeadersFromMultimap(h map[string][]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vals := range h {
		if len(vals) == 0 {
			continue
		}
		k = strings.ToLower(k)
		if _, ok := out[k]; !ok {
			out[k] = vals[0]
		}
	}
	return out
}
