package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// The OpenAPI document is built from three sources, so that it cannot drift
// far from the code:
//
//   - the route table (RouteTable): every operation's method, path and scope;
//   - operations, below: what each operation takes and answers, as the
//     handlers do it (a test sends every API test's requests and answers
//     through a validator of the document, so a wrong shape fails a test);
//   - the catalog: the JSON Schema of each entity becomes the schema of
//     `data` in EventInput and in the webhooks, so a new event type or field
//     shows up in the document without an edit here.
//
// It is built once, on the first GET /v1/openapi.json.

// openAPIVersion is the OpenAPI version the document follows. 3.1 because
// its schemas are JSON Schema 2020-12, the dialect of the catalog.
const openAPIVersion = "3.1.0"

// m is a JSON object of the document; encoding/json sorts its keys, so the
// document is the same bytes every time.
type m = map[string]any

// opSpec documents one operation of the route table.
type opSpec struct {
	id, tag, summary, description string
	// query lists the names of the query parameters (components/parameters).
	query []string
	// header lists request header parameters (components/parameters).
	header []string
	// body is the component schema of the request body, "" for none.
	body string
	// optionalBody says the body may be left out.
	optionalBody bool
	// status and result are the success answer: its status and component
	// schema ("" for no content). location adds a Location header.
	status   int
	result   string
	location bool
	// errs lists the error statuses beyond those every operation has
	// (401, 403, 429, 500, 503), those of a path with an id (404) and
	// those of a body (413, 422).
	errs []int
}

// operations documents every route of RouteTable, by "METHOD pattern".
var operations = map[string]opSpec{
	"GET /v1/event-types": {id: "listEventTypes", tag: "Catalog", summary: "List the event types of the catalog",
		description: "Every event type hirehook accepts, sorted by name. The JSON Schema of each type's `data` is left out unless `include_schemas=true`.",
		query:       []string{"IncludeSchemas"}, status: 200, result: "EventTypeList"},
	"GET /v1/event-types/{name}": {id: "getEventType", tag: "Catalog", summary: "Get one event type with its JSON Schema",
		status: 200, result: "EventType"},
	"GET /v1/destination-kinds": {id: "listDestinationKinds", tag: "Endpoints", summary: "List the destination kinds an endpoint may have, with their config and credentials fields",
		description: "`http` is a webhook to the endpoint's `url`; `kafka`, `rabbitmq`, `nats` (JetStream) and `gcp_pubsub` publish the same signed message to a broker, configured by `config` and `credentials`.",
		status:      200, result: "DestinationKindList"},

	"POST /v1/events": {id: "sendEvent", tag: "Events", summary: "Send one event",
		description: "Validates the event against its type's schema and answers 202 once the event, its record snapshot and one delivery per subscribed endpoint are committed. " +
			"A repeated event `id` or `Idempotency-Key` is accepted once: the repeat answers as the first time, with `duplicate: true`.",
		header: []string{"IdempotencyKey"}, body: "EventInput", status: 202, result: "EventAccepted"},
	"POST /v1/events/batch": {id: "sendEventBatch", tag: "Events", summary: "Send up to 1000 events at once",
		description: "All or nothing: if any event is invalid, the error names it (`events[3].data.id`) and nothing is stored. " +
			"With an `Idempotency-Key`, event i uses the key `<key>:<i>`, so the same batch sent again answers as the first time.",
		header: []string{"IdempotencyKey"}, body: "EventBatch", status: 202, result: "EventBatchAccepted"},
	"GET /v1/events": {id: "listEvents", tag: "Events", summary: "List events in the order they were received",
		query: []string{"After", "Limit", "EventType", "SubjectID", "Entity", "Source", "ReceivedAfter", "ReceivedBefore"}, status: 200, result: "EventList", errs: []int{422}},
	"GET /v1/events/{id}": {id: "getEvent", tag: "Events", summary: "Get an event and its deliveries",
		status: 200, result: "EventWithDeliveries"},

	"GET /v1/records/{entity}/{id}": {id: "getRecord", tag: "Records", summary: "Get the current snapshot of an entity",
		description: "Each event's `data` is applied to its subject's snapshot as a JSON Merge Patch (RFC 7396).",
		status:      200, result: "Record"},
	"GET /v1/records/{entity}/{id}/events": {id: "listRecordEvents", tag: "Records", summary: "List the events about an entity",
		query: []string{"After", "Limit"}, status: 200, result: "EventList", errs: []int{422}},
	"POST /v1/records/candidate/{id}/erase": {id: "eraseCandidate", tag: "Records", summary: "Erase a candidate's personal data",
		description: "Removes the person from the tenant's events, records and attempt excerpts in one transaction, then emits `candidate.anonymized` so that subscribers erase them too.",
		status:      200, result: "CandidateErased", errs: []int{422}},

	"POST /v1/endpoints": {id: "createEndpoint", tag: "Endpoints", summary: "Subscribe an endpoint",
		description: "The answer carries the endpoint's signing secret (`whsec_…`) or, with `\"signing\": \"ed25519\"`, its public key (`whpk_…`); the private key never leaves the hub.",
		body:        "EndpointCreate", status: 201, result: "EndpointWithSecret", location: true},
	"GET /v1/endpoints": {id: "listEndpoints", tag: "Endpoints", summary: "List endpoints",
		query: []string{"After", "Limit"}, status: 200, result: "EndpointList", errs: []int{422}},
	"GET /v1/endpoints/{id}": {id: "getEndpoint", tag: "Endpoints", summary: "Get an endpoint (without its secrets)",
		status: 200, result: "Endpoint"},
	"PATCH /v1/endpoints/{id}": {id: "updateEndpoint", tag: "Endpoints", summary: "Change an endpoint",
		description: "Fields left out are unchanged. `{\"disabled\": false}` re-enables an endpoint the hub disabled.",
		body:        "EndpointUpdate", status: 200, result: "Endpoint"},
	"DELETE /v1/endpoints/{id}": {id: "deleteEndpoint", tag: "Endpoints", summary: "Delete an endpoint; its unsent deliveries are cancelled",
		status: 204},
	"GET /v1/endpoints/{id}/secret": {id: "getEndpointSecret", tag: "Endpoints", summary: "Get an endpoint's signing secrets",
		description: "For an ed25519 endpoint, its public keys (`whpk_…`).",
		status:      200, result: "EndpointSecret"},
	"POST /v1/endpoints/{id}/rotate-secret": {id: "rotateEndpointSecret", tag: "Endpoints", summary: "Rotate an endpoint's signing secret",
		description: "The new secret (key of the same scheme) signs at once; the previous ones keep signing beside it for the grace, 24 hours unless the optional body says otherwise.",
		body:        "RotateInput", optionalBody: true, status: 200, result: "EndpointWithSecret"},
	"POST /v1/endpoints/test-route": {id: "testRoute", tag: "Endpoints", summary: "Try a route (filter, transform, payload, redact) on an event",
		description: "Runs the route on the event, an envelope as webhooks carry it or a stored event (`event_id`), and answers whether an endpoint with this route would get it and the exact body it would be sent. Nothing is saved or sent. " +
			"A jq syntax error is a 422 naming the field and the position.",
		body: "TestRouteInput", status: 200, result: "TestRouteResult", errs: []int{404}},
	"POST /v1/endpoints/{id}/recover": {id: "recoverEndpoint", tag: "Endpoints", summary: "Send an endpoint's failed deliveries again",
		description: "Makes the endpoint's failed deliveries of events received in [since, until) due again.",
		body:        "RecoverInput", status: 202, result: "RecoverAccepted"},
	"POST /v1/endpoints/{id}/test": {id: "testEndpoint", tag: "Endpoints", summary: "Send a test event to one endpoint, whatever it subscribes to",
		description: "Sends an `endpoint.tested` event about the endpoint (its id, URL without query, description) to this endpoint only: not to the other endpoints that subscribe to `endpoint.tested`, and whatever this one's event types and filter. " +
			"It is signed, delivered, retried and logged like any event, with the endpoint's transform and payload mode, so the receiver can check that it gets webhooks and verifies their signature; it carries no recruiting data and changes no record. " +
			"Answers 202 once the event and its delivery are committed, with the event's id and a link to follow the delivery; 409 if the endpoint is disabled (nothing is sent).",
		status: 202, result: "EndpointTestSent", errs: []int{409}},
	"POST /v1/endpoints/{id}/backfill": {id: "backfillEndpoint", tag: "Endpoints", summary: "Send an endpoint the current record of every matching entity",
		description: "Starts a backfill: the current record of each entity listed, in id order, goes to this endpoint only as a `<entity>.snapshot` event, at most `rate_per_second` records a second. " +
			"Only the backfill's `filter` selects records (not the endpoint's filter); the endpoint's redaction, transform and payload mode apply. Records are not changed. " +
			"The backfill survives restarts, resuming after the last record sent; follow it with GET /v1/backfills/{id}.",
		body: "BackfillInput", status: 202, result: "Backfill"},
	"GET /v1/endpoints/{id}/backfills": {id: "listEndpointBackfills", tag: "Endpoints", summary: "List an endpoint's backfills, newest first",
		status: 200, result: "BackfillList"},
	"GET /v1/backfills/{id}": {id: "getBackfill", tag: "Endpoints", summary: "Get a backfill and its progress",
		status: 200, result: "Backfill"},
	"POST /v1/backfills/{id}/cancel": {id: "cancelBackfill", tag: "Endpoints", summary: "Stop a running backfill; what it sent stays sent",
		status: 200, result: "Backfill", errs: []int{409}},

	"POST /v1/sources": {id: "createSource", tag: "Sources", summary: "Connect a source (an ATS whose events the hub reads)",
		description: "The hub starts reading the source at once when it is enabled. Secrets in `config` are write-only: never returned, never logged.",
		body:        "SourceCreate", status: 201, result: "Source", location: true},
	"GET /v1/sources": {id: "listSources", tag: "Sources", summary: "List sources with their health",
		query: []string{"After", "Limit"}, status: 200, result: "SourceList", errs: []int{422}},
	"GET /v1/sources/{id}": {id: "getSource", tag: "Sources", summary: "Get a source and its health (without its secrets)",
		status: 200, result: "Source"},
	"PATCH /v1/sources/{id}": {id: "updateSource", tag: "Sources", summary: "Change a source; the hub restarts it",
		body: "SourceUpdate", status: 200, result: "Source"},
	"DELETE /v1/sources/{id}": {id: "deleteSource", tag: "Sources", summary: "Delete a source; the events it emitted stay",
		status: 204},
	"GET /v1/sources/{id}/requests": {id: "listSourceRequests", tag: "Sources", summary: "List the webhooks a push source received, newest first",
		description: "The raw request log of a push source: every request to its `ingest_url`, verified or not, with what it became. Bodies are left out here; get one request for its body. Kept for the tenant's retention.",
		query:       []string{"After", "Limit", "RequestStatus"}, status: 200, result: "InboundRequestList", errs: []int{422}},
	"GET /v1/sources/{id}/requests/{request_id}": {id: "getSourceRequest", tag: "Sources", summary: "Get one received webhook with its raw body",
		status: 200, result: "InboundRequestDetail"},
	"POST /v1/sources/{id}/reprocess": {id: "reprocessSource", tag: "Sources", summary: "Normalise a window of received webhooks again",
		description: "After a mapping was fixed (or one was added for an unsupported vendor event), makes the source's processed, unsupported and failed requests received in [from, to) due again; the hub's worker normalises them anew within seconds. Events already emitted keep their ids, so they are not sent twice; events the new mapping adds are.",
		body:        "ReprocessInput", status: 202, result: "ReprocessResult", errs: []int{422}},

	"GET /v1/deliveries": {id: "listDeliveries", tag: "Deliveries", summary: "List deliveries, newest first",
		query: []string{"After", "Limit", "EndpointID", "EventID", "State"}, status: 200, result: "DeliveryList", errs: []int{422}},
	"GET /v1/deliveries/{id}": {id: "getDelivery", tag: "Deliveries", summary: "Get a delivery and every attempt",
		status: 200, result: "DeliveryWithAttempts"},
	"POST /v1/deliveries/{id}/retry": {id: "retryDelivery", tag: "Deliveries", summary: "Send a delivery again now",
		description: "Whatever its state: a delivered one is sent again (a replay). A purged event cannot be sent again (422).",
		status:      202, result: "Delivery", errs: []int{422}},

	"POST /v1/api-keys": {id: "createAPIKey", tag: "API keys", summary: "Create an API key",
		description: "The answer is the only time the key is shown.",
		body:        "APIKeyInput", status: 201, result: "APIKeyCreated"},
	"GET /v1/api-keys": {id: "listAPIKeys", tag: "API keys", summary: "List the tenant's API keys (never the keys themselves)",
		status: 200, result: "APIKeyList"},
	"DELETE /v1/api-keys/{id}": {id: "revokeAPIKey", tag: "API keys", summary: "Revoke an API key",
		status: 204},

	"GET /v1/audit-log": {id: "listAuditLog", tag: "Audit log", summary: "List the tenant's audit log, newest first",
		query: []string{"After", "Limit"}, status: 200, result: "AuditEntryList", errs: []int{422}},

	"POST /v1/tenants": {id: "createTenant", tag: "Tenants", summary: "Create a tenant",
		body: "TenantCreate", status: 201, result: "Tenant", location: true, errs: []int{409}},
	"GET /v1/tenants": {id: "listTenants", tag: "Tenants", summary: "List tenants",
		query: []string{"After", "Limit"}, status: 200, result: "TenantList", errs: []int{422}},
	"GET /v1/tenants/{id}": {id: "getTenant", tag: "Tenants", summary: "Get a tenant",
		status: 200, result: "Tenant"},
	"PATCH /v1/tenants/{id}": {id: "updateTenant", tag: "Tenants", summary: "Change a tenant",
		body: "TenantUpdate", status: 200, result: "Tenant"},
	"DELETE /v1/tenants/{id}": {id: "deleteTenant", tag: "Tenants", summary: "Delete a tenant and everything it owns",
		status: 204, errs: []int{422}},
}

