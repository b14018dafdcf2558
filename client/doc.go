// Package client is the Go SDK of hirehook's API: producers send events
// (one or a batch, with idempotency), admins manage endpoints, secrets, API
// keys and tenants, and anyone with a key reads events, records and
// deliveries, and replays them.
//
//	// The hub's address and key, as the hirehook CLI reads them
//	// (e.g. HIREHOOK_URL=http://127.0.0.1:8080).
//	c, err := client.New(os.Getenv("HIREHOOK_URL"), os.Getenv("HIREHOOK_API_KEY"))
//	acc, err := c.SendEvent(ctx, hirehook.EventInput{Type: "placement.confirmed", Data: data},
//		client.SendOption{IdempotencyKey: "bullhorn:placement:1001:confirmed"})
//
// Every method takes a context and does one HTTP request (the All…
// iterators one per page). A failed call returns an *APIError that wraps the
// hub's *hirehook.Error, so hirehook.ErrorCode, hirehook.ErrorField and
// errors.As work as they do inside the hub:
//
//	if hirehook.ErrorCode(err) == hirehook.EINVALID {
//		log.Printf("fix %s: %s", hirehook.ErrorField(err), hirehook.ErrorMessage(err))
//	}
//
// Network failures are returned wrapped ("hirehook: POST /v1/events: …"), so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, &netErr) work;
// Retryable tells whether sending again may help.
//
// An endpoint is a webhook URL or a broker (Kafka, RabbitMQ, NATS
// JetStream, Google Cloud Pub/Sub): EndpointCreateParams.Kind, Config and
// Credentials, with the fields DestinationKinds lists. Credentials are
// write-only: endpoints as read carry their names, each with
// hirehook.Masked.
//
// Typed catalog entities (Placement, Candidate, ...) and the event type names
// are in package client/entity; the receiver side (signature verification of
// webhooks and of broker messages, deduplication, a typed http.Handler) is
// package client/receiver.
//
// The package imports only the standard library and the root hirehook
// package, so it adds nothing to a producer's module graph.
package client
