package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/hirehook/hirehook"
	hookreceiver "github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/store/sqlite"
)

// End-to-end tests of broker endpoints: a real hub, endpoints created and
// events sent through the API as a user would, and what the hub published
// read back from each broker with its own client library and verified as a
// subscriber would (client/receiver's Verifier).

// brokerWait bounds every wait of these tests: a whole hub and a broker
// under -race on a loaded two-core machine.
const brokerWait = 30 * time.Second

// createBrokerEndpoint creates an endpoint of b's kind through the API,
// subscribed to placement.*, with a custom header; extra fields are added
// to the request.
func createBrokerEndpoint(tb testing.TB, base string, b *broker, extra map[string]any) endpointCreated {
	tb.Helper()
	req := map[string]any{"kind": b.kind, "config": b.config, "event_types": []string{"placement.*"},
		"headers": map[string]string{"X-Agency": "acme"}}
	if b.credentials != nil {
		req["credentials"] = b.credentials
	}
	for k, v := range extra {
		req[k] = v
	}
	var ep endpointCreated
	if st := call(tb, base, "POST", "/v1/endpoints", req, &ep); st != 201 {
		tb.Fatalf("create %s endpoint: status %d", b.kind, st)
	}
	if ep.ID == "" || ep.Secret == "" {
		tb.Fatalf("create %s endpoint: answer %+v lacks an id or a secret", b.kind, ep)
	}
	return ep
}

// endpointDeliveries lists an endpoint's deliveries (without attempts).
func endpointDeliveries(tb testing.TB, base, endpointID string) []deliveryView {
	tb.Helper()
	var page struct {
		Data []deliveryView `json:"data"`
	}
	if st := call(tb, base, "GET", "/v1/deliveries?limit=1000&endpoint_id="+endpointID, nil, &page); st != 200 {
		tb.Fatalf("list deliveries of %s: status %d", endpointID, st)
	}
	return page.Data
}

// deliveryWithAttempts is GET /v1/deliveries/{id}.
func deliveryWithAttempts(tb testing.TB, base, id string) deliveryView {
	tb.Helper()
	var d deliveryView
	if st := call(tb, base, "GET", "/v1/deliveries/"+id, nil, &d); st != 200 {
		tb.Fatalf("get delivery %s: status %d", id, st)
	}
	return d
}

// deliveryFor returns the delivery of an event to an endpoint, with its
// attempts.
func deliveryFor(tb testing.TB, base, eventID, endpointID string) deliveryView {
	tb.Helper()
	var page struct {
		Data []deliveryView `json:"data"`
	}
	if st := call(tb, base, "GET", "/v1/deliveries?event_id="+eventID+"&endpoint_id="+endpointID, nil, &page); st != 200 || len(page.Data) != 1 {
		tb.Fatalf("delivery of %s to %s: status %d, %d deliveries", eventID, endpointID, st, len(page.Data))
	}
	return deliveryWithAttempts(tb, base, page.Data[0].ID)
}

