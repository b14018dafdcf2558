package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
)

// testEndpointDestination checks a broker endpoint's kind, config and
// credentials: stored whole, read back by Get and List, replaced by an
// update, and a webhook endpoint's kind stored as http.
func testEndpointDestination(t *testing.T, newStore NewStoreFunc) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	web := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://crm.example.com/hooks", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	must(t, s.EndpointCreate(ctx, web))
	kafka := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), Kind: hirehook.KindKafka, URL: "kafka://b1:9092/applications",
		EventTypes: []string{"application.*"}, Config: map[string]string{"brokers": "b1:9092", "topic": "applications", "sasl_mechanism": "plain"},
		Credentials: map[string]string{"username": "hub", "password": "s3cret"},
		Secrets:     []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	must(t, s.EndpointCreate(ctx, kafka))

	got, err := s.EndpointGet(ctx, tenant, web.ID)
	must(t, err)
	if got.Kind != hirehook.KindHTTP || got.Config != nil || got.Credentials != nil {
		t.Fatalf("webhook endpoint read back as kind %q, config %v, credentials %d", got.Kind, got.Config, len(got.Credentials))
	}
	got, err = s.EndpointGet(ctx, tenant, kafka.ID)
	must(t, err)
	if got.Kind != hirehook.KindKafka || !cmp.Equal(got.Config, kafka.Config) || !cmp.Equal(got.Credentials, kafka.Credentials) {
		t.Fatalf("kafka endpoint read back as kind %q, config %v, credentials equal %v", got.Kind, got.Config, cmp.Equal(got.Credentials, kafka.Credentials))
	}
	list, err := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant})
	must(t, err)
	kinds := map[string]string{}
	for _, e := range list {
		kinds[e.ID] = e.Kind
	}
	if kinds[web.ID] != hirehook.KindHTTP || kinds[kafka.ID] != hirehook.KindKafka {
		t.Fatalf("EndpointList kinds = %v", kinds)
	}

	config := map[string]string{"brokers": "b2:9092,b3:9092", "topic": "placements", "sasl_mechanism": "scram-sha-256"}
	creds := map[string]string{"username": "hub2", "password": "n3w"}
	upd, err := s.EndpointUpdate(ctx, tenant, kafka.ID, hirehook.EndpointUpdate{Config: &config, Credentials: &creds, Now: now.Add(time.Second)})
	must(t, err)
	if !cmp.Equal(upd.Config, config) || !cmp.Equal(upd.Credentials, creds) || !upd.UpdatedAt.After(kafka.UpdatedAt) {
		t.Fatalf("update returned config %v, credentials equal %v, updated_at %v", upd.Config, cmp.Equal(upd.Credentials, creds), upd.UpdatedAt)
	}
	got, err = s.EndpointGet(ctx, tenant, kafka.ID)
	must(t, err)
	if !cmp.Equal(got.Config, config) || !cmp.Equal(got.Credentials, creds) {
		t.Fatalf("after update: config %v, credentials equal %v", got.Config, cmp.Equal(got.Credentials, creds))
	}
	// An update of other fields keeps them.
	desc := "analytics"
	if _, err := s.EndpointUpdate(ctx, tenant, kafka.ID, hirehook.EndpointUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	got, err = s.EndpointGet(ctx, tenant, kafka.ID)
	must(t, err)
	if got.Kind != hirehook.KindKafka || !cmp.Equal(got.Config, config) || !cmp.Equal(got.Credentials, creds) {
		t.Fatalf("after a description update: kind %q config %v", got.Kind, got.Config)
	}
}
