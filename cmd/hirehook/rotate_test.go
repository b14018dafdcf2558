package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
)

// dbBytes returns the database file and its WAL.
func dbBytes(tb testing.TB, path string) []byte {
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

func secretOf(tb testing.TB, base, id string) string {
	tb.Helper()
	var sv struct{ Secret string }
	if st := call(tb, base, "GET", "/v1/endpoints/"+id+"/secret", nil, &sv); st != 200 {
		tb.Fatalf("GET secret: status %d", st)
	}
	return sv.Secret
}

func noEnv(string) string { return "" }

func TestRotateEncryptionKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "hirehook.db")
	keyFile := db + ".key"
	rc := newReceiver(t, nil)

	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + db })
	ep := createEndpoint(t, hub.URL(), rc.URL, "*")
	// A key the hub made (the operator key would be made again at start):
	// its hash is keyed with the pepper, which the rotation re-seals.
	var viewer struct {
		Key string `json:"key"`
	}
	if st := call(t, hub.URL(), "POST", "/v1/api-keys", map[string]any{"name": "v", "scope": "viewer"}, &viewer); st != 201 {
		t.Fatalf("create viewer key: %d", st)
	}
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file after the first start: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	firstKey, _ := os.ReadFile(keyFile)
	if _, err := seal.ParseKey(string(firstKey)); err != nil {
		t.Fatalf("key file: %v", err)
	}
	secret := strings.TrimPrefix(ep.Secret, "whsec_")
	if bytes.Contains(dbBytes(t, db), []byte(secret)) {
		t.Fatal("the endpoint secret is in the database file")
	}

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", "sqlite:" + db}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("rotate-encryption-key exited %d: %s", code, errOut.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "secrets of 1 endpoint(s)") || !strings.Contains(out.String(), keyFile) {
		t.Fatalf("rotate output:\n%s", out.String())
	}
	newKey, _ := os.ReadFile(keyFile)
	if bytes.Equal(newKey, firstKey) || bytes.Count(newKey, []byte("\n")) != 1 {
		t.Fatalf("the key file was not replaced by one new key")
	}
	if st, _ := os.Stat(keyFile); st.Mode().Perm() != 0o600 {
		t.Fatalf("rotated key file mode %v, want 0600", st.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(keyFile + ".tmp-*"); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	for _, k := range [][]byte{firstKey, newKey} {
		if bytes.Contains(out.Bytes(), bytes.TrimSpace(k)) || bytes.Contains(errOut.Bytes(), bytes.TrimSpace(k)) {
			t.Fatal("rotate printed a key")
		}
	}
	if bytes.Contains(dbBytes(t, db), []byte(secret)) {
		t.Fatal("the endpoint secret is in the database file after rotation")
	}

	// A new hub loads the new key file and signs with the same secret.
	hub2 := startHub(t, func(c *Config) { c.DB = "sqlite:" + db })
	if got := secretOf(t, hub2.URL(), ep.ID); got != ep.Secret {
		t.Fatalf("secret after rotation = %q, want the original", got)
	}
	sendEvent(t, hub2.URL(), placement("pl_1"))
	waitFor(t, 5*time.Second, "the webhook", func() bool { return len(rc.got()) == 1 })
	req := rc.got()[0]
	if err := hirehook.Verify(req.header, req.body, time.Now(), ep.Secret); err != nil {
		t.Fatalf("verify after rotation: %v", err)
	}
	// The custom header was re-sealed too, and API keys still work.
	if got := req.header.Get("X-Agency"); got != "acme" {
		t.Fatalf("X-Agency after rotation = %q, want the endpoint's header", got)
	}
	if st := callAs(t, viewer.Key, hub2.URL(), "GET", "/v1/endpoints", nil, nil); st != 200 {
		t.Fatalf("a viewer key after rotation: %d", st)
	}
}

func TestRotateEncryptionKeyConfigured(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "hirehook.db")
	oldKey, newKey := seal.NewKey(), seal.NewKey()
	oldID, newID := keyID(t, oldKey), keyID(t, newKey)

	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + db; c.EncryptionKey = oldKey })
	ep := createEndpoint(t, hub.URL(), "https://onboarding.example.com/hooks", "*")
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was made although --encryption-key was set: %v", err)
	}

	// From the environment, as an operator would.
	env := map[string]string{"HIREHOOK_ENCRYPTION_KEY": newKey, "HIREHOOK_PREVIOUS_ENCRYPTION_KEYS": oldKey}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", "sqlite:" + db}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
		t.Fatalf("rotate-encryption-key exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "secrets of 1 endpoint(s) with key "+newID) {
		t.Fatalf("rotate output:\n%s", out.String())
	}

	// The old key alone no longer opens the database, and the error says
	// which key is missing without showing either key.
	cfg := DefaultConfig()
	cfg.Addr, cfg.DB, cfg.AdminKey, cfg.EncryptionKey = "127.0.0.1:0", "sqlite:"+db, testKey, oldKey
	err := NewHub(cfg, slog.New(slog.DiscardHandler)).Open(context.Background())
	if !errors.Is(err, seal.ErrUnknownKey) || !strings.Contains(err.Error(), newID) || !strings.Contains(err.Error(), "--previous-encryption-keys") {
		t.Fatalf("hub with the retired key: %v", err)
	}
	if strings.Contains(err.Error(), oldKey) || strings.Contains(err.Error(), newKey) {
		t.Fatalf("the error shows a key: %v", err)
	}
	t.Logf("with the retired key %s: %v", oldID, err)

	hub2 := startHub(t, func(c *Config) { c.DB = "sqlite:" + db; c.EncryptionKey = newKey })
	if got := secretOf(t, hub2.URL(), ep.ID); got != ep.Secret {
		t.Fatalf("secret after rotation = %q, want the original", got)
	}
}

func TestRotateRefusesMissingKeyAndDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "hirehook.db")
	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + db })
	createEndpoint(t, hub.URL(), "https://onboarding.example.com/hooks", "*")
	hub.Close(context.Background())
	before, _ := os.ReadFile(db + ".key")

	// The key file is lost: rotation fails before touching anything.
	lost := db + ".key.lost"
	if err := os.Rename(db+".key", lost); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", "sqlite:" + db}, noEnv, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "restore the key file") {
		t.Fatalf("rotate without the key: exit %d, %s", code, errOut.String())
	}
	if _, err := os.Stat(db + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed rotation wrote a key file")
	}
	// ... and it can come back as a previous key.
	env := map[string]string{"HIREHOOK_PREVIOUS_ENCRYPTION_KEYS_FILE": lost}
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", "sqlite:" + db}, func(k string) string { return env[k] }, io.Discard, &errOut); code != 0 {
		t.Fatalf("rotate with the lost key as previous: exit %d, %s", code, errOut.String())
	}
	if after, _ := os.ReadFile(db + ".key"); len(after) == 0 || bytes.Equal(after, before) {
		t.Fatal("no new key file")
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"rotate-encryption-key", "--db", "sqlite:" + filepath.Join(dir, "typo.db")}, noEnv, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "--db") {
		t.Fatalf("rotate of a missing database: exit %d, %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("rotate created a database")
	}
}

func TestEncryptionKeyConfig(t *testing.T) {
	t.Parallel()
	good := seal.NewKey()
	bad := []struct {
		args  []string
		field string
	}{
		{[]string{"--encryption-key", "c2hvcnQ="}, "--encryption-key"},
		{[]string{"--encryption-key", "not base64 at all"}, "--encryption-key"},
		{[]string{"--encryption-key", good, "--previous-encryption-keys", good + ",c2hvcnQ="}, "--previous-encryption-keys"},
	}
	for _, b := range bad {
		cfg := DefaultConfig()
		err := loadConfig(&cfg, "t", b.args, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), b.field) {
			t.Errorf("Load(%v) = %v, want an error naming %s", b.args, err, b.field)
			continue
		}
		if strings.Contains(err.Error(), "c2hvcnQ") || strings.Contains(err.Error(), "not base64 at all") || strings.Contains(err.Error(), good) {
			t.Errorf("the error shows a key: %v", err)
		}
	}

	// The _FILE twin reads the key; `hirehook config` masks both settings.
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := seal.NewKey()
	env := map[string]string{"HIREHOOK_ENCRYPTION_KEY_FILE": keyFile, "HIREHOOK_PREVIOUS_ENCRYPTION_KEYS": old}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"config"}, func(k string) string { return env[k] }, &out, io.Discard); code != 0 {
		t.Fatalf("config exited %d", code)
	}
	if strings.Contains(out.String(), good) || strings.Contains(out.String(), old) {
		t.Fatalf("config shows a key:\n%s", out.String())
	}
	for _, name := range []string{"--encryption-key", "--previous-encryption-keys"} {
		if !strings.Contains(out.String(), name) {
			t.Fatalf("config lacks %s:\n%s", name, out.String())
		}
	}
	cfg := DefaultConfig()
	if err := loadConfig(&cfg, "t", nil, func(k string) string { return env[k] }, io.Discard); err != nil || cfg.EncryptionKey != good || len(cfg.PreviousEncryptionKeys) != 1 {
		t.Fatalf("load from env: %v", err)
	}
}

func keyID(tb testing.TB, key string) string {
	tb.Helper()
	k, err := seal.ParseKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return k.ID()
}