// TestDestinationSignedMessage: for each kind, the events a broker endpoint
// gets arrive signed with the endpoint's secret, verified by
// client/receiver from the message's headers; the message's id is the
// event id and its body is byte for byte what a webhook endpoint of the
// same hub got for the event.
func TestDestinationSignedMessage(t *testing.T) {
	t.Parallel()
	for _, k := range brokerKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			hub := startHub(t, nil)
			b := k.open(t, brokerOpts{})
			ep := createBrokerEndpoint(t, hub.URL(), b, nil)
			// The webhook twin: what the broker gets must be the webhook's body.
			rc := newReceiver(t, nil)
			createEndpoint(t, hub.URL(), rc.URL, "placement.*")

			var ids []string
			for i := range 3 {
				acc := sendEvent(t, hub.URL(), placement(fmt.Sprintf("pl_%d", i)))
				if acc.Deliveries != 2 {
					t.Fatalf("event %d: %d deliveries, want 2", i, acc.Deliveries)
				}
				ids = append(ids, acc.ID)
			}
			b.got.waitAll(t, brokerWait, "every event on the broker", ids)
			waitFor(t, brokerWait, "every webhook", func() bool { return len(rc.got()) == len(ids) })
			webhook := map[string][]byte{}
			for _, r := range rc.got() {
				webhook[r.header.Get(hirehook.HeaderWebhookID)] = r.body
			}

			v := &hookreceiver.Verifier{Secrets: []string{ep.Secret}}
			other := &hookreceiver.Verifier{Secrets: []string{hirehook.NewSecret()}}
			msgs := b.got.all()
			if len(msgs) != len(ids) {
				t.Errorf("%d messages for %d events", len(msgs), len(ids))
			}
			for _, m := range msgs {
				id := m.EventID()
				if !slices.Contains(ids, id) {
					t.Errorf("a message of an unknown event %q", id)
					continue
				}
				if m.BrokerID != id {
					t.Errorf("event %s: the message's id is %q, want the event id", id, m.BrokerID)
				}
				if err := v.VerifyBody(m.Header, m.Body); err != nil {
					t.Errorf("event %s: the signature does not verify with the endpoint's secret: %v\nheaders %v", id, err, m.Header)
				}
				if err := other.VerifyBody(m.Header, m.Body); err == nil {
					t.Errorf("event %s: verifies with another secret", id)
				}
				tampered := bytes.Replace(m.Body, []byte(`"confirmed"`), []byte(`"cancelled"`), 1)
				if err := v.VerifyBody(m.Header, tampered); err == nil {
					t.Errorf("event %s: a changed body still verifies", id)
				}
				if !bytes.Equal(m.Body, webhook[id]) {
					t.Errorf("event %s: body\n%s\nwant the webhook's\n%s", id, m.Body, webhook[id])
				}
				var env struct {
					ID   string `json:"id"`
					Type string `json:"type"`
				}
				if err := json.Unmarshal(m.Body, &env); err != nil || env.ID != id || env.Type != "placement.confirmed" {
					t.Errorf("event %s: body is not its envelope (%v): %s", id, err, m.Body)
				}
				if got := m.Header.Get("X-Agency"); got != "acme" {
					t.Errorf("event %s: custom header X-Agency = %q", id, got)
				}
				if got := m.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("event %s: content-type = %q", id, got)
				}
			}

			// The attempt log: delivered at the first attempt, with the
			// broker's word for where the message is.
			for _, id := range ids {
				var d deliveryView
				waitFor(t, brokerWait, "the delivery recorded delivered", func() bool {
					d = deliveryFor(t, hub.URL(), id, ep.ID)
					return d.State == hirehook.DeliveryDelivered
				})
				if d.Attempts != 1 || len(d.AttemptList) != 1 || d.AttemptList[0].ErrorClass != "" || d.AttemptList[0].Response == "" {
					t.Errorf("event %s: delivery %+v, want one successful attempt with the broker's detail", id, d)
				}
			}
		})
	}
}

