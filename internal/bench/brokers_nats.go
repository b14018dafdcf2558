package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type natsBench struct {
	servers string
	nc      *natsgo.Conn
	js      jetstream.JetStream
}

func natsURLs(servers string) string {
	var urls []string
	for _, s := range strings.Split(servers, ",") {
		urls = append(urls, "nats://"+strings.TrimSpace(s))
	}
	return strings.Join(urls, ",")
}

func openNATSBench(_ context.Context, servers string) (*natsBench, error) {
	nc, err := natsgo.Connect(natsURLs(servers), natsgo.Timeout(5*time.Second), natsgo.Name("hirehook-bench"))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s (--nats-servers): %w", servers, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream at %s: %w", servers, err)
	}
	return &natsBench{servers: servers, nc: nc, js: js}, nil
}

func (b *natsBench) describe() (string, string) {
	return "NATS JetStream at " + b.servers + ", a stream of its own on file storage",
		"nats.go (JetStream PubAck awaited, Nats-Msg-Id set)"
}

// The stream is named after dest and captures "<dest>.>": the endpoint's
// subject prefix is dest, and the hub publishes to <dest>.<event type>.
func (b *natsBench) create(ctx context.Context, dest string) (map[string]string, map[string]string, error) {
	if _, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: dest, Subjects: []string{dest + ".>"}, Storage: jetstream.FileStorage}); err != nil {
		return nil, nil, fmt.Errorf("create stream %s: %w", dest, err)
	}
	return map[string]string{"servers": b.servers, "subject": dest}, nil, nil
}

func (b *natsBench) count(ctx context.Context, dest string) (int64, error) {
	s, err := b.js.Stream(ctx, dest)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", dest, err)
	}
	return int64(s.CachedInfo().State.Msgs), nil
}

func (b *natsBench) sample(ctx context.Context, dest string) ([]byte, map[string]string, error) {
	s, err := b.js.Stream(ctx, dest)
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", dest, err)
	}
	m, err := s.GetMsg(ctx, 1)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil, errNoMessage
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get message 1 of %s: %w", dest, err)
	}
	h := make(map[string]string, len(m.Header))
	for k := range m.Header {
		if k != jetstream.MsgIDHeader { // set by WithMsgID on every publish
			h[k] = m.Header.Get(k)
		}
	}
	return m.Data, h, nil
}

// direct publishes as destination/nats does: one connection, each message
// to <dest>.placement.confirmed with its Nats-Msg-Id, awaiting the
// stream's PubAck.
func (b *natsBench) direct(_ context.Context, dest string) (func(context.Context, string, []byte, map[string]string) error, func(), error) {
	nc, err := natsgo.Connect(natsURLs(b.servers), natsgo.Timeout(5*time.Second), natsgo.Name("hirehook-bench-direct"))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", b.servers, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	subject := dest + ".placement.confirmed"
	publish := func(ctx context.Context, id string, body []byte, headers map[string]string) error {
		msg := natsgo.NewMsg(subject)
		msg.Data = body
		for k, v := range headers {
			msg.Header.Set(k, v)
		}
		_, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
		return err
	}
	return publish, nc.Close, nil
}

func (b *natsBench) remove(ctx context.Context, dest string) error {
	if err := b.js.DeleteStream(ctx, dest); err != nil {
		return fmt.Errorf("delete stream %s: %w", dest, err)
	}
	return nil
}

func (b *natsBench) close() { b.nc.Close() }
