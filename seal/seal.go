package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Prefix begins every sealed value.
const Prefix = "hhenc:"

// version is the format of the values Seal writes.
const version = "v1"

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// idLen is the length of a key id in hex digits.
const idLen = 8

var (
	// ErrUnknownKey means a value was sealed with a key the keyring lacks.
	ErrUnknownKey = errors.New("encryption key not in the keyring")
	// ErrTampered means authentication failed: the value was altered, or it
	// was sealed for other additional data (moved from another row).
	ErrTampered = errors.New("authentication failed: the value was altered or belongs elsewhere")
	// ErrMalformed means a value starts with Prefix but is not a sealed value
	// this package can read.
	ErrMalformed = errors.New("malformed sealed value")
)

// Key is one AES-256-GCM key. Its String and GoString methods show only its
// id, so printing a Key (or a Keyring) never reveals it.
type Key struct {
	id   string
	fp   [sha256.Size]byte // full fingerprint, to tell equal keys from id collisions
	aead cipher.AEAD
}

// NewKey returns a new random key, as standard base64 of 32 bytes: the form
// ParseKey reads.
func NewKey() string {
	var b [KeySize]byte
	_, _ = rand.Read(b[:]) // never fails; crashes the program if the OS cannot give randomness
	return base64.StdEncoding.EncodeToString(b[:])
}

// ParseKey reads a key given as standard base64 of exactly 32 bytes (as
// NewKey or `openssl rand -base64 32` make). Surrounding white space is
// ignored. Errors never quote the input.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("encryption key is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("encryption key is not standard base64 (generate one with: openssl rand -base64 32)")
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("encryption key decodes to %d bytes, want %d (generate one with: openssl rand -base64 32)", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	fp := sha256.Sum256(append([]byte("hirehook seal key id\x00"), raw...))
	clear(raw)
	return &Key{id: hex.EncodeToString(fp[:])[:idLen], fp: fp, aead: aead}, nil
}

// ID returns the key's id, safe to log and show.
func (k *Key) ID() string { return k.id }

// String returns the key's id only.
func (k *Key) String() string { return "seal key " + k.id }

// GoString returns the key's id only, so that %#v does not print the key.
func (k *Key) GoString() string { return k.String() }

// Keyring is a list of keys: the first, the primary, seals; any of them
// opens. It is safe for concurrent use. A nil *Keyring holds no keys: it
// opens only unsealed values and seals nothing.
type Keyring struct {
	keys []*Key
}

// NewKeyring returns a keyring with primary first, then the others (older
// keys still needed to open values during a rotation). A key given twice is
// kept once; two different keys with the same id are refused (generate
// another key).
func NewKeyring(primary *Key, others ...*Key) (*Keyring, error) {
	if primary == nil {
		return nil, errors.New("new keyring: a primary key is required")
	}
	r := &Keyring{}
	for _, k := range append([]*Key{primary}, others...) {
		if k == nil {
			return nil, errors.New("new keyring: nil key")
		}
		dup := false
		for _, have := range r.keys {
			if have.id == k.id {
				if have.fp != k.fp {
					return nil, fmt.Errorf("new keyring: two different keys have the id %s; generate another key", k.id)
				}
				dup = true
			}
		}
		if !dup {
			r.keys = append(r.keys, k)
		}
	}
	return r, nil
}

