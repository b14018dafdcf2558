// Package workable receives Workable's webhook subscriptions: Verify checks
// X-Workable-Signature on the raw body and Parse maps the candidate payload
// onto hirehook's catalog. Workable needs exactly 200 (ReplyStatus); it
// replays anything else.
//
// # Mapping
//
//	candidate_created  → candidate.created + application.created (a Workable
//	                     candidate is job-scoped: both use its id)
//	candidate_moved    → application.rejected (derived: disqualified true)
//	                     else application.hired (derived: stage named "Hired")
//	                     else application.stage_changed
//	candidate_deleted  → candidate.deleted
//	employee_*, onboarding_completed, timeoff_updated
//	                   → Result.Unsupported: the catalog has no employee or
//	                     onboarding types yet
//
// Entity ids are "wk_" + Workable's id (the job's shortcode for jobs); the
// vendor id is kept in external_refs (system "workable"). A malformed
// email is dropped, not fatal.
//
// # Signed, and deduplicated
//
// Workable signs the raw body, and nothing else (no timestamp, no event
// id). The dedupe key is the SHA-256 of the signed body (DedupKey), kept
// for as long as the request log keeps the request: Workable's replay of
// a failed delivery, and anyone's re-send of a captured one, is a
// duplicate. A body hirehook cannot map is answered 422, which Workable
// replays.
// previous_stage (from the last stored stage) is left to the state store.
//
// # Facts relied on, and which are unverified (reference §4, §16)
//
//   - Primary: the header is X-Workable-Signature, HMAC-SHA256 "on the
//     payload", keyed with the account access token or the OAuth app secret;
//     the reply must be 200.
//   - Unverified: how the signature is written. Only secondary sources say
//     hex, Workable's docs say only "HMAC SHA256": hex (either case) and
//     base64 (standard or URL alphabet, padded or not) are both accepted,
//     told apart by length. The envelope
//     {event_type, data:{id, stage, disqualified, job{shortcode,title}}}
//     (secondary sources; Workable's docs say only "a Candidate object");
//     whether an envelope id exists and is stable across replays (so the body
//     hash is used, which also changes if Workable re-renders the candidate
//     at replay time: the payload reflects state at send time); that a hire
//     is a move to a stage named "Hired". Workable signs no timestamp, so
//     there is no replay window.
package workable