// errorResponses names the component response of each error status.
var errorResponses = map[int]string{
	401: "Unauthorized",
	403: "Forbidden",
	404: "NotFound",
	409: "Conflict",
	413: "TooLarge",
	415: "UnsupportedMediaType",
	422: "Invalid",
	429: "RateLimited",
	500: "Internal",
	503: "Unavailable",
}

// handleOpenAPI serves the OpenAPI document. It needs no key: it describes
// the API, not a tenant's data.
func (h *Handler) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := h.OpenAPI()
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(doc)
}

// buildOpenAPI builds the document. With closed, every object the API
// answers with also says additionalProperties: false, so that a validator
// reports fields the document does not list. The served document leaves
// answers open, so that clients generated from it accept fields added later;
// tests validate against the closed one.
func (h *Handler) buildOpenAPI(closed bool) ([]byte, error) {
	b := &docBuilder{closed: closed, schemas: m{}, cat: h.cfg.Catalog, sourceKinds: slices.Sorted(maps.Keys(h.cfg.SourceKinds))}
	if len(b.sourceKinds) == 0 {
		b.sourceKinds = []string{hirehook.SourceBullhorn}
	}
	if err := b.catalogSchemas(); err != nil {
		return nil, err
	}
	b.apiSchemas()

	paths := m{}
	for _, rt := range h.RouteTable() {
		spec, ok := operations[rt.Method+" "+rt.Pattern]
		if !ok {
			continue // TestOpenAPIRoutes names it
		}
		item, _ := paths[rt.Pattern].(m)
		if item == nil {
			item = m{}
			paths[rt.Pattern] = item
		}
		item[strings.ToLower(rt.Method)] = b.operation(rt, spec)
	}
	paths["/v1/openapi.json"] = m{"get": m{
		"operationId": "getOpenAPI", "tags": []string{"Meta"}, "summary": "This document",
		"security":  []any{},
		"responses": m{"200": m{"description": "The OpenAPI 3.1 document of the API.", "content": m{"application/json": m{"schema": m{"type": "object"}}}}},
	}}
	paths["/in/{source_id}"] = m{"post": m{
		"operationId": "receiveSourceWebhook", "tags": []string{"Sources"}, "summary": "A push source's ingest URL: where its ATS posts webhooks",
		"description": "Authenticated by the vendor's signature over the raw body, not by an API key: Greenhouse `Signature`, Lever's body `signature`, " +
			"Ashby `Ashby-Signature`, Workable `X-Workable-Signature`, SmartRecruiters `smartrecruiters-signature` (and its `X-Hook-Secret` handshake, echoed), " +
			"Teamtailor `TT-Signature`, Standard Webhooks `webhook-signature`, or a configured HMAC header. Answered as the vendor expects " +
			"(SmartRecruiters 202, others 200) once the request is stored.",
		"security":   []any{},
		"parameters": []any{m{"name": "source_id", "in": "path", "required": true, "schema": m{"type": "string"}}},
		"requestBody": m{"required": true, "description": "The vendor's webhook, exactly as it sends it.",
			"content": m{"application/json": m{"schema": m{"type": "object"}}}},
		"responses": m{
			"200": jsonResponse("Stored (and normalised, unless it waits for the vendor's API).", ref("InboundResponse")),
			"202": jsonResponse("The same, for SmartRecruiters.", ref("InboundResponse")),
			"401": m{"$ref": "#/components/responses/Unauthorized"},
			"404": m{"$ref": "#/components/responses/NotFound"},
			"413": m{"$ref": "#/components/responses/TooLarge"},
			"422": m{"description": "Verified and logged as failed, but the body is not what the vendor documents, so it could not be mapped: " +
				"answered non-2xx so that the vendor retries; a retry maps the logged request again.",
				"content": m{"application/json": m{"schema": ref("ErrorBody")}}},
			"503": m{"$ref": "#/components/responses/Unavailable"},
		},
	}}
	paths["/healthz"] = m{"get": m{
		"operationId": "healthz", "tags": []string{"Meta"}, "summary": "Liveness: the process answers",
		"security":  []any{},
		"responses": m{"200": jsonResponse("The hub is running.", ref("Health"))},
	}}
	paths["/readyz"] = m{"get": m{
		"operationId": "readyz", "tags": []string{"Meta"}, "summary": "Readiness: the store answers",
		"security": []any{},
		"responses": m{
			"200": jsonResponse("The hub can serve requests.", ref("Health")),
			"503": m{"$ref": "#/components/responses/Unavailable"},
		},
	}}

	doc := m{
		"openapi":           openAPIVersion,
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": m{
			"title":       "hirehook API",
			"version":     hirehook.Version,
			"description": apiDescription,
		},
		"servers":  []any{m{"url": "/", "description": "The hub that serves this document."}},
		"security": []any{m{"bearer": []string{}}},
		"tags": []any{
			m{"name": "Events", "description": "Events in: what happened in a recruiting system."},
			m{"name": "Records", "description": "The current snapshot of each entity, built from its events."},
			m{"name": "Endpoints", "description": "Subscribers: a URL and the event types it wants."},
			m{"name": "Deliveries", "description": "One event owed to one endpoint, and its attempts."},
			m{"name": "Sources", "description": "Inbound connections: ATSs whose events the hub reads, such as Bullhorn."},
			m{"name": "Catalog", "description": "The event types and their JSON Schemas."},
			m{"name": "API keys"}, m{"name": "Audit log"},
			m{"name": "Tenants", "description": "Operator key only."},
			m{"name": "Meta"},
		},
		"paths":    paths,
		"webhooks": b.webhooks(),
		"components": m{
			"securitySchemes": m{"bearer": m{
				"type": "http", "scheme": "bearer", "bearerFormat": "hh_…",
				"description": "An API key: `Authorization: Bearer hh_…`. Each key has one scope (operator, admin, producer, viewer) and sees only its tenant.",
			}},
			"schemas":    b.schemas,
			"parameters": parameters,
			"responses":  b.errorComponents(),
		},
	}
	if b.err != nil {
		return nil, b.err
	}
	return json.MarshalIndent(doc, "", "  ")
}

