package client_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/internal/testwait"
)

// TestTestEndpoint: TestEndpoint sends a signed endpoint.tested event to
// the endpoint tested, which subscribes to other types, and not to an
// endpoint that subscribes to every type; a disabled endpoint is refused
// with conflict and gets nothing.
func TestTestEndpoint(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()

	type got struct {
		body []byte
		err  error
	}
	tested, bystander := make(chan got, 10), make(chan got, 10)
	var secret atomic.Value
	testedRcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := receiver.Verify(r, secret.Load().(string))
		tested <- got{body, err}
	}))
	t.Cleanup(testedRcv.Close)
	bystanderRcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		bystander <- got{body: body}
	}))
	t.Cleanup(bystanderRcv.Close)

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: testedRcv.URL + "/hooks?token=s3cret", EventTypes: []string{"placement.*"}, Description: "onboarding"})
	if err != nil {
		t.Fatal(err)
	}
	secret.Store(ep.Secret)
	if _, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: bystanderRcv.URL, EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}

	res, err := c.TestEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.EventType != "endpoint.tested" || res.EndpointID != ep.ID || !strings.HasPrefix(res.EventID, "evt_") || res.EventURL != "/v1/events/"+res.EventID {
		t.Fatalf("TestEndpoint = %+v", res)
	}
	var g got
	select {
	case g = <-tested:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint tested got no webhook")
	}
	if g.err != nil {
		t.Fatalf("the test webhook does not verify: %v", g.err)
	}
	if !strings.Contains(string(g.body), `"type":"endpoint.tested"`) || !strings.Contains(string(g.body), `"id":"`+ep.ID+`"`) || strings.Contains(string(g.body), "s3cret") {
		t.Fatalf("test webhook body = %s", g.body)
	}
	testwait.For(t, 10*time.Second, "the test delivery to be delivered", func() bool {
		e, err := c.GetEvent(ctx, res.EventID)
		return err == nil && len(e.DeliveryList) == 1 && e.DeliveryList[0].State == hirehook.DeliveryDelivered
	}, nil)
	e, err := c.GetEvent(ctx, res.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Deliveries != 1 || e.DeliveryList[0].EndpointID != ep.ID {
		t.Fatalf("the test event has %d deliveries (%+v), want one, to %s", e.Deliveries, e.DeliveryList, ep.ID)
	}
	select {
	case b := <-bystander:
		t.Fatalf("an endpoint subscribed to every type got the test: %s", b.body)
	default:
	}

	// Disabled: refused, nothing sent.
	if _, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.TestEndpoint(ctx, ep.ID)
	if hirehook.ErrorCode(err) != hirehook.ECONFLICT || !strings.Contains(hirehook.ErrorMessage(err), "disabled") {
		t.Fatalf("testing a disabled endpoint: %v, want conflict saying it is disabled", err)
	}
	_, err = c.TestEndpoint(ctx, "ep_nope")
	if hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Fatalf("testing no endpoint: %v, want not_found", err)
	}
}
