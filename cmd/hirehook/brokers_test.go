package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testbroker"
	"github.com/hirehook/hirehook/internal/testproxy"
	"github.com/hirehook/hirehook/internal/testwait"
)

// The brokers the destination tests publish to through a hub, each with a
// consumer reading what the hub published as a subscriber would: the
// shared NATS JetStream server, an in-process Kafka (kfake) and an
// in-process Pub/Sub (pstest), which the hub reaches over TCP like any
// broker.

// natsServer is the test machine's NATS server with JetStream.
const natsServer = testbroker.NATS

// natsServerBinary is the nats-server the auth test starts with users.
const natsServerBinary = testbroker.NATSServerBinary

// pubsubProject is the Google Cloud project of the pstest topics.
const pubsubProject = "hirehook-test"

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// brokerName is a queue, stream or topic name of tb's own: letters,
// digits, _ and -, which every kind accepts, starting with a letter.
func brokerName(tb testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	name := unsafeNameChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return "hh_" + name + "_" + hex.EncodeToString(b)
}

// brokerMsg is one message a consumer took from a broker.
type brokerMsg struct {
	// BrokerID is the message's own id where the kind has one the hub
	// sets: Kafka's record key (an unordered endpoint's), NATS's
	// Nats-Msg-Id, the webhook-id attribute on Pub/Sub (whose message id
	// is the server's).
	BrokerID string
	// Key is the ordering key: Kafka's record key, Pub/Sub's ordering key;
	// "" for NATS.
	Key    string
	Header http.Header
	Body   []byte
}

// EventID is the webhook-id header, the event's id.
func (m brokerMsg) EventID() string { return m.Header.Get(hirehook.HeaderWebhookID) }

// inbox holds what a consumer took, in consumption order.
type inbox struct {
	mu   sync.Mutex
	msgs []brokerMsg
}

func (b *inbox) add(m brokerMsg) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
}

func (b *inbox) all() []brokerMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]brokerMsg(nil), b.msgs...)
}

// ids counts the messages of each event id.
func (b *inbox) ids() map[string]int {
	out := map[string]int{}
	for _, m := range b.all() {
		out[m.EventID()]++
	}
	return out
}

// missing returns how many of want the inbox has no message of.
func (b *inbox) missing(want []string) int {
	got := b.ids()
	n := 0
	for _, id := range want {
		if got[id] == 0 {
			n++
		}
	}
	return n
}

// waitAll waits until the inbox holds a message of every event in want.
func (b *inbox) waitAll(tb testing.TB, timeout time.Duration, what string, want []string) {
	tb.Helper()
	testwait.For(tb, timeout, what, func() bool { return b.missing(want) == 0 },
		func() string {
			return fmt.Sprintf("%d of %d events missing, %d messages consumed", b.missing(want), len(want), len(b.all()))
		})
}

// broker is one destination made for one test: an endpoint's config, and a
// consumer reading everything published to it.
type broker struct {
	kind        string
	config      map[string]string
	credentials map[string]string
	got         *inbox
	// keyed says the kind has an ordering key (brokerMsg.Key).
	keyed bool
	// down takes the broker away from the hub, with nothing it acknowledged
	// lost; up brings it back on the same address. Nil unless opened with
	// brokerOpts.downable.
	down, up func(tb testing.TB)
}

// brokerOpts say what a test needs of its broker.
type brokerOpts struct {
	// ordered makes a Pub/Sub subscription deliver by ordering key.
	ordered bool
	// downable puts the broker where the test can take it down and back:
	// behind a testproxy (NATS, Pub/Sub), on a data directory and a fixed
	// port (kfake, restarted).
	downable bool
}

// brokerKind opens a broker of one kind for a test.
type brokerKind struct {
	name string
	open func(tb testing.TB, o brokerOpts) *broker
}

// brokerKinds are the kinds the destination tests run over.
var brokerKinds = []brokerKind{
	{hirehook.KindNATS, openNATS},
	{hirehook.KindKafka, openKafka},
	{hirehook.KindPubSub, openPubSub},
	{hirehook.KindRabbitMQ, openRabbitMQ},
}

