// Package ashby is hirehook's Ashby push connector: it verifies Ashby's
// webhooks and maps them onto the catalog. It holds no state and does no
// I/O; the inbound route (POST /in/{source_id}) and a last-state store are
// wired elsewhere.
//
// It is a push connector like the others (connector/push): a receiver
// reads the raw body, calls Verify(header, body, secrets...) with the
// current and any previous secret, then Parse(body, opts), and answers 2xx for a verified ping or action, supported or
// not: a ping must succeed (Ashby creates the webhook disabled otherwise),
// and an unsupported action will not get better on retry. hirehook answers
// 422 for a body Parse refuses (Ashby retries it) and 401 for a bad
// signature, on which Ashby does not retry.
//
// Signed, and deduplicated: the header "Ashby-Signature: sha256=<hex>" is
// the hex HMAC-SHA256 of the raw body keyed with the webhook's
// secretToken, compared with hmac.Equal. Ashby sends no timestamp, so
// there is no replay window; replays are dropped by deduplicating on
// DedupKey: "<webhookActionId>:<action>", both read from the signed body
// (a body hash when webhookActionId is missing), so a re-sent request is
// a duplicate for as long as the request log keeps the first. Ashby keeps
// webhookActionId across retries and shares it between cascaded hooks
// (candidateHire also fires candidateStageChange and applicationUpdate);
// the action keeps the cascade's hooks apart, since they map to different
// catalog types.
//
// Mapping (action → catalog type):
//
//	ping (or data.webhookActionType "ping")  Result.Ping (no event)
//	applicationSubmit        application.created
//	applicationUpdate        application.updated
//	candidateStageChange     application.stage_changed, derived: stage is the
//	                         new stage (category from the stage type),
//	                         changes.stage.from is absent; + application.rejected
//	                         (derived) when the status is Archived
//	candidateHire            application.hired, + offer.accepted (derived) when
//	                         the payload carries the offer
//	candidateDelete          candidate.deleted
//	interviewScheduleCreate  interview.scheduled
//	interviewScheduleUpdate  status Cancelled → interview.cancelled, Complete →
//	                         interview.completed, else interview.rescheduled
//	                         (derived)
//	offerCreate              offer.created
//	offerUpdate              by status, derived: acceptanceStatus Accepted →
//	                         offer.accepted, Declined → offer.declined, offerStatus
//	                         OfferCancelled → offer.withdrawn; else unsupported
//	                         (the catalog has no offer.updated)
//	offerDelete              offer.withdrawn
//	signatureRequestUpdate   about an offer: Completed → offer.signed, Sent →
//	                         offer.extended; else unsupported
//	jobCreate / jobUpdate    job.created / job.updated
//	jobPostingPublish        job.posted
//	jobPostingUnpublish      job.unposted
//	jobPostingUpdate         job.posting_updated
//
// Not mapped (Result.Unsupported, no error): candidateMerge (no
// candidate.merged in the catalog), pushToHRIS (candidateHire already gives
// application.hired), interviewPlanTransition, surveySubmit, and any action
// not listed. Not yet derived: job.opened/job.closed from a job's status.
//
// Entity ids are "ab_" + the Ashby id, with external_refs
// [{system: "ashby", id}]. Event ids hash the source id with
// "ab:<dedup key>:<type>" (push.Builder.EventIDTag), as they always have.
//
// Relied on from the reference (section 5, primary sources): the envelope
// {webhookActionId, action, data}, the application sketch and the ping's
// data.webhookActionType. Written by us from field names the reference does
// not spell out, to check against a real delivery: data.offer beside the
// application on candidateHire (acceptanceStatus, offerStatus,
// latestVersion.startDate), data.signatureRequest {status,
// relatedEntityType, relatedEntityId, updatedAt}, data.interviewSchedule
// {status, applicationId, interviewEvents[].startTime/endTime},
// data.jobPosting {jobId, title, isListed, externalLink}, and the stage
// fields title, type and orderInInterviewPlan. None of these is in the
// reference's section 16 list; that list names no Ashby fact.
package ashby