// TestDestinationBrokerDownAndBack: while a broker is down its attempts
// fail as connection or timeout, the dispatcher pauses the endpoint (its
// deliveries wait unattempted but for one probe per pause), and once the
// broker is back every accepted event arrives: nothing is lost.
func TestDestinationBrokerDownAndBack(t *testing.T) {
	t.Parallel()
	// The hub's breaker: it trips after the attempts of tripAfter different
	// deliveries in a row failed, with up to concurrency attempts in
	// flight (delivery.Config's defaults, which the hub keeps). Until it
	// trips, each failure frees a slot for another delivery: at most
	// concurrency + tripAfter - 1 attempts, then one per probe.
	const tripAfter, concurrency = 10, 16
	for _, k := range brokerKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			hub := startHub(t, func(c *Config) {
				// Without the pause every delivery would be attempted every
				// 300 ms while the broker is down; with it, they wait. The
				// step is long enough that no delivery is retried before
				// the breaker trips (the bound below), the schedule long
				// enough to outlast the outage: a delivery that failed for
				// good would be lost to this test.
				c.RetrySchedule = slices.Repeat([]time.Duration{300 * time.Millisecond}, 50)
				c.DeliveryTimeout = 2 * time.Second
			})
			b := k.open(t, brokerOpts{downable: true})
			ep := createBrokerEndpoint(t, hub.URL(), b, nil)
			first := sendEvent(t, hub.URL(), placement("pl_first")).ID
			b.got.waitAll(t, brokerWait, "the event before the outage", []string{first})

			b.down(t)
			const n = 40
			var ids []string
			for i := range n {
				ids = append(ids, sendEvent(t, hub.URL(), placement(fmt.Sprintf("pl_%d", i))).ID)
			}
			pauseOf := func() (hirehook.EndpointPause, bool) { return hub.Dispatcher.EndpointPause(ep.ID) }
			testwait.For(t, brokerWait, "the endpoint to pause", func() bool { _, ok := pauseOf(); return ok }, nil)
			p1, _ := pauseOf()

			// attempted sums the attempts of the deliveries made while the
			// broker was down, once none is in flight.
			attempted := func(what string) (attempts, untouched int) {
				t.Helper()
				var ds []deliveryView
				testwait.For(t, brokerWait, what, func() bool {
					ds = endpointDeliveries(t, hub.URL(), ep.ID)
					for _, d := range ds {
						if d.State == hirehook.DeliveryDelivering {
							return false
						}
					}
					return true
				}, nil)
				for _, d := range ds {
					if d.State == hirehook.DeliveryDelivered {
						continue // the first event
					}
					attempts += d.Attempts
					if d.Attempts == 0 {
						untouched++
					}
				}
				return attempts, untouched
			}
			a1, _ := attempted("the attempts in flight at the pause to end")
			// Every failed attempt says the broker could not be reached.
			failed := 0
			for _, d := range endpointDeliveries(t, hub.URL(), ep.ID) {
				if d.Attempts == 0 || d.State == hirehook.DeliveryDelivered {
					continue
				}
				for _, a := range deliveryWithAttempts(t, hub.URL(), d.ID).AttemptList {
					failed++
					if a.ErrorClass != string(hirehook.ErrorClassConnection) && a.ErrorClass != string(hirehook.ErrorClassTimeout) {
						t.Errorf("delivery %s attempt %d: class %q (%s), want connection or timeout", d.ID, a.Number, a.ErrorClass, a.Error)
					}
					if a.Error == "" {
						t.Errorf("delivery %s attempt %d: no error message", d.ID, a.Number)
					}
				}
			}
			if failed < tripAfter {
				t.Errorf("%d failed attempts before the pause, want at least %d", failed, tripAfter)
			}
			// One probe later (the pause doubles when it fails), the
			// attempts have grown by that probe, not by a round of retries.
			testwait.For(t, brokerWait, "a failed probe", func() bool {
				p, ok := pauseOf()
				return ok && p.Pause > p1.Pause
			}, func() string { p, ok := pauseOf(); return fmt.Sprintf("pause %+v %v", p, ok) })
			a2, untouched := attempted("the probe to end")
			t.Logf("while down: %d attempts at the pause (%+v), %d after a probe; %d of %d deliveries never attempted", a1, p1, a2, untouched, n)
			if a2-a1 > 2 {
				t.Errorf("%d attempts while paused for one probe, want at most 2", a2-a1)
			}
			if most := tripAfter + concurrency + 2; a2 > most {
				t.Errorf("%d attempts while down, want at most %d: the endpoint was not paused", a2, most)
			}
			if untouched == 0 {
				t.Errorf("every delivery was attempted while the broker was down")
			}

			b.up(t)
			all := append([]string{first}, ids...)
			b.got.waitAll(t, 2*time.Minute, "every accepted event once the broker is back", all)
			testwait.For(t, brokerWait, "every delivery recorded delivered", func() bool {
				for _, d := range endpointDeliveries(t, hub.URL(), ep.ID) {
					if d.State != hirehook.DeliveryDelivered {
						return false
					}
				}
				return true
			}, nil)
			if _, ok := pauseOf(); ok {
				t.Error("the endpoint is still paused after every delivery went out")
			}
			got := b.got.ids()
			if len(got) != len(all) {
				t.Errorf("%d distinct events consumed, want %d: %v", len(got), len(all), got)
			}
		})
	}
}