// openRabbitMQ declares a topic exchange and a queue bound to it for
// "placement.*", both of the test's own and deleted at its end, and
// consumes the queue. The endpoint publishes to the exchange with its
// default routing key, the event type.
func openRabbitMQ(tb testing.TB, o brokerOpts) *broker {
	tb.Helper()
	server := testbroker.RabbitMQAddr()
	conn, err := amqp.Dial("amqp://guest:guest@" + server + "/")
	if err != nil {
		testbroker.Need(tb, "RabbitMQ (guest/guest) at "+server, err)
	}
	tb.Cleanup(func() { conn.Close() })
	name := brokerName(tb)
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatalf("amqp channel: %v", err)
	}
	if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
		tb.Fatalf("declare exchange %s: %v", name, err)
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		tb.Fatalf("declare queue %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// On a channel of its own: the consumer's is closed by then.
		if ch, err := conn.Channel(); err == nil {
			ch.QueueDelete(name, false, false, false)
			ch.ExchangeDelete(name, false, false)
			ch.Close()
		}
	})
	if err := ch.QueueBind(name, "placement.*", name, false, nil); err != nil {
		tb.Fatalf("bind queue %s: %v", name, err)
	}
	deliveries, err := ch.Consume(name, "", true, true, false, false, nil)
	if err != nil {
		tb.Fatalf("consume %s: %v", name, err)
	}
	b := &broker{kind: hirehook.KindRabbitMQ, got: &inbox{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for d := range deliveries {
			h := http.Header{}
			for k, v := range d.Headers {
				h.Set(k, fmt.Sprint(v))
			}
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", d.ContentType)
			}
			b.got.add(brokerMsg{BrokerID: d.MessageId, Header: h, Body: d.Body})
		}
	}()
	tb.Cleanup(func() { ch.Close(); <-done })
	addr := server
	if o.downable {
		p := testproxy.New(tb, server)
		addr = p.Addr
		b.down = func(testing.TB) { p.Stop() }
		b.up = p.Start
	}
	b.config = map[string]string{"address": addr, "exchange": name}
	b.credentials = map[string]string{"username": "guest", "password": "guest"}
	return b
}

// openNATS makes a stream capturing "<name>.>" on the shared server (the
// endpoint's subject prefix is name) and consumes it from the start.
func openNATS(tb testing.TB, o brokerOpts) *broker {
	tb.Helper()
	return openNATSAt(tb, natsServer, o)
}

// openNATSAuth is openNATS on s, with its user's credentials.
func openNATSAuth(tb testing.TB, s *natsAuthServer) *broker {
	tb.Helper()
	b := openNATSAt(tb, s.addr, brokerOpts{}, natsgo.UserInfo(s.user, s.password))
	b.credentials = map[string]string{"username": s.user, "password": s.password}
	return b
}

func openNATSAt(tb testing.TB, server string, o brokerOpts, opts ...natsgo.Option) *broker {
	tb.Helper()
	nc, err := natsgo.Connect("nats://"+server, append(opts, natsgo.Timeout(5*time.Second))...)
	if err != nil {
		testbroker.Need(tb, "NATS JetStream at "+server, err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	name := brokerName(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.MemoryStorage})
	if err != nil {
		testbroker.Need(tb, "NATS JetStream at "+server, fmt.Errorf("create stream %s: %w", name, err))
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, name); err != nil {
			tb.Errorf("delete stream %s: %v", name, err)
		}
	})
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		tb.Fatalf("ordered consumer on %s: %v", name, err)
	}
	b := &broker{kind: hirehook.KindNATS, got: &inbox{}}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		h := http.Header{}
		for k, vs := range m.Headers() {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		b.got.add(brokerMsg{BrokerID: m.Headers().Get(natsgo.MsgIdHdr), Header: h, Body: m.Data()})
	})
	if err != nil {
		tb.Fatalf("consume %s: %v", name, err)
	}
	tb.Cleanup(cc.Stop)
	addr := server
	if o.downable {
		p := testproxy.New(tb, server)
		addr = p.Addr
		b.down = func(testing.TB) { p.Stop() }
		b.up = p.Start
	}
	b.config = map[string]string{"servers": addr, "subject": name}
	return b
}

// openKafka starts an in-process Kafka cluster with a topic of three
// partitions and consumes the topic from the start. Downable, the cluster
// keeps its data in a directory and comes back on the same port.
func openKafka(tb testing.TB, o brokerOpts) *broker {
	tb.Helper()
	topic := brokerName(tb)
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topic)}
	if o.downable {
		opts = append(opts, kfake.DataDir(tb.TempDir()))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("start kfake cluster: %v", err)
	}
	var mu sync.Mutex
	current := c
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Close()
		}
	})
	addr := c.ListenAddrs()[0]
	b := &broker{kind: hirehook.KindKafka, got: &inbox{}, keyed: true,
		config: map[string]string{"brokers": addr, "topic": topic}}
	if o.downable {
		_, port, _ := net.SplitHostPort(addr)
		portN, _ := strconv.Atoi(port)
		b.down = func(testing.TB) {
			mu.Lock()
			defer mu.Unlock()
			current.Close()
			current = nil
		}
		b.up = func(tb testing.TB) {
			tb.Helper()
			c, err := kfake.NewCluster(append(opts, kfake.Ports(portN))...)
			if err != nil {
				tb.Fatalf("restart kfake cluster on port %d: %v", portN, err)
			}
			mu.Lock()
			current = c
			mu.Unlock()
		}
	}
	consumeKafka(tb, addr, topic, b.got)
	return b
}

