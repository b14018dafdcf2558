package hirehook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Standard Webhooks header names (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SecretPrefix starts every endpoint signing secret.
const SecretPrefix = "whsec_"

// SigningKeyPrefix starts an ed25519 (v1a) signing key: "whsk_" and the
// standard base64 of the 64-byte seed followed by the public key (the Svix
// layout). It never leaves the hub.
const SigningKeyPrefix = "whsk_"

// PublicKeyPrefix starts an ed25519 (v1a) public key: "whpk_" and the
// standard base64 of the 32-byte key. Receivers verify with it.
const PublicKeyPrefix = "whpk_"

// Signing schemes of an endpoint.
const (
	SigningHMAC    = "hmac"    // v1, whsec_ secrets
	SigningEd25519 = "ed25519" // v1a, whsk_ keys; receivers hold whpk_
)

// VerifyTolerance is how far a webhook's timestamp may be from the
// receiver's clock, in either direction, as in the reference libraries.
const VerifyTolerance = 5 * time.Minute

// Errors of Verify. They carry no secret or signature material.
var (
	ErrEmptySecret         = errors.New("webhook secret is empty")
	ErrInvalidSecret       = errors.New("webhook secret is not whsec_ followed by base64")
	ErrMissingHeaders      = errors.New("webhook-id, webhook-timestamp and webhook-signature are required")
	ErrInvalidTimestamp    = errors.New("webhook-timestamp is not unix seconds")
	ErrTimestampTooOld     = errors.New("webhook-timestamp is too old")
	ErrTimestampTooNew     = errors.New("webhook-timestamp is too far in the future")
	ErrNoMatchingSignature = errors.New("no webhook-signature matches")
	ErrInvalidSigningKey   = errors.New("webhook signing key is not whsk_ followed by the base64 of a 64-byte ed25519 key")
	ErrInvalidPublicKey    = errors.New("webhook public key is not whpk_ followed by the base64 of 32 bytes")
	ErrSigningKeyVerify    = errors.New("a whsk_ signing key cannot verify: give the whpk_ public key")
)

// NewSecret returns a new signing secret: "whsec_" and the standard base64
// of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// NewSigningKey returns a new ed25519 signing key, "whsk_" and the standard
// base64 of the 64-byte seed‖public key. PublicKey gives its whpk_ form.
func NewSigningKey() string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(priv)
}

// decodeSigningKey decodes a whsk_ key and checks that its public half
// matches its seed.
func decodeSigningKey(key string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(key, SigningKeyPrefix))
	if err != nil || len(b) != ed25519.PrivateKeySize {
		return nil, ErrInvalidSigningKey
	}
	priv := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
	if !hmac.Equal(priv[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
		return nil, ErrInvalidSigningKey
	}
	return priv, nil
}

// PublicKey returns the whpk_ public key of a whsk_ signing key.
func PublicKey(signingKey string) (string, error) {
	if !strings.HasPrefix(signingKey, SigningKeyPrefix) {
		return "", ErrInvalidSigningKey
	}
	priv, err := decodeSigningKey(signingKey)
	if err != nil {
		return "", err
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

// SigningOf returns the scheme of a secret: SigningEd25519 for a whsk_ key,
// SigningHMAC otherwise.
func SigningOf(secret string) string {
	if strings.HasPrefix(secret, SigningKeyPrefix) {
		return SigningEd25519
	}
	return SigningHMAC
}

// decodeSecret strips the whsec_ prefix and decodes the key bytes.
func decodeSecret(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, SecretPrefix)
	if s == "" {
		return nil, ErrEmptySecret
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, ErrInvalidSecret
	}
	return key, nil
}

// Signer signs webhook bodies with one or more secrets. Decoding the secrets
// once keeps base64 off the per-attempt path.
type Signer struct {
	keys []signerKey
}

// signerKey is an HMAC key (v1) or an ed25519 private key (v1a).
type signerKey struct {
	hmac []byte
	ed   ed25519.PrivateKey
	// macs holds HMAC-SHA256 states keyed with hmac, reset between
	// uses: hmac.New on every attempt allocated and hashed the key's
	// pads again.
	macs *sync.Pool
}

// mac signs id.ts.body with the key's HMAC, as sign does.
func (k signerKey) mac(id, ts string, body []byte) []byte {
	m := k.macs.Get().(hash.Hash)
	defer k.macs.Put(m)
	m.Reset()
	prefix := make([]byte, 0, len(id)+len(ts)+2)
	m.Write(append(append(append(append(prefix, id...), '.'), ts...), '.'))
	m.Write(body)
	return m.Sum(nil)
}

// NewSigner returns a Signer for the given secrets, newest first: whsec_
// secrets sign v1 (HMAC-SHA256), whsk_ keys sign v1a (ed25519).
func NewSigner(secrets ...string) (*Signer, error) {
	s := &Signer{keys: make([]signerKey, 0, len(secrets))}
	for _, sec := range secrets {
		if strings.HasPrefix(sec, SigningKeyPrefix) {
			priv, err := decodeSigningKey(sec)
			if err != nil {
				return nil, err
			}
			s.keys = append(s.keys, signerKey{ed: priv})
			continue
		}
		k, err := decodeSecret(sec)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, signerKey{hmac: k, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}})
	}
	if len(s.keys) == 0 {
		return nil, ErrEmptySecret
	}
	return s, nil
}

