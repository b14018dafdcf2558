package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
	"github.com/hirehook/hirehook/store/storetest"
)

// newKeyring returns a keyring of freshly generated keys, primary first, and
// the keys' text.
func newKeyring(tb testing.TB, n int) (*seal.Keyring, []string) {
	tb.Helper()
	var texts []string
	for range n {
		texts = append(texts, seal.NewKey())
	}
	r, err := seal.ParseKeyring(texts[0], texts[1:]...)
	if err != nil {
		tb.Fatal(err)
	}
	return r, texts
}

func createEndpoint(tb testing.TB, s hirehook.Store) *hirehook.Endpoint {
	tb.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	e := &hirehook.Endpoint{
		TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://ats.example.com/hooks",
		EventTypes: []string{"*"}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.EndpointCreate(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
	return e
}

// storedSecrets returns the secrets column of every endpoint, as a dump of
// the database would show it.
func storedSecrets(tb testing.TB, dsn string) string {
	tb.Helper()
	rows, err := rawDB(tb, dsn).Query(`SELECT secrets FROM endpoints ORDER BY seq`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			tb.Fatal(err)
		}
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(all, "\n")
}

// secretText is what must not be found in the database: the part after
// whsec_.
func secretText(e *hirehook.Endpoint) string {
	return strings.TrimPrefix(e.Secrets[0].Value, "whsec_")
}

// TestConformanceSealed runs the Store contract with encryption on.
func TestConformanceSealed(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(tb testing.TB) hirehook.Store {
		ring, _ := newKeyring(tb, 1)
		return open(tb, postgrestest.NewDatabase(tb), postgres.Options{Keyring: ring})
	})
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Control: without a keyring the secret is in the column, so the
	// search below can find it.
	plainDSN := postgrestest.NewDatabase(t)
	pe := createEndpoint(t, open(t, plainDSN, postgres.Options{}))
	if !strings.Contains(storedSecrets(t, plainDSN), secretText(pe)) {
		t.Fatal("control: the plain secret is not found in the table; the search is broken")
	}

	dsn := postgrestest.NewDatabase(t)
	ring, keys := newKeyring(t, 1)
	s := open(t, dsn, postgres.Options{Keyring: ring})
	e := createEndpoint(t, s)
	// Rotate the endpoint's signing secret too: the update path seals.
	exp := e.Secrets[0].CreatedAt.Add(time.Hour)
	rotated := []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: e.CreatedAt}, {Value: e.Secrets[0].Value, CreatedAt: e.CreatedAt, ExpiresAt: &exp}}
	// An ed25519 endpoint's whsk_ keys live in the same column.
	rotated = append(rotated, hirehook.Secret{Value: hirehook.NewSigningKey(), CreatedAt: e.CreatedAt, ExpiresAt: &exp})
	if _, err := s.EndpointSetSecrets(ctx, e.TenantID, e.ID, rotated); err != nil {
		t.Fatal(err)
	}
	raw := storedSecrets(t, dsn)
	for _, sec := range rotated {
		if strings.Contains(raw, strings.TrimPrefix(strings.TrimPrefix(sec.Value, "whsk_"), "whsec_")) {
			t.Fatal("a signing secret is stored in the clear")
		}
	}
	if strings.Contains(raw, keys[0]) {
		t.Fatal("the encryption key is in the database")
	}
	if !strings.HasPrefix(raw, "hhenc:v1:"+ring.Primary().ID()+":") {
		t.Fatalf("the stored secrets are not sealed with the primary key: %.20s…", raw)
	}
	got, err := s.EndpointGet(ctx, e.TenantID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != len(rotated) || got.Secrets[0].Value != rotated[0].Value || got.Secrets[1].Value != e.Secrets[0].Value {
		t.Fatalf("EndpointGet secrets = %+v", got.Secrets)
	}
	if err := s.CheckEncryption(ctx); err != nil {
		t.Fatalf("CheckEncryption with the right key: %v", err)
	}
}

func TestWrongKeyringRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	ring, keys := newKeyring(t, 1)
	s := open(t, dsn, postgres.Options{Keyring: ring})
	e := createEndpoint(t, s)
	s.Close()

	other, otherKeys := newKeyring(t, 1)
	for name, r := range map[string]*seal.Keyring{"another key": other, "no key": nil} {
		// Opening works (what needs no secret still reads), but the
		// endpoint does not load, and CheckEncryption tells at once.
		s := open(t, dsn, postgres.Options{Keyring: r})
		if _, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: e.TenantID}); err != nil {
			t.Fatalf("%s: deliveries: %v", name, err)
		}
		_, getErr := s.EndpointGet(ctx, e.TenantID, e.ID)
		_, listErr := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: e.TenantID})
		checkErr := s.CheckEncryption(ctx)
		for _, err := range []error{getErr, listErr, checkErr} {
			if !errors.Is(err, seal.ErrUnknownKey) || !strings.Contains(err.Error(), ring.Primary().ID()) {
				t.Fatalf("%s: %v, want ErrUnknownKey naming key %s", name, err, ring.Primary().ID())
			}
			if strings.Contains(err.Error(), keys[0]) || strings.Contains(err.Error(), otherKeys[0]) || strings.Contains(err.Error(), secretText(e)) {
				t.Fatalf("%s: the error shows a key or the secret: %v", name, err)
			}
		}
		if !strings.Contains(getErr.Error(), e.ID) {
			t.Fatalf("%s: the error does not name the endpoint: %v", name, getErr)
		}
		t.Logf("%s: %v", name, checkErr)
	}
}

func TestSealedSecretsBoundToRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	ring, _ := newKeyring(t, 1)
	s := open(t, dsn, postgres.Options{Keyring: ring})
	a, b := createEndpoint(t, s), createEndpoint(t, s)

	// Someone with write access to the database copies a's sealed secrets
	// into b's row, hoping b then signs with a's secret.
	if _, err := rawDB(t, dsn).ExecContext(ctx, `UPDATE endpoints SET secrets = (SELECT secrets FROM endpoints WHERE id = $1) WHERE id = $2`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.EndpointGet(ctx, b.TenantID, b.ID)
	if !errors.Is(err, seal.ErrTampered) || !strings.Contains(err.Error(), b.ID) {
		t.Fatalf("EndpointGet of the altered row = %v, want ErrTampered naming %s", err, b.ID)
	}
	if _, err := s.EndpointGet(ctx, a.TenantID, a.ID); err != nil {
		t.Fatalf("the untouched row: %v", err)
	}
}

func TestRotateEncryption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)

	// One endpoint from before encryption (plain JSON), two sealed with the
	// old key.
	s := open(t, dsn, postgres.Options{})
	legacy := createEndpoint(t, s)
	s.Close()
	oldRing, oldKeys := newKeyring(t, 1)
	s = open(t, dsn, postgres.Options{Keyring: oldRing})
	eps := []*hirehook.Endpoint{legacy, createEndpoint(t, s), createEndpoint(t, s)}
	if _, err := s.EndpointGet(ctx, legacy.TenantID, legacy.ID); err != nil {
		t.Fatalf("a plain row under a keyring: %v", err)
	}
	s.Close()

	newKey := seal.NewKey()
	both, err := seal.ParseKeyring(newKey, oldKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	s = open(t, dsn, postgres.Options{Keyring: both})
	n, err := s.RotateEncryption(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RotateEncryption = %d, %v; want 3", n, err)
	}
	s.Close()

	onlyNew, _ := seal.ParseKeyring(newKey)
	s = open(t, dsn, postgres.Options{Keyring: onlyNew})
	for _, e := range eps {
		got, err := s.EndpointGet(ctx, e.TenantID, e.ID)
		if err != nil || got.Secrets[0].Value != e.Secrets[0].Value {
			t.Fatalf("endpoint %s after rotation: %v, %v", e.ID, got, err)
		}
	}
	if raw := storedSecrets(t, dsn); strings.Contains(raw, secretText(legacy)) || strings.Contains(raw, "hhenc:v1:"+oldRing.Primary().ID()) {
		t.Fatal("after rotation a row still holds the plain secret or a value sealed with the old key")
	}
	// The old key alone no longer opens the secrets.
	if err := open(t, dsn, postgres.Options{Keyring: oldRing}).CheckEncryption(ctx); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("check with the retired key: %v", err)
	}
	// Without a keyring there is nothing to rotate with.
	if _, err := open(t, dsn, postgres.Options{}).RotateEncryption(ctx); err == nil {
		t.Fatal("RotateEncryption without a keyring succeeded")
	}
}
