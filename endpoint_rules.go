package hirehook

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"
)

// HashAPIKey returns the digest of an API key, hex SHA-256, by which the API
// and the dashboard look keys up (Store.APIKeyByHash). Stores do not keep
// the digest itself but a keyed MAC of it (APIKeyMAC), so that an
// operator-chosen key cannot be brute-forced from a copy of the database.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ValidateEndpointURL checks that s can be an endpoint's URL: absolute http
// or https, a host, no fragment, at most 2048 characters. The error is an
// EINVALID *Error on field "url".
func ValidateEndpointURL(s string) error {
	if s == "" {
		return FieldError("url", "is required")
	}
	if len(s) > 2048 {
		return FieldError("url", "must be at most 2048 characters")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return FieldError("url", "must be an absolute http:// or https:// URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		scheme := u.Scheme
		if len(scheme) > 16 {
			scheme = scheme[:16] + "…"
		}
		return FieldError("url", "must use http or https, not %q", scheme)
	}
	if u.Fragment != "" {
		return FieldError("url", "must not have a #fragment")
	}
	return nil
}

// SecretRotationGrace is how long a replaced signing secret keeps signing
// beside the new one by default, so receivers can switch without dropping a
// webhook.
const SecretRotationGrace = 24 * time.Hour

// MaxSecretRotationGrace is the longest grace a rotation may give.
const MaxSecretRotationGrace = 7 * 24 * time.Hour

// RotateSecrets returns an endpoint's secrets after a rotation at now: a new
// secret of the same scheme as the current one (a whsk_ key for an ed25519
// endpoint, a whsec_ secret otherwise) first, then the old ones that have not
// expired, each now expiring at the latest at now + grace (also returned). A
// grace of 0 or less drops the old secrets: they stop signing at once.
func RotateSecrets(old []Secret, now time.Time, grace time.Duration) ([]Secret, time.Time) {
	next := NewSecret()
	if len(old) > 0 && SigningOf(old[0].Value) == SigningEd25519 {
		next = NewSigningKey()
	}
	secrets := []Secret{{Value: next, CreatedAt: now}}
	if grace <= 0 {
		return secrets, now
	}
	until := now.Add(grace)
	for _, s := range old {
		if s.ExpiresAt != nil && !now.Before(*s.ExpiresAt) {
			continue // already expired
		}
		if s.ExpiresAt == nil || s.ExpiresAt.After(until) {
			s.ExpiresAt = &until
		}
		secrets = append(secrets, s)
	}
	return secrets, until
}
