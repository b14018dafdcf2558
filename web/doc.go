// Package web serves hirehook's dashboard: server-rendered pages for the
// people who run an agency's integrations, at /.
//
//   - Integrations (/): every endpoint with its health (healthy, degraded,
//     failing, disabled), success rate and p50/p99 latency over the last
//     hour, backlog, last success, and a chart of attempts per minute;
//     below them every source with its health.
//   - Coverage (/coverage): event types × endpoints; types nobody
//     receives stand out.
//   - Sources (/sources, /sources/{id}): every inbound source with its
//     health, never its secrets. A polled source (Bullhorn) shows its
//     polls, counters, last error, lag and node; a push source (the kinds
//     in Config.PushKinds) its ingest URL and its request log's sums, and
//     on its page the latest requests by status, each request's headers
//     and body (/sources/{id}/requests/{request_id}), and a Reprocess form
//     (POST /sources/{id}/reprocess, admin) that makes requests of a
//     window due again and wakes the inbound worker (InboundChanged).
//   - Events (/events, /events/{id}): the event explorer, every delivery
//     and attempt of an event, and a Replay button per delivery.
//   - Endpoints (/endpoints/new, /endpoints/{id}): create and edit,
//     rotate the signing secret, recover failed deliveries, and try the
//     form's route on an event (POST /endpoints/try-route,
//     /endpoints/{id}/try-route: route.Try, as the API's test-route; a
//     page rendered, nothing saved or sent). The destination is a webhook
//     URL or a broker kind of hirehook.DestinationKinds, whose config and
//     credentials fields the form generates from the kinds (a block per
//     kind, the chosen one's read; CSS hides the others where the
//     browser has :has()). Credentials are write-only: password inputs,
//     an empty one keeps the saved value on edit, and no page shows a
//     value, only the names. The endpoint page shows the kind, the
//     destination line, and its latest failed attempt with its class
//     (auth, rejected, connection, …) until an attempt succeeds.
//
// People sign in with an API key (POST /signin). The key is never stored:
// the session (in memory, with an expiry) keeps its hash and looks the key
// up on every request, so a revoked or expired key ends its sessions at
// once. Tenancy and scopes are the API's: a session sees only its key's
// tenant (another tenant's objects are 404), a viewer key reads and an
// admin key may also change things. Every form carries the session's CSRF
// token (checked in constant time), and cross-origin POSTs are refused
// before that (net/http's CrossOriginProtection).
//
// Templates are parsed from the embedded templates/ at New, a layout plus
// one template per page (and the partials a page names in pagePartials);
// the stylesheet is embedded static/. Every page works without JavaScript;
// the one script, static/endpointform.js, makes the endpoint form's "Try
// the route" box follow what is typed, by posting the form to the same
// try-route handler its button posts to. Forms follow POST → redirect → GET; a form with errors is
// rendered again with the errors next to their fields (422). Trying a route
// is the exception: it changes nothing, so its answer is the page itself.
package web