// TestDestinationOrdered: an ordered endpoint gets each subject's events in
// ingest order, whatever the kind: 3 subjects × 30 events, sent
// interleaved, read back in consumption order. Kafka's record key and
// Pub/Sub's ordering key are the subject.
func TestDestinationOrdered(t *testing.T) {
	t.Parallel()
	for _, k := range brokerKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			hub := startHub(t, nil)
			b := k.open(t, brokerOpts{ordered: true})
			createBrokerEndpoint(t, hub.URL(), b, map[string]any{"ordered": true})
			subjects := []string{"pl_a", "pl_b", "pl_c"}
			const perSubject = 30
			sent := map[string][]string{} // subject → event ids in ingest order
			subjectOf := map[string]string{}
			var all []string
			for i := range perSubject {
				for _, s := range subjects {
					ev := placement(s)
					ev["data"].(map[string]any)["pay_rate"].(map[string]any)["amount"] = 40 + float64(i)
					id := sendEvent(t, hub.URL(), ev).ID
					sent[s] = append(sent[s], id)
					subjectOf[id] = s
					all = append(all, id)
				}
			}
			b.got.waitAll(t, brokerWait, "every event", all)
			seen := map[string]bool{}
			order := map[string][]string{}
			for _, m := range b.got.all() {
				id := m.EventID()
				s, ok := subjectOf[id]
				if !ok {
					t.Errorf("a message of an unknown event %q", id)
					continue
				}
				if want := "placement/" + s; b.keyed && m.Key != want {
					t.Errorf("event %s: key %q, want the subject %q", id, m.Key, want)
				}
				if seen[id] {
					continue // at least once: a duplicate is allowed, not a reordering
				}
				seen[id] = true
				order[s] = append(order[s], id)
			}
			for _, s := range subjects {
				if !slices.Equal(order[s], sent[s]) {
					t.Errorf("subject %s: consumed in the order\n%v\nwant\n%v", s, order[s], sent[s])
				}
			}
		})
	}
}

// postEvent sends an event and returns its id, or false when the hub did
// not accept it (it is dead, or dying).
func postEvent(base string, ev map[string]any) (string, bool) {
	body, _ := json.Marshal(ev)
	req, err := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var acc hirehook.EventAccepted
	if resp.StatusCode != 202 || json.NewDecoder(resp.Body).Decode(&acc) != nil {
		return "", false
	}
	return acc.ID, true
}

// TestDestinationKillNine: a hub process publishing a stream of events to
// a broker endpoint, while more are being sent, is killed with SIGKILL,
// restarted on the same database, and every event it accepted reaches the
// broker at least once. The hub reaches the loopback broker through
// --allow-broker-hosts, not --allow-private-destinations.
func TestDestinationKillNine(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, k := range brokerKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			b := k.open(t, brokerOpts{downable: true})
			db := filepath.Join(t.TempDir(), "hirehook.db")
			retries := strings.TrimSuffix(strings.Repeat("50ms,", 30), ",")
			args := []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + db, "--admin-key", testKey,
				"--allow-broker-hosts", "127.0.0.1", "--delivery-timeout", "2s", "--retry-schedule", retries}
			first, base := startChild(t, args)
			ep := createBrokerEndpoint(t, base, b, nil)

			// Four senders keep events coming, so that some are always
			// between ingest and publish when the hub dies.
			var mu sync.Mutex
			var accepted []string
			stop := make(chan struct{})
			var senders sync.WaitGroup
			for w := range 4 {
				senders.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						id, ok := postEvent(base, placement(fmt.Sprintf("pl_%d_%d", w, i)))
						if !ok {
							return
						}
						mu.Lock()
						accepted = append(accepted, id)
						mu.Unlock()
					}
				})
			}
			testwait.For(t, brokerWait, "messages flowing to the broker", func() bool { return len(b.got.all()) >= 30 },
				func() string { return fmt.Sprintf("%d consumed", len(b.got.all())) })
			// The broker goes away while the senders go on, so that when
			// the hub dies some accepted events are certainly not yet
			// published (a fast broker could otherwise keep the hub's
			// queue empty at the moment of the kill): those must arrive
			// after the restart.
			b.down(t)
			mu.Lock()
			atDown := len(accepted)
			mu.Unlock()
			testwait.For(t, brokerWait, "events accepted while the broker is down", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(accepted) >= atDown+10
			}, nil)
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = first.Wait()
			close(stop)
			senders.Wait()
			mu.Lock()
			ids := append([]string(nil), accepted...)
			mu.Unlock()

			// What the killed hub left: deliveries not yet published (some
			// leased to it), or the kill came too late to test anything.
			st, err := sqlite.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			left, err := st.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, EndpointID: &ep.ID})
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			states := map[hirehook.DeliveryState]int{}
			for _, d := range left {
				states[d.State]++
			}
			t.Logf("killed with %d events accepted, %d messages consumed; deliveries by state: %v", len(ids), len(b.got.all()), states)
			if states[hirehook.DeliveryDelivered] == len(left) {
				t.Fatalf("every delivery was done before the kill: nothing was in flight")
			}

			b.up(t)
			_, base2 := startChild(t, args)
			b.got.waitAll(t, 2*time.Minute, "every accepted event after the restart", ids)
			testwait.For(t, brokerWait, "every delivery recorded delivered", func() bool {
				ds := endpointDeliveries(t, base2, ep.ID)
				for _, d := range ds {
					if d.State != hirehook.DeliveryDelivered {
						return false
					}
				}
				return len(ds) >= len(ids)
			}, nil)
			dup := 0
			for _, c := range b.got.ids() {
				dup += c - 1
			}
			t.Logf("%d events, %d messages, %d duplicates", len(ids), len(b.got.all()), dup)
		})
	}
}

