package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
)

// testInboundMasksCredentials: whoever builds an inbound request, the log
// keeps its credential-bearing headers masked.
func testInboundMasksCredentials(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	src := newSource(t, s, tenant, true)
	r := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: t0,
		Status: hirehook.InboundRejected, BodySize: 2,
		Header: http.Header{"Teamtailor-Api-Token": {"tok-1"}, "X-Api-Key": {"key-1"}, "Authorization": {"Basic YTpi"},
			"X-Receiver-Token": {"t1", "t2"}, "Webhook-Signature": {"v1,abc"}, "Event-Name": {"candidate.created"}}}
	must(t, s.InboundCreate(ctx, r))
	got, err := s.InboundGet(ctx, tenant, src.ID, r.ID)
	must(t, err)
	m := hirehook.Masked
	want := http.Header{"Teamtailor-Api-Token": {m}, "X-Api-Key": {m}, "Authorization": {m},
		"X-Receiver-Token": {m, m}, "Webhook-Signature": {m}, "Event-Name": {"candidate.created"}}
	if diff := cmp.Diff(want, got.Header); diff != "" {
		t.Errorf("stored header (-want +got):\n%s", diff)
	}
}

// sealingStore is a Store with the Encrypted capability it declares.
type sealingStore struct {
	hirehook.Store
	hirehook.Encrypted
}

// SecretsAtRest is what RunSecretsAtRest needs of a dialect: Open opens
// (again) the one database under test with a keyring, nil for none; Raw is
// a direct connection to it; Dump returns every byte a thief copying the
// database would get, or nil where the dialect cannot give them (then the
// columns are checked instead).
type SecretsAtRest struct {
	OpenFunc func(tb testing.TB, ring *seal.Keyring) hirehook.Store
	Raw      *sql.DB
	DumpFunc func(tb testing.TB) []byte
	// TimeSQL is an SQL literal for a created_at value of the dialect.
	TimeSQL string
}

func newRing(tb testing.TB) (*seal.Keyring, string) {
	tb.Helper()
	k := seal.NewKey()
	r, err := seal.ParseKeyring(k)
	if err != nil {
		tb.Fatal(err)
	}
	return r, k
}

func rawString(tb testing.TB, db *sql.DB, query string) string {
	tb.Helper()
	var v string
	if err := db.QueryRow(query).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return v
}