// Sign returns the webhook-signature header value for a message, one
// signature per secret separated by spaces: "v1,<base64 HMAC-SHA256(key,
// id.timestamp.body)>" for a whsec_ secret, "v1a,<base64 ed25519 signature
// of id.timestamp.body>" for a whsk_ key.
func (s *Signer) Sign(id string, timestamp int64, body []byte) string {
	ts := strconv.FormatInt(timestamp, 10)
	var sb strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if k.ed != nil {
			sb.WriteString("v1a,")
			sb.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(k.ed, signedContent(id, ts, body))))
			continue
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(k.mac(id, ts, body)))
	}
	return sb.String()
}

// signedContent is id.timestamp.body, what v1a signs.
func signedContent(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	return append(append(append(append(append(msg, id...), '.'), ts...), '.'), body...)
}

func sign(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign is a one-shot form of Signer.Sign.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	s, err := NewSigner(secret)
	if err != nil {
		return "", err
	}
	return s.Sign(id, timestamp, body), nil
}

// Verify checks a received webhook against any of the given secrets: the
// three headers are present, the timestamp is within VerifyTolerance of now,
// and at least one signature in the header matches: a v1 signature for a
// whsec_ secret (compared in constant time), a v1a signature for a whpk_
// public key. Signatures of other versions are ignored. A whsk_ signing key
// is refused (ErrSigningKeyVerify): receivers hold the public key.
func Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	id := h.Get(HeaderWebhookID)
	tsText := h.Get(HeaderWebhookTimestamp)
	sigs := h.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	t := time.Unix(ts, 0)
	if now.Sub(t) > VerifyTolerance {
		return ErrTimestampTooOld
	}
	if t.Sub(now) > VerifyTolerance {
		return ErrTimestampTooNew
	}
	if len(secrets) == 0 {
		return ErrEmptySecret
	}
	var msg []byte
	for _, sec := range secrets {
		switch {
		case strings.HasPrefix(sec, SigningKeyPrefix):
			return ErrSigningKeyVerify
		case strings.HasPrefix(sec, PublicKeyPrefix):
			pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sec, PublicKeyPrefix))
			if err != nil || len(pub) != ed25519.PublicKeySize {
				return ErrInvalidPublicKey
			}
			if msg == nil {
				msg = signedContent(id, tsText, body)
			}
			for _, part := range strings.Fields(sigs) {
				version, sig, ok := strings.Cut(part, ",")
				if !ok || version != "v1a" {
					continue
				}
				got, err := base64.StdEncoding.DecodeString(sig)
				if err != nil || len(got) != ed25519.SignatureSize {
					continue
				}
				if ed25519.Verify(ed25519.PublicKey(pub), msg, got) {
					return nil
				}
			}
			continue
		}
		key, err := decodeSecret(sec)
		if err != nil {
			return err
		}
		want := sign(key, id, tsText, body)
		for _, part := range strings.Fields(sigs) {
			version, sig, ok := strings.Cut(part, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err != nil {
				continue
			}
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}
