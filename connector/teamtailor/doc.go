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
// external_refs (system "teamtailor"). The dedupe key is the SHA-256 of the
// body: Teamtailor sends no event id.
//
// Not done here (the next session's state store): previous_stage from the
// last stored stage, application.hired from a stage whose type is "hired"
// (Teamtailor's payload names the stage, not its type, so it needs a fetch),
// suppressing a repeated application.rejected for later updates of an
// already rejected application, and job.opened/closed/posted from status.
//
// # Facts relied on
//
// From Teamtailor/tt-partner-docs (reference §7, marked primary): TT-Signature
// is base64("t=<unix>,v2=<hex>") with v2 = HMAC-SHA256(key, t + "." + raw
// body); v1 signs only the resource id and is refused here. The envelope is
// {payload:{event_name, data:{id, type, attributes}}, signature}. Not
// verified (reference §7/§16): the exact data.type of applications, and
// whether attributes are kebab-case (documented) or snake_case (the
// documented sample); both spellings are read. Teamtailor does not retry,
// so a rejected request is lost: sources must also reconcile by polling.
// The 5-minute replay window (push.Tolerance) is ours, not Teamtailor's.
package teamtailor
