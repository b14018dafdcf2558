package hirehook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
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
)

// NewSecret returns a new signing secret: "whsec_" and the standard base64
// of 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
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
	keys [][]byte
}

// NewSigner returns a Signer for the given whsec_ secrets, newest first.
func NewSigner(secrets ...string) (*Signer, error) {
	s := &Signer{keys: make([][]byte, 0, len(secrets))}
	for _, sec := range secrets {
		k, err := decodeSecret(sec)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	if len(s.keys) == 0 {
		return nil, ErrEmptySecret
	}
	return s, nil
}

// Sign returns the webhook-signature header value for a message: one
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per secret, separated by
// spaces.
func (s *Signer) Sign(id string, timestamp int64, body []byte) string {
	ts := strconv.FormatInt(timestamp, 10)
	var sb strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(sign(k, id, ts, body)))
	}
	return sb.String()
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
// and at least one v1 signature in the header matches (compared in constant
// time). Signatures of other versions are ignored.
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
	for _, sec := range secrets {
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
