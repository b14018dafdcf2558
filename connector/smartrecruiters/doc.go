// Package smartrecruiters receives SmartRecruiters' Webhooks API
// notifications: Handshake answers the X-Hook-Secret activation, Verify
// checks smartrecruiters-signature v1 (several keys), and Parse maps the
// thin event onto hirehook's catalog. Events must be answered 202
// (ReplyStatus) within 5 s, so persist first and hydrate later.
//
// # Mapping
//
// Payloads are thin: the body is {"id": …} (sometimes jobId/job_id,
// candidateId), the metadata is in headers. Every event is therefore
// emitted with its ids and external_refs only, and Result.Thin is set
// (every catalog schema requires only id, so thin events are valid). Link
// is the resource to fetch for the rest.
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
// Entity ids are "sr_" + SmartRecruiters' id. The dedupe key is
// "event-id:" + the event-id header, or the body hash without one.
//
// # Facts relied on, and which are unverified (reference §6, §16)
//
//   - Primary: the signed string timestamp.body.event-id.event-name.
//     event-version.link with "" for missing headers; "v1=<hex>" entries
//     separated by ";"; up to 16 live keys; the 200 + echoed X-Hook-Secret
//     handshake; 202 for events; timestamp in seconds.
//   - Ours, not SmartRecruiters': the 5-minute replay window
//     (push.Tolerance). Unverified is whether a redelivery (up to 24 h
//     later) is re-signed with a fresh timestamp; if it is not, redeliveries
//     are rejected and the 30-day event log must fill the gap.
//   - Unverified: the interview.* event names (secondary source only), the
//     body field names jobId/candidateId beyond "id" and "job_id".
package smartrecruiters
