// Package seal encrypts small secrets for storage (endpoint signing secrets
// and custom header values, sources' credentials, the API key pepper) with
// AES-256-GCM, so that a copy of the database file alone does not reveal
// them.
//
// A sealed value is text that names its format and key:
//
//	hhenc:v1:<key id>:<base64(nonce || ciphertext || tag)>
//
// The key id is the first 8 hex digits of a SHA-256 of the key (under a
// label, so the id is not a hash of the bare key that could be matched
// elsewhere); it lets a Keyring hold several keys during a rotation and open
// values sealed with any of them, while Seal always uses the first, the
// primary. The nonce is 12 random bytes per value (so sealing the same
// plaintext twice gives different values); a key must not seal more than
// 2^32 values, far beyond what a hub stores.
//
// The caller's additional data (AAD) binds a value to its place, e.g. the
// tenant and id of the row that holds it: a value copied into another row
// fails to open. The header (version and key id) is authenticated too.
//
// Values that do not start with "hhenc:" are not sealed: Open returns them
// as they are, so that a database written before encryption was turned on
// still loads. Such values stay in plaintext until they are written again or
// the next key rotation re-seals every value.
//
// Errors name key ids, never key material or plaintext.
package seal
