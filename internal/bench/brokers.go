package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hirehook/hirehook"
)

// brokerModes are the modes that deliver to a broker endpoint, one per
// destination kind, named after it.
var brokerModes = []string{hirehook.KindKafka, hirehook.KindRabbitMQ, hirehook.KindNATS, hirehook.KindPubSub}

// benchBroker is one broker the broker modes publish to: the hub through
// an endpoint, and the bench itself straight through the same client
// library, each to a destination (topic, queue, stream) of its own.
type benchBroker interface {
	// describe says what the broker is and how the direct run publishes
	// ("franz-go, acks=all, idempotent").
	describe() (broker, direct string)
	// create makes the destination dest and returns the config and
	// credentials of an endpoint publishing to it.
	create(ctx context.Context, dest string) (config, credentials map[string]string, err error)
	// count returns how many messages dest holds.
	count(ctx context.Context, dest string) (int64, error)
	// sample returns one message of dest: the body and headers the hub
	// published, which the direct run copies.
	sample(ctx context.Context, dest string) (body []byte, headers map[string]string, err error)
	// direct opens a client publishing to dest with the hub's durability
	// setting; publish is safe for concurrent use and returns once the
	// broker holds the message.
	direct(ctx context.Context, dest string) (publish func(ctx context.Context, id string, body []byte, headers map[string]string) error, close func(), err error)
	// remove deletes dest.
	remove(ctx context.Context, dest string) error
	close()
}

func openBenchBroker(ctx context.Context, bc benchConfig) (benchBroker, error) {
	switch bc.Mode {
	case hirehook.KindKafka:
		return openKafkaBench(ctx, bc.KafkaBrokers)
	case hirehook.KindNATS:
		return openNATSBench(ctx, bc.NATSServers)
	case hirehook.KindPubSub:
		return openPubSubBench(ctx)
	case hirehook.KindRabbitMQ:
		return openRabbitMQBench(ctx, bc.RabbitMQAddress)
	}
	return nil, fmt.Errorf("bench: no broker for mode %q", bc.Mode)
}

// benchBrokerRun is `hirehook bench --mode kafka|rabbitmq|nats|gcp_pubsub`:
// a burst of bc.Events through the hub to one endpoint of that kind, timed
// from the first POST until the broker holds every event, then the same
// number of messages (the body and headers the hub published) straight to
// the broker with the same library, durability setting and concurrency.
func benchBrokerRun(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
	br, err := openBenchBroker(ctx, bc)
	if err != nil {
		return err
	}
	defer br.close()
	env, cleanup, err := benchSetup(ctx, bc, stderr, nil)
	if err != nil {
		return err
	}
	defer cleanup()

	var rb [4]byte
	_, _ = rand.Read(rb[:])
	// Letters, digits and "_" suit every kind's names (a NATS stream's
	// takes no dots, a Pub/Sub topic's must start with a letter).
	prefix := "hirehook_bench_" + hex.EncodeToString(rb[:])
	hubDest, directDest := prefix+"_hub", prefix+"_direct"
	removeLater := func(dest string) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := br.remove(rctx, dest); err != nil {
			fmt.Fprintf(stderr, "bench: remove %s: %v\n", dest, err)
		}
	}

	config, creds, err := br.create(ctx, hubDest)
	if err != nil {
		return err
	}
	defer removeLater(hubDest)
	epBody, _ := json.Marshal(map[string]any{"kind": bc.Mode, "config": config, "credentials": creds,
		"event_types": []string{"placement.*"}, "max_concurrency": bc.EndpointConcurrency})
	if st, b, err := env.p.post("/v1/endpoints", epBody); err != nil || st != 201 {
		return fmt.Errorf("create bench endpoint of kind %s: status %d %s %v", bc.Mode, st, b, err)
	}

	brokerDesc, directDesc := br.describe()
	total := bc.Events
	fmt.Fprintf(stdout, "%s: %d events through the hub to one endpoint (%s; max_concurrency %d), %d producer connections, %d event(s) per request\n",
		bc.Mode, total, brokerDesc, bc.EndpointConcurrency, bc.Concurrency, bc.Batch)

	start := time.Now()
	accepted, failed, ingestDur := env.p.run("burst", total, 0, func(string, time.Time) {})
	held, heldAt, err := waitHeld(ctx, br, hubDest, int64(accepted), func() error { return failedAttempts(ctx, env) })
	if err != nil {
		return err
	}
	hubDur := heldAt.Sub(start)
	hubRate := float64(held) / hubDur.Seconds()
	fmt.Fprintf(stdout, "  ingested:  %6d events in %7.3fs = %8.0f events/s (%d requests failed)\n",
		accepted, ingestDur.Seconds(), float64(accepted)/ingestDur.Seconds(), failed)
	fmt.Fprintf(stdout, "  delivered: %6d messages held by the broker %7.3fs after the first POST = %8.0f events/s (the last %s after the last 202)\n",
		held, hubDur.Seconds(), hubRate, max(hubDur-ingestDur, 0).Round(time.Millisecond))
	if held < int64(accepted) {
		return fmt.Errorf("bench: the broker holds only %d of %d accepted events (the hub's deliveries: %s)", held, accepted, deliveryStates(ctx, env))
	}
	if failed > 0 {
		return fmt.Errorf("bench: %d ingest requests failed", failed)
	}

	body, headers, err := br.sample(ctx, hubDest)
	if err != nil {
		return fmt.Errorf("read a message the hub published: %w", err)
	}
	if _, _, err := br.create(ctx, directDest); err != nil {
		return err
	}
	defer removeLater(directDest)
	publish, closeDirect, err := br.direct(ctx, directDest)
	if err != nil {
		return err
	}
	defer closeDirect()
	n, directDur, err := publishDirect(ctx, publish, total, bc.EndpointConcurrency, body, headers)
	if err != nil {
		return err
	}
	got, err := br.count(ctx, directDest)
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("bench: %d messages published straight to the broker were confirmed but it holds %d", n, got)
	}
	directRate := float64(n) / directDur.Seconds()
	fmt.Fprintf(stdout, "  direct:    %6d messages (the hub's body, %d bytes, and its %d headers) published straight to the broker with %s from %d goroutines in %7.3fs = %8.0f messages/s\n",
		n, len(body), len(headers), directDesc, bc.EndpointConcurrency, directDur.Seconds(), directRate)
	fmt.Fprintf(stdout, "  ratio:     the hub (POST, store, dispatch, sign, publish) delivered at %.2f× the direct rate\n", hubRate/directRate)
	return nil
}

