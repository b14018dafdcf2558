// Package push holds what the push connectors (connector/greenhouse,
// connector/lever, connector/ashby, connector/workable,
// connector/smartrecruiters, connector/teamtailor, connector/generic)
// share: the Result of parsing a verified vendor request, the Handshake
// answer, the typed verification errors and the deterministic event
// builder. Every connector verifies with the same shape, Verify(header,
// body, [now,] secrets...): any of the secrets (a source's current and
// previous one, during a rotation) may match.
//
// A push request goes through three steps, in this order: the vendor's
// handshake (if the request is one, answer it and stop), Verify on the raw
// body bytes exactly as received, and Parse, which never sees an unverified
// body in production (it is nonetheless safe on any input: each parser is
// fuzzed).
//
// Event data from a vendor is held to the limits and rules of any event's
// data (catalog.MaxDataDepth, MaxDataString, MaxDataKeys, MaxDataBytes; no
// number beyond float64, no U+0000, no control character in an id): Builder.Event
// checks them through catalog.ValidateEvent and ingest's Prepare checks them
// again, so a request that breaks one is failed with an error naming the
// field ("data.x[0]...: must not nest ...") and nothing is ingested. What
// Decode's encoding/json already replaces is ingested as replaced: invalid
// UTF-8 and lone surrogates in a vendor's strings become U+FFFD, and of a
// duplicate key the last is kept.
//
// Unknown vendor event types are not errors: Parse returns a Result with
// Unsupported set and no events, so the receiver still acknowledges the
// request (a vendor that sees errors retries, suspends or disables the
// subscription) and the raw request can be re-normalised once a mapping
// exists. Errors from Parse mean the body is not what the vendor documents:
// hirehook's receiver answers those 422, so that the vendor retries.
//
// Result.DedupeKey, and the event ids the Builder derives from it, are made
// from what the vendor signed only (each connector's DedupKey says what
// that is), never from an unsigned header or field: the receiver's request
// log keeps the key, so a request re-sent with its unsigned parts changed
// is a duplicate.
package push
