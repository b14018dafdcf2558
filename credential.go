package hirehook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// Masked stands for a value the hub keeps but never shows: an endpoint's
// custom header values (write-only, as signing secrets are) and the
// credential-bearing headers of a logged inbound request.
const Masked = "********"

// CredentialHeaders are header names known to carry credentials, masked in
// the inbound request log whatever they are called: the HTTP ones, and
// those ATS vendors send (SmartRecruiters' handshake secret and API token,
// Teamtailor's API token). Names containing any of CredentialHeaderWords
// are masked as well.
var CredentialHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Hook-Secret", "X-SmartToken", "Teamtailor-Api-Token", "X-Api-Key",
}

// CredentialHeaderWords mark a header name as credential-bearing wherever
// they appear in it, in any case ("X-Receiver-Token", "Ashby-Signature",
// "X-Shopify-Hmac-Sha256").
var CredentialHeaderWords = []string{
	"token", "key", "secret", "auth", "password", "passwd", "signature", "cookie",
	"session", "credential", "hmac", "jwt",
}

// IsCredentialHeader reports whether a header of that name may carry a
// credential: one of CredentialHeaders, or a name containing one of
// CredentialHeaderWords.
func IsCredentialHeader(name string) bool {
	lower := strings.ToLower(name)
	for _, h := range CredentialHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	for _, w := range CredentialHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// MaskCredentialHeaders returns a copy of h in which every value of a
// credential-bearing header (IsCredentialHeader) is Masked: the log shows
// that the header came, never what it held.
func MaskCredentialHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, vs := range h {
		if IsCredentialHeader(name) {
			masked := make([]string, len(vs))
			for i := range masked {
				masked[i] = Masked
			}
			out[name] = masked
			continue
		}
		out[name] = append([]string(nil), vs...)
	}
	return out
}

// APIKeyMACPrefix begins the stored form of an API key (APIKeyMAC). A
// stored hash without it is a bare SHA-256 digest written by an older hub,
// which the store rewrites at start (UpgradeSecrets of each store).
const APIKeyMACPrefix = "hmac:"

// APIKeyMAC returns what a store keeps for an API key: APIKeyMACPrefix and
// the hex HMAC-SHA256, keyed with the store's API key pepper (32 random
// bytes kept in the database sealed with the hub's encryption key), of the
// key's digest (HashAPIKey). A copy of the database alone therefore lets no
// one test guesses of a key, even a short operator-chosen one, while a
// lookup stays one indexed query. The input is the digest rather than the
// key so that rows stored before the pepper (bare digests) can be rewritten
// without knowing the keys.
func APIKeyMAC(pepper []byte, digest string) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(digest))
	return APIKeyMACPrefix + hex.EncodeToString(m.Sum(nil))
}
