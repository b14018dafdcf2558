// Package catalog is hirehook's vocabulary: the recruiting event types that
// producers send and endpoints subscribe to, each with the JSON Schema (draft
// 2020-12) of its data, and the validation that ingest runs on every event.
//
// # Event types and entities
//
// A type is named "<noun>.<past-tense verb>" ("candidate.created",
// "application.stage_changed", "placement.confirmed"). Every type carries one
// entity as its data, and all the types of one entity share that entity's
// schema. The entities are:
//
//	candidate    a person who may be placed
//	job          a requisition or a client's job order
//	job_posting  an advertisement of a job (types job.posted, job.posting_updated, job.unposted)
//	application  a candidate in a job's pipeline, including an agency's submission to a client
//	interview    a meeting in which a candidate is assessed
//	offer        the terms offered to a candidate
//	placement    a candidate placed in a job: a permanent hire or a contract or temp assignment
//	client       a company an agency recruits for
//	contact      a person at a client company
//	endpoint     one of the hub's webhook endpoints (operational: endpoint.disabled,
//	             endpoint.tested)
//	delivery     the hub's delivery of an event to an endpoint (operational:
//	             delivery.failing, delivery.exhausted, delivery.recovered)
//
// The operational types are not sent by producers: the hub emits them
// itself, with source "hirehook", when it disables an endpoint or a
// delivery starts failing, fails for good or recovers, and when an operator
// presses "Send test event" on an endpoint's dashboard page
// (endpoint.tested: a dedicated type, so that testing one endpoint never
// sends a made-up candidate or placement to the others, nor touches
// a recruiting record). They are delivered
// like any other event, so an endpoint subscribed to "delivery.*" gets them.
//
// Every recruiting entity also has a snapshot type, "<entity>.snapshot"
// ("candidate.snapshot", "job_posting.snapshot"): the current record of the
// entity, which a backfill sends to one endpoint so that a newly connected
// system does not start from an empty state. Like the operational types
// they are hub-only (HubOnly): producers may not send them, and a snapshot
// never changes a record.
//
// Note that a type's prefix is not always its entity: the job posting types
// start with "job." but carry a job_posting. Use EventType.Entity, never the
// prefix, as the kind of an event's subject.
//
// # Schemas
//
// The schemas live in schemas/<entity>.json and are embedded in the binary.
// They are written for data that comes from many ATSs at once, so they are
// strict where consumers depend on a shape and lenient elsewhere:
//
//   - Only "id" (a string of 1 to 128 characters) is required. Deleted and
//     anonymized entities may carry nothing else.
//   - Every object allows properties the schema does not list: ATSs carry
//     custom fields, and "custom_fields" holds them by name.
//   - An optional property may be null, meaning unknown or cleared.
//   - Emails must be valid addresses, dates are YYYY-MM-DD, instants are
//     RFC 3339 with an offset, and money is {amount, currency, unit?} with an
//     upper-case ISO 4217 currency and a unit of hour, day, week, month or
//     year. Format assertion is on, so a malformed email fails validation.
//   - Summaries of related entities ({candidate, job, client, contact}) require
//     their id; ids of related entities are also accepted flat (candidate_id).
//   - Statuses are free strings whose documented values are the canonical
//     ones, because ATSs let customers define their own; employment_type,
//     kind, stage.category and money.unit are closed enums.
//
// A schema's "examples" holds one realistic payload, which the tests validate.
//
// # Personal data
//
// Candidates and contacts are people. PersonalPaths lists, for each entity,
// the fields of its data that are personal data: the person's own fields
// (name, email, phone, location, address, date of birth, ...) when the
// entity is a person, the embedded person's (candidate.email,
// contact.phone) when it is an application, interview, offer or placement.
// Routing's "personal_data" redaction removes them. A test holds the list
// of embedding properties to the schemas.
//
// # Validation
//
// Default returns the embedded catalog, compiled once when the package is
// initialised. Catalog.Validate checks data against the compiled schema; it
// is safe for concurrent use and cheap enough to run for every ingested
// event. Valid data takes a fast path that reads its bytes once, without
// decoding it into maps (fast.go, scan.go); data the fast path cannot vouch
// for is decoded and checked by the JSON Schema library, which decides and
// words the failure. A failure is a *hirehook.Error with code EINVALID
// whose Field names the offending property as a dotted path
// ("data.candidate.email", "data.pay_rate.amount", "data.interviewers[2].email")
// and whose Message is short and safe to show to the producer ("must be a
// valid email address", "is required").
package catalog