const apiDescription = `hirehook takes recruiting events in, keeps them durably, and delivers them as signed webhooks (Standard Webhooks) to every subscribed endpoint.

**Authentication.** Every /v1 route but this document needs ` + "`Authorization: Bearer <API key>`" + `. A key sees only its own tenant: another tenant's objects answer 404. Each operation names the scope it needs in ` + "`x-hirehook-scope`" + ` (operator > admin > producer, viewer; "any" is every scope).

**Errors.** Every error answers ` + "`{\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"?}}`" + `. The code is stable (` + "`invalid`, `too_large`, `not_found`, `conflict`, `unauthorized`, `forbidden`, `rate_limited`, `unavailable`, `internal`" + `); ` + "`field`" + ` names the request field that was wrong as a dotted path (` + "`data.candidate.email`, `events[3].type`" + `).

**Paging.** Lists answer ` + "`{\"data\": [...], \"has_more\", \"next_after\"?}`" + `; pass ` + "`next_after`" + ` as ` + "`?after=`" + ` to get the next page (` + "`limit`" + ` 1–1000, default 100).

**Webhooks.** The ` + "`webhooks`" + ` section describes what hirehook POSTs to endpoints, one entry per event type, with each type's ` + "`data`" + ` schema from the catalog. Each is signed as Standard Webhooks (` + "`webhook-id`, `webhook-timestamp`, `webhook-signature`" + `). Only a 2xx answer counts; anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (±20%), then the delivery is failed and replayable; 410 Gone disables the endpoint.`

// parameters are the shared parameters of the document.
var parameters = m{
	"After": m{"name": "after", "in": "query", "description": "The `next_after` of the previous page.",
		"schema": m{"type": "string"}},
	"Limit": m{"name": "limit", "in": "query", "description": "The most items on the page.",
		"schema": m{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
	"EventType": m{"name": "type", "in": "query", "description": "Only events of this type.",
		"schema": m{"type": "string"}},
	"SubjectID": m{"name": "subject_id", "in": "query", "description": "Only events about the entity with this id.",
		"schema": m{"type": "string"}},
	"Entity": m{"name": "entity", "in": "query", "description": "Only events about entities of this kind (`placement`, `candidate`, ...).",
		"schema": m{"type": "string"}},
	"Source": m{"name": "source", "in": "query", "description": "Only events with this `source` (`hirehook` for the hub's own; empty for events sent without one).",
		"schema": m{"type": "string"}},
	"ReceivedAfter": m{"name": "received_after", "in": "query", "description": "Only events received at or after this time (RFC 3339).",
		"schema": m{"type": "string", "format": "date-time"}},
	"ReceivedBefore": m{"name": "received_before", "in": "query", "description": "Only events received before this time (RFC 3339); with `received_after`, a half-open range.",
		"schema": m{"type": "string", "format": "date-time"}},
	"EndpointID": m{"name": "endpoint_id", "in": "query", "description": "Only deliveries to this endpoint.",
		"schema": m{"type": "string"}},
	"EventID": m{"name": "event_id", "in": "query", "description": "Only deliveries of this event.",
		"schema": m{"type": "string"}},
	"RequestStatus": m{"name": "status", "in": "query", "description": "Only requests in this state.",
		"schema": m{"type": "string", "enum": inboundStates}},
	"State": m{"name": "state", "in": "query", "description": "Only deliveries in this state.",
		"schema": m{"$ref": "#/components/schemas/DeliveryState"}},
	"IncludeSchemas": m{"name": "include_schemas", "in": "query", "description": "Include each type's JSON Schema.",
		"schema": m{"type": "boolean", "default": false}},
	"WebhookID": m{"name": "webhook-id", "in": "header", "required": true,
		"description": "The event id, the same on every retry: deduplicate on it.", "schema": m{"type": "string"}},
	"WebhookTimestamp": m{"name": "webhook-timestamp", "in": "header", "required": true,
		"description": "Unix seconds of this attempt.", "schema": m{"type": "string", "pattern": "^[0-9]+$"}},
	"WebhookSignature": m{"name": "webhook-signature", "in": "header", "required": true,
		"description": "`v1,<base64 HMAC-SHA256(key, id + \".\" + timestamp + \".\" + body)>`, key being the base64-decoded part of the endpoint's `whsec_…` secret, or for an `ed25519` endpoint `v1a,<base64 ed25519 signature of id + \".\" + timestamp + \".\" + body>`, verified with its `whpk_…` public key; during a rotation two, space-separated.",
		"schema":      m{"type": "string"}},
	"IdempotencyKey": m{"name": "Idempotency-Key", "in": "header",
		"description": "A key the producer chooses (at most 256 characters): the same key sent again is accepted once and answered as the first time.",
		"schema":      m{"type": "string", "maxLength": 256}},
}

func ref(name string) m { return m{"$ref": "#/components/schemas/" + name} }

func jsonResponse(desc string, schema m) m {
	return m{"description": desc, "content": m{"application/json": m{"schema": schema}}}
}

// docBuilder collects component schemas.
type docBuilder struct {
	closed  bool
	cat     *catalog.Catalog
	schemas m
	// entities maps each catalog entity to its component schema name.
	entities map[string]string
	// sourceKinds are the kinds of source the hub runs.
	sourceKinds []string
	err         error
}

func (b *docBuilder) add(name string, schema m) {
	if _, dup := b.schemas[name]; dup && b.err == nil {
		b.err = fmt.Errorf("openapi: component schema %q defined twice", name)
	}
	b.schemas[name] = schema
}

// object is a JSON object the API answers with: required lists the fields
// always present.
func (b *docBuilder) object(desc string, props m, required ...string) m {
	o := m{"type": "object", "properties": props}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	if b.closed {
		o["additionalProperties"] = false
	}
	return o
}

// input is a JSON object the API reads: it refuses unknown fields, so the
// document says so.
func input(desc string, props m, required ...string) m {
	o := m{"type": "object", "properties": props, "additionalProperties": false}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str(desc string) m     { return m{"type": "string", "description": desc} }
func integer(desc string) m { return m{"type": "integer", "description": desc} }
func boolean(desc string) m { return m{"type": "boolean", "description": desc} }
func dateTime(desc string) m {
	return m{"type": "string", "format": "date-time", "description": desc}
}
func array(items m, desc string) m { return m{"type": "array", "items": items, "description": desc} }

// with returns a copy of props with more added.
func with(props m, more m) m {
	out := maps.Clone(props)
	maps.Copy(out, more)
	return out
}

func (b *docBuilder) list(name, item string) {
	b.add(name, b.object("A page of a list. Pass next_after as ?after= to get the next one.", m{
		"data":       array(ref(item), ""),
		"has_more":   boolean("Whether there is a next page."),
		"next_after": str("The cursor of the next page; present when has_more is true."),
	}, "data", "has_more"))
}

// apiSchemas adds the schemas of the API's own JSON shapes (api/*.go and
// the root package's types).
func (b *docBuilder) apiSchemas() {
	codes := []string{hirehook.EINVALID, hirehook.ETOOLARGE, hirehook.EUNSUPPORTEDMEDIA, hirehook.EMETHOD, hirehook.ENOTFOUND, hirehook.ECONFLICT, hirehook.EUNAUTHORIZED,
		hirehook.EFORBIDDEN, hirehook.ERATELIMITED, hirehook.EUNAVAILABLE, hirehook.EINTERNAL}
	b.add("ErrorBody", b.object("The body of every error answer.", m{"error": ref("ErrorDetail")}, "error"))
	b.add("ErrorDetail", b.object("", m{
		"code":       m{"type": "string", "enum": codes, "description": "A stable code to match on."},
		"message":    str("What went wrong, for people. Never holds secrets or payloads."),
		"field":      str("The request field that was wrong, as a dotted path: `data.candidate.email`, `events[3].type`, `Idempotency-Key`."),
		"request_id": str("The request's id, to quote in a report."),
	}, "code", "message"))
	b.add("Health", b.object("", m{"status": m{"type": "string", "enum": []string{"ok", "ready"}}}, "status"))

	// Events.
	b.add("Subject", b.object("The entity an event is about.", m{
		"entity": str("The entity's kind: `placement`, `candidate`, ..."),
		"id":     str("The entity's id."),
	}, "entity", "id"))
	b.add("Change", b.object("One field's change.", m{"from": m{"description": "The old value."}, "to": m{"description": "The new value."}}, "from", "to"))
	changes := m{"type": "object", "additionalProperties": ref("Change"),
		"description": "The fields that changed, by name: `{\"status\": {\"from\": \"pending\", \"to\": \"confirmed\"}}`."}
	b.add("EventAccepted", b.object("The answer for one accepted event.", m{
		"id":         str("The event's id: the producer's or a generated `evt_…`."),
		"deliveries": integer("How many deliveries the event made: one per subscribed endpoint."),
		"duplicate":  boolean("True when the event had been accepted before (same id or Idempotency-Key); nothing new was stored."),
	}, "id", "deliveries", "duplicate"))
	b.add("EventBatch", input("", m{
		"events": m{"type": "array", "items": ref("EventInput"), "minItems": 1, "maxItems": 1000},
	}, "events"))
	b.add("EventBatchAccepted", b.object("One answer per event, in order.", m{"data": array(ref("EventAccepted"), "")}, "data"))
	eventProps := m{
		"id":          str("The event's id."),
		"type":        str("The event type, such as `placement.confirmed`."),
		"occurred_at": dateTime("When it happened in the source system."),
		"received_at": dateTime("When the hub accepted it."),
		"source":      str("The producing system."),
		"subject":     ref("Subject"),
		"data": m{"type": []string{"object", "null"},
			"description": "The entity as the catalog schema of the event's type describes it (components/schemas/<Entity>); null once retention purged it."},
		"changes":    changes,
		"derived":    boolean("True when the hub inferred part of the event: a type decided from a stage or status, or a `from` taken from the last state it stored because the vendor sends only the new value."),
		"partial":    boolean("True when `data` holds only what a thin vendor webhook carried (ids and external_refs): the source has no API key to fetch the rest."),
		"deliveries": integer("How many deliveries the event made at ingest."),
		"purged":     boolean("True once retention replaced the payload with this tombstone."),
	}
	eventRequired := []string{"id", "type", "occurred_at", "received_at", "subject", "data", "deliveries", "purged"}
	b.add("Event", b.object("An event as the hub keeps it.", eventProps, eventRequired...))
	b.add("EventWithDeliveries", b.object("An event and what became of it.",
		with(eventProps, m{"delivery_list": array(ref("Delivery"), "The event's deliveries.")}),
		append(slices.Clone(eventRequired), "delivery_list")...))
	b.list("EventList", "Event")
	b.add("Record", b.object("The latest snapshot of one entity.", m{
		"entity":        str("The entity's kind."),
		"id":            str("The entity's id."),
		"version":       integer("How many events built the snapshot."),
		"deleted":       boolean("True after a `*.deleted` event; the record keeps its history."),
		"data":          m{"type": []string{"object", "null"}, "description": "The snapshot: every event's data merged as a JSON Merge Patch."},
		"last_event_id": str("The last event applied."),
		"created_at":    dateTime(""),
		"updated_at":    dateTime(""),
	}, "entity", "id", "version", "deleted", "data", "last_event_id", "created_at", "updated_at"))
	b.add("CandidateErased", b.object("What an erasure touched.", m{
		"events":              integer("Events that held the person's data."),
		"records":             integer("Records that held it."),
		"attempts":            integer("Attempt excerpts cleared."),
		"anonymized_event_id": str("The `candidate.anonymized` event the hub emitted."),
	}, "events", "records", "attempts", "anonymized_event_id"))

	// Catalog.
	b.add("EventType", b.object("One event type of the catalog.", m{
		"name":        str("`<entity>.<verb>`, such as `placement.confirmed`."),
		"entity":      str("The entity the type is about."),
		"description": str("One sentence, for people."),
		"version":     integer("The schema version."),
		"schema":      m{"type": "object", "description": "The JSON Schema (2020-12) of the type's data."},
	}, "name", "entity", "description", "version"))
	b.list("EventTypeList", "EventType")

	// Endpoints.
	endpointProps := m{
		"id":   str("The endpoint's id."),
		"kind": m{"type": "string", "enum": hirehook.DestinationKindNames(), "description": "`http`: webhooks POSTed to `url`. A broker kind publishes the same signed body, with the Standard Webhooks headers as message headers, and counts it delivered once the broker holds it durably."},
		"url":  str("Where webhooks are POSTed; for a broker kind, the destination as one line (set by the hub from `config`)."),
		"config": m{"type": "object", "additionalProperties": m{"type": "string"},
			"description": "A broker kind's settings (GET /v1/destination-kinds lists the fields); absent for `http`."},
		"credentials": m{"type": "object", "additionalProperties": m{"type": "string", "enum": []string{hirehook.Masked}},
			"description": "A broker kind's credentials, by name. Write-only like the signing secret: stored encrypted and shown as `" + hirehook.Masked + "`."},
		"description": str(""),
		"event_types": array(m{"type": "string"}, "Exact types, `entity.*` wildcards, or `*`."),
		"headers": m{"type": "object", "additionalProperties": m{"type": "string", "enum": []string{hirehook.Masked}},
			"description": "The custom headers added to every webhook, by name. Their values are write-only, like the signing secret: stored encrypted and shown to every key as `" + hirehook.Masked + "`."},
		"disabled":        boolean("A disabled endpoint gets no attempts and no new deliveries; its unfinished deliveries are `paused` until it is enabled again."),
		"disabled_reason": str("Why the hub disabled it (a 410 Gone answer, or every attempt failing for 5 days); absent when an operator did or it is enabled."),
		"ordered":         boolean("Each subject's events (one candidate, one application, …) are delivered in ingest order: a delivery waits while an earlier one of the same subject to this endpoint is unfinished. One that fails for good lets the next go."),
		"failing_since":   m{"type": []string{"string", "null"}, "format": "date-time", "description": "When the current run of failed attempts began; null after a success. After 5 days of nothing but failures the hub disables the endpoint."},
		"filter":          str("A jq expression on the event envelope (after `redact`); the endpoint gets the event only when it yields `true`. Evaluated at ingest: a filtered-out event creates no delivery. Empty: every subscribed event."),
		"transform":       str("A jq expression whose output becomes the webhook body (and what is signed). Empty: the envelope. A transform that fails fails the delivery at once with the reason in its attempt (`error_class: transform`)."),
		"payload":         m{"type": "string", "enum": []string{"full", "thin"}, "description": "`full`: the event envelope; `thin`: id, type, timestamp, source, subject and `record_url`, for receivers that fetch the record."},
		"redact":          array(m{"type": "string"}, "Envelope paths (`.data.candidate.email`) and presets (`personal_data`: the catalog's personal fields) removed before the filter, the transform and the send."),
		"signing":         m{"type": "string", "enum": []string{"hmac", "ed25519"}, "description": "The signature scheme: `hmac` (`v1`, `whsec_` secrets) or `ed25519` (`v1a`, receivers verify with the `whpk_` public key)."},
		"created_at":      dateTime(""),
		"updated_at":      dateTime(""),
		"max_concurrency": m{"type": "integer", "minimum": 0, "maximum": 256,
			"description": "The most attempts in flight to this endpoint at once (default 16). 0 only for an endpoint stored without one: the hub's `--endpoint-concurrency` applies."},
		"rate_limit_per_second": m{"type": []string{"number", "null"}, "exclusiveMinimum": 0, "maximum": 10000,
			"description": "The most attempts started per second to this endpoint; null: no limit. A delivery held back by the limit waits, it is not a failed attempt."},
	}
	endpointRequired := []string{"id", "kind", "url", "description", "event_types", "headers", "disabled", "signing", "max_concurrency", "rate_limit_per_second", "ordered", "failing_since", "filter", "transform", "payload", "redact", "created_at", "updated_at"}
	b.add("Endpoint", b.object("A subscriber.", endpointProps, endpointRequired...))
	b.add("EndpointWithSecret", b.object("An endpoint and its signing secret (`hmac`) or public key (`ed25519`).",
		with(endpointProps, m{
			"secret":     str("The signing secret, `whsec_…`; only for `hmac` endpoints."),
			"public_key": str("The public key, `whpk_…`, to verify `v1a` signatures with; only for `ed25519` endpoints."),
		}),
		endpointRequired...))
	b.list("EndpointList", "Endpoint")
	inputProps := m{
		"kind": m{"type": "string", "enum": hirehook.DestinationKindNames(), "default": "http",
			"description": "The destination kind; fixed at creation (an update may only repeat it)."},
		"url": m{"type": "string", "maxLength": 2048, "description": "An absolute http:// or https:// URL without #fragment. Required for kind `http`; refused for a broker kind."},
		"config": m{"type": "object", "additionalProperties": m{"type": "string", "maxLength": hirehook.MaxDestinationValue},
			"description": "A broker kind's settings, e.g. `{\"brokers\": \"kafka-1:9092\", \"topic\": \"placements\"}` (GET /v1/destination-kinds lists each kind's fields). An update replaces the whole object."},
		"credentials": m{"type": "object", "additionalProperties": m{"type": "string", "maxLength": hirehook.MaxDestinationValue},
			"description": "A broker kind's credentials, e.g. `{\"username\": \"hub\", \"password\": \"…\"}`. Write-only. In an update the fields given are set and the others kept: `" + hirehook.Masked + "` keeps a value, `\"\"` removes it."},
		"description": m{"type": "string", "maxLength": 1000},
		"event_types": m{"type": "array", "items": m{"type": "string"}, "minItems": 1, "maxItems": 200,
			"description": "Exact types (`placement.confirmed`), `entity.*` wildcards or `*`; each must match a catalog type."},
		"headers":  m{"type": "object", "additionalProperties": m{"type": "string", "maxLength": 4096}, "maxProperties": 20, "description": "Headers to add to every webhook (replacing the endpoint's); the Standard Webhooks, content and hop-by-hop headers are reserved. Values are write-only: answers show `" + hirehook.Masked + "`, and in a PATCH a value of `" + hirehook.Masked + "` keeps that header's current value, so an endpoint as read may be sent back."},
		"disabled": m{"type": "boolean", "description": "Disabling pauses the endpoint's unfinished deliveries; enabling makes them due at once."},
		"ordered": m{"type": "boolean", "default": false,
			"description": "Deliver each subject's events in ingest order (see Endpoint.ordered). A change applies to deliveries created afterwards."},
		"filter": m{"type": "string", "maxLength": 65536,
			"description": "A jq expression on the event envelope, e.g. `.type == \"placement.confirmed\" and .data.client.id == \"acme\"`; the endpoint gets the event only when it yields `true`. Compiled when saved: a syntax error is a 422 naming the position. Applies to events ingested afterwards. Empty removes it."},
		"transform": m{"type": "string", "maxLength": 65536,
			"description": "A jq expression whose single output becomes the body, e.g. `{start_date: .data.start_date, client_code: .data.client.id}`. Empty removes it."},
		"payload": m{"type": "string", "enum": []string{"full", "thin"}, "default": "full",
			"description": "`thin` sends only type, ids and a link to the record (`record_url`)."},
		"redact": m{"type": "array", "items": m{"type": "string"}, "maxItems": 100,
			"description": "Paths to remove (`.data.candidate.email`, `.data[\"pay_rate\"]`) and presets (`personal_data`)."},
		"signing": m{"type": "string", "enum": []string{"hmac", "ed25519"}, "default": "hmac",
			"description": "`hmac` signs `v1` with a `whsec_` secret; `ed25519` signs `v1a` with a key kept in the hub, the receiver gets the `whpk_` public key. Fixed at creation: an update may only repeat it."},
		"max_concurrency": m{"type": []string{"integer", "null"}, "minimum": 1, "maximum": 256, "default": 16,
			"description": "The most attempts in flight to this endpoint at once, so that a slow endpoint holds at most this many of the hub's connections. Null or absent: 16 at creation, unchanged in an update."},
		"rate_limit_per_second": m{"type": []string{"number", "null"}, "exclusiveMinimum": 0, "maximum": 10000, "default": nil,
			"description": "The most attempts started per second to this endpoint (fractions allowed: 0.5 is one every 2 s). Null: no limit; in an update, null removes the limit and an absent field keeps it. A delivery held back waits: it is not a failed attempt."},
	}
	b.add("EndpointCreate", input("`url` is required for kind `http`, `config` for a broker kind.", inputProps, "event_types"))
	destinationField := b.object("One field of a destination kind's config or credentials.", m{
		"name":     str("The key in `config` or `credentials`."),
		"required": boolean(""),
		"help":     str("What it holds, for people."),
	}, "name", "required", "help")
	b.add("DestinationField", destinationField)
	b.add("DestinationKind", b.object("A kind of destination and its fields.", m{
		"name":        str("`http`, `kafka`, `rabbitmq`, `nats` or `gcp_pubsub`."),
		"title":       str(""),
		"config":      array(ref("DestinationField"), ""),
		"credentials": array(ref("DestinationField"), ""),
	}, "name", "title", "config", "credentials"))
	b.list("DestinationKindList", "DestinationKind")
	b.add("EndpointUpdate", input("Fields left out are unchanged.", inputProps))
	b.add("Secret", b.object("A signing secret still in use.", m{
		"value":      str("`whsec_…`; only for `hmac` endpoints."),
		"public_key": str("`whpk_…`; only for `ed25519` endpoints."),
		"created_at": dateTime(""),
		"expires_at": dateTime("When it stops signing."),
	}, "created_at"))
	b.add("EndpointSecret", b.object("An endpoint's signing secrets, or public keys for an `ed25519` endpoint.", m{
		"secret":     str("The current secret, `whsec_…`; only for `hmac` endpoints."),
		"public_key": str("The current public key, `whpk_…`; only for `ed25519` endpoints."),
		"previous":   array(ref("Secret"), "Older secrets (public keys) that still sign until their expiry."),
	}, "previous"))
	b.add("RotateInput", input("Optional.", m{
		"grace": m{"oneOf": []m{
			{"type": "string", "description": "A Go duration: `24h`, `90m`, `0s`."},
			{"type": "number", "minimum": 0, "maximum": 604800, "description": "Seconds."},
		}, "default": "24h", "description": "How long the previous secrets keep signing beside the new one: 0 to 7 days; 0 stops them at once."},
	}))
	b.add("TestRouteInput", input("A route and an event to try it on: `event` or `event_id`.", m{
		"filter":    m{"type": "string", "description": "As Endpoint.filter."},
		"transform": m{"type": "string", "description": "As Endpoint.transform."},
		"payload":   m{"type": "string", "enum": []string{"full", "thin"}, "default": "full"},
		"redact":    m{"type": "array", "items": m{"type": "string"}, "maxItems": 100},
		"event":     m{"type": "object", "description": "An event envelope as webhooks carry it: `id`, `type`, `timestamp`, `subject`, `data`, `changes`."},
		"event_id":  str("A stored event of the tenant, instead of `event`."),
	}))
	b.add("TestRouteResult", b.object("What an endpoint with the route would get.", m{
		"deliver": boolean("Whether the event would be delivered."),
		"body":    m{"description": "The exact JSON body that would be signed and sent; null when not delivered."},
		"reason":  str("Why the event would not be delivered: the filter's answer, or the transform's error."),
		"failed":  boolean("The delivery would fail for good: the transform failed, yielded no value or too much."),
	}, "deliver", "body", "failed"))
	b.add("RecoverInput", input("", m{
		"since": dateTime("Recover failed deliveries of events received from this time (RFC 3339)."),
		"until": dateTime("... until this time, exclusive; default: now."),
	}, "since"))
	b.add("BackfillInput", input("", m{
		"entities": m{"type": "array", "items": m{"type": "string"}, "minItems": 1,
			"description": "The entities whose records are sent, in this order: `candidate`, `job`, `job_posting`, `application`, `interview`, `offer`, `placement`, `client`, `contact`."},
		"filter": m{"type": "string", "maxLength": 65536,
			"description": "A jq expression on each snapshot's envelope, e.g. `.data.status == \"active\"`; only records for which it yields `true` are sent. A syntax error is a 422 naming the position."},
		"rate_per_second": m{"type": "integer", "minimum": 1, "maximum": hirehook.MaxBackfillRate, "default": hirehook.DefaultBackfillRate,
			"description": "The most records sent a second."},
	}, "entities"))
	b.add("BackfillCursor", b.object("The last record done.", m{"entity": str(""), "id": str("")}))
	b.add("Backfill", b.object("A backfill and its progress.", m{
		"id":              str("The backfill's id, `bf_…`."),
		"endpoint_id":     str("The endpoint it sends to."),
		"entities":        array(m{"type": "string"}, "The entities sent, in order."),
		"filter":          str("The jq filter that selects records."),
		"rate_per_second": integer("The most records sent a second."),
		"state": m{"type": "string", "enum": []string{string(hirehook.BackfillRunning), string(hirehook.BackfillCompleted), string(hirehook.BackfillCancelled), string(hirehook.BackfillFailed)},
			"description": "`running` until every record was sent (`completed`), an operator stopped it (`cancelled`) or it failed (`failed`, see `error`)."},
		"cursor":      ref("BackfillCursor"),
		"scanned":     integer("Records read so far."),
		"sent":        integer("Snapshots queued for the endpoint so far (each one a delivery)."),
		"skipped":     integer("Records the filter left out."),
		"error":       str("Why it failed."),
		"created_at":  dateTime(""),
		"updated_at":  dateTime(""),
		"finished_at": dateTime("When it stopped running."),
	}, "id", "endpoint_id", "entities", "rate_per_second", "state", "cursor", "scanned", "sent", "skipped", "created_at", "updated_at"))
	b.list("BackfillList", "Backfill")
	b.add("RecoverAccepted", b.object("", m{"recovered": integer("How many failed deliveries are due again.")}, "recovered"))
	b.add("EndpointTestSent", b.object("The test event sent to one endpoint.", m{
		"event_id":    str("The test event's id, `evt_…`."),
		"event_type":  str("`endpoint.tested`."),
		"endpoint_id": str("The endpoint tested: the only one the event goes to."),
		"event_url":   str("The path of the event with its delivery, `/v1/events/{id}`: follow the attempt there."),
	}, "event_id", "event_type", "endpoint_id", "event_url"))

	b.sourceSchemas()

	// Deliveries.
	b.add("DeliveryState", m{"type": "string",
		"enum":        []string{"pending", "delivering", "retrying", "paused", "delivered", "failed", "cancelled"},
		"description": "pending → delivering → delivered, or retrying → … → failed; paused while the endpoint is disabled (enabling it resumes); cancelled when the endpoint was deleted."})
	deliveryProps := m{
		"id":               str("The delivery's id."),
		"event_id":         str(""),
		"event_type":       str(""),
		"endpoint_id":      str(""),
		"state":            ref("DeliveryState"),
		"attempts":         integer("Attempts made so far."),
		"next_attempt_at":  dateTime("When it is due next."),
		"last_attempt_at":  dateTime(""),
		"last_status_code": integer("The HTTP status of the last attempt."),
		"last_error":       str("Why the last attempt failed."),
		"last_latency_ms": m{"type": "number", "description": "How long the last attempt took, in milliseconds (decimals are microseconds); absent before the first attempt. " +
			"Lists and GET return it, so a list shows how each delivery went without its attempts."},
		"last_response_excerpt": str("The first 200 bytes of the last attempt's response body (cut at a character); " +
			"the whole stored body is in the attempt's `response_body` (GET /v1/deliveries/{id}). Absent when the body was empty or retention or erasure cleared it."),
		"ordering_key": str("For an ordered endpoint: the subject (`candidate/cand_1`) whose order this delivery keeps."),
		"created_at":   dateTime(""),
		"updated_at":   dateTime(""),
	}
	deliveryRequired := []string{"id", "event_id", "event_type", "endpoint_id", "state", "attempts", "created_at", "updated_at"}
	b.add("Delivery", b.object("One event owed to one endpoint.", deliveryProps, deliveryRequired...))
	b.add("DeliveryWithAttempts", b.object("A delivery and every attempt, oldest first.",
		with(deliveryProps, m{"attempt_list": array(ref("Attempt"), "")}),
		append(slices.Clone(deliveryRequired), "attempt_list")...))
	b.list("DeliveryList", "Delivery")
	b.add("Attempt", b.object("One HTTP try of a delivery.", m{
		"id":            str(""),
		"delivery_id":   str(""),
		"number":        integer("1 for the first attempt."),
		"started_at":    dateTime(""),
		"status_code":   integer("The answer's HTTP status, if any."),
		"response_body": str("The first 4 KiB of the answer; cleared by retention and erasure."),
		"error_class": m{"type": "string", "enum": []string{"timeout", "connection", "dns", "tls", "http_status", "forbidden_dest", "auth", "rejected", "transform", "other"},
			"description": "Why the attempt failed."},
		"error":      str(""),
		"latency_ms": m{"type": "number", "description": "How long the attempt took."},
	}, "id", "delivery_id", "number", "started_at", "latency_ms"))

	// API keys, audit log, tenants.
	scopes := []string{"operator", "admin", "producer", "viewer"}
	keyProps := m{
		"id":           str(""),
		"tenant_id":    str(""),
		"name":         str(""),
		"scope":        m{"type": "string", "enum": scopes},
		"created_at":   dateTime(""),
		"expires_at":   dateTime(""),
		"last_used_at": dateTime("When the key was last used (to a few seconds)."),
	}
	keyRequired := []string{"id", "tenant_id", "name", "scope", "created_at"}
	b.add("APIKey", b.object("An API key, without the key.", keyProps, keyRequired...))
	b.add("APIKeyCreated", b.object("A new key: the only time it is shown.",
		with(keyProps, m{"key": str("The key, `hh_…`.")}), append(slices.Clone(keyRequired), "key")...))
	b.list("APIKeyList", "APIKey")
	b.add("APIKeyInput", input("", m{
		"name":       m{"type": "string", "minLength": 1, "maxLength": 200},
		"scope":      m{"type": "string", "enum": scopes, "description": "operator keys are made only by an operator key, in its own tenant."},
		"expires_at": m{"type": []string{"string", "null"}, "format": "date-time", "description": "In the future; null or absent: never."},
		"tenant_id":  m{"type": "string", "description": "Create the key in another tenant: operator keys only."},
	}, "name", "scope"))
	b.add("AuditEntry", b.object("Who did what, and when.", m{
		"id":        str(""),
		"tenant_id": str(""),
		"at":        dateTime(""),
		"key_id":    str(""),
		"key_name":  str(""),
		"action":    str("A dotted verb: `endpoint.created`, `endpoint.secret_rotated`, `delivery.retried`, `candidate.erased`, ..."),
		"target":    str("The id of the object acted on."),
		"details":   m{"type": "object", "description": "What changed (never secrets or personal data)."},
	}, "id", "tenant_id", "at", "key_id", "key_name", "action", "target"))
	b.list("AuditEntryList", "AuditEntry")
	b.add("Tenant", b.object("An agency: everything the hub stores belongs to one tenant.", m{
		"id":             str(""),
		"name":           str(""),
		"retention_days": integer("How long event payloads and attempt excerpts are kept."),
		"created_at":     dateTime(""),
		"updated_at":     dateTime(""),
	}, "id", "name", "retention_days", "created_at", "updated_at"))
	b.list("TenantList", "Tenant")
	tenantProps := m{
		"name":           m{"type": "string", "minLength": 1, "maxLength": 200},
		"retention_days": m{"type": "integer", "minimum": 1, "maximum": 3650},
	}
	b.add("TenantCreate", input("", with(tenantProps, m{
		"id": m{"type": "string", "pattern": "^[a-z0-9_-]{1,64}$", "description": "Optional; a `tnt_…` id is made. It cannot change."},
	}), "name"))
	b.add("TenantUpdate", input("Fields left out are unchanged.", tenantProps))
}

// errorComponents are the error answers, each an ErrorBody.
func (b *docBuilder) errorComponents() m {
	desc := map[int]string{
		401: "No valid API key (missing, unknown, revoked or expired).",
		403: "The key's scope does not allow this.",
		404: "No such object in the key's tenant (another tenant's objects do not exist for it).",
		409: "The object already exists.",
		413: "The body is larger than the hub's limit.",
		415: "The body is sent as another media type than JSON (Content-Type).",
		422: "The request is malformed or fails validation; `field` names what to fix.",
		429: "The key is over its rate limit; wait Retry-After seconds.",
		500: "A bug or an unexpected failure; quote the request id.",
		503: "The hub is shutting down, or its database cannot take the request now (unreachable, full, read-only, or it did not confirm an event's commit within the ingest deadline); wait Retry-After seconds and send the same request again (an event with the same id or Idempotency-Key is stored once).",
	}
	out := m{}
	for status, name := range errorResponses {
		r := jsonResponse(desc[status], ref("ErrorBody"))
		switch status {
		case 401:
			r["headers"] = m{"WWW-Authenticate": m{"description": "A Bearer challenge.", "schema": m{"type": "string"}}}
		case 429, 503:
			r["headers"] = m{"Retry-After": m{"description": "Seconds to wait.", "schema": m{"type": "integer"}}}
		}
		out[name] = r
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// operation renders one operation.
func (b *docBuilder) operation(rt Route, spec opSpec) m {
	scope := string(rt.Scope)
	if rt.Scope == hirehook.ScopeAny {
		scope = "any"
	}
	desc := spec.description
	if desc != "" {
		desc += "\n\n"
	}
	desc += "Scope: " + scope + "."
	op := m{
		"operationId":      spec.id,
		"tags":             []string{spec.tag},
		"summary":          spec.summary,
		"description":      desc,
		"x-hirehook-scope": scope,
	}

	var params []any
	errs := []int{401, 403, 429, 500, 503}
	for _, p := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
		schema := m{"type": "string"}
		switch p[1] {
		case "entity":
			schema["enum"] = b.cat.Entities()
		case "name":
			var names []string
			for _, t := range b.cat.Types() {
				names = append(names, t.Name)
			}
			schema["enum"] = names
		}
		params = append(params, m{"name": p[1], "in": "path", "required": true, "schema": schema})
		errs = append(errs, 404)
	}
	for _, name := range spec.query {
		params = append(params, m{"$ref": "#/components/parameters/" + name})
		errs = append(errs, 422)
	}
	for _, name := range spec.header {
		params = append(params, m{"$ref": "#/components/parameters/" + name})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if spec.body != "" {
		op["requestBody"] = m{"required": !spec.optionalBody, "content": m{"application/json": m{"schema": ref(spec.body)}}}
		errs = append(errs, 413, 415, 422)
	}

	responses := m{}
	ok := m{"description": http.StatusText(spec.status)}
	if spec.result != "" {
		ok = jsonResponse(http.StatusText(spec.status), ref(spec.result))
	}
	if spec.location {
		ok["headers"] = m{"Location": m{"description": "The new object's path.", "schema": m{"type": "string"}}}
	}
	responses[fmt.Sprint(spec.status)] = ok
	for _, status := range append(errs, spec.errs...) {
		responses[fmt.Sprint(status)] = m{"$ref": "#/components/responses/" + errorResponses[status]}
	}
	op["responses"] = responses
	return op
}

// pascal turns "job_posting" into "JobPosting".
func pascal(s string) string {
	var sb strings.Builder
	for w := range strings.SplitSeq(s, "_") {
		if w != "" {
			sb.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return sb.String()
}

// catalogSchemas adds each catalog entity's JSON Schema as a component
// named after the entity (Placement, JobPosting, ...), its $defs as
// components of their own (Money, User, ...; a def that differs between
// entities gets the entity's name in front), and the entity's event input
// and webhook payload. The $id and $schema of the files go: inside an
// OpenAPI 3.1 document the dialect is jsonSchemaDialect and references are
// rewritten to point at components.
func (b *docBuilder) catalogSchemas() error {
	b.entities = map[string]string{}
	typesOf := map[string][]string{}
	schemaOf := map[string]json.RawMessage{}
	for _, t := range b.cat.Types() {
		typesOf[t.Entity] = append(typesOf[t.Entity], t.Name)
		schemaOf[t.Entity] = t.Schema
	}
	defs := map[string]string{} // component name -> canonical JSON of the def
	var inputs []any
	mapping := m{}
	for _, entity := range b.cat.Entities() {
		var schema m
		if err := json.Unmarshal(schemaOf[entity], &schema); err != nil {
			return fmt.Errorf("openapi: catalog schema %s: %w", entity, err)
		}
		name := pascal(entity)
		if _, taken := apiComponentNames[name]; taken {
			name += "Entity" // the operational endpoint and delivery entities
		}
		b.entities[entity] = name
		rename := map[string]string{}
		canon := map[string]string{}
		entityDefs, _ := schema["$defs"].(map[string]any)
		for _, def := range slices.Sorted(maps.Keys(entityDefs)) {
			c, _ := json.Marshal(entityDefs[def]) // sorted keys: comparable
			canon[def] = string(c)
			comp := pascal(def)
			if prev, ok := defs[comp]; ok && prev != canon[def] {
				comp = name + comp
			}
			rename[def] = comp
		}
		for _, def := range slices.Sorted(maps.Keys(entityDefs)) {
			if _, done := defs[rename[def]]; !done {
				defs[rename[def]] = canon[def]
				b.add(rename[def], rewriteRefs(entityDefs[def], rename).(map[string]any))
			}
		}
		delete(schema, "$defs")
		delete(schema, "$id")
		delete(schema, "$schema")
		b.add(name, rewriteRefs(schema, rename).(map[string]any))

		// The event input of the entity's types: data is the entity.
		types := typesOf[entity]
		b.add(name+"EventInput", input("An event about a "+strings.ReplaceAll(entity, "_", " ")+".", m{
			"id": m{"type": "string", "pattern": "^[A-Za-z0-9_:-]{1,128}$",
				"description": "The producer's id for the event; a repeated id is accepted once. Absent: the hub makes an `evt_…` id."},
			"type":        m{"type": "string", "enum": types},
			"occurred_at": dateTime("When it happened in the source system; absent means now."),
			"source":      m{"type": "string", "maxLength": 128, "description": "The producing system: `bullhorn`, `greenhouse`, ..."},
			"subject": input("Defaults to the type's entity and data.id.", m{
				"entity": m{"type": "string", "enum": []string{entity}},
				"id":     m{"type": "string", "maxLength": 128},
			}, "id"),
			"data": ref(name),
			"changes": m{"type": "object", "additionalProperties": ref("Change"),
				"description": "The fields that changed, by name: `{\"status\": {\"from\": \"pending\", \"to\": \"confirmed\"}}`."},
			"derived": m{"type": "boolean", "description": "The producer inferred part of the event (a type from a status, a `from` from its own state)."},
			"partial": m{"type": "boolean", "description": "`data` is incomplete: only what the producer knew (ids)."},
		}, "type", "data"))
		b.add(name+"Webhook", m{
			"type": "object", "description": "The body of a webhook about a " + strings.ReplaceAll(entity, "_", " ") + ".",
			"properties": m{
				"id":        str("The event id; also the webhook-id header."),
				"type":      m{"type": "string", "enum": types},
				"timestamp": dateTime("When the event occurred (its occurred_at)."),
				"source":    str("The producing system."),
				"subject":   ref("Subject"),
				"data":      ref(name),
				"changes": m{"type": "object", "additionalProperties": ref("Change"),
					"description": "The fields that changed, by name."},
				"derived": m{"type": "boolean", "description": "Present and true when the hub inferred part of the event (see Event.derived)."},
				"partial": m{"type": "boolean", "description": "Present and true when data holds only what a thin vendor webhook carried (see Event.partial)."},
			},
			"required": []string{"id", "type", "timestamp", "subject", "data"},
		})
		inputs = append(inputs, ref(name+"EventInput"))
		for _, t := range types {
			mapping[t] = "#/components/schemas/" + name + "EventInput"
		}
	}
	b.add("EventInput", m{
		"description":   "One event. Its `type` picks the schema of `data`: the catalog's schema of the type's entity.",
		"oneOf":         inputs,
		"discriminator": m{"propertyName": "type", "mapping": mapping},
	})
	return b.err
}

// apiComponentNames are component names of the API's own schemas that a
// catalog entity's name would collide with: the catalog's endpoint and
// delivery entities (operational events) become EndpointEntity and
// DeliveryEntity instead.
var apiComponentNames = map[string]bool{"Endpoint": true, "Delivery": true}

// rewriteRefs returns v with every "#/$defs/x" reference pointing at the
// component rename[x].
func rewriteRefs(v any, rename map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if s, ok := val.(string); ok && k == "$ref" {
				if def, ok := strings.CutPrefix(s, "#/$defs/"); ok && rename[def] != "" {
					val = "#/components/schemas/" + rename[def]
				}
			}
			out[k] = rewriteRefs(val, rename)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = rewriteRefs(val, rename)
		}
		return out
	}
	return v
}

// webhooks describes what the hub POSTs to endpoints: one entry per event
// type (OpenAPI 3.1 "webhooks").
func (b *docBuilder) webhooks() m {
	out := m{}
	for _, t := range b.cat.Types() {
		out[t.Name] = m{"post": m{
			"operationId": "webhook_" + strings.ReplaceAll(t.Name, ".", "_"),
			"summary":     t.Name,
			"description": t.Description,
			"tags":        []string{pascal(t.Entity)},
			"security":    []any{},
			"parameters": []any{
				m{"$ref": "#/components/parameters/WebhookID"},
				m{"$ref": "#/components/parameters/WebhookTimestamp"},
				m{"$ref": "#/components/parameters/WebhookSignature"},
			},
			"requestBody": m{"required": true, "description": "The event envelope, for an endpoint without a route. An endpoint's route changes it: `redact` removes paths, `payload: thin` keeps only id, type, timestamp, source, subject and `record_url`, and a `transform` sends its own output; the signature covers the body as sent.",
				"content": m{"application/json": m{"schema": ref(b.entities[t.Entity] + "Webhook")}}},
			"responses": m{
				"2XX": m{"description": "Received. Any 2xx counts."},
				"410": m{"description": "Gone: the hub disables the endpoint."},
			},
		}}
	}
	return out
}

// openAPICache holds the served document, built on first use.
type openAPICache struct {
	once sync.Once
	doc  []byte
	err  error
}

// OpenAPI returns the OpenAPI 3.1 document of the API, served at
// GET /v1/openapi.json. It is built on first use.
func (h *Handler) OpenAPI() ([]byte, error) {
	h.doc.once.Do(func() { h.doc.doc, h.doc.err = h.buildOpenAPI(false) })
	return h.doc.doc, h.doc.err
}
