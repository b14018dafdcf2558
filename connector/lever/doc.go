// Package lever is hirehook's Lever push connector: it verifies Lever's
// webhooks and maps them onto the catalog, and Hydrate fills the thin
// events from the Lever API. It holds no state; Verify and Parse do no
// I/O. The inbound route (POST /in/{source_id}), the token replay cache
// and when to hydrate are wired elsewhere.
//
// It is a push connector like the others (connector/push): a receiver
// reads the raw body, calls Verify(header, body, now, secrets...) with the
// current and any previous secret, then Parse(body, opts), and answers 2xx for a verified body with a supported
// or unsupported event (the latter will not get better on retry); hirehook
// answers 422 for a body Parse refuses, so that Lever retries it.
//
// Signed: Lever signs neither a header nor the body. The body's
// "signature" is hex(HMAC-SHA256(key = the webhook's signature token,
// msg = token + triggeredAt)), compared with hmac.Equal; triggeredAt (epoch
// ms) must be within 5 minutes of now. Because the rest of the body (id,
// event, data) is not signed, a changed byte there cannot be detected
// (payload integrity rests on TLS); a changed token, triggeredAt or
// signature is refused.
//
// Dedupe key: "token:<token>" (DedupKey), the one signed value that is
// unique per request, as Lever advises: a token is taken once. hirehook's
// request log keeps it (in the store, so on every node) for the tenant's
// retention, a day at least, far past the 5-minute window after which
// Verify refuses the token anyway. A captured request re-sent inside the
// window with a new id, another event or other data is a duplicate of the
// first request with that token, and emits nothing. The envelope's id is
// never the key: it is not signed (keyed on it, such a re-send was taken
// as new and emitted, say, application.hired). If Lever re-signed a retry
// with a new token, the retry would be taken as a new request; its events
// would carry new ids.
//
// Lever sends ids only, so every Result is Thin: events carry the ids
// (opportunity → application, contact → candidate) with external_refs, and
// hydration through Lever's API adds the rest later.
//
// Mapping (event → catalog type):
//
//	applicationCreated      application.created
//	candidateStageChange    application.stage_changed; changes.stage from/to
//	                        carry fromStageId/toStageId (Lever sends both, so
//	                        not derived); data.stage waits for hydration, the
//	                        catalog's stage needing a name
//	candidateHired          application.hired
//	candidateArchiveChange  toArchived set → application.rejected (reason id as
//	                        rejection_reason); toArchived null →
//	                        application.reactivated. An archive with a "hired"
//	                        reason is still reported as rejected until
//	                        hydration can read the reason's name.
//	candidateDeleted        candidate.deleted
//	contactCreated/Updated  candidate.created/updated (a Lever contact is the person)
//	interviewCreated        interview.scheduled
//	interviewUpdated        interview.rescheduled (derived: the change may not be
//	                        the time)
//	interviewDeleted        interview.cancelled
//
// Any other event gives Result.Unsupported, not an error. Lever has no
// ping: its test request is an ordinary signed event.
//
// Entity ids are "lv_" + the Lever id, with external_refs
// [{system: "lever", id}]. Event ids hash the source id with
// "lv:<dedup key>:<type>" (push.Builder.EventIDTag), as they always have,
// so they derive from the signed token too.
//
// Hydration: Hydrate(ctx, client, DefaultAPIURL, apiKey, nil, res, opts) calls the
// Lever API with basic auth (the key as user, empty password), Accept:
// application/json, reading at most MaxResponse bytes of each answer
// ({"data": ...}). The base URL (a source's api_url) must be on one of
// DefaultAPIOrigins (api.lever.co, api.eu.lever.co, api.sandbox.lever.co)
// or of the origins given: whoever may edit the source but not read its
// write-only key must not be able to have it sent elsewhere.
//
//	application.*  GET /opportunities/:id?expand=stage&expand=owner&expand=applications
//	               → candidate_id and candidate {email, phone} from contact,
//	               emails, phones; stage {id, name: text}; job_id from the
//	               application's posting; recruiter from owner; source,
//	               tags, applied_at/created_at, updated_at, stage_changed_at
//	               (lastAdvancedAt); status active, or from archived
//	               {archivedAt, reason} and GET /archive_reasons/:id {text,
//	               type}: a "hired" reason gives hired_at and turns
//	               application.rejected into application.hired (Derived, so
//	               a new id), else rejected_at and rejection_reason.
//	               application.stage_changed also gets previous_stage from
//	               GET /stages/:fromStageId, and names in changes.stage.
//	candidate.created/updated  GET /contacts/:id → name, headline,
//	               location {name}, email(s), phone(s)
//	interview.scheduled/rescheduled  GET /opportunities/:opp/interviews/:id
//	               → title (subject), start_at (date), end_at (date +
//	               duration min), timezone, location, interviewers, status
//	candidate.deleted, interview.cancelled  not fetched
//
// Ids stay as Parse made them (from "lv:<dedup key>:<type>"), so only a changed
// type changes an id. A stage or archive reason that is gone is left out;
// the event's own record gone (404/410) wraps push.ErrHydrateGone. 429,
// 408, 5xx, timeouts and network errors wrap push.ErrHydrateTemporary;
// 401/403 say the key was refused; no error holds the key. Documented
// (Lever API docs, the copy the reference names): the opportunity's fields
// and its "Retrieve a single opportunity" example, expand, GET
// /archive_reasons/:id with type hired/non-hired, basic auth, the status
// codes. Guessed: the contact endpoint's field names, the expanded
// application's posting field (posting or postingId), the interview's
// field names beyond the documented list.
//
// Relied on from the reference (section 2, primary source, none of it in
// the reference's unverified list): the envelope {id, event, triggeredAt,
// token, signature, data}, the data field names (opportunityId,
// candidateId, contactId, fromStageId, toStageId). Written by us, not from
// a documented sample: the names in candidateArchiveChange
// (fromArchived/toArchived {archivedAt, reason}) and the interview events
// (interviewId); check them against a real delivery.
package lever
