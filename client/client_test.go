package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/internal/testwait"
)

// newClient returns a client of the hub whose traffic is checked against
// the OpenAPI document (options may replace the checking HTTP client).
func newClient(tb testing.TB, h *testHub, opts ...client.Option) *client.Client {
	tb.Helper()
	opts = append([]client.Option{client.WithHTTPClient(&http.Client{Transport: checkedTransport{tb}})}, opts...)
	c, err := client.New(h.URL, h.Key, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func placement(id string) hirehook.EventInput {
	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{ID: id, Status: "confirmed", StartDate: "2026-12-07"})
	if err != nil {
		panic(err)
	}
	in.Source = "bullhorn"
	return in
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "127.0.0.1:8080", "ftp://x", "http://", "http://x/?a=b"} {
		if _, err := client.New(base, "hh_key"); err == nil {
			t.Errorf("New(%q) accepted", base)
		}
	}
	if _, err := client.New("http://x", ""); err == nil {
		t.Error("an empty key is accepted")
	}
	if _, err := client.New("https://hooks.example.com/prefix/", "hh_key"); err != nil {
		t.Error(err)
	}
}

func TestEndpointsAndEvents(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: "https://onboarding.example.com/hooks", EventTypes: []string{"placement.*"},
		Description: "onboarding", Headers: map[string]string{"X-Team": "ops"}, Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.Secret, "whsec_") || ep.URL != "https://onboarding.example.com/hooks" || !ep.Disabled || ep.Headers["X-Team"] != hirehook.Masked {
		t.Fatalf("created %+v", ep)
	}
	got, err := c.GetEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ep.Endpoint, *got); diff != "" {
		t.Errorf("GetEndpoint differs from the created one (-want +got):\n%s", diff)
	}
	upd, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{Disabled: new(false), Headers: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Disabled || len(upd.Headers) != 0 || upd.Description != "onboarding" {
		t.Errorf("updated %+v", upd)
	}
	if upd.MaxConcurrency != 16 || upd.RateLimitPerSecond != nil {
		t.Errorf("isolation defaults = %d, %v; want 16, nil", upd.MaxConcurrency, upd.RateLimitPerSecond)
	}
	upd, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{MaxConcurrency: new(4), RateLimitPerSecond: new(2.5)})
	if err != nil {
		t.Fatal(err)
	}
	if upd.MaxConcurrency != 4 || upd.RateLimitPerSecond == nil || *upd.RateLimitPerSecond != 2.5 {
		t.Errorf("limits set = %d, %v", upd.MaxConcurrency, upd.RateLimitPerSecond)
	}
	upd, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{RemoveRateLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	if upd.MaxConcurrency != 4 || upd.RateLimitPerSecond != nil {
		t.Errorf("rate limit removed = %d, %v", upd.MaxConcurrency, upd.RateLimitPerSecond)
	}

	// Send: the event makes one delivery to the endpoint.
	acc, err := c.SendEvent(ctx, placement("pl_1001"))
	if err != nil {
		t.Fatal(err)
	}
	if acc.Deliveries != 1 || acc.Duplicate {
		t.Errorf("accepted %+v", acc)
	}
	ev, err := c.GetEvent(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != "placement.confirmed" || ev.Source != "bullhorn" || ev.Subject.ID != "pl_1001" || len(ev.DeliveryList) != 1 || ev.DeliveryList[0].EndpointID != ep.ID {
		t.Errorf("event %+v", ev)
	}
	rec, err := c.GetRecord(ctx, "placement", "pl_1001")
	if err != nil {
		t.Fatal(err)
	}
	var data entity.Placement
	if err := json.Unmarshal(rec.Data, &data); err != nil || data.StartDate != "2026-12-07" || rec.LastEventID != acc.ID {
		t.Errorf("record %+v (%v)", rec, err)
	}
	evs, err := c.ListRecordEvents(ctx, "placement", "pl_1001", client.ListParams{})
	if err != nil || len(evs.Data) != 1 {
		t.Errorf("record events: %v %v", evs, err)
	}

	// Secrets.
	rot, err := c.RotateSecret(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := c.EndpointSecret(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secrets.Secret != rot.Secret || rot.Secret == ep.Secret || len(secrets.Previous) != 1 || secrets.Previous[0].Value != ep.Secret {
		t.Errorf("after rotation: %+v", secrets)
	}

	// Catalog.
	types, err := c.EventTypes(ctx)
	if err != nil || len(types) < 40 {
		t.Fatalf("event types: %d, %v", len(types), err)
	}
	et, err := c.EventType(ctx, entity.EventPlacementConfirmed)
	if err != nil || et.Entity != "placement" || !json.Valid(et.Schema) || len(et.Schema) == 0 {
		t.Errorf("event type %+v, %v", et, err)
	}

	if err := c.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(ctx, ep.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("deleted endpoint: %v", err)
	}
}

func TestSendIdempotent(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()
	key := client.SendOption{IdempotencyKey: "bullhorn:placement:1001:confirmed"}

	first, err := c.SendEvent(ctx, placement("pl_1001"), key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SendEvent(ctx, placement("pl_1001"), key)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || !again.Duplicate || first.Duplicate {
		t.Errorf("first %+v, again %+v: want the same id, the repeat a duplicate", first, again)
	}
	// The producer's own event id works the same way.
	in := placement("pl_1002")
	in.ID = "bullhorn:1002:confirmed"
	a, _ := c.SendEvent(ctx, in)
	b, err := c.SendEvent(ctx, in)
	if err != nil || a.ID != in.ID || !b.Duplicate {
		t.Errorf("by id: %+v %+v %v", a, b, err)
	}
	// A batch with a key answers the same the second time.
	batch := []hirehook.EventInput{placement("pl_1"), placement("pl_2")}
	r1, err := c.SendBatch(ctx, batch, client.SendOption{IdempotencyKey: "batch-1"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.SendBatch(ctx, batch, client.SendOption{IdempotencyKey: "batch-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r2) != 2 || r2[0].ID != r1[0].ID || r2[1].ID != r1[1].ID || !r2[0].Duplicate || !r2[1].Duplicate {
		t.Errorf("batch repeat %+v, first %+v", r2, r1)
	}
	page, err := c.ListEvents(ctx, client.EventListParams{})
	if err != nil || len(page.Data) != 4 {
		t.Errorf("%d events stored, want 4 (%v)", len(page.Data), err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()

	// A validation error names the field, on the client side too.
	bad := placement("pl_1")
	bad.Data = json.RawMessage(`{"id":"pl_1","candidate":{"id":"c_1","email":"not-an-email"}}`)
	_, err := c.SendEvent(ctx, bad)
	if hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != "data.candidate.email" || hirehook.ErrorMessage(err) == "" {
		t.Fatalf("err = %v: want invalid on data.candidate.email", err)
	}
	var herr *hirehook.Error
	if !errors.As(err, &herr) || herr.Field != "data.candidate.email" {
		t.Errorf("errors.As *hirehook.Error: %+v", herr)
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity || apiErr.RequestID == "" {
		t.Errorf("APIError %+v", apiErr)
	}
	if client.Retryable(err) {
		t.Error("a validation error is retryable")
	}
	// In a batch, the field names the event.
	_, err = c.SendBatch(ctx, []hirehook.EventInput{placement("pl_1"), {Type: "placement.nope", Data: json.RawMessage(`{"id":"x"}`)}})
	if hirehook.ErrorField(err) != "events[1].type" {
		t.Errorf("batch: %v", err)
	}
	_, err = c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: "ftp://x.example.com", EventTypes: []string{"*"}})
	if hirehook.ErrorField(err) != "url" {
		t.Errorf("endpoint: %v", err)
	}
	if _, err := c.GetEvent(ctx, "evt_nope"); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := c.GetRecord(ctx, "placement", "nope/../../x"); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("an id with slashes is one path segment: %v", err)
	}

	// A wrong key.
	wrong, _ := client.New(h.URL, "hh_wrong_key_0123456789")
	if _, err := wrong.ListEvents(ctx, client.EventListParams{}); hirehook.ErrorCode(err) != hirehook.EUNAUTHORIZED {
		t.Errorf("wrong key: %v", err)
	}

	// A producer key may not read.
	k, err := c.CreateAPIKey(ctx, client.APIKeyParams{Name: "ats", Scope: hirehook.ScopeProducer, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	producer, _ := client.New(h.URL, k.Key)
	if _, err := producer.SendEvent(ctx, placement("pl_9")); err != nil {
		t.Errorf("producer send: %v", err)
	}
	if _, err := producer.ListEvents(ctx, client.EventListParams{}); hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
		t.Errorf("producer list: %v", err)
	}
	keys, err := c.ListAPIKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Errorf("keys %+v %v", keys, err)
	}
	if err := c.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := producer.SendEvent(ctx, placement("pl_9")); hirehook.ErrorCode(err) != hirehook.EUNAUTHORIZED {
		t.Errorf("revoked key: %v", err)
	}
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	// Nothing listens on a closed listener's port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ := client.New("http://"+addr, "hh_key")
	_, err = c.SendEvent(t.Context(), placement("pl_1"))
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || !client.Retryable(err) || !strings.Contains(err.Error(), "POST /v1/events") {
		t.Errorf("connection refused: %v (retryable %v)", err, client.Retryable(err))
	}
	if hirehook.ErrorCode(err) != hirehook.EINTERNAL {
		t.Errorf("code of a network error = %q", hirehook.ErrorCode(err))
	}

	// A proxy's answer without an error body, and a hub's 429.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/events" {
			w.Header().Set("Retry-After", "3")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"rate_limited","message":"slow down","request_id":"req_1"}}`)
			return
		}
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, _ = client.New(srv.URL, "hh_key")
	_, err = c.ListEndpoints(t.Context(), client.ListParams{})
	if hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE || !client.Retryable(err) {
		t.Errorf("502: %v", err)
	}
	_, err = c.SendEvent(t.Context(), placement("pl_1"))
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 3*time.Second || apiErr.RequestID != "req_1" || !client.Retryable(err) {
		t.Errorf("429: %+v", apiErr)
	}

	// A cancelled context.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.SendEvent(ctx, placement("pl_1"))
	if !errors.Is(err, context.Canceled) || client.Retryable(err) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()
	var batch []hirehook.EventInput
	for i := range 25 {
		batch = append(batch, placement(fmt.Sprintf("pl_%02d", i)))
	}
	sent, err := c.SendBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}

	// Page by page, with the cursor.
	var ids []string
	p := client.EventListParams{Type: entity.EventPlacementConfirmed, ListParams: client.ListParams{Limit: 10}}
	for pages := 1; ; pages++ {
		page, err := c.ListEvents(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Data {
			ids = append(ids, e.ID)
		}
		if !page.HasMore {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		p.After = page.NextAfter
	}
	var want []string
	for _, a := range sent {
		want = append(want, a.ID)
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}

	// With the iterator, which fetches pages as it goes.
	var all []string
	for e, err := range c.AllEvents(ctx, client.EventListParams{ListParams: client.ListParams{Limit: 7}}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.ID)
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("iterated ids (-want +got):\n%s", diff)
	}
	// Stopping early is fine.
	n := 0
	for range c.AllEvents(ctx, client.EventListParams{ListParams: client.ListParams{Limit: 7}}) {
		n++
		if n == 3 {
			break
		}
	}
	// Filters.
	page, err := c.ListEvents(ctx, client.EventListParams{SubjectID: "pl_07"})
	if err != nil || len(page.Data) != 1 || page.Data[0].Subject.ID != "pl_07" {
		t.Errorf("by subject: %+v %v", page, err)
	}
	var dl int
	for _, err := range c.AllDeliveries(ctx, client.DeliveryListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		dl++
	}
	if dl != 0 {
		t.Errorf("%d deliveries without an endpoint", dl)
	}
	// An error ends the iteration with it.
	for _, err := range c.AllEvents(ctx, client.EventListParams{Type: "nope.nope"}) {
		if hirehook.ErrorField(err) != "type" {
			t.Errorf("iterator error: %v", err)
		}
	}
}

// TestEndToEnd runs the whole path: the SDK sends a placement, the hub
// delivers it to a receiver.Handler, which verifies it, decodes the typed
// placement once, and the SDK then sees the delivery delivered; a replay is
// deduplicated by the receiver.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()

	var mu sync.Mutex
	var got []*entity.Placement
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s := secret
		mu.Unlock()
		receiver.Handler([]string{s}, dedup, func(ctx context.Context, e receiver.Event) error {
			p, err := e.Placement()
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, p)
			return nil
		}).ServeHTTP(w, r)
	}))
	defer rcv.Close()

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: rcv.URL + "/onboarding", EventTypes: []string{entity.EventPlacementConfirmed}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	secret = ep.Secret
	mu.Unlock()

	pay := 42.5
	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{ID: "pl_1001", Status: "confirmed",
		PayRate: &entity.Money{Amount: pay, Currency: "USD", Unit: "hour"}, Extra: map[string]json.RawMessage{"po_number": json.RawMessage(`"PO-7"`)}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.SendEvent(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var dlv hirehook.Delivery
	testwait.For(t, 10*time.Second, "the delivery to be delivered", func() bool {
		ev, err := c.GetEvent(ctx, acc.ID)
		if err != nil || len(ev.DeliveryList) != 1 {
			return false
		}
		dlv = ev.DeliveryList[0]
		return dlv.State == hirehook.DeliveryDelivered
	}, nil)
	full, err := c.GetDelivery(ctx, dlv.ID)
	if err != nil || len(full.AttemptList) != 1 || full.AttemptList[0].StatusCode != http.StatusNoContent || full.AttemptList[0].Duration <= 0 {
		t.Fatalf("delivery %+v %v", full, err)
	}

	// A replay reaches the receiver, which acknowledges it without
	// handing it over again.
	if _, err := c.RetryDelivery(ctx, dlv.ID); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the replay", func() bool {
		d, err := c.GetDelivery(ctx, dlv.ID)
		return err == nil && len(d.AttemptList) == 2 && d.State == hirehook.DeliveryDelivered
	}, nil)
	d, _ := c.GetDelivery(ctx, dlv.ID)
	if d.AttemptList[1].StatusCode != http.StatusOK {
		t.Errorf("replay answered %d, want 200 (already processed)", d.AttemptList[1].StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].ID != "pl_1001" || got[0].PayRate.Amount != 42.5 || string(got[0].Extra["po_number"]) != `"PO-7"` {
		t.Fatalf("the receiver got %+v", got)
	}
}

// dedup is the receiver's store in TestEndToEnd; the handler is rebuilt
// per request there, the store must not be.
var dedup = receiver.NewMemoryDedup(0)

// TestRecover: failed deliveries come back with Recover.
func TestRecoverAndAudit(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer rcv.Close()
	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: rcv.URL, EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	acc, err := c.SendEvent(ctx, placement("pl_1"))
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the delivery to fail", func() bool {
		p, err := c.ListDeliveries(ctx, client.DeliveryListParams{EventID: acc.ID, State: hirehook.DeliveryFailed})
		return err == nil && len(p.Data) == 1
	}, nil)
	n, err := c.Recover(ctx, ep.ID, start, time.Time{})
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	var actions []string
	for e, err := range c.AllAuditLog(ctx, client.ListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, e.Action)
	}
	if !strings.Contains(strings.Join(actions, " "), "endpoint.recovered") {
		t.Errorf("audit log: %v", actions)
	}
}

func TestTenants(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()
	tn, err := c.CreateTenant(ctx, client.TenantCreateParams{ID: "acme", Name: "Acme Staffing"})
	if err != nil || tn.ID != "acme" || tn.RetentionDays != hirehook.DefaultRetentionDays {
		t.Fatalf("tenant %+v %v", tn, err)
	}
	if _, err := c.CreateTenant(ctx, client.TenantCreateParams{ID: "acme", Name: "again"}); hirehook.ErrorCode(err) != hirehook.ECONFLICT {
		t.Errorf("a taken id: %v", err)
	}
	tn, err = c.UpdateTenant(ctx, "acme", client.TenantUpdateParams{RetentionDays: new(7)})
	if err != nil || tn.RetentionDays != 7 || tn.Name != "Acme Staffing" {
		t.Errorf("updated %+v %v", tn, err)
	}
	if _, err := c.GetTenant(ctx, "acme"); err != nil {
		t.Error(err)
	}
	if p, err := c.ListTenants(ctx, client.ListParams{}); err != nil || len(p.Data) != 2 {
		t.Errorf("tenants %+v %v", p, err)
	}
	k, err := c.CreateAPIKey(ctx, client.APIKeyParams{Name: "acme viewer", Scope: hirehook.ScopeViewer, TenantID: "acme"})
	if err != nil || k.TenantID != "acme" {
		t.Fatalf("key %+v %v", k, err)
	}
	acme, _ := client.New(h.URL, k.Key)
	if _, err := acme.SendEvent(ctx, placement("pl_1")); hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
		t.Errorf("a viewer key sends? %v", err)
	}
	if _, err := c.SendEvent(ctx, hirehook.EventInput{Type: entity.EventCandidateCreated, Data: json.RawMessage(`{"id":"cand_1","email":"a@example.com"}`)}); err != nil {
		t.Fatal(err)
	}
	erased, err := c.EraseCandidate(ctx, "cand_1")
	if err != nil || erased.AnonymizedEventID == "" {
		t.Errorf("erase %+v %v", erased, err)
	}
	if err := c.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
}

// TestClientCoversEveryRoute calls every method of the Client against a
// hub and checks that together they use every route of the API, so a new
// route without an SDK method fails here.
func TestClientCoversEveryRoute(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	routes := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	want := map[string]bool{}
	for _, rt := range api.New(api.Config{}).RouteTable() {
		routes.Handle(rt.Method+" "+rt.Pattern, noop)
		want[rt.Method+" "+rt.Pattern] = true
	}
	var mu sync.Mutex
	used := map[string]bool{}
	rec := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if _, pattern := routes.Handler(r); pattern != "" {
			mu.Lock()
			used[pattern] = true
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c := newClient(t, h, client.WithHTTPClient(&http.Client{Transport: rec}), client.WithUserAgent("test/1"))
	ctx := t.Context()
	ignore := func(any, error) {}

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: "https://x.example.com", EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.SendEvent(ctx, placement("pl_1"))
	if err != nil {
		t.Fatal(err)
	}
	ignore(c.SendBatch(ctx, []hirehook.EventInput{placement("pl_2")}))
	ignore(c.GetEvent(ctx, acc.ID))
	ignore(c.ListEvents(ctx, client.EventListParams{}))
	ignore(c.GetRecord(ctx, "placement", "pl_1"))
	ignore(c.ListRecordEvents(ctx, "placement", "pl_1", client.ListParams{}))
	ignore(c.EraseCandidate(ctx, "c_1"))
	ignore(c.ListEndpoints(ctx, client.ListParams{}))
	ignore(c.GetEndpoint(ctx, ep.ID))
	ignore(c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{Description: new("x")}))
	ignore(c.EndpointSecret(ctx, ep.ID))
	ignore(c.RotateSecret(ctx, ep.ID))
	ignore(c.Recover(ctx, ep.ID, time.Now().Add(-time.Hour), time.Now()))
	ignore(c.TestEndpoint(ctx, ep.ID))
	bf, err := c.Backfill(ctx, ep.ID, client.BackfillParams{Entities: []string{"candidate"}})
	if err != nil {
		t.Fatal(err)
	}
	ignore(c.ListBackfills(ctx, ep.ID))
	ignore(c.GetBackfill(ctx, bf.ID))
	ignore(c.CancelBackfill(ctx, bf.ID))
	ignore(c.TestRoute(ctx, client.TestRouteParams{Filter: ".type == \"job.posted\"", Event: json.RawMessage(`{"type":"job.posted"}`)}))
	page, _ := c.ListDeliveries(ctx, client.DeliveryListParams{})
	if page == nil || len(page.Data) == 0 {
		t.Fatal("no deliveries")
	}
	ignore(c.GetDelivery(ctx, page.Data[0].ID))
	ignore(c.RetryDelivery(ctx, page.Data[0].ID))
	ignore(nil, c.DeleteEndpoint(ctx, ep.ID))
	k, _ := c.CreateAPIKey(ctx, client.APIKeyParams{Name: "x", Scope: hirehook.ScopeViewer})
	ignore(c.ListAPIKeys(ctx))
	ignore(nil, c.RevokeAPIKey(ctx, k.ID))
	ignore(c.ListAuditLog(ctx, client.ListParams{}))
	ignore(c.CreateTenant(ctx, client.TenantCreateParams{ID: "t1", Name: "t1"}))
	ignore(c.ListTenants(ctx, client.ListParams{}))
	ignore(c.GetTenant(ctx, "t1"))
	ignore(c.UpdateTenant(ctx, "t1", client.TenantUpdateParams{Name: new("t2")}))
	ignore(nil, c.DeleteTenant(ctx, "t1"))
	ignore(c.EventTypes(ctx))
	ignore(c.DestinationKinds(ctx))
	ignore(c.EventType(ctx, "placement.confirmed"))
	// The test hub runs no source kinds: each call still uses its route.
	ignore(c.CreateSource(ctx, client.SourceCreateParams{Kind: hirehook.SourceBullhorn, Name: "x", Config: json.RawMessage(`{}`)}))
	ignore(c.ListSources(ctx, client.ListParams{}))
	ignore(c.GetSource(ctx, "src_1"))
	ignore(c.UpdateSource(ctx, "src_1", client.SourceUpdateParams{Name: new("y")}))
	ignore(c.ListSourceRequests(ctx, "src_1", client.SourceRequestListParams{Status: hirehook.InboundRejected}))
	ignore(c.GetSourceRequest(ctx, "src_1", "inr_1"))
	ignore(c.ReprocessSource(ctx, "src_1", time.Now().Add(-time.Hour), time.Time{}))
	ignore(nil, c.DeleteSource(ctx, "src_1"))

	for route := range want {
		if !used[route] {
			t.Errorf("no Client method uses %s", route)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestListDeliveriesLastAttempt: a listed delivery carries its last
// attempt's latency and the start of its answer, as GetDelivery's last
// attempt has them, so a list says how each delivery went.
func TestListDeliveriesLastAttempt(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	c := newClient(t, h)
	ctx := t.Context()
	long := "upstream down: " + strings.Repeat("x", 300)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, long)
	}))
	defer rcv.Close()
	if _, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{URL: rcv.URL, EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	acc, err := c.SendEvent(ctx, placement("pl_1"))
	if err != nil {
		t.Fatal(err)
	}
	var d hirehook.Delivery
	testwait.For(t, 10*time.Second, "the delivery to fail", func() bool {
		p, err := c.ListDeliveries(ctx, client.DeliveryListParams{EventID: acc.ID})
		if err != nil || len(p.Data) != 1 {
			return false
		}
		d = p.Data[0]
		return d.State == hirehook.DeliveryFailed
	}, nil)
	full, err := c.GetDelivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := full.AttemptList[len(full.AttemptList)-1]
	if d.LastStatus != http.StatusBadGateway || d.LastLatency <= 0 || time.Duration(d.LastLatency) != a.Duration {
		t.Errorf("listed: status %d, latency %v; the attempt: %d, %v", d.LastStatus, time.Duration(d.LastLatency), a.StatusCode, a.Duration)
	}
	if want := long[:hirehook.ResponseExcerptBytes]; d.LastResponseExcerpt != want {
		t.Errorf("listed excerpt %q, want the first %d bytes %q", d.LastResponseExcerpt, hirehook.ResponseExcerptBytes, want)
	}
	last := full.AttemptList[len(full.AttemptList)-1]
	if time.Duration(full.LastLatency) != last.Duration || full.LastResponseExcerpt != long[:hirehook.ResponseExcerptBytes] {
		t.Errorf("GetDelivery: latency %v excerpt %q; its last attempt: %v", time.Duration(full.LastLatency), full.LastResponseExcerpt, last.Duration)
	}
}
