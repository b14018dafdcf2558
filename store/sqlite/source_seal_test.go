package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
)

// Sources' credentials are sealed at rest like endpoint secrets, and a key
// rotation re-seals them too.
func TestSourceSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	oldRing, oldKeys := newKeyring(t, 1)
	s := openSealed(t, path, oldRing)
	now := time.Now().UTC().Truncate(time.Microsecond)
	secret := "bullhorn-client-secret-" + seal.NewKey()
	src := &hirehook.Source{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("src"), Kind: hirehook.SourceBullhorn, Name: "Acme",
		Config: json.RawMessage(`{"client_id":"acme"}`), Secrets: map[string]string{"client_secret": secret}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.SourceCreate(ctx, src); err != nil {
		t.Fatal(err)
	}
	rotated := "refresh-token-" + seal.NewKey()
	if err := s.SourceReport(ctx, hirehook.SourceReportParams{TenantID: src.TenantID, ID: src.ID, Secrets: map[string]string{"refresh_token": rotated}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if raw := fileBytes(t, path); bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(rotated)) {
		t.Fatal("a source secret is in the database file")
	}

	newKey := seal.NewKey()
	both, err := seal.ParseKeyring(newKey, oldKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openSealed(t, path, both).RotateEncryption(ctx); err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := seal.ParseKeyring(newKey)
	s = openSealed(t, path, onlyNew)
	if err := s.CheckEncryption(ctx); err != nil {
		t.Fatalf("check with the new key: %v", err)
	}
	got, err := s.SourceGet(ctx, src.TenantID, src.ID)
	if err != nil || got.Secrets["client_secret"] != secret || got.Secrets["refresh_token"] != rotated {
		t.Fatalf("source after rotation: %v", err)
	}
	s.Close()
	if err := openSealed(t, path, oldRing).CheckEncryption(ctx); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("check with the retired key: %v", err)
	}
}
