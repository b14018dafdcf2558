// Package smartrecruiters receives SmartRecruiters' Webhooks API
// notifications: Handshake answers the X-Hook-Secret activation, Verify
// checks smartrecruiters-signature v1 (several keys), and Parse maps the
// thin event onto hirehook's catalog. Events must be answered 202
// (ReplyStatus) within 5 s, so persist first and hydrate later.
//
// # Mapping
//
// Payloads are thin: the body is {"id": …} ("the id of the changed
// resource", SmartRecruiters' docs), or, in SmartRecruiters' own signed
// example of application.created, {"job_id": …, "candidate_id": …} with
// no id. Both spellings are read (job_id/jobId, candidate_id/candidateId,
// offer_id/offerId, …). An application is a candidate's application to a
// job: where the body names both, its id is "<candidate id>:<job id>",
// the same for every event about it. The metadata is in headers. Every
// event is emitted with its ids and external_refs only, and Result.Thin is
// set (every catalog schema requires only id, so thin events are valid).
// A body without the ids its event needs is a Parse error, which hirehook
// answers 422 (not the 202 SmartRecruiters wants), so that SmartRecruiters
// retries it and alerts. The link header, in the RFC 8288 form
// "<url>; rel=self" (ParseLink), is the resource to fetch for the rest.
//
//	application.created            → application.created
//	application.status.updated     → application.stage_changed (hired/rejected need the fetched status)
//	candidate.created/updated/deleted → candidate.created/updated/deleted
//	offer.created                  → offer.created
//	offer.approval.approved        → offer.approved
//	job.created / job.updated      → job.created / job.updated
//	job.approval.approved          → job.approved
//	job.ad.created                 → job.posted (subject: the job ad, a job_posting)
//	interview.created/updated/canceled → interview.scheduled/rescheduled/cancelled
//	job.status.updated, job.ad.postings.updated, offer.updated
//	                               → Result.NeedsHydration, no event: the
//	                                 catalog type depends on fetched state
//	offer.approval.created/rejected, review.*, onboarding.*, position.*, others
//	                               → Result.Unsupported: no catalog type yet
//	                                 (the catalog has no offer.approval_requested,
//	                                 offer.approval_rejected, scorecard.* or
//	                                 onboarding.* types)
//
// # Hydration
//
// With an API key, Hydrate fetches the link's URL (GET, X-SmartToken,
// Accept: application/json, at most MaxResponse bytes), only on
// SmartRecruiters' API origins (DefaultAPIOrigins,
// https://api.smartrecruiters.com; tests give their own): the link is
// signed, but it names where the API key goes, so a link to any other host
// is an error and nothing is sent. It rebuilds the events
// with the same push.Builder as Parse, so an event whose type does not
// change keeps its id; Thin becomes false. It maps, by the event's entity:
//
//	candidate    firstName, lastName, email, phoneNumber, location{city,
//	             region/regionCode, countryCode/country}, web{linkedin,
//	             website, ...} → urls, tags, createdOn, updatedOn
//	application  candidateId, jobId/jobTitle → job, status/subStatus →
//	             stage {id: status, name: subStatus or the status,
//	             category}, appliedOn, updatedOn, source, reasonOfRejection.
//	             application.status.updated becomes application.hired,
//	             .rejected or .withdrawn (Derived) when status says so.
//	job          title, refNumber → code, status, typeOfEmployment →
//	             employment_type, department, location, numberOfOpenings,
//	             createdOn, updatedOn
//	job ad       title, postingStatus → status/internal, location, applyUrl
//	offer        status, candidateId, jobId, createdOn, updatedOn (no
//	             compensation: none is documented)
//
// The NeedsHydration events get their type from the fetched state (and
// Derived):
//
//	job.status.updated       SOURCING, INTERVIEW, OFFER → job.opened;
//	                         FILLED, CANCELLED, ON_HOLD (HIRED) → job.closed
//	                         with close_reason; CREATED, PENDING_APPROVAL,
//	                         APPROVED → Unsupported
//	job.ad.postings.updated  postingStatus PUBLIC, INTERNAL, PRIVATE →
//	                         job.posting_updated; NOT_PUBLISHED → job.unposted
//	offer.updated            SENT/EXTENDED → offer.extended, ACCEPTED →
//	                         offer.accepted, DECLINED → offer.declined,
//	                         WITHDRAWN/CANCELLED → offer.withdrawn, APPROVED
//	                         → offer.approved; drafts and approval steps →
//	                         Unsupported
//
// A redirect to another host is not followed (the key would go with it).
// candidate.deleted is not fetched. Errors: 404/410 wrap
// push.ErrHydrateGone (keep the thin event), 429, 408, 5xx, timeouts and
// network errors wrap push.ErrHydrateTemporary (retry with backoff),
// 401/403 say the key was refused. No error holds the key.
//
// Sources: the job shape is SmartRecruiters' documented example of GET
// /jobs/{id} (dev.smartrecruiters.com, "jobs – details"); the job status
// list and the job-ad posting statuses are from help.smartrecruiters.com
// ("Job statuses"). Guessed, to check against a real account: the enum
// spelling of the statuses (FILLED, ON_HOLD, NOT_PUBLISHED ...), the
// candidate, application, job ad and offer field names, the offer status
// values, and that Link points at the resource itself for every event.
//
// Entity ids are "sr_" + SmartRecruiters' id.
//
// # Signed, and deduplicated
//
// v1 signs the timestamp (seconds, within 5 minutes of now), the body,
// and the event-id, event-name, event-version and link headers. The dedupe
// key (DedupKey) is "event-id:" + the event-id header, signed; without
// one, the body's SHA-256 (the signature then covers an empty event-id).
// The request log keeps it for as long as it keeps the request, so a
// redelivery, or a re-send of a captured request, is a duplicate.
//
// # Facts relied on, and which are unverified (reference §6, §16)
//
//   - Primary: the signed string timestamp.body.event-id.event-name.
//     event-version.link with "" for missing headers (SmartRecruiters'
//     worked example, key HeBVky2bccvvkcXPimH8c, is checked in the tests);
//     "v1=<hex>" entries separated by ";"; up to 16 live keys; the 200 +
//     echoed X-Hook-Secret handshake; 202 for events; timestamp in seconds;
//     link as "<url>; rel=self"; application.created's body
//     {"job_id","candidate_id"}.
//   - Ours, not SmartRecruiters': the 5-minute replay window
//     (push.Tolerance). Unverified is whether a redelivery (up to 24 h
//     later) is re-signed with a fresh timestamp; if it is not, redeliveries
//     are rejected and the 30-day event log must fill the gap.
//   - Unverified: the interview.* event names (secondary source only); the
//     bodies of events other than application.created (read as "id", the
//     documented generic form, or the application form); the camelCase
//     spellings (jobId, candidateId), read as well.
package smartrecruiters