// RunSecretsAtRest checks, on one database, that endpoints' custom header
// values and API keys are never stored in a form that reveals them:
// headers are sealed like signing secrets (also those an older hub wrote
// in the clear, once UpgradeSecrets ran, and again by a key rotation), and
// API keys are kept as hirehook.APIKeyMAC under a sealed pepper, never as
// the bare SHA-256 an offline guess could be tested against; a key stored
// the old way authenticates once UpgradeSecrets rewrote it.
func RunSecretsAtRest(t *testing.T, d SecretsAtRest) {
	ctx := context.Background()
	// The capability is reached through the store's declaration, as a hub
	// reaches it.
	open := func(ring *seal.Keyring) sealingStore {
		t.Helper()
		st := d.OpenFunc(t, ring)
		enc := st.Capabilities().Encryption
		if enc == nil {
			t.Fatal("the store does not declare Encryption (Capabilities)")
		}
		return sealingStore{st, enc}
	}
	token := func(prefix string) string { return prefix + strings.TrimPrefix(hirehook.NewSecret(), "whsec_") }
	now := time.Now().UTC().Truncate(time.Microsecond)
	newEndpoint := func(s hirehook.Store, headers map[string]string) *hirehook.Endpoint {
		e := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://crm.example.com/hooks",
			EventTypes: []string{"*"}, Headers: headers, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}},
			CreatedAt: now, UpdatedAt: now}
		must(t, s.EndpointCreate(ctx, e))
		return e
	}
	stored := func() string {
		rows, err := d.Raw.Query(`SELECT headers FROM endpoints ORDER BY seq`)
		must(t, err)
		defer rows.Close()
		var all []string
		for rows.Next() {
			var v string
			must(t, rows.Scan(&v))
			all = append(all, v)
		}
		must(t, rows.Err())
		return strings.Join(all, "\n")
	}

	// 1. An older hub, without a keyring: headers in plain JSON, a key as
	// its bare SHA-256, as stored before.
	s := open(nil)
	legacyAuth := "Basic " + token("legacy-")
	legacy := newEndpoint(s, map[string]string{"Authorization": legacyAuth})
	oldKey := token("hh_old_")
	oldDigest := hirehook.HashAPIKey(oldKey)
	if _, err := d.Raw.Exec(fmt.Sprintf(`INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at) VALUES ('key_old', '%s', 'old', 'admin', '%s', %s)`,
		tenant, oldDigest, d.TimeSQL)); err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	if !strings.Contains(stored(), legacyAuth) {
		t.Fatal("control: the plain header is not found; the search is broken")
	}

	// 2. This hub, with a keyring: new headers are sealed at once; older
	// rows once UpgradeSecrets ran, as a hub does at start.
	ring, keyText := newRing(t)
	s = open(ring)
	newAuth, newToken := "Basic "+token("new-"), token("rt-")
	e := newEndpoint(s, map[string]string{"Authorization": newAuth, "X-Receiver-Token": newToken})
	changed := token("changed-")
	if _, err := s.EndpointUpdate(ctx, tenant, e.ID, hirehook.EndpointUpdate{Headers: &map[string]string{"Authorization": newAuth, "X-Receiver-Token": changed}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIKeyByHash(ctx, oldDigest); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Fatalf("a bare-digest key before UpgradeSecrets: %v, want not_found (lookups use the keyed hash only)", err)
	}
	n, err := s.UpgradeSecrets(ctx)
	must(t, err)
	if n < 2 {
		t.Fatalf("UpgradeSecrets rewrote %d rows, want the legacy headers and the old key at least", n)
	}
	got, err := s.APIKeyByHash(ctx, oldDigest)
	must(t, err)
	if got.ID != "key_old" || got.Hash != oldDigest {
		t.Fatalf("old key after UpgradeSecrets = %+v", got)
	}
	if h := rawString(t, d.Raw, `SELECT hash FROM api_keys WHERE id = 'key_old'`); h == oldDigest || !strings.HasPrefix(h, hirehook.APIKeyMACPrefix) {
		t.Fatalf("old key stored as %q after UpgradeSecrets, want a keyed hash", h)
	}
	if n, err := s.UpgradeSecrets(ctx); err != nil || n != 0 {
		t.Fatalf("UpgradeSecrets again = %d, %v; want 0", n, err)
	}
	// A new key: stored keyed, found by its digest.
	newKey := token("hh_new_")
	must(t, s.APIKeyCreate(ctx, &hirehook.APIKey{ID: "key_new", TenantID: tenant, Name: "new", Scope: hirehook.ScopeViewer, Hash: hirehook.HashAPIKey(newKey), CreatedAt: now}))
	if h := rawString(t, d.Raw, `SELECT hash FROM api_keys WHERE id = 'key_new'`); h == hirehook.HashAPIKey(newKey) || !strings.HasPrefix(h, hirehook.APIKeyMACPrefix) {
		t.Fatalf("new key stored as %q, want a keyed hash, not SHA-256 of the key", h)
	}
	if p := rawString(t, d.Raw, `SELECT value FROM hub_secrets WHERE name = 'api_key_pepper'`); !seal.IsSealed(p) {
		t.Fatal("the api key pepper is stored in the clear under a keyring")
	}
	for _, ep := range []*hirehook.Endpoint{legacy, e} {
		got, err := s.EndpointGet(ctx, tenant, ep.ID)
		must(t, err)
		want := ep.Headers
		if ep == e {
			want = map[string]string{"Authorization": newAuth, "X-Receiver-Token": changed}
		}
		if diff := cmp.Diff(want, got.Headers); diff != "" {
			t.Fatalf("endpoint %s headers (-want +got):\n%s", ep.ID, diff)
		}
	}
	check := func(when string) {
		t.Helper()
		all := stored()
		if d.DumpFunc != nil {
			all += string(d.DumpFunc(t))
		}
		for _, v := range []string{legacyAuth, newAuth, newToken, changed, keyText, oldDigest, hirehook.HashAPIKey(newKey)} {
			if strings.Contains(all, v) {
				t.Fatalf("%s: the database holds %.12s…", when, v)
			}
		}
	}
	// A broker endpoint's credentials (and config) are sealed in the
	// destination column, and read back whole.
	brokerPassword := token("amqp-")
	broker := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), Kind: hirehook.KindRabbitMQ, URL: "amqp://rabbit.internal:5672/",
		EventTypes: []string{"*"}, Config: map[string]string{"address": "rabbit.internal:5672", "exchange": "hr"},
		Credentials: map[string]string{"username": "hub", "password": brokerPassword},
		Secrets:     []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	must(t, s.EndpointCreate(ctx, broker))
	brokerStored := func() string {
		return rawString(t, d.Raw, `SELECT destination FROM endpoints WHERE id = '`+broker.ID+`'`)
	}
	if v := brokerStored(); !seal.IsSealed(v) || strings.Contains(v, brokerPassword) || strings.Contains(v, "rabbit.internal") {
		t.Fatalf("a broker endpoint's destination is stored as %.40q…, want it sealed", v)
	}
	checkBroker := func(s hirehook.Store, when string) {
		t.Helper()
		got, err := s.EndpointGet(ctx, tenant, broker.ID)
		must(t, err)
		if got.Kind != hirehook.KindRabbitMQ || got.Credentials["password"] != brokerPassword || got.Config["exchange"] != "hr" {
			t.Fatalf("%s: broker endpoint read back as kind %q, config %v, password set %v", when, got.Kind, got.Config, got.Credentials["password"] == brokerPassword)
		}
	}
	checkBroker(s, "after create")
	check("after upgrade")
	must(t, s.Close())

	// 3. A rotation re-seals headers and the pepper: afterwards the new key
	// alone opens everything and every API key still works.
	newText := seal.NewKey()
	both, err := seal.ParseKeyring(newText, keyText)
	must(t, err)
	s = open(both)
	if _, err := s.RotateEncryption(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	onlyNew, err := seal.ParseKeyring(newText)
	must(t, err)
	s = open(onlyNew)
	must(t, s.CheckEncryption(ctx))
	if got, err := s.EndpointGet(ctx, tenant, e.ID); err != nil || got.Headers["X-Receiver-Token"] != changed {
		t.Fatalf("headers after rotation: %v, %v", got, err)
	}
	for digest, id := range map[string]string{oldDigest: "key_old", hirehook.HashAPIKey(newKey): "key_new"} {
		if got, err := s.APIKeyByHash(ctx, digest); err != nil || got.ID != id {
			t.Fatalf("key %s after rotation: %v, %v", id, got, err)
		}
	}
	if strings.Contains(stored(), "hhenc:v1:"+ring.Primary().ID()) {
		t.Fatal("after rotation a header is still sealed with the retired key")
	}
	if strings.HasPrefix(brokerStored(), "hhenc:v1:"+ring.Primary().ID()) {
		t.Fatal("after rotation a broker destination is still sealed with the retired key")
	}
	checkBroker(s, "after rotation")
	check("after rotation")
	must(t, s.Close())
}
