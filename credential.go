package hirehook

import (
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
