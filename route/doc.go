// Package route decides, per endpoint, whether an event is delivered and
// with which body: content filters, jq transforms, thin payloads and
// redaction. Each downstream system wants a different slice of the same
// event; a route is how an endpoint says which.
//
// A Spec is what an endpoint's owner writes:
//
//	{"filter":    ".type == \"placement.confirmed\" and .data.client.id == \"acme\"",
//	 "transform": "{employee: {given_name: .data.candidate.first_name}, start_date: .data.start_date}",
//	 "payload":   "full",
//	 "redact":    [".data.pay_rate", "personal_data"]}
//
// Compile checks it and compiles the jq expressions once (with gojq); the
// resulting Route is immutable, safe for concurrent use and runs on every
// event without parsing anything again. A zero Spec delivers every event
// unchanged, at no cost. To route one event to many endpoints, decode it
// once with ParseEnvelope and call ApplyEnvelope for each route; most of
// a route's cost is that decoding.
//
// # Order
//
// Route.Apply takes the envelope the hub renders at ingest
// (hirehook.WebhookPayload: id, type, timestamp, source, subject, data,
// changes) and runs, in this order:
//
//  1. Redact. Each path is removed from the envelope, and what "changes"
//     says about it goes too: redacting .data.candidate.email drops the
//     change "candidate.email" and the email inside a change of
//     "candidate". The preset "personal_data" removes the catalog's personal
//     fields of the event's entity (catalog.PersonalPaths): the person's
//     fields when the subject is a candidate or contact (.data.email), the
//     embedded person's otherwise (.data.candidate.email,
//     .data.contact.phone). Redaction comes first so that nothing after it,
//     the filter, the transform, a Reason, can read what was removed.
//
//  2. Filter. The event is delivered only if the filter yields exactly one
//     value and it is true. false, no value, several values, a value that
//     is not a boolean, an error or running out of steps all mean "not
//     delivered", with a Reason. A filter never fails a delivery: an event
//     it cannot judge is not sent (fail closed).
//
//  3. Thin. With payload "thin" the body becomes the thin body below:
//     the envelope's id, type, timestamp, source and subject, and
//     record_url; data and changes are left out.
//
//  4. Transform. Its single output, encoded as JSON, becomes the body (and
//     is what the dispatcher signs). The transform sees the redacted, and
//     if thin the thin, envelope. No value, several values, an error, an
//     output over Options.MaxOutput or running out of steps give a Result
//     with Failed set: a configuration error that retrying cannot fix, so
//     the dispatcher fails the delivery at once, to be replayed after the
//     fix.
//
// The thin body keeps the field names of the full envelope, so a receiver
// handles both modes with one decoder, and adds record_url, where it
// fetches the record (the subject's latest snapshot):
//
//	{"id": "evt_01JQ7Z5W8K2M", "type": "candidate.updated",
//	 "timestamp": "2026-03-20T09:12:44Z", "source": "bullhorn",
//	 "subject": {"entity": "candidate", "id": "cand_1"},
//	 "record_url": "/v1/records/candidate/cand_1"}
//
// record_url is a path on the hub unless Options.RecordBaseURL makes it
// absolute, and is left out when the subject has no entity or id; source is
// left out when the event has none.
//
// When nothing was redacted, the payload is full and there is no transform,
// the body is the envelope's own bytes. Otherwise the body is re-encoded:
// object keys sorted, numbers exactly as they were written.
//
// # Bounds
//
// A bad expression (`def f: f; f`, `range(1e9)`, `[range(1e7)]`) cannot
// stall a worker. One event's evaluation, filter and transform together,
// may run Options.MaxSteps gojq instructions (DefaultMaxSteps, a million;
// real routes run tens to thousands). The count is taken through the
// context gojq checks at every instruction (RunWithContext), so it gives
// the same answer whatever the machine's load: running out of steps is a
// Result (not delivered; Failed for a transform), held against the route.
// Options.Timeout (DefaultTimeout, 1s) bounds the wall-clock time as a
// backstop, for builtins that run long in one step and for a starved
// machine; running out of time is not the route's fault, so Apply returns
// ErrTimeout and the delivery is retried. Apply also returns an error,
// to retry later, when the caller's own context ends.
//
// The transform's output is bounded by Options.MaxOutput
// (DefaultMaxOutput, 1 MiB), checked while encoding, so a value that shares
// one string a million times is refused without being written out.
//
// Memory is bounded only through steps: gojq has no allocation limit. The
// worst runaway recursion allocates about 70 MB in a million steps, and
// one step can allocate a lot: `"x" * 1e9` builds a 1 GB string (gojq
// refuses 2 GB and more).
//
// Expressions see the event and nothing else: $ENV and env are empty (the
// hub's environment holds secrets), and input, inputs, modules and debug are
// not available.
package route
