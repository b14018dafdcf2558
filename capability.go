package hirehook

import "context"

// Capabilities declares what a Store can do beyond the Store methods. A
// field holds the store itself (as that capability's interface) when the
// store has the capability, and is nil when it does not, so a caller asks
// the store (st.Capabilities().Nodes != nil) instead of guessing by type
// assertion. A wrapper around a store (a test's fault injector, say)
// declares what it does: it returns its own Capabilities, not the wrapped
// store's, when it overrides a capability's methods.
// store/storetest.RunCapabilities holds every store to what it declares.
//
// Copying a whole database (`hirehook migrate-store`) is not among them:
// its rows travel in internal/storecopy's form, which the root package may
// not name, and the command opens the two concrete stores by URL, so the
// dialects declare it statically (var _ storecopy.Exporter = (*Store)(nil))
// and store/storetest.RunCopy holds them to it.
type Capabilities struct {
	// Encryption seals secrets at rest with a keyring (both stores).
	Encryption Encrypted
	// Nodes shares the store among several hub processes (PostgreSQL):
	// each dispatcher heartbeats through it and divides endpoints' limits
	// among the live nodes.
	Nodes NodeRegistry
	// Wake tells a node when another node made deliveries due
	// (PostgreSQL's LISTEN/NOTIFY), so its dispatcher need not wait for
	// its next poll.
	Wake Waker
}

// Waker is the capability of a store shared by several nodes to wake each
// of them when deliveries become due.
type Waker interface {
	// Listen calls fn whenever a node on the store commits deliveries
	// that are due now, and also each time it has (re)connected, since a
	// wake-up sent while it was away is lost. Wake-ups are not a queue: a
	// dispatcher still polls. fn must not block. Listen reconnects on
	// failure until ctx is done, and then returns nil.
	Listen(ctx context.Context, fn func()) error
}
