package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// pubsubBenchProject is the project of the bench's topics on pstest.
const pubsubBenchProject = "hirehook-bench"

// pubsubBench is an in-process pstest server: the bench cannot reach
// Google's service, and pstest is the one emulator whose messages it can
// count without a subscription.
type pubsubBench struct {
	srv    *pstest.Server
	admin  *gpubsub.Client
	counts sync.Map // full topic name → *atomic.Int64, messages published
}

// React implements pstest.Reactor for Publish: it counts each topic's
// messages, in the server's critical section that stores them, so that
// the bench can poll a count instead of copying pstest's whole message
// list (Messages) every few milliseconds while the hub publishes.
func (b *pubsubBench) React(req any) (bool, any, error) {
	if r, ok := req.(*pubsubpb.PublishRequest); ok {
		n, _ := b.counts.LoadOrStore(r.Topic, new(atomic.Int64))
		n.(*atomic.Int64).Add(int64(len(r.Messages)))
	}
	return false, nil, nil
}

func pstestOptions(addr string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithGRPCConnectionPool(1), option.WithTelemetryDisabled()}
}

func openPubSubBench(ctx context.Context) (*pubsubBench, error) {
	b := &pubsubBench{}
	b.srv = pstest.NewServer(pstest.ServerReactorOption{FuncName: "Publish", Reactor: b})
	admin, err := gpubsub.NewClient(ctx, pubsubBenchProject, pstestOptions(b.srv.Addr)...)
	if err != nil {
		b.srv.Close()
		return nil, fmt.Errorf("admin client for pstest at %s: %w", b.srv.Addr, err)
	}
	b.admin = admin
	return b, nil
}

func (b *pubsubBench) describe() (string, string) {
	return "an in-process pstest server, a topic without subscriptions",
		"cloud.google.com/go/pubsub/v2 (each publish result awaited, as destination/pubsub sets it up: one gRPC connection, CountThreshold 1, ordering enabled)"
}

func pubsubTopicName(topic string) string {
	return "projects/" + pubsubBenchProject + "/topics/" + topic
}

func (b *pubsubBench) create(ctx context.Context, topic string) (map[string]string, map[string]string, error) {
	if _, err := b.admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: pubsubTopicName(topic)}); err != nil {
		return nil, nil, fmt.Errorf("create topic %s: %w", topic, err)
	}
	return map[string]string{"project_id": pubsubBenchProject, "topic": topic, "endpoint": b.srv.Addr}, nil, nil
}

// messages returns the messages pstest holds for topic.
func (b *pubsubBench) messages(topic string) []*pstest.Message {
	var out []*pstest.Message
	for _, m := range b.srv.Messages() {
		if m.Topic == pubsubTopicName(topic) || strings.HasSuffix(m.Topic, "/topics/"+topic) {
			out = append(out, m)
		}
	}
	return out
}

func (b *pubsubBench) count(_ context.Context, topic string) (int64, error) {
	n, ok := b.counts.Load(pubsubTopicName(topic))
	if !ok {
		return 0, nil
	}
	return n.(*atomic.Int64).Load(), nil
}

func (b *pubsubBench) sample(_ context.Context, topic string) ([]byte, map[string]string, error) {
	ms := b.messages(topic)
	if len(ms) == 0 {
		return nil, nil, errNoMessage
	}
	return ms[0].Data, ms[0].Attributes, nil
}

// direct publishes as destination/pubsub does: one gRPC connection, a
// publish call per message (CountThreshold 1), ordering enabled, each
// result's message id awaited.
func (b *pubsubBench) direct(ctx context.Context, topic string) (func(context.Context, string, []byte, map[string]string) error, func(), error) {
	c, err := gpubsub.NewClient(context.WithoutCancel(ctx), pubsubBenchProject, pstestOptions(b.srv.Addr)...)
	if err != nil {
		return nil, nil, fmt.Errorf("pubsub client for pstest: %w", err)
	}
	pub := c.Publisher(topic)
	s := gpubsub.DefaultPublishSettings
	s.CountThreshold, s.Timeout = 1, 15*time.Second
	pub.PublishSettings = s
	pub.EnableMessageOrdering = true
	publish := func(ctx context.Context, _ string, body []byte, headers map[string]string) error {
		// The library keeps the map until the call is sent: a copy, as
		// the caller reuses its own.
		attrs := make(map[string]string, len(headers))
		for k, v := range headers {
			attrs[k] = v
		}
		_, err := pub.Publish(ctx, &gpubsub.Message{Data: body, Attributes: attrs}).Get(ctx)
		return err
	}
	return publish, func() { pub.Stop(); c.Close() }, nil
}

func (b *pubsubBench) remove(ctx context.Context, topic string) error {
	if err := b.admin.TopicAdminClient.DeleteTopic(ctx, &pubsubpb.DeleteTopicRequest{Topic: pubsubTopicName(topic)}); err != nil {
		return fmt.Errorf("delete topic %s: %w", topic, err)
	}
	return nil
}

func (b *pubsubBench) close() {
	b.admin.Close()
	b.srv.Close()
}
