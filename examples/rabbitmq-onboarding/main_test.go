package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/internal/hubtest"
	"github.com/hirehook/hirehook/internal/testbroker"
	"github.com/hirehook/hirehook/internal/testwait"
)

// TestWorker runs the docs' RabbitMQ example end to end: a hub publishes a
// confirmed placement to a queue through an endpoint of kind rabbitmq made
// with the SDK, the worker verifies it with the endpoint's secret and
// onboards the candidate; a message with a forged signature put on the
// same queue is rejected.
func TestWorker(t *testing.T) {
	t.Parallel()
	addr := testbroker.RabbitMQ(t)
	b := make([]byte, 4)
	rand.Read(b)
	queue := "hirehook-test.rabbitmq-onboarding." + hex.EncodeToString(b)
	amqpURL := "amqp://guest:guest@" + addr + "/"

	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			t.Errorf("delete queue %s: %v", queue, err)
		}
	})

	hub := hubtest.Start(t)
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{
		Kind:        hirehook.KindRabbitMQ,
		Config:      map[string]string{"address": addr, "routing_key": queue}, // the default exchange routes by queue name
		Credentials: map[string]string{"username": "guest", "password": "guest"},
		EventTypes:  []string{"placement.confirmed"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var out testwait.Buffer
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := map[string]string{"AMQP_URL": amqpURL, "HIREHOOK_SECRET": ep.Secret}
	go func() { done <- run(wctx, []string{"--queue", queue}, func(k string) string { return env[k] }, &out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{ID: "pl_1", Status: "confirmed", StartDate: "2026-12-07",
		Candidate: &entity.CandidateSummary{ID: "c_1", FirstName: "Ada", LastName: "Lovelace"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.SendEvent(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := "onboard Ada Lovelace, placement pl_1, starting 2026-12-07 (event " + acc.ID + ")"
	testwait.ForOutput(t, 30*time.Second, "the worker to onboard the placement", &out, func() bool { return strings.Contains(out.String(), want) })
	testwait.For(t, 10*time.Second, "the delivery to be delivered", func() bool {
		ev, err := c.GetEvent(ctx, acc.ID)
		return err == nil && len(ev.DeliveryList) == 1 && ev.DeliveryList[0].State == hirehook.DeliveryDelivered
	}, func() string { return "--- worker:\n" + out.String() })

	// A forgery: well-formed headers, signed with another secret.
	forger, _ := hirehook.NewSigner(hirehook.NewSecret())
	body := []byte(`{"id":"evt_forged","type":"placement.confirmed","data":{"id":"pl_2"}}`)
	ts := time.Now().Unix()
	err = ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{MessageId: "evt_forged", Body: body, Headers: amqp.Table{
		"webhook-id": "evt_forged", "webhook-timestamp": strconv.FormatInt(ts, 10), "webhook-signature": forger.Sign("evt_forged", ts, body)}})
	if err != nil {
		t.Fatal(err)
	}
	testwait.ForOutput(t, 30*time.Second, "the worker to reject the forgery", &out, func() bool {
		return strings.Contains(out.String(), "reject evt_forged: no webhook-signature matches")
	})
	if strings.Contains(out.String(), "placement pl_2") {
		t.Errorf("the worker onboarded a forged placement:\n%s", out.String())
	}
}
