package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/internal/fulldisk"
)

// TestIngestTimeoutConfig: --ingest-timeout and HIREHOOK_INGEST_TIMEOUT set
// the ingest deadline, 5 s by default, and a value out of range names the
// flag.
func TestIngestTimeoutConfig(t *testing.T) {
	t.Parallel()
	if cfg := DefaultConfig(); cfg.IngestTimeout != 5*time.Second {
		t.Errorf("default ingest timeout = %v, want 5s", cfg.IngestTimeout)
	}
	cfg := DefaultConfig()
	env := map[string]string{"HIREHOOK_INGEST_TIMEOUT": "2s"}
	if err := loadConfig(&cfg, "t", nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatal(err)
	}
	if cfg.IngestTimeout != 2*time.Second {
		t.Errorf("HIREHOOK_INGEST_TIMEOUT=2s gives %v", cfg.IngestTimeout)
	}
	for _, v := range []string{"10ms", "1m"} {
		cfg := DefaultConfig()
		err := loadConfig(&cfg, "t", []string{"--ingest-timeout", v}, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--ingest-timeout") {
			t.Errorf("--ingest-timeout %s: %v, want an error naming the flag", v, err)
		}
	}
}

// TestServeOnFullDisk starts a hub on a SQLite file whose disk is full (a
// small tmpfs; skipped where it cannot be mounted): serve fails at once
// and says the disk is full, rather than starting and failing every write.
func TestServeOnFullDisk(t *testing.T) {
	dir := fulldisk.Tmpfs(t, "4m")
	db := filepath.Join(dir, "hirehook.db")
	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + db })
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	fulldisk.Fill(t, dir)

	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + db, "--admin-key", testKey},
		func(string) string { return "" }, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "disk is full") {
		t.Fatalf("serve on a full disk: exit %d, stderr:\n%s", code, stderr.String())
	}
}
