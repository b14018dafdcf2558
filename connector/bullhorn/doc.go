// Package bullhorn is hirehook's Bullhorn connector. Bullhorn pushes no
// webhooks: its REST API keeps an event subscription that a client polls.
// This package turns that feed into catalog events.
//
//   - Client speaks Bullhorn's API: OAuth 2 (authorize with action=Login,
//     the code and refresh_token grants, refresh before expiry), the REST
//     login that returns BhRestToken and restUrl (following the redirect to
//     the corporation's data centre), a new login on 401, event
//     subscriptions and entity GETs.
//   - Mapper hydrates events, which carry only an entity name, id, change
//     type and updatedProperties, by fetching the records (ids batched) and
//     the records they point at, and maps them onto the catalog, with status
//     vocabularies configurable per source.
//   - Poller reads the subscription continuously and hands events to an
//     EmitFunc, keeping its place in a Checkpoint so that a crash loses
//     nothing (Bullhorn deletes events as it returns them).
//
// The mapping, per Bullhorn entity and change:
//
//	Placement      DELETED or isDeleted → placement.deleted;
//	               INSERTED → placement.created (+ placement.confirmed when it is
//	               already in a confirmed status); UPDATED with the status now in
//	               ConfirmedStatuses → placement.confirmed, in EndedStatuses →
//	               placement.ended, else placement.updated. Candidate, job and
//	               client are embedded as summaries.
//	JobSubmission  INSERTED → application.created (kind application for a web
//	               response, else submission); a status change →
//	               application.stage_changed with stage and previous_stage
//	               (from LastState, as Bullhorn sends no old values); other
//	               changes → application.updated; DELETED or isDeleted →
//	               application.deleted.
//	JobOrder       INSERTED → job.created (+ job.posted if public); isOpen →
//	               job.opened/job.closed; isPublic → job.posted/job.unposted;
//	               other fields → job.updated; DELETED or isDeleted → job.deleted.
//	Candidate      candidate.created/updated; DELETED or isDeleted → candidate.deleted.
//	Appointment    of an interview type only: INSERTED → interview.scheduled;
//	               date or location change → interview.rescheduled; other
//	               changes → interview.updated; DELETED or isDeleted →
//	               interview.cancelled.
//	ClientCorporation, ClientContact  client.*, contact.* (created, updated,
//	               and deleted on DELETED or isDeleted).
//
// The catalog has no type for Sendout, so its events are counted as skipped.
//
// Records are hydrated as they are when the batch is read, so several
// changes to one record in one batch all see its latest state; the mapper
// tracks statuses through the batch so that a status change is reported
// once (from the last status it knew, to the current one).
//
// Every event has Source "bullhorn", an id derived from the Bullhorn event
// id (so re-emitting is idempotent at ingest), OccurredAt from Bullhorn's
// eventTimestamp, external_refs naming the Bullhorn id, and Changes for the
// status changes it derived a type from.
//
// Signed, and deduplicated: nothing is pushed, so nothing is signed and
// there is no request anyone else could replay. The hub reads the
// subscription itself, over TLS, with its own OAuth session (BhRestToken),
// from the restUrl Bullhorn's login returned. The dedupe key is Bullhorn's
// eventId: each event's id derives from it (with the source and type), so a
// batch read again (a crash before the checkpoint, a requestId re-read)
// is accepted once by ingest.
//
// Package bullhornsim holds a simulator of Bullhorn that the tests run
// against over real HTTP.
package bullhorn
