package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/internal/hubtest"
	"github.com/hirehook/hirehook/internal/testwait"
)

// TestLoader runs the docs' Kafka example end to end on an in-process
// Kafka (kfake): a hub produces two application events through an endpoint
// of kind kafka made with the SDK, the loader verifies and writes each
// once; a replayed delivery (the same event again) is dropped as a
// duplicate, and a record with a forged signature is skipped.
func TestLoader(t *testing.T) {
	t.Parallel()
	topic := "hirehook.recruiting"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(cluster.Close)
	broker := cluster.ListenAddrs()[0]

	hub := hubtest.Start(t)
	c, err := client.New(hub.URL, hub.Key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{
		Kind:       hirehook.KindKafka,
		Config:     map[string]string{"brokers": broker, "topic": topic},
		EventTypes: []string{"application.*"},
		Ordered:    true,
	})
	if err != nil {
		t.Fatal(err)
	}

	var out, log testwait.Buffer
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := map[string]string{"HIREHOOK_SECRET": ep.Secret}
	go func() {
		done <- run(wctx, []string{"--brokers", broker, "--topic", topic}, func(k string) string { return env[k] }, &out, &log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	detail := func() string { return "--- out:\n" + out.String() + "--- log:\n" + log.String() }

	var ids []string
	for _, app := range []string{"app_1", "app_2"} {
		in, err := entity.NewEvent(entity.EventApplicationCreated, entity.Application{ID: app, CandidateID: "c_1", JobID: "j_1", Status: "active"})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := c.SendEvent(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.ID)
	}
	testwait.For(t, 30*time.Second, "the loader to write both events", func() bool {
		return strings.Contains(out.String(), `"id":"`+ids[0]+`"`) && strings.Contains(out.String(), `"id":"`+ids[1]+`"`)
	}, detail)

	// A replay publishes the first event again: the loader drops it. The
	// loader can read the record before the hub has recorded the attempt;
	// a replay while the attempt is open is refused (409), so wait for it.
	var dlv hirehook.Delivery
	testwait.For(t, 30*time.Second, "the hub to record the first delivery", func() bool {
		ev, err := c.GetEvent(ctx, ids[0])
		if err != nil || len(ev.DeliveryList) != 1 {
			return false
		}
		dlv = ev.DeliveryList[0]
		return dlv.State == hirehook.DeliveryDelivered
	}, detail)
	if _, err := c.RetryDelivery(ctx, dlv.ID); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "the loader to drop the replayed event", func() bool {
		return strings.Contains(log.String(), "duplicate "+ids[0])
	}, detail)

	// A forgery: well-formed headers, signed with another secret.
	forger, _ := hirehook.NewSigner(hirehook.NewSecret())
	body := []byte(`{"id":"evt_forged","type":"application.created","data":{"id":"app_x"}}`)
	ts := time.Now().Unix()
	prod, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	rec := &kgo.Record{Topic: topic, Value: body, Headers: []kgo.RecordHeader{
		{Key: "webhook-id", Value: []byte("evt_forged")},
		{Key: "webhook-timestamp", Value: []byte(strconv.FormatInt(ts, 10))},
		{Key: "webhook-signature", Value: []byte(forger.Sign("evt_forged", ts, body))},
	}}
	if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "the loader to skip the forgery", func() bool {
		return strings.Contains(log.String(), "no webhook-signature matches")
	}, detail)
	if strings.Contains(out.String(), "evt_forged") {
		t.Errorf("the loader wrote a forged event:\n%s", out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("the loader wrote %d events, want 2:\n%s", n, out.String())
	}
}
