// Package generic receives webhooks from any sender that speaks hirehook's
// catalog: VerifyStandard checks Standard Webhooks signatures (by reusing
// hirehook.Verify: v1 HMAC with whsec_ secrets, v1a ed25519 with whpk_
// keys, space-separated signatures for rotation, 5-minute tolerance), and
// HMACConfig.Verify checks a plain body HMAC with a configurable header,
// encoding (hex or base64) and prefix. Parse takes the Standard Webhooks
// payload shape {type, timestamp, data} where type is a catalog type and
// data already matches its schema.
//
// # Mapping
//
// None: type must be a catalog type a producer may send. Other types, and
// the hub-only ones (*.snapshot, endpoint.*, delivery.*), are
// Result.Unsupported. data is kept as sent, with external_refs added
// (system "generic", tenant Options.Tenant) when it has none.
//
// # Signed, and deduplicated
//
// The dedupe key (DedupKey) is made from what the sender signed. Standard
// Webhooks signs the webhook-id header, the timestamp (5-minute window)
// and the body: the key is "webhook-id:" + that header. The hmac scheme
// signs the body only, with no timestamp: a webhook-id header is not
// signed and is ignored (keyed on it, a captured request re-sent with a
// new one was taken as new); the key is "id:" + the body's id, else the
// body's SHA-256. Either way the request log keeps the key for as long as
// it keeps the request, so a re-send is a duplicate.
//
// # Facts relied on
//
// standard-webhooks @b2fa7b8 (reference/standard-webhooks.md): the spec's
// published test vector is checked in the tests. HMACConfig supports
// SHA-256 only: no ATS in the reference signs with SHA-1 or SHA-512, so
// any other Algorithm is refused (push.ErrUnsupportedConfig) rather than
// guessed. Base64 accepts the standard and URL alphabets, padded or not,
// because Merge's padding is unverified (reference §16).
package generic
