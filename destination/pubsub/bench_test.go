package pubsub

import (
	"context"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchOrderingKey, when set, gives every benchmark message this key.
var benchOrderingKey = ""

// BenchmarkPublish compares an attempt through the Publisher with a
// publish straight through the library with the same settings (message
// id awaited, ordering enabled), both against pstest, one after another
// and from concurrent attempts.
func BenchmarkPublish(b *testing.B) {
	s := newServer(b)
	// No subscription: pstest would keep every message for it, and the
	// later runs would pay for the earlier ones.
	topic := uniqueName(b)
	if _, err := s.admin.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: "projects/" + project + "/topics/" + topic}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"type":"placement.confirmed","data":{"id":"pl_1"}}`)
	signer, _ := newSigner(b)
	m := signed(b, signer, "evt_bench", "", body)
	if key := benchOrderingKey; key != "" {
		m.OrderingKey = key
	}
	ctx := context.Background()

	hub := func(b *testing.B) func(i int) error {
		p := newPublisher(b, testOptions(10*time.Second))
		tg := target("ep_bench", s.srv.Addr, topic)
		return func(int) error {
			_, err := p.Publish(ctx, tg, m)
			return err
		}
	}
	direct := func(b *testing.B) func(i int) error {
		c, err := gpubsub.NewClientWithConfig(ctx, project, clientConfig,
			option.WithEndpoint(s.srv.Addr), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
			option.WithGRPCConnectionPool(1), option.WithTelemetryDisabled())
		if err != nil {
			b.Fatal(err)
		}
		pub := c.Publisher(topic)
		pub.PublishSettings = publishSettings(10 * time.Second)
		pub.EnableMessageOrdering = true
		b.Cleanup(func() { pub.Stop(); c.Close() })
		return func(int) error {
			_, err := pub.Publish(ctx, &gpubsub.Message{Data: m.Body, Attributes: m.Headers, OrderingKey: m.OrderingKey}).Get(ctx)
			return err
		}
	}
	for _, way := range []struct {
		name string
		make func(*testing.B) func(int) error
	}{{"hub_publisher", hub}, {"direct", direct}} {
		b.Run(way.name, func(b *testing.B) {
			publish := way.make(b)
			if err := publish(0); err != nil { // connect outside the timing
				b.Fatal(err)
			}
			b.Run("sequential", func(b *testing.B) {
				s.srv.ClearMessages()
				for i := 0; b.Loop(); i++ {
					if err := publish(i); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("concurrent", func(b *testing.B) {
				s.srv.ClearMessages()
				b.SetParallelism(8) // an endpoint's max_concurrency attempts
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := publish(0); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