// startHubLogged is startHub with the hub's log at debug level kept in
// logs (and sent to t.Log).
func startHubLogged(tb testing.TB, logs io.Writer, edit func(*Config)) *Hub {
	tb.Helper()
	return startHubLog(tb, io.MultiWriter(logs, tbWriter{tb}), slog.LevelDebug, edit)
}

// rawGet returns the body of a GET with the test key.
func rawGet(tb testing.TB, base, path string) []byte {
	tb.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body
}

// TestDestinationWrongCredentials: a broker that refuses the endpoint's
// password makes an attempt of class auth whose message says so, naming
// the user; the password is in no log line of the hub (at debug level)
// and in no API answer; fixed through the API, the delivery goes out.
func TestDestinationWrongCredentials(t *testing.T) {
	t.Parallel()
	const user = "hub" // Kafka's
	kinds := []struct {
		name string
		// open starts a broker with the user and a password (password,
		// or its own) and returns the endpoint's config and credentials.
		open func(t *testing.T, password string) *broker
	}{
		{hirehook.KindNATS, func(t *testing.T, _ string) *broker {
			// A nats-server with a user and a password of its own: the
			// shared one has no users.
			return openNATSAuth(t, startNATSAuthServer(t))
		}},
		{hirehook.KindRabbitMQ, func(t *testing.T, _ string) *broker {
			// guest/guest: RabbitMQ's users are made with its management
			// tools, not over AMQP, so the right password is guest's.
			return openRabbitMQ(t, brokerOpts{})
		}},
		{hirehook.KindKafka, func(t *testing.T, password string) *broker {
			topic := brokerName(t)
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic),
				kfake.EnableSASL(), kfake.Superuser("PLAIN", user, password))
			if err != nil {
				t.Fatalf("start kfake cluster: %v", err)
			}
			t.Cleanup(c.Close)
			return &broker{kind: hirehook.KindKafka, got: &inbox{},
				config:      map[string]string{"brokers": c.ListenAddrs()[0], "topic": topic, "sasl_mechanism": "plain"},
				credentials: map[string]string{"username": user, "password": password}}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			var logs testwait.Buffer
			hub := startHubLogged(t, &logs, func(c *Config) {
				// The fixed password reaches the next attempt at once.
				c.EndpointCacheTTL = time.Nanosecond
			})
			b := k.open(t, "right-"+brokerName(t))
			user, right := b.credentials["username"], b.credentials["password"]
			wrong := "wr0ng-" + brokerName(t)
			b.credentials = map[string]string{"username": user, "password": wrong}
			ep := createBrokerEndpoint(t, hub.URL(), b, nil)
			acc := sendEvent(t, hub.URL(), placement("pl_auth"))

			var d deliveryView
			waitFor(t, brokerWait, "an attempt refused for its credentials", func() bool {
				d = deliveryFor(t, hub.URL(), acc.ID, ep.ID)
				return len(d.AttemptList) > 0
			})
			a := d.AttemptList[0]
			t.Logf("attempt: class %s: %s", a.ErrorClass, a.Error)
			if a.ErrorClass != string(hirehook.ErrorClassAuth) {
				t.Errorf("attempt class %q (%s), want auth", a.ErrorClass, a.Error)
			}
			if !strings.Contains(a.Error, `"`+user+`"`) {
				t.Errorf("attempt error %q does not name the user %q", a.Error, user)
			}
			waitFor(t, brokerWait, "the delivery to fail for good", func() bool {
				return deliveryFor(t, hub.URL(), acc.ID, ep.ID).State == hirehook.DeliveryFailed
			})

			// Fix the password through the API and send the delivery again.
			var patched json.RawMessage
			if st := call(t, hub.URL(), "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"credentials": map[string]string{"password": right}}, &patched); st != 200 {
				t.Fatalf("PATCH credentials: status %d: %s", st, patched)
			}
			var retried json.RawMessage
			if st := call(t, hub.URL(), "POST", "/v1/deliveries/"+d.ID+"/retry", nil, &retried); st != 202 {
				t.Fatalf("retry: status %d", st)
			}
			waitFor(t, brokerWait, "the delivery with the right password", func() bool {
				return deliveryFor(t, hub.URL(), acc.ID, ep.ID).State == hirehook.DeliveryDelivered
			})
			if b.kind != hirehook.KindKafka { // the SASL cluster has no consumer here
				b.got.waitAll(t, brokerWait, "the event on the broker", []string{acc.ID})
			}

			answers := [][]byte{patched, retried}
			for _, path := range []string{
				"/v1/endpoints", "/v1/endpoints/" + ep.ID, "/v1/endpoints/" + ep.ID + "/secret",
				"/v1/deliveries?endpoint_id=" + ep.ID, "/v1/deliveries/" + d.ID, "/v1/events/" + acc.ID,
				"/v1/audit-log", "/v1/destination-kinds",
			} {
				answers = append(answers, rawGet(t, hub.URL(), path))
			}
			secrets := []string{wrong}
			if right != user { // guest/guest: the user name is in answers, rightly
				secrets = append(secrets, right)
			}
			for _, secret := range secrets {
				for _, ans := range answers {
					if bytes.Contains(ans, []byte(secret)) {
						t.Errorf("an API answer holds a password: %s", ans)
					}
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the hub's log holds a password:\n%s", logs.String())
				}
			}
			// The log did see the failure: the check above looked at it.
			if !strings.Contains(logs.String(), ep.ID) || !strings.Contains(logs.String(), "authentication failed") {
				t.Errorf("the hub's debug log says nothing of the refused attempt:\n%s", logs.String())
			}
		})
	}
}

