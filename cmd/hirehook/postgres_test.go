package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// startPostgresHub runs a hub on :0 on the PostgreSQL database dsn (see
// postgrestest: skipped without a server unless HIREHOOK_REQUIRE_POSTGRES=1).
func startPostgresHub(tb testing.TB, dsn, key string) *Hub {
	tb.Helper()
	return startHub(tb, func(c *Config) { c.DB = dsn; c.EncryptionKey = key })
}

func TestPostgresEndToEnd(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	hub := startPostgresHub(t, dsn, seal.NewKey())
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), rc.URL+"/onboarding", "placement.*")

	acc := sendEvent(t, hub.URL(), placement("pl_pg_1"))
	if acc.Deliveries != 1 || acc.Duplicate {
		t.Fatalf("accepted = %+v, want 1 delivery", acc)
	}
	waitFor(t, 10*time.Second, "the webhook", func() bool { return len(rc.got()) == 1 })
	req := rc.got()[0]
	if err := hirehook.Verify(req.header, req.body, time.Now(), ep.Secret); err != nil {
		t.Fatalf("receiver-side verify: %v", err)
	}
	if got := req.header.Get("webhook-id"); got != acc.ID {
		t.Fatalf("webhook-id = %q, want %q", got, acc.ID)
	}
	var d deliveryView
	waitFor(t, 10*time.Second, "the delivery to be recorded", func() bool {
		d = deliveryOf(t, hub.URL(), acc.ID)
		return d.State == hirehook.DeliveryDelivered
	})
	if d.Attempts != 1 || len(d.AttemptList) != 1 || d.AttemptList[0].StatusCode != 200 || d.AttemptList[0].Response != "answer 1" {
		t.Fatalf("delivery = %+v", d)
	}
	// The record was built in PostgreSQL (jsonb_merge_patch).
	var rec struct {
		Version int            `json:"version"`
		Data    map[string]any `json:"data"`
	}
	if st := call(t, hub.URL(), "GET", "/v1/records/placement/pl_pg_1", nil, &rec); st != 200 || rec.Version != 1 || rec.Data["status"] != "confirmed" {
		t.Fatalf("record: status %d, %+v", st, rec)
	}
	// A repeat is answered as the first time.
	ev := placement("pl_pg_1")
	ev["id"] = acc.ID
	if again := sendEvent(t, hub.URL(), ev); !again.Duplicate || again.ID != acc.ID {
		t.Fatalf("repeat = %+v", again)
	}
}

// TestPostgresTwoHubs runs two hubs on one database, as two nodes behind a
// load balancer: what one stores the other serves, and each event reaches
// the receiver once, whichever hub took it in.
func TestPostgresTwoHubs(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()
	a := startPostgresHub(t, dsn, key)
	b := startPostgresHub(t, dsn, key)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, a.URL(), rc.URL, "placement.*")
	if got := secretOf(t, b.URL(), ep.ID); got != ep.Secret {
		t.Fatal("hub b does not read the endpoint's secret that hub a stored")
	}

	var ids []string
	for i, hub := range []*Hub{a, b, a, b} {
		acc := sendEvent(t, hub.URL(), placement("pl_two_"+string(rune('a'+i))))
		ids = append(ids, acc.ID)
	}
	for _, id := range ids {
		waitFor(t, 10*time.Second, "delivery of "+id, func() bool {
			return deliveryOf(t, b.URL(), id).State == hirehook.DeliveryDelivered
		})
	}
	got := map[string]int{}
	for _, r := range rc.got() {
		got[r.header.Get("webhook-id")]++
	}
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("event %s reached the receiver %d times, want once (all: %v)", id, got[id], got)
		}
	}
}

func TestPostgresConfig(t *testing.T) {
	t.Parallel()
	const dsn = "postgres://hirehook:s3cret-pw@db.example.com:5432/hirehook?sslmode=require"
	// No key: the error names --encryption-key and says why.
	cfg := DefaultConfig()
	err := loadConfig(&cfg, "t", []string{"--db", dsn}, noEnv, io.Discard)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "encryption-key" || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("postgres without a key: %v", err)
	}
	// From the environment, postgresql:// too.
	key := seal.NewKey()
	env := map[string]string{"HIREHOOK_DB": strings.Replace(dsn, "postgres://", "postgresql://", 1), "HIREHOOK_ENCRYPTION_KEY": key}
	cfg = DefaultConfig()
	if err := loadConfig(&cfg, "t", nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatal(err)
	}
	if cfg.PostgresURL() == "" {
		t.Fatalf("PostgresURL of %q is empty", cfg.DB)
	}
	if _, err := cfg.SQLitePath(); err == nil {
		t.Fatal("SQLitePath of a postgres URL succeeded")
	}
	// `hirehook config` shows neither the password nor the key.
	var out bytes.Buffer
	if code := run(context.Background(), []string{"config", "--db", dsn, "--encryption-key", key}, noEnv, &out, io.Discard); code != 0 {
		t.Fatalf("config exited %d", code)
	}
	if strings.Contains(out.String(), "s3cret-pw") || strings.Contains(out.String(), key) || !strings.Contains(out.String(), "db.example.com:5432/hirehook") {
		t.Fatalf("config output:\n%s", out.String())
	}
	// Other schemes are still refused.
	cfg = DefaultConfig()
	if err := loadConfig(&cfg, "t", []string{"--db", "mysql://x"}, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("mysql: %v", err)
	}
}

func TestPostgresRotateEncryptionKey(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	oldKey, newKey := seal.NewKey(), seal.NewKey()
	hub := startPostgresHub(t, dsn, oldKey)
	ep := createEndpoint(t, hub.URL(), "https://onboarding.example.com/hooks", "*")
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", dsn, "--encryption-key", newKey, "--previous-encryption-keys", oldKey},
		noEnv, &out, &errOut); code != 0 {
		t.Fatalf("rotate-encryption-key exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "secrets of 1 endpoint(s) with key "+keyID(t, newKey)) {
		t.Fatalf("rotate output:\n%s", out.String())
	}
	// The old key alone no longer opens the database.
	cfg := DefaultConfig()
	cfg.Addr, cfg.DB, cfg.AdminKey, cfg.EncryptionKey = "127.0.0.1:0", dsn, testKey, oldKey
	err := NewHub(cfg, slog.New(slog.DiscardHandler)).Open(context.Background())
	if !errors.Is(err, seal.ErrUnknownKey) || !strings.Contains(err.Error(), keyID(t, newKey)) || strings.Contains(err.Error(), oldKey) {
		t.Fatalf("hub with the retired key: %v", err)
	}
	hub2 := startPostgresHub(t, dsn, newKey)
	if got := secretOf(t, hub2.URL(), ep.ID); got != ep.Secret {
		t.Fatalf("secret after rotation = %q, want the original", got)
	}
}