// consumeKafka reads topic from the start into got until the test ends,
// riding out a cluster restart.
func consumeKafka(tb testing.TB, addr, topic string, got *inbox) {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatalf("kafka consumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				h := http.Header{}
				for _, rh := range r.Headers {
					h.Add(rh.Key, string(rh.Value))
				}
				got.add(brokerMsg{BrokerID: string(r.Key), Key: string(r.Key), Header: h, Body: r.Value})
			})
			if len(fs.Errors()) > 0 && ctx.Err() == nil {
				// The cluster is down for a while: don't spin.
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		cl.Close()
	})
}

// openPubSub starts an in-process Pub/Sub with a topic and a subscription
// (ordered when asked) and receives from it.
func openPubSub(tb testing.TB, o brokerOpts) *broker {
	tb.Helper()
	// 127.0.0.1 rather than localhost: the guard tests allow that address.
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	admin, err := gpubsub.NewClient(context.Background(), pubsubProject,
		option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled())
	if err != nil {
		tb.Fatalf("admin client for pstest: %v", err)
	}
	tb.Cleanup(func() {
		admin.Close()
		srv.Close()
	})
	id := strings.ReplaceAll(brokerName(tb), "_", "-")
	topic := "projects/" + pubsubProject + "/topics/" + id
	sub := "projects/" + pubsubProject + "/subscriptions/" + id
	ctx := context.Background()
	if _, err := admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		tb.Fatalf("create topic %s: %v", topic, err)
	}
	if _, err := admin.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: topic, EnableMessageOrdering: o.ordered, AckDeadlineSeconds: 10,
	}); err != nil {
		tb.Fatalf("create subscription %s: %v", sub, err)
	}
	b := &broker{kind: hirehook.KindPubSub, got: &inbox{}, keyed: true}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := admin.Subscriber(sub).Receive(rctx, func(_ context.Context, m *gpubsub.Message) {
			h := http.Header{}
			for k, v := range m.Attributes {
				h.Set(k, v)
			}
			b.got.add(brokerMsg{BrokerID: m.Attributes[hirehook.HeaderWebhookID], Key: m.OrderingKey, Header: h, Body: m.Data})
			m.Ack()
		})
		if err != nil && rctx.Err() == nil {
			tb.Errorf("receive %s: %v", sub, err)
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	addr := srv.Addr
	if o.downable {
		p := testproxy.New(tb, srv.Addr)
		addr = p.Addr
		b.down = func(testing.TB) { p.Stop() }
		b.up = p.Start
	}
	b.config = map[string]string{"project_id": pubsubProject, "topic": id, "endpoint": addr}
	return b
}

// natsAuthServer is a nats-server process with JetStream and one user,
// for the wrong-password test; the shared server has no users.
type natsAuthServer struct {
	addr, user, password string
	cmd                  *exec.Cmd
}

func startNATSAuthServer(tb testing.TB) *natsAuthServer {
	tb.Helper()
	if _, err := os.Stat(natsServerBinary); err != nil {
		testbroker.Need(tb, natsServerBinary, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	pw := make([]byte, 12)
	rand.Read(pw)
	s := &natsAuthServer{addr: addr, user: "hub", password: "pw-" + hex.EncodeToString(pw)}
	dir := tb.TempDir()
	conf := fmt.Sprintf("host: %q\nport: %s\njetstream { store_dir: %q }\nauthorization {\n  users = [ { user: %q, password: %q } ]\n}\n",
		host, port, filepath.Join(dir, "js"), s.user, s.password)
	confPath := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	var out testwait.Buffer
	s.cmd = exec.Command(natsServerBinary, "-c", confPath)
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", natsServerBinary, err)
	}
	tb.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
	testwait.ForOutput(tb, 10*time.Second, "nats-server to be ready", &out, func() bool {
		return strings.Contains(out.String(), "Server is ready")
	})
	return s
}