// TestDestinationAddressGuard: a hub without --allow-private-destinations
// reaches a broker on loopback only when --allow-broker-hosts names it;
// otherwise the attempt is refused as forbidden_dest and nothing is
// published.
func TestDestinationAddressGuard(t *testing.T) {
	t.Parallel()
	for _, k := range brokerKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			allowed := startHub(t, func(c *Config) {
				c.AllowPrivateDestinations = false
				c.AllowBrokerHosts = []string{"127.0.0.1"}
			})
			refused := startHub(t, func(c *Config) { c.AllowPrivateDestinations = false })
			b := k.open(t, brokerOpts{})
			createBrokerEndpoint(t, allowed.URL(), b, nil)
			epR := createBrokerEndpoint(t, refused.URL(), b, nil)
			accA := sendEvent(t, allowed.URL(), placement("pl_allowed"))
			accR := sendEvent(t, refused.URL(), placement("pl_refused"))

			b.got.waitAll(t, brokerWait, "the event of the hub allowing 127.0.0.1", []string{accA.ID})
			var d deliveryView
			waitFor(t, brokerWait, "the refused hub's attempt", func() bool {
				d = deliveryFor(t, refused.URL(), accR.ID, epR.ID)
				return len(d.AttemptList) > 0
			})
			if a := d.AttemptList[0]; a.ErrorClass != string(hirehook.ErrorClassForbidden) {
				t.Errorf("attempt without an allowance: class %q (%s), want forbidden_dest", a.ErrorClass, a.Error)
			}
			if b.got.ids()[accR.ID] != 0 {
				t.Errorf("the refused hub's event reached the broker")
			}
		})
	}
}
