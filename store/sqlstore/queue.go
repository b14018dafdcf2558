package sqlstore

// Queue holds the rules of the queues outside their hot statements,
// written once for both dialects: the inbound request log (inbound.go),
// the deliveries outside their claim and completion (delivery.go) and the
// dashboard's figures (stats.go). Its methods are hirehook.Store's; a
// dialect package embeds the *Queue that NewQueue makes, so that they are
// its Store's. The claim and the completion of deliveries stay the
// dialect's (see delivery.go).
//
// Reads outside a transaction go to Dialect.Reader; writes to Dialect.DB
// or through Dialect.WriteTx, whose fn may run more than once (results are
// built afresh in it).
type Queue struct {
	d *Dialect
}

// NewQueue returns the rules over d.
func NewQueue(d *Dialect) *Queue { return &Queue{d: d} }
