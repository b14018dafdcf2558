// Package greenhouse is hirehook's Greenhouse push connector: it verifies
// Greenhouse's recruiting webhooks and maps them onto the catalog. It holds
// no state and does no I/O; the inbound route (POST /in/{source_id}) and a
// last-state store are wired elsewhere.
//
// It is a push connector like the others (connector/push): a receiver
// reads the raw body, calls Verify(header, body, secrets...) with the
// current and any previous secret, then Parse(body, opts), and answers 2xx for a verified ping or
// unsupported action (neither gets better on retry, and Greenhouse
// disables a webhook whose ping fails); hirehook answers 422 for a body
// Parse refuses, so that Greenhouse retries it (7 tries over about 15 h).
//
// Signed, and deduplicated: the header "Signature: sha256 <hex>" (a space
// after the algorithm) is the hex HMAC-SHA256 of the entire raw body, keyed
// with the webhook's secret key, compared with hmac.Equal. That is all
// Greenhouse signs: no timestamp (so no replay window) and not the
// Greenhouse-Event-ID header. The dedupe key is therefore the digest of the
// signed body (DedupKey: "sha256:<hex>"), kept for as long as the request
// log keeps the request: a retry carries the same body, and a captured
// request re-sent with another Greenhouse-Event-ID, or none, is a
// duplicate. (Keyed on the header, such a re-send emitted its events
// again.) Two genuine webhooks with byte-identical bodies would be taken
// as one; Greenhouse's payloads carry the resource's timestamps, so they
// differ.
//
// Mapping (action → catalog type):
//
//	ping                            Result.Ping (connection health, no event); also
//	                                a body with a top-level "configuration" and no
//	                                action
//	new_candidate_application       application.created (kind application)
//	new_prospect_application        application.created (kind prospect)
//	candidate_stage_change          application.stage_changed, derived: stage is
//	                                the new stage, changes.stage.from is absent
//	                                (Greenhouse sends no previous stage)
//	application_updated             application.updated
//	reject_candidate                application.rejected
//	unreject_candidate              application.reactivated
//	hire_candidate                  application.hired, + offer.accepted (derived)
//	                                when the payload carries the offer
//	delete_application              application.deleted
//	update_candidate                candidate.updated
//	delete_candidate                candidate.deleted (payload.person.id)
//	candidate_anonymized            candidate.anonymized
//	offer_created                   offer.created
//	offer_approved                  offer.approved
//	offer_updated                   by offer_status, derived: accepted → offer.accepted,
//	                                rejected/declined → offer.declined,
//	                                deprecated → offer.withdrawn; else unsupported
//	                                (the catalog has no offer.updated)
//	offer_deleted                   offer.withdrawn
//	interview_deleted               interview.cancelled
//	job_created/updated/approved/deleted  job.created/updated/approved/deleted
//	job_post_created                job.posted when live, else unsupported
//	job_post_updated                job.posting_updated
//	job_post_deleted                job.unposted
//
// Not mapped (Result.Unsupported, no error): unhire_candidate (no
// application.unhired in the catalog), merge_candidate (no
// candidate.merged), scorecard_deleted, job_interview_stage_deleted,
// department_deleted, office_deleted, and any action not listed. Not yet
// derived: job.opened/job.closed from job.status, job.posted/unposted from a
// live flip on job_post_updated; both need the last stored state.
//
// Entity ids are "gh_" + the Greenhouse id; every entity carries
// external_refs [{system: "greenhouse", id}]. Event ids hash the source
// id with "gh:<dedup key>:<type>" (the body digest; push.Builder.EventIDTag),
// as they always have, so a retried delivery is accepted once.
//
// Facts the reference marks unverified (its section 16) that this package
// relies on:
//
//   - The ping's shape. Greenhouse documents it only as "a payload
//     containing some configuration settings". Parse treats action "ping",
//     or a body with a top-level "configuration" object and no action or
//     payload (the shape a third-party receiver's fixture uses), as the
//     ping. Check it against a real webhook creation.
//   - Whether Greenhouse-Event-ID is stable across retries no longer
//     matters: it is not signed, so it is not the dedupe key.
//
// Payload shapes were checked against grnhse/greenhouse-api-docs @8e920c3
// for the job events (payload.job), the job post events (flat payload for
// created and updated, payload.job_post for deleted) and interview_deleted
// (payload.interview.id). The application, candidate and offer shapes
// follow the reference's sketches; the parser looks for an entity under
// payload.<entity> and falls back to payload itself.
package greenhouse