// waitHeld polls dest's count until it reaches want, or until it has not
// grown for a minute; it returns the last count and when it was first
// seen. Whenever the count has not grown for two seconds it calls stalled,
// whose error ends the wait: a failed attempt waits seconds for its retry,
// which would make the rate the retry schedule's.
func waitHeld(ctx context.Context, br benchBroker, dest string, want int64, stalled func() error) (int64, time.Time, error) {
	var last int64 = -1
	var lastAt, checkedAt time.Time
	for ctx.Err() == nil {
		n, err := br.count(ctx, dest)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("count messages in %s: %w", dest, err)
		}
		now := time.Now()
		if n != last {
			last, lastAt = n, now
		}
		if n >= want || now.Sub(lastAt) > time.Minute {
			return last, lastAt, nil
		}
		if now.Sub(lastAt) > 2*time.Second && now.Sub(checkedAt) > 2*time.Second {
			checkedAt = now
			if err := stalled(); err != nil {
				return last, lastAt, err
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last, lastAt, ctx.Err()
}

// deliveryStates says how many of the hub's deliveries are in each
// unfinished state, for an error.
func deliveryStates(ctx context.Context, env *benchEnv) string {
	stats, err := env.hub.Store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{})
	if err != nil {
		return err.Error()
	}
	var t hirehook.DeliveryStats
	for _, s := range stats {
		t.Pending += s.Pending
		t.Retrying += s.Retrying
		t.Delivering += s.Delivering
		t.Paused += s.Paused
	}
	return fmt.Sprintf("%d pending, %d retrying, %d delivering, %d paused", t.Pending, t.Retrying, t.Delivering, t.Paused)
}

// failedAttempts returns an error when some of the hub's deliveries are
// waiting for a retry.
func failedAttempts(ctx context.Context, env *benchEnv) error {
	stats, err := env.hub.Store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{})
	if err != nil {
		return fmt.Errorf("delivery stats: %w", err)
	}
	var retrying int
	for _, s := range stats {
		retrying += s.Retrying
	}
	if retrying > 0 {
		return fmt.Errorf("bench: the hub's attempts to the broker failed (%d deliveries waiting for a retry; the hub's log says why)", retrying)
	}
	return nil
}

// publishDirect publishes total copies of body with headers from
// concurrency goroutines, each waiting for the broker's confirmation of
// one message before it publishes the next, as each of the hub's
// attempts in flight to an endpoint does. Every message gets a distinct
// webhook-id of the sample's length. It returns the messages confirmed
// and the time from the first publish to the last confirmation.
func publishDirect(ctx context.Context, publish func(context.Context, string, []byte, map[string]string) error, total, concurrency int, body []byte, headers map[string]string) (int, time.Duration, error) {
	idLen := max(len(headers[hirehook.HeaderWebhookID]), 8)
	var next, ok, lastAt atomic.Int64
	var firstErr atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := make(map[string]string, len(headers))
			for k, v := range headers {
				h[k] = v
			}
			for {
				i := int(next.Add(1)) - 1
				if i >= total || ctx.Err() != nil || firstErr.Load() != nil {
					return
				}
				id := fmt.Sprintf("d%0*d", idLen-1, i)
				h[hirehook.HeaderWebhookID] = id
				if err := publish(ctx, id, body, h); err != nil {
					err = fmt.Errorf("publish message %d straight to the broker: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				ok.Add(1)
				lastAt.Store(time.Now().UnixNano())
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return int(ok.Load()), 0, *e
	}
	return int(ok.Load()), time.Duration(lastAt.Load() - start.UnixNano()), ctx.Err()
}

// errNoMessage is what sample returns for an empty destination.
var errNoMessage = errors.New("the destination holds no message")

func joinAddrs(addrs []string) string { return strings.Join(addrs, ",") }
