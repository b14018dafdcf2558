package hub

import (
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hirehook/hirehook/seal"
)

// Endpoint signing secrets are encrypted at rest (package seal). The key
// comes from --encryption-key, or, when that is unset, from a key file next
// to the database, <db path>.key, generated on first start. The key file
// holds one key a line, standard base64, primary first: normally one line;
// two only if a rotation stopped between its steps (see runRotate).

// validateEncryption checks --encryption-key and --previous-encryption-keys
// without ever quoting them.
func (c *Config) validateEncryption() error {
	if c.EncryptionKey != "" {
		if _, err := seal.ParseKey(c.EncryptionKey); err != nil {
			return &ConfigError{Field: "encryption-key", Value: Mask(c.EncryptionKey), Err: err}
		}
	}
	for i, k := range c.PreviousEncryptionKeys {
		if _, err := seal.ParseKey(k); err != nil {
			return &ConfigError{Field: "previous-encryption-keys", Value: Mask(k), Err: fmt.Errorf("key %d: %w", i+1, err)}
		}
	}
	return nil
}

// KeyFilePath is where a hub without --encryption-key keeps its key.
func KeyFilePath(dbPath string) string { return dbPath + ".key" }

// LoadKeyring returns the keyring that opens the store at dbPath: the
// configured key and the previous ones, or else the key file (created with
// a new key if missing) and the previous keys.
func LoadKeyring(cfg Config, dbPath string, logger *slog.Logger) (*seal.Keyring, error) {
	if cfg.EncryptionKey != "" {
		ring, err := seal.ParseKeyring(cfg.EncryptionKey, cfg.PreviousEncryptionKeys...)
		if err != nil {
			return nil, &ConfigError{Field: "encryption-key", Value: Mask(cfg.EncryptionKey), Err: err}
		}
		return ring, nil
	}
	path := KeyFilePath(dbPath)
	keys, err := ReadKeyFile(path, logger)
	if errors.Is(err, fs.ErrNotExist) {
		if keys, err = createKeyFile(path); err == nil {
			logger.Info("generated the encryption key of endpoint secrets; back it up apart from the database", logkey.KeyFile, path)
		}
	}
	if err != nil {
		return nil, err
	}
	ring, err := seal.ParseKeyring(keys[0], append(keys[1:], cfg.PreviousEncryptionKeys...)...)
	if err != nil {
		return nil, fmt.Errorf("encryption key file %s: %w", path, err)
	}
	logger.Info("encrypting endpoint secrets", logkey.KeyFile, path, logkey.KeyID, ring.Primary().ID())
	return ring, nil
}

// ReadKeyFile returns the keys of a key file, primary first. A file that
// others may read is used, with a warning.
func ReadKeyFile(path string, logger *slog.Logger) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read encryption key file: %w", err)
	}
	var keys []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			keys = append(keys, line)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("encryption key file %s is empty", path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 && logger != nil {
		logger.Warn("the encryption key file is readable by other users; chmod 600 it", logkey.KeyFile, path, logkey.Mode, st.Mode().Perm().String())
	}
	return keys, nil
}

// createKeyFile writes a new key file with one new key, unless the file
// exists already (another process made it first), in which case it reads
// that one.
func createKeyFile(path string) ([]string, error) {
	key := seal.NewKey()
	tmp, err := writeTemp(path, []string{key})
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	// A hard link never replaces an existing file, and the file appears
	// whole or not at all.
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return ReadKeyFile(path, nil)
	} else if err != nil {
		// Some file systems have no hard links; fall back to a rename.
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("create encryption key file: %w", err)
		}
	}
	syncDir(filepath.Dir(path))
	return []string{key}, nil
}

// ReplaceKeyFile replaces the key file at path with keys, atomically.
func ReplaceKeyFile(path string, keys []string) error {
	tmp, err := writeTemp(path, keys)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace encryption key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// writeTemp writes keys, one a line, to a new file of mode 0600 beside
// path, synced, and returns its name.
func writeTemp(path string, keys []string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write encryption key file: %w", err)
	}
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(strings.Join(keys, "\n") + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write encryption key file: %w", err)
	}
	return f.Name(), nil
}

// syncDir makes a rename or link in dir durable. Best effort: not every
// platform can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// KeyHint adds what to do to an error about a missing encryption key.
func KeyHint(err error, cfg Config, dbPath string) error {
	if !errors.Is(err, seal.ErrUnknownKey) {
		return err
	}
	if cfg.EncryptionKey != "" {
		return fmt.Errorf("%w; pass the key that encrypted them in --previous-encryption-keys (then run hirehook rotate-encryption-key to retire it)", err)
	}
	return fmt.Errorf("%w; restore the key file %s from a backup, or pass the key with --encryption-key or --previous-encryption-keys", err, KeyFilePath(dbPath))
}
