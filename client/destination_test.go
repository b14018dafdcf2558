package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
)

// TestBrokerEndpoint: a broker endpoint is created, read, listed and
// changed through the SDK with its kind, config and credentials; the
// credentials come back only as names with hirehook.Masked, and their
// values never cross the wire back to the client.
func TestBrokerEndpoint(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	const password, newPassword = "s3cret-Kafka-pw", "n3w-Kafka-pw"
	var mu sync.Mutex
	var answers strings.Builder
	rec := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := checkedTransport{t}.RoundTrip(r)
		if err == nil {
			b, _ := readAndRestore(resp)
			mu.Lock()
			answers.Write(b)
			mu.Unlock()
		}
		return resp, err
	})
	c := newClient(t, h, client.WithHTTPClient(&http.Client{Transport: rec}))
	ctx := t.Context()

	ep, err := c.CreateEndpoint(ctx, client.EndpointCreateParams{
		Kind:        hirehook.KindKafka,
		Config:      map[string]string{"brokers": "127.0.0.1:9092", "topic": "applications", "sasl_mechanism": "scram-sha-256"},
		Credentials: map[string]string{"username": "hub", "password": password},
		EventTypes:  []string{"application.*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCreds := map[string]string{"username": hirehook.Masked, "password": hirehook.Masked}
	if ep.Kind != hirehook.KindKafka || ep.URL != "kafka://127.0.0.1:9092/applications" || ep.Config["topic"] != "applications" {
		t.Errorf("created kind %q url %q config %v", ep.Kind, ep.URL, ep.Config)
	}
	if diff := cmp.Diff(wantCreds, ep.Credentials); diff != "" {
		t.Errorf("created credentials (-want +got):\n%s", diff)
	}
	got, err := c.GetEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ep.Endpoint, *got); diff != "" {
		t.Errorf("GetEndpoint differs from the created one (-want +got):\n%s", diff)
	}
	page, err := c.ListEndpoints(ctx, client.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || !cmp.Equal(page.Data[0].Credentials, wantCreds) || page.Data[0].Kind != hirehook.KindKafka {
		t.Errorf("listed %+v", page.Data)
	}

	// Credentials as read may be sent back: Masked keeps a value. A new
	// config changes the url; a new password is taken.
	upd, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{
		Config:      map[string]string{"brokers": "127.0.0.1:9093", "topic": "analytics", "sasl_mechanism": "scram-sha-256"},
		Credentials: got.Credentials,
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.URL != "kafka://127.0.0.1:9093/analytics" || !cmp.Equal(upd.Credentials, wantCreds) {
		t.Errorf("updated url %q credentials %v", upd.URL, upd.Credentials)
	}
	stored, err := h.Store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Credentials["password"] != password {
		t.Errorf("a Masked password sent back changed the stored one")
	}
	if _, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{Credentials: map[string]string{"password": newPassword}}); err != nil {
		t.Fatal(err)
	}
	if stored, _ = h.Store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID); stored.Credentials["password"] != newPassword {
		t.Errorf("the new password was not stored")
	}

	// A wrong field is a field error; the kind is fixed.
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointUpdateParams{Config: map[string]string{"brokers": "127.0.0.1:9093", "topic": "bad topic!"}})
	if hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != "config.topic" {
		t.Errorf("bad topic: %v (field %q)", err, hirehook.ErrorField(err))
	}
	_, err = c.CreateEndpoint(ctx, client.EndpointCreateParams{Kind: hirehook.KindKafka, URL: "https://x.example.com", EventTypes: []string{"*"},
		Config: map[string]string{"brokers": "127.0.0.1:9092", "topic": "t"}})
	if hirehook.ErrorField(err) != "url" {
		t.Errorf("a broker endpoint with a url: %v", err)
	}

	// EndpointWithSecret encodes its credentials masked, whatever they hold.
	ep.Credentials = map[string]string{"password": password}
	b, err := json.Marshal(ep)
	if err != nil {
		t.Fatal(err)
	}
	var back client.EndpointWithSecret
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), password) || back.Credentials["password"] != hirehook.Masked || back.Secret != ep.Secret || back.Kind != hirehook.KindKafka {
		t.Errorf("EndpointWithSecret JSON: %s", b)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, secret := range []string{password, newPassword} {
		if strings.Contains(answers.String(), secret) {
			t.Errorf("an answer of the hub holds a credential's value")
		}
	}
}

// TestDestinationKinds: the SDK lists the kinds the hub knows, http first,
// with the fields hirehook.DestinationKinds declares.
func TestDestinationKinds(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	kinds, err := newClient(t, h).DestinationKinds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range kinds {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, hirehook.DestinationKindNames()) {
		t.Fatalf("kinds %v, want %v", names, hirehook.DestinationKindNames())
	}
	if len(kinds[0].Config) != 0 || len(kinds[0].Credentials) != 0 {
		t.Errorf("http has fields: %+v", kinds[0])
	}
	fields := func(fs []hirehook.DestinationField) []client.DestinationField {
		out := []client.DestinationField{}
		for _, f := range fs {
			out = append(out, client.DestinationField{Name: f.Name, Required: f.Required, Help: f.Help})
		}
		return out
	}
	for i, k := range hirehook.DestinationKinds {
		want := client.DestinationKind{Name: k.Name, Title: k.Title, Config: fields(k.Config), Credentials: fields(k.Credentials)}
		if diff := cmp.Diff(want, kinds[i+1]); diff != "" {
			t.Errorf("kind %s (-want +got):\n%s", k.Name, diff)
		}
	}
}

// readAndRestore reads resp's body and puts it back.
func readAndRestore(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}
