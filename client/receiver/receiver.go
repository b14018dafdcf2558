// Package receiver is the receiving side of hirehook's webhooks, for Go
// services that subscribe to a hub: Verify checks a request's Standard
// Webhooks signature, and Handler wraps a callback in an http.Handler that
// verifies, deduplicates by webhook-id and hands over a typed Event.
//
//	http.Handle("POST /hooks/hirehook", receiver.Handler(
//		[]string{os.Getenv("HIREHOOK_SECRET")}, receiver.NewMemoryDedup(0),
//		func(ctx context.Context, e receiver.Event) error {
//			if e.Type != entity.EventPlacementConfirmed {
//				return nil
//			}
//			p, err := e.Placement()
//			if err != nil {
//				return err
//			}
//			return onboard(ctx, p) // an error answers 500: the hub sends it again
//		}))
//
// A consumer of a broker endpoint (Kafka, RabbitMQ, NATS, Pub/Sub) verifies
// each message with Verifier.VerifyMessage; HeadersFromPairs,
// HeadersFromTable and HeadersFromMultimap take each broker client's header
// type without this package importing any broker library:
//
//	err := v.VerifyMessage(receiver.HeadersFromPairs(rec.Headers), rec.Value) // franz-go
//
// Signatures: v1 (HMAC-SHA256 with a whsec_ secret, what hirehook sends)
// and v1a (ed25519, verified with a whpk_ public key), several per header
// (during a secret rotation the hub sends two), a 5-minute tolerance on
// webhook-timestamp in both directions.
package receiver

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// PublicKeyPrefix starts a v1a (ed25519) public key: "whpk_" and the
// standard base64 of the 32-byte key.
const PublicKeyPrefix = "whpk_"

// signingKeyPrefix starts a v1a private key, which a receiver must not hold.
const signingKeyPrefix = "whsk_"

// DefaultMaxBodyBytes is the largest webhook body Verify reads unless the
// Verifier says otherwise: 5 MiB, above the hub's largest event.
const DefaultMaxBodyBytes = 5 << 20

// Errors of Verify besides those of hirehook.Verify (ErrMissingHeaders,
// ErrInvalidTimestamp, ErrTimestampTooOld, ErrTimestampTooNew,
// ErrNoMatchingSignature, ErrEmptySecret, ErrInvalidSecret), which it
// returns as they are, so errors.Is works with either package's errors.
var (
	ErrBodyTooLarge     = errors.New("webhook body is larger than the limit")
	ErrInvalidPublicKey = errors.New("webhook public key is not whpk_ followed by the base64 of 32 bytes")
	ErrSigningKey       = errors.New("a whsk_ signing key cannot verify: give the whpk_ public key")
)

// Verifier verifies webhooks. The zero value of each field but Secrets is a
// sensible default.
type Verifier struct {
	// Secrets are the endpoint's whsec_ secrets (v1) and/or whpk_ public
	// keys (v1a). A webhook verifies if any signature in its header matches
	// any of them; list two during a rotation.
	Secrets []string
	// NowFunc is the clock the timestamp is checked against. Default
	// time.Now.
	NowFunc func() time.Time
	// MaxBodyBytes is the largest body read. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Verify reads r's body, checks its signature with the secrets and returns
// the body. It puts the body back, so r can be read again. It fails with
// hirehook.ErrMissingHeaders, ErrInvalidTimestamp, ErrTimestampTooOld or
// ErrTimestampTooNew (more than 5 minutes from now), ErrNoMatchingSignature,
// ErrBodyTooLarge, or an error about the secrets themselves.
func Verify(r *http.Request, secrets ...string) ([]byte, error) {
	v := Verifier{Secrets: secrets}
	return v.Verify(r)
}

// Verify is the package's Verify with the Verifier's settings.
func (v *Verifier) Verify(r *http.Request) ([]byte, error) {
	limit := v.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, err
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if int64(len(body)) > limit {
		return nil, ErrBodyTooLarge
	}
	if err := v.VerifyBody(r.Header, body); err != nil {
		return nil, err
	}
	return body, nil
}

// VerifyBody checks the signature of a body already read, for frameworks
// that hand over headers and body rather than an *http.Request.
func (v *Verifier) VerifyBody(h http.Header, body []byte) error {
	if len(v.Secrets) == 0 {
		return hirehook.ErrEmptySecret
	}
	var secrets []string
	var keys []ed25519.PublicKey
	for _, s := range v.Secrets {
		switch {
		case strings.HasPrefix(s, PublicKeyPrefix):
			k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, PublicKeyPrefix))
			if err != nil || len(k) != ed25519.PublicKeySize {
				return ErrInvalidPublicKey
			}
			keys = append(keys, ed25519.PublicKey(k))
		case strings.HasPrefix(s, signingKeyPrefix):
			return ErrSigningKey
		default:
			secrets = append(secrets, s)
		}
	}
	now := time.Now()
	if v.NowFunc != nil {
		now = v.NowFunc()
	}
	id, ts, sigs, err := checkHeaders(h, now)
	if err != nil {
		return err
	}
	if len(secrets) > 0 {
		// hirehook.Verify checks the headers and timestamp again (the same
		// way) and the v1 signatures in constant time.
		err := hirehook.Verify(h, body, now, secrets...)
		if err == nil || !errors.Is(err, hirehook.ErrNoMatchingSignature) {
			return err
		}
	}
	if len(keys) > 0 {
		msg := make([]byte, 0, len(id)+len(ts)+len(body)+2)
		msg = append(append(append(append(append(msg, id...), '.'), ts...), '.'), body...)
		for _, part := range strings.Fields(sigs) {
			version, sig, ok := strings.Cut(part, ",")
			if !ok || version != "v1a" {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(sig)
			if err != nil || len(raw) != ed25519.SignatureSize {
				continue
			}
			for _, k := range keys {
				if ed25519.Verify(k, msg, raw) {
					return nil
				}
			}
		}
	}
	return hirehook.ErrNoMatchingSignature
}

// checkHeaders checks the three headers and the timestamp's tolerance, as
// hirehook.Verify does, and returns them.
func checkHeaders(h http.Header, now time.Time) (id, ts, sigs string, err error) {
	id, ts, sigs = h.Get(hirehook.HeaderWebhookID), h.Get(hirehook.HeaderWebhookTimestamp), h.Get(hirehook.HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return "", "", "", hirehook.ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", "", "", hirehook.ErrInvalidTimestamp
	}
	t := time.Unix(sec, 0)
	if now.Sub(t) > hirehook.VerifyTolerance {
		return "", "", "", hirehook.ErrTimestampTooOld
	}
	if t.Sub(now) > hirehook.VerifyTolerance {
		return "", "", "", hirehook.ErrTimestampTooNew
	}
	return id, ts, sigs, nil
}
