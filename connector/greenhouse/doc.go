// Package greenhouse is hirehook's Greenhouse push connector: it verifies
// Greenhouse's recruiting webhooks and maps them onto the catalog. It holds
// no state and does no I/O; the inbound route (POST /in/{source_id}) and a
// last-state store are wired elsewhere.
//
// A receiver reads the raw body, calls Verify(header, body, secret), then
// Parse(DedupKey(header, body), body), and answers 2xx for a verified body
// whatever Parse makes of it: a ping, an unsupported action or a malformed
// payload will not get better on retry, and Greenhouse disables a webhook
// whose ping fails.
//
// Signature: the header "Signature: sha256 <hex>" (a space after the
// algorithm) is the hex HMAC-SHA256 of the entire raw body, keyed with the
// webhook's secret key, compared with hmac.Equal. Greenhouse sends no
// timestamp, so there is no replay window; replays are dropped by
// deduplicating on the Greenhouse-Event-ID header (DedupKey), or on a body
// hash when the header is missing.
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
// external_refs [{system: "greenhouse", id}]. Event ids are
// "gh:<dedup key>:<type>", so a retried delivery is accepted once.
//
// Facts the reference marks unverified (its section 16) that this package
// relies on:
//
//   - The ping's shape. Greenhouse documents it only as "a payload
//     containing some configuration settings". Parse treats action "ping",
//     or a body with a top-level "configuration" object and no action or
//     payload (the shape a third-party receiver's fixture uses), as the
//     ping. Check it against a real webhook creation.
//   - Whether Greenhouse-Event-ID is stable across retries. The docs call
//     it "an unique id associated with this delivery". If a retry gets a
//     new id, it is not deduplicated here (the body-hash fallback applies
//     only when the header is missing), and downstream sees it twice.
//
// Payload shapes were checked against grnhse/greenhouse-api-docs @8e920c3
// for the job events (payload.job), the job post events (flat payload for
// created and updated, payload.job_post for deleted) and interview_deleted
// (payload.interview.id). The application, candidate and offer shapes
// follow the reference's sketches; the parser looks for an entity under
// payload.<entity> and falls back to payload itself.
package greenhouse
