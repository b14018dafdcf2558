package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// TestEndpointBrokerLifecycle creates a broker endpoint, changes its config
// and one credential, and checks what is stored, what its URL shows, and
// that no credential reaches the audit log.
func TestEndpointBrokerLifecycle(t *testing.T) {
	b := newEndpointBundle(t)
	ctx := context.Background()
	const password = "pw-very-secret-1"
	e, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{
		Kind:        ptr(hirehook.KindRabbitMQ),
		EventTypes:  &[]string{"placement.*"},
		Config:      &map[string]string{"address": "rabbit.internal:5672", "exchange": "hr"},
		Credentials: &map[string]string{"username": "hub", "password": password},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != hirehook.KindRabbitMQ || e.Target() != `amqp://rabbit.internal:5672/?exchange=hr&routing_key={event_type}` {
		t.Fatalf("created kind %q url %q", e.Kind, e.Target())
	}
	got, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Credentials["password"] != password || got.Config["exchange"] != "hr" {
		t.Fatalf("stored config %v, password kept %v", got.Config, got.Credentials["password"] == password)
	}

	// A new password alone keeps the user name; a new config replaces the old.
	const password2 = "pw-very-secret-2"
	up, err := b.endpoints.EndpointUpdate(ctx, b.admin, e.ID, ops.EndpointInput{
		Config:      &map[string]string{"address": "rabbit2.internal:5671", "tls": "true", "routing_key": "hr.events"},
		Credentials: &map[string]string{"password": password2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Credentials["username"] != "hub" || up.Credentials["password"] != password2 || up.Config["exchange"] != "" {
		t.Fatalf("after update: config %v, username %q, new password %v", up.Config, up.Credentials["username"], up.Credentials["password"] == password2)
	}
	if up.Target() != `amqps://rabbit2.internal:5671/?exchange=&routing_key=hr.events` {
		t.Fatalf("url after update = %q", up.Target())
	}
	for _, entry := range b.audit(t) {
		if strings.Contains(string(entry.Details), "pw-very-secret") {
			t.Fatalf("audit entry %s holds a credential: %s", entry.Action, entry.Details)
		}
	}
	created := details(t, b.audit(t)[1])
	if created["kind"] != hirehook.KindRabbitMQ {
		t.Fatalf("endpoint.created details = %v, want the kind", created)
	}
	updated, _ := json.Marshal(details(t, b.audit(t)[0]))
	if !strings.Contains(string(updated), `"credentials":["password"]`) {
		t.Fatalf("endpoint.updated details = %s, want the credential names changed", updated)
	}

	// Credentials sent back as read (hirehook.Masked) keep their values;
	// Masked for a credential the endpoint lacks is refused.
	if _, err := b.endpoints.EndpointUpdate(ctx, b.admin, e.ID, ops.EndpointInput{
		Credentials: &map[string]string{"username": hirehook.Masked, "password": hirehook.Masked},
	}); err != nil {
		t.Fatal(err)
	}
	if got, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, e.ID); err != nil {
		t.Fatal(err)
	}
	if got.Credentials["username"] != "hub" || got.Credentials["password"] != password2 {
		t.Fatalf("after sending the credentials back masked: username %q, password kept %v", got.Credentials["username"], got.Credentials["password"] == password2)
	}
	_, err = b.endpoints.EndpointUpdate(ctx, b.admin, e.ID, ops.EndpointInput{Credentials: &map[string]string{"token": hirehook.Masked}})
	if hirehook.ErrorField(err) != "credentials.token" {
		t.Fatalf("masked unknown credential: %v, want a credentials.token error", err)
	}
}

// TestEndpointBrokerValidate checks that each wrong destination is refused
// with the field it concerns, and that nothing is stored.
func TestEndpointBrokerValidate(t *testing.T) {
	b := newEndpointBundle(t)
	ctx := context.Background()
	types := &[]string{"*"}
	cases := []struct {
		name  string
		in    ops.EndpointInput
		field string
	}{
		{"unknown kind", ops.EndpointInput{Kind: ptr("sqs"), EventTypes: types}, "kind"},
		{"missing topic", ops.EndpointInput{Kind: ptr(hirehook.KindKafka), EventTypes: types, Config: &map[string]string{"brokers": "k:9092"}}, "config.topic"},
		{"bad broker", ops.EndpointInput{Kind: ptr(hirehook.KindKafka), EventTypes: types, Config: &map[string]string{"brokers": "k", "topic": "t"}}, "config.brokers"},
		{"unknown field", ops.EndpointInput{Kind: ptr(hirehook.KindNATS), EventTypes: types, Config: &map[string]string{"servers": "n:4222", "subject": "hr", "stream": "x"}}, "config.stream"},
		{"url on a broker", ops.EndpointInput{Kind: ptr(hirehook.KindNATS), URL: ptr("https://x.example.com"), EventTypes: types, Config: &map[string]string{"servers": "n:4222", "subject": "hr"}}, "url"},
		{"config on a webhook", ops.EndpointInput{URL: ptr("https://x.example.com"), EventTypes: types, Config: &map[string]string{"topic": "t"}}, "config"},
		{"rabbit without password", ops.EndpointInput{Kind: ptr(hirehook.KindRabbitMQ), EventTypes: types, Config: &map[string]string{"address": "r:5672"}, Credentials: &map[string]string{"username": "u"}}, "credentials.password"},
		{"pubsub without key", ops.EndpointInput{Kind: ptr(hirehook.KindPubSub), EventTypes: types, Config: &map[string]string{"project_id": "acme-hr", "topic": "events"}}, "credentials.service_account_json"},
		{"unknown credential", ops.EndpointInput{Kind: ptr(hirehook.KindNATS), EventTypes: types, Config: &map[string]string{"servers": "n:4222", "subject": "hr"}, Credentials: &map[string]string{"nkey": "SUAXYZ"}}, "credentials.nkey"},
	}
	for _, c := range cases {
		_, _, err := b.endpoints.EndpointCreate(ctx, b.admin, c.in)
		var he *hirehook.Error
		if !asError(err, &he) || he.Code != hirehook.EINVALID || he.Field != c.field {
			t.Errorf("%s: err = %v, want invalid naming %s", c.name, err, c.field)
		}
		if err != nil && strings.Contains(err.Error(), "SUAXYZ") {
			t.Errorf("%s: the error shows a credential: %v", c.name, err)
		}
	}
	if list, _ := b.store.EndpointList(ctx, hirehook.EndpointFilter{TenantID: hirehook.DefaultTenantID}); len(list) != 0 {
		t.Fatalf("%d endpoints stored by refused creates", len(list))
	}

	// Kind is fixed; a webhook's update cannot add config.
	web, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{URL: ptr("https://crm.example.com/h"), EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]ops.EndpointInput{
		"kind":   {Kind: ptr(hirehook.KindKafka)},
		"config": {Config: &map[string]string{"topic": "t"}},
	} {
		_, err := b.endpoints.EndpointUpdate(ctx, b.admin, web.ID, in)
		var he *hirehook.Error
		if !asError(err, &he) || he.Field != name {
			t.Errorf("update %s of a webhook: err = %v, want invalid naming %s", name, err, name)
		}
	}
}

func asError(err error, target **hirehook.Error) bool { return errors.As(err, target) }
