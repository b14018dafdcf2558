package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/sqlite"
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

func openSealed(tb testing.TB, path string, ring *seal.Keyring) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.OpenWithOptions(context.Background(), path, sqlite.Options{Keyring: ring})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
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

// fileBytes returns the database file and its WAL, as a thief copying the
// directory would get them.
func fileBytes(tb testing.TB, path string) []byte {
	tb.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// secretText is what must not be found in the file: the part after whsec_,
// long enough that a chance match is impossible.
func secretText(e *hirehook.Endpoint) []byte {
	return []byte(strings.TrimPrefix(e.Secrets[0].Value, "whsec_"))
}

// TestConformanceSealed runs the Store contract with encryption on.
func TestConformanceSealed(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(tb testing.TB) hirehook.Store {
		ring, _ := newKeyring(tb, 1)
		return openSealed(tb, filepath.Join(tb.TempDir(), "hirehook.db"), ring)
	})
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	// Control: without a keyring the secret is in the file, so the search
	// below can find it.
	plainPath := filepath.Join(dir, "plain.db")
	plain := openSealed(t, plainPath, nil)
	pe := createEndpoint(t, plain)
	if !bytes.Contains(fileBytes(t, plainPath), secretText(pe)) {
		t.Fatal("control: the plain secret is not found in the file; the search is broken")
	}

	path := filepath.Join(dir, "hirehook.db")
	ring, keys := newKeyring(t, 1)
	s := openSealed(t, path, ring)
	e := createEndpoint(t, s)
	// Rotate the endpoint's signing secret too: the update path seals.
	exp := e.Secrets[0].CreatedAt.Add(time.Hour)
	rotated := []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: e.CreatedAt}, {Value: e.Secrets[0].Value, CreatedAt: e.CreatedAt, ExpiresAt: &exp}}
	// An ed25519 endpoint's whsk_ keys live in the same column.
	rotated = append(rotated, hirehook.Secret{Value: hirehook.NewSigningKey(), CreatedAt: e.CreatedAt, ExpiresAt: &exp})
	if _, err := s.EndpointSetSecrets(ctx, e.TenantID, e.ID, rotated); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		raw := fileBytes(t, path)
		for _, sec := range rotated {
			if bytes.Contains(raw, []byte(strings.TrimPrefix(strings.TrimPrefix(sec.Value, "whsk_"), "whsec_"))) {
				t.Fatalf("%s: a signing secret is in the database file", when)
			}
		}
		if bytes.Contains(raw, []byte(keys[0])) {
			t.Fatalf("%s: the encryption key is in the database file", when)
		}
		if !bytes.Contains(raw, []byte("hhenc:v1:"+ring.Primary().ID()+":")) {
			t.Fatalf("%s: no sealed value in the file", when)
		}
	}
	check("open")

	got, err := s.EndpointGet(ctx, e.TenantID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != len(rotated) || got.Secrets[0].Value != rotated[0].Value || got.Secrets[1].Value != e.Secrets[0].Value {
		t.Fatalf("EndpointGet secrets = %+v", got.Secrets)
	}
	list, err := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: e.TenantID})
	if err != nil || len(list) != 1 || list[0].Secrets[0].Value != rotated[0].Value {
		t.Fatalf("EndpointList = %v, %v", list, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed") // the WAL is checkpointed into the main file
	s = openSealed(t, path, ring)
	if got, err := s.EndpointGet(ctx, e.TenantID, e.ID); err != nil || got.Secrets[0].Value != rotated[0].Value {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
}

func TestWrongKeyringRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	ctx := context.Background()
	ring, keys := newKeyring(t, 1)
	s := openSealed(t, path, ring)
	e := createEndpoint(t, s)
	if err := s.CheckEncryption(ctx); err != nil {
		t.Fatalf("CheckEncryption with the right key: %v", err)
	}
	s.Close()

	other, otherKeys := newKeyring(t, 1)
	for name, r := range map[string]*seal.Keyring{"another key": other, "no key": nil} {
		// Opening works (what needs no secret still reads), but the
		// endpoint does not load, and CheckEncryption tells at once.
		s := openSealed(t, path, r)
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
			if strings.Contains(err.Error(), keys[0]) || strings.Contains(err.Error(), otherKeys[0]) || strings.Contains(err.Error(), string(secretText(e))) {
				t.Fatalf("%s: the error shows a key or the secret: %v", name, err)
			}
		}
		if !strings.Contains(getErr.Error(), e.ID) {
			t.Fatalf("%s: the error does not name the endpoint: %v", name, getErr)
		}
		t.Logf("%s: %v", name, getErr)
		t.Logf("%s: %v", name, checkErr)
	}
}

func TestSealedSecretsBoundToRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	ring, _ := newKeyring(t, 1)
	s := openSealed(t, path, ring)
	a, b := createEndpoint(t, s), createEndpoint(t, s)

	// Someone with write access to the file copies a's sealed secrets into
	// b's row, hoping b then signs with a's secret.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE endpoints SET secrets = (SELECT secrets FROM endpoints WHERE id = ?) WHERE id = ?`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.EndpointGet(ctx, b.TenantID, b.ID)
	if !errors.Is(err, seal.ErrTampered) || !strings.Contains(err.Error(), b.ID) {
		t.Fatalf("EndpointGet of the altered row = %v, want ErrTampered naming %s", err, b.ID)
	}
	if strings.Contains(err.Error(), string(secretText(a))) {
		t.Fatalf("the error shows the secret: %v", err)
	}
	if _, err := s.EndpointGet(ctx, a.TenantID, a.ID); err != nil {
		t.Fatalf("the untouched row: %v", err)
	}
}

func TestRotateEncryption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")

	// One endpoint from before encryption (plain JSON), two sealed with the
	// old key.
	s := openSealed(t, path, nil)
	legacy := createEndpoint(t, s)
	s.Close()
	oldRing, oldKeys := newKeyring(t, 1)
	s = openSealed(t, path, oldRing)
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
	s = openSealed(t, path, both)
	n, err := s.RotateEncryption(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RotateEncryption = %d, %v; want 3", n, err)
	}
	s.Close()

	onlyNew, _ := seal.ParseKeyring(newKey)
	s = openSealed(t, path, onlyNew)
	for _, e := range eps {
		got, err := s.EndpointGet(ctx, e.TenantID, e.ID)
		if err != nil || got.Secrets[0].Value != e.Secrets[0].Value {
			t.Fatalf("endpoint %s after rotation: %v, %v", e.ID, got, err)
		}
	}
	s.Close()
	if raw := fileBytes(t, path); bytes.Contains(raw, secretText(legacy)) || bytes.Contains(raw, []byte("hhenc:v1:"+oldRing.Primary().ID())) {
		t.Fatal("after rotation the file still holds the plain secret or a value sealed with the old key")
	}

	// The old key alone no longer opens the secrets.
	if err := openSealed(t, path, oldRing).CheckEncryption(ctx); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("check with the retired key: %v", err)
	}
	// Without a keyring there is nothing to rotate with.
	plain := openSealed(t, filepath.Join(t.TempDir(), "x.db"), nil)
	if _, err := plain.RotateEncryption(ctx); err == nil {
		t.Fatal("RotateEncryption without a keyring succeeded")
	}
}