// ParseKeyring parses keys (see ParseKey), primary first, into a keyring.
// Errors say which key is wrong by position (1-based), never by value.
func ParseKeyring(primary string, others ...string) (*Keyring, error) {
	var keys []*Key
	for i, s := range append([]string{primary}, others...) {
		k, err := ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return NewKeyring(keys[0], keys[1:]...)
}

// Primary returns the key that seals, or nil for a nil Keyring.
func (r *Keyring) Primary() *Key {
	if r == nil {
		return nil
	}
	return r.keys[0]
}

// IDs returns the ids of the keys, primary first.
func (r *Keyring) IDs() []string {
	if r == nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// Has reports whether the keyring holds the key with the given id.
func (r *Keyring) Has(id string) bool {
	return r.key(id) != nil
}

// String lists the key ids only.
func (r *Keyring) String() string {
	return "seal keyring [" + strings.Join(r.IDs(), " ") + "]"
}

// GoString lists the key ids only.
func (r *Keyring) GoString() string { return r.String() }

func (r *Keyring) key(id string) *Key {
	if r == nil {
		return nil
	}
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// header is the start of a value sealed with key id; it is also
// authenticated, ahead of the caller's additional data.
func header(id string) string {
	return Prefix + version + ":" + id + ":"
}

// Seal encrypts plaintext with the primary key, binding it to aad (which is
// not stored: Open needs the same aad).
func (r *Keyring) Seal(plaintext, aad []byte) (string, error) {
	if r == nil {
		return "", errors.New("seal: the keyring has no keys")
	}
	k := r.keys[0]
	h := header(k.id)
	ct := k.aead.Seal(nil, nil, plaintext, append([]byte(h), aad...))
	return h + base64.StdEncoding.EncodeToString(ct), nil
}

// IsSealed reports whether value is a sealed value (starts with Prefix)
// rather than plaintext written before encryption.
func IsSealed(value string) bool {
	return strings.HasPrefix(value, Prefix)
}

// KeyID returns the id of the key that sealed value; it fails with
// ErrMalformed when value is not a sealed value.
func KeyID(value string) (string, error) {
	id, _, err := parse(value)
	return id, err
}

// parse splits a sealed value into its key id and its decoded ciphertext.
// Errors quote nothing from the value but a well-formed key id.
func parse(value string) (id string, ct []byte, err error) {
	rest, ok := strings.CutPrefix(value, Prefix)
	if !ok {
		return "", nil, fmt.Errorf("%w: no %q prefix", ErrMalformed, Prefix)
	}
	ver, rest, ok := strings.Cut(rest, ":")
	if !ok || ver != version {
		return "", nil, fmt.Errorf("%w: unsupported format version (this build reads %s)", ErrMalformed, version)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok || !validID(id) {
		return "", nil, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	ct, err = base64.StdEncoding.DecodeString(data)
	if err != nil {
		return id, nil, fmt.Errorf("%w: sealed with key %s: the ciphertext is not base64", ErrMalformed, id)
	}
	return id, ct, nil
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Open decrypts a value made by Seal with any key of the keyring and the
// same aad. A value that is not sealed (no Prefix: written before
// encryption was turned on) is returned as it is. It fails with
// ErrUnknownKey when the keyring lacks the key, ErrTampered when the value
// was altered or sealed for another aad, and ErrMalformed; every error names
// the key id.
func (r *Keyring) Open(value string, aad []byte) ([]byte, error) {
	if !IsSealed(value) {
		return []byte(value), nil
	}
	id, ct, err := parse(value)
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	k := r.key(id)
	if k == nil {
		held := "no keys"
		if ids := r.IDs(); len(ids) > 0 {
			held = "keys " + strings.Join(ids, ", ")
		}
		return nil, fmt.Errorf("open value sealed with key %s: %w (it holds %s)", id, ErrUnknownKey, held)
	}
	pt, err := k.aead.Open(nil, nil, ct, append([]byte(header(id)), aad...))
	if err != nil {
		return nil, fmt.Errorf("open value sealed with key %s: %w", id, ErrTampered)
	}
	return pt, nil
}

// CheckHeads fails with ErrUnknownKey, naming the missing key ids (never a
// key), when any of the sealed values whose heads are given (at least their
// first 18 characters, "hhenc:v1:<id>:") was sealed with a key the keyring
// lacks; where names the database in the message. Malformed heads are
// skipped: such values fail when they are opened. A nil keyring holds no key.
func (r *Keyring) CheckHeads(where string, heads []string) error {
	var missing []string
	for _, head := range heads {
		id, err := KeyID(head)
		if err != nil || r.Has(id) || slices.Contains(missing, id) {
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return nil
	}
	held := "no encryption key was given"
	if ids := r.IDs(); len(ids) > 0 {
		held = "it holds " + strings.Join(ids, ", ")
	}
	return fmt.Errorf("endpoint secrets in %s are encrypted with key %s: %w (%s)",
		where, strings.Join(missing, ", "), ErrUnknownKey, held)
}
