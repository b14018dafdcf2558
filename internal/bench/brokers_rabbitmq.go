package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The bench's RabbitMQ user: the broker's default, which the bench's
// --rabbitmq-address is meant for (a local broker).
const rabbitmqBenchUser, rabbitmqBenchPassword = "guest", "guest"

type rabbitmqBench struct {
	address string
	conn    *amqp.Connection
	mu      sync.Mutex // ch is used by the waiter and the cleanup in turn
	ch      *amqp.Channel
}

func rabbitmqURL(address string) string {
	return "amqp://" + rabbitmqBenchUser + ":" + rabbitmqBenchPassword + "@" + address + "/"
}

func openRabbitMQBench(_ context.Context, address string) (*rabbitmqBench, error) {
	conn, err := amqp.DialConfig(rabbitmqURL(address), amqp.Config{Dial: amqp.DefaultDial(5 * time.Second),
		Properties: amqp.Table{"connection_name": "hirehook-bench"}})
	if err != nil {
		// The error names the address, never the URL with its password.
		return nil, fmt.Errorf("connect to RabbitMQ at %s as %s (--rabbitmq-address): %w", address, rabbitmqBenchUser, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("open a channel to RabbitMQ at %s: %w", address, err)
	}
	return &rabbitmqBench{address: address, conn: conn, ch: ch}, nil
}

func (b *rabbitmqBench) describe() (string, string) {
	return "RabbitMQ at " + b.address + ", a durable classic queue of its own through the default exchange",
		"amqp091-go (persistent, mandatory, publisher confirm awaited; a confirm-mode channel per goroutine on one connection)"
}

func (b *rabbitmqBench) create(_ context.Context, queue string) (map[string]string, map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return nil, nil, fmt.Errorf("declare queue %s: %w", queue, err)
	}
	return map[string]string{"address": b.address, "exchange": "", "routing_key": queue},
		map[string]string{"username": rabbitmqBenchUser, "password": rabbitmqBenchPassword}, nil
}

func (b *rabbitmqBench) count(_ context.Context, queue string) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		return 0, fmt.Errorf("inspect queue %s: %w", queue, err)
	}
	return int64(q.Messages), nil
}

func (b *rabbitmqBench) sample(_ context.Context, queue string) ([]byte, map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok, err := b.ch.Get(queue, false)
	if err != nil {
		return nil, nil, fmt.Errorf("get a message from %s: %w", queue, err)
	}
	if !ok {
		return nil, nil, errNoMessage
	}
	// Back to the queue, which the bench deletes.
	if err := d.Nack(false, true); err != nil {
		return nil, nil, fmt.Errorf("requeue the message of %s: %w", queue, err)
	}
	h := make(map[string]string, len(d.Headers))
	for k, v := range d.Headers {
		h[k] = fmt.Sprint(v)
	}
	return d.Body, h, nil
}

// direct publishes as destination/rabbitmq does: one connection, a
// confirm-mode channel for each publish in flight, every message
// persistent and mandatory with the headers, content type, message id,
// type and timestamp the hub sets, awaiting the broker's ack.
func (b *rabbitmqBench) direct(_ context.Context, queue string) (func(context.Context, string, []byte, map[string]string) error, func(), error) {
	conn, err := amqp.DialConfig(rabbitmqURL(b.address), amqp.Config{Dial: amqp.DefaultDial(5 * time.Second),
		Properties: amqp.Table{"connection_name": "hirehook-bench-direct"}})
	if err != nil {
		return nil, nil, fmt.Errorf("connect to RabbitMQ at %s: %w", b.address, err)
	}
	var mu sync.Mutex
	var idle []*amqp.Channel
	publish := func(ctx context.Context, id string, body []byte, headers map[string]string) error {
		mu.Lock()
		var ch *amqp.Channel
		if n := len(idle); n > 0 {
			ch, idle = idle[n-1], idle[:n-1]
		}
		mu.Unlock()
		if ch == nil {
			var err error
			if ch, err = conn.Channel(); err != nil {
				return err
			}
			if err := ch.Confirm(false); err != nil {
				return err
			}
		}
		t := make(amqp.Table, len(headers))
		for k, v := range headers {
			t[k] = v
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false, amqp.Publishing{
			Headers: t, ContentType: "application/json", DeliveryMode: amqp.Persistent,
			MessageId: id, Type: "placement.confirmed", Timestamp: time.Now(), Body: body,
		})
		if err != nil {
			return err
		}
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return err
		}
		if !acked {
			return fmt.Errorf("the broker nacked message %s", id)
		}
		mu.Lock()
		idle = append(idle, ch)
		mu.Unlock()
		return nil
	}
	return publish, func() { conn.Close() }, nil
}

func (b *rabbitmqBench) remove(_ context.Context, queue string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.ch.QueueDelete(queue, false, false, false); err != nil {
		return fmt.Errorf("delete queue %s: %w", queue, err)
	}
	return nil
}

func (b *rabbitmqBench) close() { b.conn.Close() }
