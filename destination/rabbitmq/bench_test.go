package rabbitmq

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/testbroker"
)

// BenchmarkPublish compares the Publisher with amqp091-go used directly at
// the same durability: confirm mode, mandatory, persistent, each publish
// waiting for its ack, to a durable queue. The _parallel variants publish
// from 8×GOMAXPROCS goroutines; direct_parallel gives each goroutine its own
// confirm channel, as a hand-written producer would.
func BenchmarkPublish(b *testing.B) {
	addr := testbroker.RabbitMQ(b)
	adm := newAdmin(b, addr)
	q := unique(b)
	adm.queue(q, nil)
	body := []byte(`{"id":"evt_bench","type":"placement.confirmed","data":{"placement_id":"plc_1","candidate_id":"cand_1","job_id":"job_1","start_date":"2027-01-04"}}`)
	headers := map[string]string{
		"webhook-id":        "evt_bench",
		"webhook-timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
		"content-type":      "application/json",
	}
	var seq atomic.Int64
	nextID := func() string { return "evt_" + strconv.FormatInt(seq.Add(1), 10) }
	purge := func(b *testing.B) {
		b.Cleanup(func() { adm.channel().QueuePurge(q, false) })
	}

	b.Run("hub_publisher", func(b *testing.B) {
		purge(b)
		p := newPublisher(b, 15*time.Second)
		tgt := target(b, addr, map[string]string{"routing_key": q})
		for b.Loop() {
			m := destination.Message{ID: nextID(), Type: "placement.confirmed", Body: body, Headers: headers}
			if _, err := p.Publish(b.Context(), tgt, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		purge(b)
		ch := directChannel(b, addr)
		for b.Loop() {
			directPublish(b, ch, q, nextID(), body, headers)
		}
	})
	b.Run("hub_publisher_parallel", func(b *testing.B) {
		purge(b)
		p := newPublisher(b, 15*time.Second)
		tgt := target(b, addr, map[string]string{"routing_key": q})
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m := destination.Message{ID: nextID(), Type: "placement.confirmed", Body: body, Headers: headers}
				if _, err := p.Publish(b.Context(), tgt, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("direct_parallel", func(b *testing.B) {
		purge(b)
		conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			ch, err := conn.Channel()
			if err == nil {
				err = ch.Confirm(false)
			}
			if err != nil {
				b.Error(err)
				return
			}
			defer ch.Close()
			for pb.Next() {
				directPublish(b, ch, q, nextID(), body, headers)
			}
		})
	})
}

func directChannel(b *testing.B, addr string) *amqp.Channel {
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		b.Fatal(err)
	}
	return ch
}

func directPublish(b *testing.B, ch *amqp.Channel, q, id string, body []byte, headers map[string]string) {
	h := make(amqp.Table, len(headers))
	for k, v := range headers {
		h[k] = v
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(b.Context(), "", q, true, false, amqp.Publishing{
		Headers: h, ContentType: "application/json", DeliveryMode: amqp.Persistent,
		MessageId: id, Type: "placement.confirmed", Timestamp: time.Now(), Body: body,
	})
	if err != nil {
		b.Error(err)
		return
	}
	if !dc.Wait() {
		b.Error("nacked")
	}
}
