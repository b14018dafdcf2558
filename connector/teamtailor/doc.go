// Package teamtailor receives Teamtailor's company webhooks: Verify checks
// the TT-Signature v2 scheme on the raw body and Parse maps the JSON:API
// style payload onto hirehook's catalog.
//
// # Mapping
//
//	candidate.create / .update / .destroy  → candidate.created / .updated / .deleted
//	job_application.create                 → application.created
//	job_application.update                 → application.rejected (derived: rejected-at set)
//	                                         else application.stage_changed (stage-name present)
//	                                         else application.updated
//	job_application.destroy                → application.deleted
//	job.create / .update / .destroy        → job.created / .updated / .deleted
//	anything else (custom fields, audit)   → Result.Unsupported, no event
//
// Entity ids are "tt_" + Teamtailor's id; the vendor id is kept in
// external_refs (system "teamtailor").
//
// # Signed, and deduplicated
//
// v2 signs t (within 5 minutes of now) and the body's "payload" member,
// not the rest of the body (which holds a copy of the signature). Parse
// reads only payload, and the dedupe key is the SHA-256 of payload with
// insignificant whitespace removed (DedupKey): Teamtailor sends no event
// id, and keyed on the whole body, a replay inside the window with the
// unsigned remainder changed was taken as new. t is left out of the key,
// so the same payload signed twice is one request.
//
// Not done here (the next session's state store): previous_stage from the
// last stored stage, application.hired from a stage whose type is "hired"
// (Teamtailor's payload names the stage, not its type, so it needs a fetch),
// suppressing a repeated application.rejected for later updates of an
// already rejected application, and job.opened/closed/posted from status.
//
// # Facts relied on
//
// From Teamtailor/tt-partner-docs (reference §7, marked primary), re-read
// this session in source/includes/company_webhooks/_signatures.md.erb and
// _payloads.md.erb: TT-Signature is base64("t=<unix>,v2=<hex>"). The
// reference says v2 signs t + "." + the raw body, but Teamtailor's own
// JavaScript and PHP examples sign t + "." + JSON.stringify(body.payload),
// the payload member only (the body also carries the signature, so the
// whole body cannot be what is signed). Verify therefore tries the raw
// payload member, then it compacted, then the whole body; which one
// Teamtailor really signs is unverified until a live request is seen. v1
// signs only the resource id and is refused here. The envelope is
// {payload:{event_name, data:{id, type, attributes}}, signature}.
// Attributes are documented as kebab-case, yet the job-application list
// is snake_case (stage_name, job_id, rejected_at): both spellings are read.
// Teamtailor does not retry (changelog 2026-03-19), so a rejected request
// is lost: sources must also reconcile by polling. The 5-minute replay
// window (push.Tolerance) is ours, not Teamtailor's.
package teamtailor
