// Package ops is hirehook's operations layer: each thing a person can do
// to the hub (connect a source, create an endpoint, rotate its secret,
// retry a delivery, start a backfill, erase a candidate, make an API key
// or a tenant…) exists here once, as one method that runs the same steps
// whichever face asked for it (Sources, Endpoints, Deliveries,
// EndpointTests, Backfills, Erasures, APIKeys, Tenants):
//
//  1. authorise: the actor's key scope allows the operation (the routes
//     of the JSON API and the dashboard check it too; this is the rule
//     both share);
//  2. validate: the input, with errors that are *hirehook.Error naming
//     the field (EINVALID), safe to show. Rules of a domain type are its
//     Validate method in the root package ((*hirehook.Endpoint).Validate,
//     hirehook.EndpointUpdate.Validate, the recover and reprocess windows,
//     (*hirehook.Backfill).Validate, (*hirehook.APIKey).Validate,
//     hirehook.TenantUpdate.Validate);
//     ops adds what needs the hub: the catalog, the jq expressions, the
//     kinds of source, and what needs the actor (who may make an operator
//     key, or act in another tenant);
//  3. store: one atomic Store call, through a small interface that names
//     only the Store methods the operation uses (EndpointStore,
//     DeliveryStore, SourceStore, …);
//  4. notify: wake whatever runs what changed (the dispatcher, the
//     source manager, the inbound worker, the backfill runner, the API's
//     cache of keys);
//  5. audit: one entry in the tenant's audit log, naming the key that
//     acted and, when not the JSON API, the face it used ("via").
//
// The JSON API (package api), the dashboard (package web) and the CLI
// (through the API) call these methods and only decode, call and render
// around them: no face keeps a copy of a rule, so a rule changes in one
// place. Every audit entry is written here: the faces have no audit
// writer of their own. The operations only the JSON API offers today (API
// keys, tenants, candidate erasure, backfills) live here too, so a second
// face calls them as they are.
//
// Imports point one way: ops may import the root package and the domain
// packages below it (catalog, route, …), never api, web, server or cmd,
// which import ops. Connectors are not imported either: the hub hands
// ops each source kind's configuration check (SourceKind), as it hands
// the API the same functions.
package ops
