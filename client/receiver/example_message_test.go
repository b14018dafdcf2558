package receiver_test

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
)

// published returns the headers and body of a message as the hub publishes
// it to a broker endpoint signed with secret.
func published(secret, id, body string) (map[string]string, []byte) {
	s, err := hirehook.NewSigner(secret)
	if err != nil {
		panic(err)
	}
	ts := time.Now().Unix()
	return map[string]string{
		"content-type":      "application/json",
		"webhook-id":        id,
		"webhook-timestamp": strconv.FormatInt(ts, 10),
		"webhook-signature": s.Sign(id, ts, []byte(body)),
	}, []byte(body)
}

// A Google Cloud Pub/Sub subscriber verifies a message's attributes, which
// are already a map[string]string: in a Receive callback,
// v.VerifyMessage(msg.Attributes, msg.Data), then msg.Ack() or msg.Nack().
func ExampleVerifier_VerifyMessage() {
	secret := hirehook.NewSecret() // the endpoint's secret, from the hub
	v := receiver.Verifier{Secrets: []string{secret}}

	attributes, data := published(secret, "evt_1", `{"id":"evt_1","type":"placement.confirmed"}`)
	fmt.Println(v.VerifyMessage(attributes, data))

	delete(attributes, "webhook-signature")
	fmt.Println(v.VerifyMessage(attributes, data))
	// Output:
	// <nil>
	// message has no webhook-signature header: webhook-id, webhook-timestamp and webhook-signature are required
}

// A Kafka consumer (franz-go) verifies each record: its Headers, a
// []kgo.RecordHeader, go through HeadersFromPairs. A record that fails is
// not processed; where it goes (a dead-letter topic, a log) is the
// consumer's choice, and its offset is committed either way.
func ExampleHeadersFromPairs() {
	secret := hirehook.NewSecret()
	v := receiver.Verifier{Secrets: []string{secret}}

	// As client.PollFetches(ctx).EachRecord hands it over.
	headers, value := published(secret, "evt_2", `{"id":"evt_2","type":"application.created"}`)
	rec := &kgo.Record{Topic: "applications", Value: value}
	for k, val := range headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(val)})
	}

	if err := v.VerifyMessage(receiver.HeadersFromPairs(rec.Headers), rec.Value); err != nil {
		fmt.Println("skip:", err)
		return
	}
	fmt.Println("verified", string(rec.Value))
	// Output:
	// verified {"id":"evt_2","type":"application.created"}
}

// A RabbitMQ consumer (amqp091-go) verifies each delivery: its Headers, an
// amqp.Table, go through HeadersFromTable. A forged message is rejected
// without requeueing (to a dead-letter exchange if the queue has one); a
// genuine one is acknowledged once handled.
func ExampleHeadersFromTable() {
	secret := hirehook.NewSecret()
	v := receiver.Verifier{Secrets: []string{secret}}

	headers, body := published(hirehook.NewSecret(), "evt_3", `{"id":"evt_3","type":"placement.confirmed"}`) // signed with another secret
	d := amqp.Delivery{Headers: amqp.Table{}, Body: body}                                                    // as <-ch.Consume(...) hands it over
	for k, val := range headers {
		d.Headers[k] = val
	}

	if err := v.VerifyMessage(receiver.HeadersFromTable(d.Headers), d.Body); err != nil {
		fmt.Println("reject:", err) // d.Reject(false)
		return
	}
	fmt.Println("ack") // d.Ack(false)
	// Output:
	// reject: no webhook-signature matches
}

// A NATS JetStream consumer verifies each message: its Header, a
// nats.Header (case-sensitive), goes through HeadersFromMultimap.
func ExampleHeadersFromMultimap() {
	secret := hirehook.NewSecret()
	v := receiver.Verifier{Secrets: []string{secret}}

	headers, data := published(secret, "evt_4", `{"id":"evt_4","type":"offer.signed"}`)
	msg := &nats.Msg{Subject: "hirehook.offer.signed", Header: nats.Header{}, Data: data}
	for k, val := range headers {
		msg.Header.Set(k, val)
	}

	if err := v.VerifyMessage(receiver.HeadersFromMultimap(msg.Header), msg.Data); err != nil {
		fmt.Println("term:", err) // msg.Term(): JetStream does not redeliver it
		return
	}
	fmt.Println("ack", msg.Header.Get("webhook-id")) // msg.Ack()
	// Output:
	// ack evt_4
}
